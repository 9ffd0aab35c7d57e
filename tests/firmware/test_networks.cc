#include "tests/firmware/test_networks.h"

#include "costmodel/reference_executor.h"
#include "quant/quantize.h"
#include "tests/costmodel/random_candidates.h"
#include "tests/costmodel/random_images.h"

namespace unas::firmware::testing {

// The defaults of DrawnCandidateShape are these networks' ranges.
Candidate SmallRandomCandidate(std::mt19937_64& rng) {
  return unas::testing::DrawCandidate(rng, unas::testing::DrawnCandidateShape{});
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
  std::uniform_int_distribution<int> byte(-128, 127);
  for (int8_t& x : v) x = static_cast<int8_t>(byte(rng));
  return v;
}

}  // namespace unas::firmware::testing
