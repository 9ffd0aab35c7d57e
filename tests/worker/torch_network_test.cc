// The trained network is the costed network: same parameter count (BN
// excluded) and the same shape after every operator, for many candidates.
#include "worker/torch_summary.h"

#include <random>

#include <gtest/gtest.h>

#include "costmodel/cost_model.h"
#include "tests/costmodel/random_candidates.h"
#include "tests/costmodel/test_data.h"

namespace unas::worker {
namespace {

void ExpectAgreement(const Candidate& candidate, const InputSpec& input, const std::string& label) {
  auto network = BuildNetwork(candidate, input);
  ASSERT_TRUE(network.ok()) << label << ": " << network.status().message();
  auto costs = SummariseCosts(*network, Accounting::kUnas);
  ASSERT_TRUE(costs.ok()) << label << ": " << costs.status().message();
  auto torch_net = SummariseTorchNetwork(*network);
  ASSERT_TRUE(torch_net.ok()) << label << ": " << torch_net.status().message();
  EXPECT_EQ(torch_net->params, costs->params) << label;
  ASSERT_EQ(torch_net->op_shapes.size(), network->ops.size()) << label;
  for (size_t i = 0; i < network->ops.size(); ++i) {
    EXPECT_EQ(torch_net->op_shapes[i], network->ops[i].out)
        << label << " op " << i << " (" << network->ops[i].Describe() << "): torch "
        << torch_net->op_shapes[i].ToString() << " vs cost model " << network->ops[i].out.ToString();
  }
}

TEST(TorchNetworkTest, WorkedExampleHas4394ParamsAndCostModelShapes) {
  auto network = BuildNetwork(testing::WorkedExample(), testing::FashionMnist());
  ASSERT_TRUE(network.ok());
  auto summary = SummariseTorchNetwork(*network);
  ASSERT_TRUE(summary.ok()) << summary.status().message();
  // conv 3x3x1x8+8 = 80, dw 3x3x8+8 = 80, 1x1 8x16+16 = 144,
  // branch conv 5x5x8x16+16 = 3216, dense 16x32+32 = 544, classifier 32x10+10 = 330.
  EXPECT_EQ(summary->params, 4394);
  EXPECT_EQ(summary->bn_params, 2 * (8 + 16));  // gamma and beta of two BN layers
  ExpectAgreement(testing::WorkedExample(), testing::FashionMnist(), "worked example");
}

TEST(TorchNetworkTest, AgreesWithCostModelOnRandomCandidates) {
  std::mt19937_64 rng(42);
  // Narrow layers keep 500 forward passes fast; the shape rules do not
  // depend on the filter count.
  testing::RandomCandidateLimits narrow;
  narrow.max_filters = 12;
  const InputSpec inputs[] = {{28, 28, 1, 10}, {32, 32, 3, 10}, {49, 10, 1, 12}, {9, 13, 2, 2}};
  for (int i = 0; i < 500; ++i) {
    const InputSpec& input = inputs[i % 4];
    ExpectAgreement(testing::RandomCandidate(rng, narrow), input, "narrow candidate " + std::to_string(i));
    if (HasFatalFailure()) return;
  }
}

TEST(TorchNetworkTest, AgreesWithCostModelOnFullWidthCandidates) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 50; ++i) {
    ExpectAgreement(testing::RandomCandidate(rng), testing::FashionMnist(), "wide candidate " + std::to_string(i));
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace unas::worker
