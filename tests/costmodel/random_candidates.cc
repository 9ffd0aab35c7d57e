#include "tests/costmodel/random_candidates.h"

namespace unas::testing {

Candidate RandomCandidate(std::mt19937_64& rng, const RandomCandidateLimits& limits) {
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto coin = [&](double p) { return std::bernoulli_distribution(p)(rng); };
  Candidate c;
  const int blocks = uniform(1, limits.max_blocks);
  for (int b = 0; b < blocks; ++b) {
    ConvBlock block;
    block.is_branch = b > 0 && coin(0.5);
    const int layers = uniform(1, limits.max_layers);
    for (int l = 0; l < layers; ++l) {
      Layer layer;
      layer.type = static_cast<LayerType>(uniform(0, 2));
      layer.ker_size = 3 + 2 * uniform(0, 2);
      layer.filters = uniform(1, limits.max_filters);
      layer.stride2 = coin(0.5);
      layer.has_prepool = coin(0.3);
      layer.has_bn = coin(0.5);
      layer.has_relu = coin(0.9);
      block.layers.push_back(layer);
    }
    c.conv_blocks.push_back(block);
  }
  if (coin(0.85)) c.pooling = Pooling{coin(0.5) ? PoolType::kAvg : PoolType::kMax, 2 * uniform(1, 3)};
  const int dense = uniform(1, limits.max_dense);
  for (int d = 0; d < dense; ++d) c.dense_blocks.push_back({uniform(10, 256)});
  return c;
}

Candidate DrawCandidate(std::mt19937_64& rng, const DrawnCandidateShape& shape) {
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Candidate c;
  const int blocks = uniform(1, shape.max_blocks);
  for (int b = 0; b < blocks; ++b) {
    ConvBlock block;
    block.is_branch = b > 0 && uniform(0, 1) == 1;
    const int layers = uniform(1, shape.max_layers);
    for (int l = 0; l < layers; ++l) {
      Layer layer;
      layer.type = static_cast<LayerType>(uniform(0, 2));
      layer.ker_size = 3 + 2 * uniform(0, 2);
      layer.filters = uniform(shape.min_filters, shape.max_filters);
      layer.stride2 = uniform(0, 1) == 1;
      layer.has_prepool = uniform(0, shape.prepool_of - 1) < shape.prepool_in;
      layer.has_bn = uniform(0, 1) == 1;
      layer.has_relu = uniform(0, 9) < 9;
      block.layers.push_back(layer);
    }
    c.conv_blocks.push_back(block);
  }
  if (uniform(0, 9) < shape.pooling_in_ten) {
    c.pooling = Pooling{uniform(0, 1) ? PoolType::kAvg : PoolType::kMax, 2 * uniform(1, shape.max_pool_half)};
  }
  const int dense = uniform(1, 2);
  for (int d = 0; d < dense; ++d) c.dense_blocks.push_back({uniform(10, shape.max_units)});
  return c;
}

InputSpec RandomInputSpec(std::mt19937_64& rng, int min_side, int max_side, int max_classes) {
  std::uniform_int_distribution<int> side(min_side, max_side), channels(1, 3), classes(2, max_classes);
  return InputSpec{side(rng), side(rng), channels(rng), classes(rng)};
}

Result<RandomNetwork> DrawRandomNetwork(std::mt19937_64& rng, const RandomCandidateLimits& limits, int min_side,
                                        int max_side, int max_classes) {
  RandomNetwork drawn;
  drawn.candidate = RandomCandidate(rng, limits);
  const InputSpec input = RandomInputSpec(rng, min_side, max_side, max_classes);
  UNAS_ASSIGN_OR_RETURN(drawn.network, BuildNetwork(drawn.candidate, input));
  return drawn;
}

}  // namespace unas::testing
