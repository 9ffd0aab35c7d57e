#include "tests/firmware/test_networks.h"

#include "costmodel/reference_executor.h"
#include "quant/quantize.h"
#include "tests/costmodel/random_images.h"

namespace unas::firmware::testing {
namespace {

int Uniform(std::mt19937_64& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

}  // namespace

Candidate SmallRandomCandidate(std::mt19937_64& rng) {
  Candidate c;
  const int blocks = Uniform(rng, 1, 4);
  for (int b = 0; b < blocks; ++b) {
    ConvBlock block;
    block.is_branch = b > 0 && Uniform(rng, 0, 1) == 1;
    const int layers = Uniform(rng, 1, 3);
    for (int l = 0; l < layers; ++l) {
      Layer layer;
      layer.type = static_cast<LayerType>(Uniform(rng, 0, 2));
      layer.ker_size = 3 + 2 * Uniform(rng, 0, 2);
      layer.filters = Uniform(rng, 1, 16);
      layer.stride2 = Uniform(rng, 0, 1) == 1;
      layer.has_prepool = Uniform(rng, 0, 9) < 3;
      layer.has_bn = Uniform(rng, 0, 1) == 1;
      layer.has_relu = Uniform(rng, 0, 9) < 9;
      block.layers.push_back(layer);
    }
    c.conv_blocks.push_back(block);
  }
  if (Uniform(rng, 0, 9) < 8) {
    c.pooling = Pooling{Uniform(rng, 0, 1) ? PoolType::kAvg : PoolType::kMax, 2 * Uniform(rng, 1, 3)};
  }
  const int dense = Uniform(rng, 1, 2);
  for (int d = 0; d < dense; ++d) c.dense_blocks.push_back({Uniform(rng, 10, 24)});
  return c;
}

Result<QuantisedModel> QuantiseRandom(const Network& network, uint64_t seed) {
  const ReferenceWeights weights = RandomWeights(network, seed);
  QuantisedModel m;
  UNAS_ASSIGN_OR_RETURN(m.graph,
                        quant::QuantizeWithImages(network, weights, unas::testing::RandomImages(network, 4, seed * 16)));
  UNAS_ASSIGN_OR_RETURN(m.q, FromModelGraph(network, m.graph));
  return m;
}

std::vector<int8_t> RandomInputs(const Network& network, int count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int8_t> v(static_cast<size_t>(network.input_shape().elements() * count));
  for (int8_t& x : v) x = static_cast<int8_t>(Uniform(rng, -128, 127));
  return v;
}

}  // namespace unas::firmware::testing
