#include "costmodel/network.h"

#include <random>

#include <gtest/gtest.h>

#include "tests/costmodel/random_candidates.h"
#include "tests/costmodel/test_data.h"

namespace unas {
namespace {

TEST(NetworkTest, RoundHalfEvenMatchesPythonRound) {
  EXPECT_EQ(RoundHalfEven(11, 2), 6);  // 5.5 -> 6
  EXPECT_EQ(RoundHalfEven(5, 2), 2);   // 2.5 -> 2
  EXPECT_EQ(RoundHalfEven(9, 2), 4);   // 4.5 -> 4
  EXPECT_EQ(RoundHalfEven(7, 2), 4);   // 3.5 -> 4
  EXPECT_EQ(RoundHalfEven(8, 6), 1);   // 1.33 -> 1
  EXPECT_EQ(RoundHalfEven(10, 6), 2);  // 1.67 -> 2
  EXPECT_EQ(RoundHalfEven(3, 2), 2);   // 1.5 -> 2
  EXPECT_EQ(RoundHalfEven(1, 2), 0);   // 0.5 -> 0
}

TEST(NetworkTest, WorkedExampleShapes) {
  auto net = BuildNetwork(testing::WorkedExample(), testing::FashionMnist());
  ASSERT_TRUE(net.ok()) << net.status().message();
  struct Expected {
    OpKind kind;
    OpRole role;
    Shape out;
    std::vector<int> inputs;
  };
  const std::vector<Expected> expected = {
      {OpKind::kConv2D, OpRole::kLayer, {13, 13, 8}, {kNetworkInput}},
      {OpKind::kDWConv2D, OpRole::kLayer, {11, 11, 8}, {0}},
      {OpKind::kConv2D, OpRole::kLayer, {11, 11, 16}, {1}},
      {OpKind::kMaxPool, OpRole::kPrepool, {7, 7, 8}, {0}},
      {OpKind::kConv2D, OpRole::kLayer, {2, 2, 16}, {3}},  // filters forced 4 -> 16
      {OpKind::kMaxPool, OpRole::kTieUpPool, {2, 2, 16}, {2}},  // round(11/2) = 6
      {OpKind::kAdd, OpRole::kTieUpAdd, {2, 2, 16}, {5, 4}},
      {OpKind::kAvgPool, OpRole::kPooling, {1, 1, 16}, {6}},
      {OpKind::kDense, OpRole::kDenseBlock, {1, 1, 32}, {7}},
      {OpKind::kDense, OpRole::kClassifier, {1, 1, 10}, {8}},
  };
  ASSERT_EQ(net->ops.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const Op& op = net->ops[i];
    EXPECT_EQ(op.kind, expected[i].kind) << i;
    EXPECT_EQ(op.role, expected[i].role) << i;
    EXPECT_EQ(op.out, expected[i].out) << i << ": " << op.out.ToString();
    EXPECT_EQ(op.inputs, expected[i].inputs) << i;
  }
  EXPECT_EQ(net->ops[0].stride, 2);
  EXPECT_EQ(net->ops[4].kernel, 5);
  EXPECT_EQ(net->ops[5].pool_h, 6);
  EXPECT_EQ(net->ops[5].pool_w, 6);
  EXPECT_EQ(net->ops[3].pool_h, 2);
}

TEST(NetworkTest, ClipsKernelsAndPoolsToTheInput) {
  Candidate c;
  Layer conv;
  conv.type = LayerType::kConv2D;
  conv.ker_size = 7;
  conv.filters = 4;
  c.conv_blocks = {{false, {conv}}};
  c.pooling = Pooling{PoolType::kMax, 6};
  c.dense_blocks = {{10}};
  auto net = BuildNetwork(c, InputSpec{5, 9, 3, 2});
  ASSERT_TRUE(net.ok());
  EXPECT_EQ(net->ops[0].kernel, 5);  // min(7, 5, 9)
  EXPECT_EQ(net->ops[0].out, (Shape{1, 5, 4}));
  EXPECT_EQ(net->ops[1].pool_h, 1);  // clipped to H = 1
  EXPECT_EQ(net->ops[1].pool_w, 5);
  EXPECT_EQ(net->ops[1].out, (Shape{1, 1, 4}));
  EXPECT_EQ(net->ops.back().out.c, 1);  // two classes: one logit
}

TEST(NetworkTest, BranchEndingInDepthwiseGetsProjection) {
  Candidate c;
  Layer conv{LayerType::kConv2D, 3, 12, false, false, false, true};
  Layer dw{LayerType::kDWConv2D, 3, 1, true, false, true, true};
  c.conv_blocks = {{false, {conv}}, {true, {dw}}};
  c.dense_blocks = {{10}};
  auto net = BuildNetwork(c, InputSpec{28, 28, 1, 10});
  ASSERT_TRUE(net.ok());
  // conv 26x26x12; branch: dw/2 on the input 13x13x1, 1x1 to 12 channels;
  // tie-up: min 13, main pooled by round(26/13) = 2; add.
  ASSERT_EQ(net->ops.size(), 7u);
  EXPECT_EQ(net->ops[1].kind, OpKind::kDWConv2D);
  EXPECT_EQ(net->ops[1].out, (Shape{13, 13, 1}));
  EXPECT_EQ(net->ops[2].role, OpRole::kBranchProjection);
  EXPECT_EQ(net->ops[2].out, (Shape{13, 13, 12}));
  EXPECT_FALSE(net->ops[2].has_relu);
  EXPECT_EQ(net->ops[3].role, OpRole::kTieUpPool);
  EXPECT_EQ(net->ops[3].out, (Shape{13, 13, 12}));
  EXPECT_EQ(net->ops[4].kind, OpKind::kAdd);
}

TEST(NetworkTest, ZeroPadsUnequalShapesInTheAdd) {
  // Main 6x6x4 (conv 3x3 on 8x8); branch 1x1 on the input: 8x8x4.
  // round(8/6) = 1, so nothing is pooled and the sum is 8x8x4.
  Candidate c;
  c.conv_blocks = {{false, {{LayerType::kConv2D, 3, 4, false, false, false, true}}},
                   {true, {{LayerType::kConv1x1, 3, 9, false, false, false, true}}}};
  c.dense_blocks = {{10}};
  auto net = BuildNetwork(c, InputSpec{8, 8, 1, 10});
  ASSERT_TRUE(net.ok());
  ASSERT_EQ(net->ops.size(), 5u);
  EXPECT_EQ(net->ops[1].out, (Shape{8, 8, 4}));
  EXPECT_EQ(net->ops[2].kind, OpKind::kAdd);
  EXPECT_EQ(net->ops[2].out, (Shape{8, 8, 4}));
}

TEST(NetworkTest, EveryRandomCandidateBuildsWithPositiveShapes) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 2000; ++i) {
    const Candidate c = testing::RandomCandidate(rng);
    const InputSpec spec = i % 2 ? InputSpec{32, 32, 3, 10} : InputSpec{28, 28, 1, 10};
    auto net = BuildNetwork(c, spec);
    ASSERT_TRUE(net.ok()) << net.status().message();
    for (const Op& op : net->ops) {
      EXPECT_GT(op.out.h, 0);
      EXPECT_GT(op.out.w, 0);
      EXPECT_GT(op.out.c, 0);
      for (int in : op.inputs) EXPECT_LT(in, static_cast<int>(&op - net->ops.data()));
    }
  }
}

}  // namespace
}  // namespace unas
