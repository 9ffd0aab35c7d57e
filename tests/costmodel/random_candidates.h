// Test-only generator of arbitrary candidates anywhere in the schema (up to the
// maxima, which μNAS's own random distribution never reaches), for property
// tests of the cost model. The search module has the μNAS distribution.
#pragma once

#include <random>

#include "base/status.h"
#include "costmodel/candidate.h"
#include "costmodel/network.h"

namespace unas::testing {

struct RandomCandidateLimits {
  int max_blocks = 10;
  int max_layers = 3;
  int max_filters = 128;
  int max_dense = 3;
};

// Limits for the tests that execute their candidates (reference, int8 and
// LibTorch executors): up to `max_blocks` blocks of `max_filters` filters and
// 2 dense layers, so that each of many candidates runs in milliseconds.
inline RandomCandidateLimits ExecutableLimits(int max_blocks, int max_filters) {
  RandomCandidateLimits limits;
  limits.max_blocks = max_blocks;
  limits.max_filters = max_filters;
  limits.max_dense = 2;
  return limits;
}

Candidate RandomCandidate(std::mt19937_64& rng, const RandomCandidateLimits& limits = {});

// The ranges of DrawCandidate, the generator of the networks the firmware
// tests compile (tests/firmware/test_networks.h) and the TFLM latency
// benchmark runs (tests/costmodel/bench_tflm_latency.cc); every draw is
// uniform over the inclusive range.
struct DrawnCandidateShape {
  int max_blocks = 4;         // blocks: 1..max_blocks
  int max_layers = 3;         // layers of a block: 1..max_layers
  int min_filters = 1;        // filters of a layer: min_filters..max_filters
  int max_filters = 16;
  int prepool_in = 3;         // a layer has a prepool with probability prepool_in / prepool_of
  int prepool_of = 10;
  int pooling_in_ten = 8;     // the network has a final pooling with probability pooling_in_ten / 10,
  int max_pool_half = 3;      // of size 2 * (1..max_pool_half)
  int max_units = 24;         // 1 or 2 dense blocks of 10..max_units units
};

// One draw, in a fixed order (so one seed gives one network).
Candidate DrawCandidate(std::mt19937_64& rng, const DrawnCandidateShape& shape);

// An input of height and width each uniform in [min_side, max_side], 1 to 3
// channels, and 2 to max_classes classes (drawn in that order).
InputSpec RandomInputSpec(std::mt19937_64& rng, int min_side, int max_side, int max_classes);

// A random network for the executors' property tests: a candidate within
// `limits` (RandomCandidate) on a random input (RandomInputSpec with these
// bounds), drawn from `rng` in that order, and the Network it builds;
// BuildNetwork's error when the input is too small for the candidate.
struct RandomNetwork {
  Candidate candidate;
  Network network;
};
Result<RandomNetwork> DrawRandomNetwork(std::mt19937_64& rng, const RandomCandidateLimits& limits, int min_side,
                                        int max_side, int max_classes);

}  // namespace unas::testing
