// Test-only generator of arbitrary candidates anywhere in the schema (up to the
// maxima, which μNAS's own random distribution never reaches), for property
// tests of the cost model. The search module has the μNAS distribution.
#pragma once

#include <random>

#include "costmodel/candidate.h"

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

// An input of height and width each uniform in [min_side, max_side], 1 to 3
// channels, and 2 to max_classes classes (drawn in that order).
InputSpec RandomInputSpec(std::mt19937_64& rng, int min_side, int max_side, int max_classes);

}  // namespace unas::testing
