// Test-only: a set of random input images for a network, e.g. to calibrate
// int8 quantisation in property tests. Deterministic in its seeds.
#pragma once

#include <cstdint>
#include <vector>

#include "costmodel/reference_executor.h"

namespace unas::testing {

// `count` images, image k being RandomInput(network, first_seed + k).
inline std::vector<std::vector<float>> RandomImages(const Network& network, int count, uint64_t first_seed) {
  std::vector<std::vector<float>> images;
  images.reserve(count);
  for (int k = 0; k < count; ++k) images.push_back(RandomInput(network, first_seed + k));
  return images;
}

}  // namespace unas::testing
