// Test-only: random networks of the search space quantised as a trial's
// are (random float weights, int8 calibration on random images), for the
// property tests of the quantiser, the int8 kernels and Arm NN.
//
// Thread safety: pure function of its arguments and `rng`.
#pragma once

#include <cstdint>
#include <random>

#include "base/status.h"
#include "costmodel/network.h"
#include "costmodel/reference_executor.h"
#include "quant/quantize.h"
#include "tests/costmodel/random_candidates.h"
#include "tests/costmodel/random_images.h"

namespace unas::testing {

struct CalibratedNetwork {
  Network net;
  ReferenceWeights weights;
  Result<ModelGraph> graph;  // quant::QuantizeWithImages's int8 graph, or why it failed
};

// A candidate within `limits` (RandomCandidate) on an input of sides 6 to
// `max_side` and up to 10 classes (RandomInputSpec), both drawn from `rng`;
// random weights (RandomWeights with `weight_seed`); calibrated on `images`
// random images (RandomImages from `first_image_seed` on).
inline CalibratedNetwork DrawCalibratedNetwork(std::mt19937_64& rng, const RandomCandidateLimits& limits, int max_side,
                                               uint64_t weight_seed, int images, uint64_t first_image_seed) {
  Network net = DrawRandomNetwork(rng, limits, 6, max_side, 10).value().network;
  ReferenceWeights weights = RandomWeights(net, weight_seed);
  Result<ModelGraph> graph = quant::QuantizeWithImages(net, weights, RandomImages(net, images, first_image_seed));
  return {std::move(net), std::move(weights), std::move(graph)};
}

}  // namespace unas::testing
