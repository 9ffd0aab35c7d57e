#include "costmodel/lowering.h"

#include <gtest/gtest.h>

#include "tests/costmodel/random_candidates.h"
#include "tests/costmodel/test_data.h"

namespace unas {
namespace {

std::vector<int> Codes(const ModelGraph& g) {
  std::vector<int> codes;
  for (const GraphOp& op : g.ops) codes.push_back(op.builtin_code);
  return codes;
}

std::vector<int32_t> Int32s(const GraphTensor& t) {
  std::vector<int32_t> v(t.data.size() / 4);
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t u = 0;
    for (int b = 0; b < 4; ++b) u |= uint32_t{t.data[i * 4 + b]} << (8 * b);
    v[i] = static_cast<int32_t>(u);
  }
  return v;
}

Op PoolOp(OpKind kind, Shape in, int window, int input) {
  Op op;
  op.kind = kind;
  op.role = OpRole::kPooling;
  op.inputs = {input};
  op.in = in;
  op.pool_h = std::min(window, in.h);
  op.pool_w = std::min(window, in.w);
  op.out = {(in.h + op.pool_h - 1) / op.pool_h, (in.w + op.pool_w - 1) / op.pool_w, in.c};
  return op;
}

TEST(LoweringTest, WorkedExampleIsOneTfliteOperatorPerNetworkOp) {
  auto net = BuildNetwork(testing::WorkedExample(), testing::FashionMnist());
  ASSERT_TRUE(net.ok());
  auto g = LowerNetwork(*net);
  ASSERT_TRUE(g.ok()) << g.status().message();
  using namespace builtin;
  EXPECT_EQ(Codes(*g), (std::vector<int>{kConv2D, kDepthwiseConv2D, kConv2D, kMaxPool2D, kConv2D, kMaxPool2D,
                                         kAdd, kAveragePool2D, kFullyConnected, kFullyConnected}));
  // Pre-pool 2 on 13x13 (t = 1) and tie-up pool 6 on 11x11 (t = 1): SAME puts
  // no padding at the top; avg pool 2 on 2x2 divides exactly: VALID.
  EXPECT_EQ(g->ops[3].padding, Padding::kSame);
  EXPECT_EQ(g->ops[5].padding, Padding::kSame);
  EXPECT_EQ(g->ops[5].filter_h, 6);
  EXPECT_EQ(g->ops[5].stride_h, 6);
  EXPECT_EQ(g->ops[7].padding, Padding::kValid);
  EXPECT_EQ(g->ops[0].stride_h, 2);
  EXPECT_EQ(g->ops[0].activation, Activation::kRelu);
  EXPECT_EQ(g->ops[9].activation, Activation::kNone);
  // conv 3x3/2 x8 on 28x28x1: filter [8,3,3,1], bias [8] int32.
  const GraphOp& conv = g->ops[0];
  EXPECT_EQ(conv.inputs[0], 0);
  EXPECT_EQ(g->tensors[conv.inputs[1]].shape, (std::vector<int>{8, 3, 3, 1}));
  EXPECT_TRUE(g->tensors[conv.inputs[1]].is_constant);
  EXPECT_EQ(g->tensors[conv.inputs[2]].type, TensorType::kInt32);
  EXPECT_EQ(g->tensors[conv.outputs[0]].shape, (std::vector<int>{1, 13, 13, 8}));
  // depthwise: filter [1,3,3,8]; dense 32 on the 1x1x16 pool output: [32,16].
  EXPECT_EQ(g->tensors[g->ops[1].inputs[1]].shape, (std::vector<int>{1, 3, 3, 8}));
  EXPECT_EQ(g->tensors[g->ops[8].inputs[1]].shape, (std::vector<int>{32, 16}));
  EXPECT_EQ(g->tensors[g->ops[8].inputs[0]].shape, (std::vector<int>{1, 1, 1, 16}));
  EXPECT_EQ(g->inputs, (std::vector<int>{0}));
  ASSERT_EQ(g->outputs.size(), 1u);
  EXPECT_EQ(g->tensors[g->outputs[0]].shape, (std::vector<int>{1, 10}));
  // The add reads the tie-up pool (op 5) first, then the branch conv (op 4).
  const std::vector<int> out = OutputTensors(*g, static_cast<int>(net->ops.size()));
  EXPECT_EQ(g->ops[6].inputs, (std::vector<int>{out[5], out[4]}));
  for (size_t i = 0; i < g->ops.size(); ++i) EXPECT_EQ(g->ops[i].source_op, static_cast<int>(i));
}

TEST(LoweringTest, MisalignedPoolIsSplitIntoExactPieces) {
  // avg pool 4 on 5x6x2: ceil-mode windows rows [0,4) [4,5), cols [0,4) [4,6).
  // TFLite SAME would pad 1 row at the top (t = 3) and 1 column at the left
  // (t = 2), so both dimensions are split: 4 slices, 4 pools, 3 concats.
  Network net;
  net.input = {5, 6, 2, 10};
  net.ops.push_back(PoolOp(OpKind::kAvgPool, {5, 6, 2}, 4, kNetworkInput));
  auto g = LowerNetwork(net);
  ASSERT_TRUE(g.ok()) << g.status().message();
  using namespace builtin;
  EXPECT_EQ(Codes(*g), (std::vector<int>{kStridedSlice, kAveragePool2D, kStridedSlice, kAveragePool2D,
                                         kConcatenation, kStridedSlice, kAveragePool2D, kStridedSlice,
                                         kAveragePool2D, kConcatenation, kConcatenation}));
  struct Piece {
    std::vector<int32_t> begin, end;
    int filter_h, filter_w;
  };
  const std::vector<Piece> pieces = {{{0, 0, 0, 0}, {1, 4, 4, 2}, 4, 4},
                                     {{0, 0, 4, 0}, {1, 4, 6, 2}, 4, 2},
                                     {{0, 4, 0, 0}, {1, 5, 4, 2}, 1, 4},
                                     {{0, 4, 4, 0}, {1, 5, 6, 2}, 1, 2}};
  const int slice_ops[] = {0, 2, 5, 7};
  for (int i = 0; i < 4; ++i) {
    const GraphOp& slice = g->ops[slice_ops[i]];
    const GraphOp& pool = g->ops[slice_ops[i] + 1];
    EXPECT_EQ(slice.inputs[0], 0);
    EXPECT_EQ(Int32s(g->tensors[slice.inputs[1]]), pieces[i].begin) << i;
    EXPECT_EQ(Int32s(g->tensors[slice.inputs[2]]), pieces[i].end) << i;
    EXPECT_EQ(Int32s(g->tensors[slice.inputs[3]]), (std::vector<int32_t>{1, 1, 1, 1}));
    EXPECT_EQ(pool.inputs[0], slice.outputs[0]);
    EXPECT_EQ(pool.filter_h, pieces[i].filter_h) << i;
    EXPECT_EQ(pool.filter_w, pieces[i].filter_w) << i;
    EXPECT_EQ(pool.stride_h, 4);
    EXPECT_EQ(g->tensors[pool.outputs[0]].elements(), 2) << i;  // one window x 2 channels
  }
  EXPECT_EQ(g->ops[4].axis, 2);
  EXPECT_EQ(g->ops[9].axis, 2);
  EXPECT_EQ(g->ops[10].axis, 1);
  EXPECT_EQ(g->ops[10].inputs, (std::vector<int>{g->ops[4].outputs[0], g->ops[9].outputs[0]}));
  EXPECT_EQ(g->tensors[g->outputs[0]].shape, (std::vector<int>{1, 2, 2, 2}));
}

TEST(LoweringTest, OneMisalignedDimensionSplitsOnlyThatOne) {
  // max pool 4 on 4x7x3: rows divide (VALID in H); cols t = 1, which SAME
  // handles with no left padding; then a 4x6 input splits only its columns
  // (t = 2): 2 pieces and one concat along W.
  Network net;
  net.input = {4, 7, 3, 10};
  net.ops.push_back(PoolOp(OpKind::kMaxPool, {4, 7, 3}, 4, kNetworkInput));
  auto one = LowerNetwork(net);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->ops.size(), 1u);
  EXPECT_EQ(one->ops[0].padding, Padding::kSame);

  net.input = {4, 6, 3, 10};
  net.ops[0] = PoolOp(OpKind::kMaxPool, {4, 6, 3}, 4, kNetworkInput);
  auto two = LowerNetwork(net);
  ASSERT_TRUE(two.ok());
  using namespace builtin;
  EXPECT_EQ(Codes(*two), (std::vector<int>{kStridedSlice, kMaxPool2D, kStridedSlice, kMaxPool2D, kConcatenation}));
  EXPECT_EQ(two->ops[3].filter_w, 2);
  EXPECT_EQ(two->ops[3].filter_h, 4);
  EXPECT_EQ(two->ops[4].axis, 2);
  EXPECT_EQ(two->tensors[two->outputs[0]].shape, (std::vector<int>{1, 1, 2, 3}));
}

TEST(LoweringTest, UnequalAddTermsArePaddedAndChained) {
  // input 4x4x3; op0 max-pools it to 2x2x3; op1 adds input + op0 + op0:
  // the sum is 4x4x3, each op0 term is padded by 2 rows and 2 columns.
  Network net;
  net.input = {4, 4, 3, 10};
  net.ops.push_back(PoolOp(OpKind::kMaxPool, {4, 4, 3}, 2, kNetworkInput));
  Op add;
  add.kind = OpKind::kAdd;
  add.role = OpRole::kTieUpAdd;
  add.inputs = {kNetworkInput, 0, 0};
  add.in = {4, 4, 3};
  add.out = {4, 4, 3};
  net.ops.push_back(add);
  auto g = LowerNetwork(net);
  ASSERT_TRUE(g.ok()) << g.status().message();
  using namespace builtin;
  EXPECT_EQ(Codes(*g), (std::vector<int>{kMaxPool2D, kPad, kPad, kAdd, kAdd}));
  EXPECT_EQ(Int32s(g->tensors[g->ops[1].inputs[1]]), (std::vector<int32_t>{0, 0, 0, 2, 0, 2, 0, 0}));
  EXPECT_EQ(g->tensors[g->ops[1].inputs[1]].shape, (std::vector<int>{4, 2}));
  EXPECT_EQ(g->ops[3].inputs, (std::vector<int>{0, g->ops[1].outputs[0]}));
  EXPECT_EQ(g->ops[4].inputs, (std::vector<int>{g->ops[3].outputs[0], g->ops[2].outputs[0]}));
  EXPECT_EQ(g->outputs, g->ops[4].outputs);
  for (int i = 1; i < 5; ++i) EXPECT_EQ(g->ops[i].source_op, 1);
}

TEST(LoweringTest, EveryRandomCandidateLowersWithConsistentShapes) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 300; ++i) {
    const Candidate c = testing::RandomCandidate(rng);
    auto net = BuildNetwork(c, testing::FashionMnist());
    ASSERT_TRUE(net.ok());
    auto g = LowerNetwork(*net);
    ASSERT_TRUE(g.ok()) << g.status().message();
    const std::vector<int> out = OutputTensors(*g, static_cast<int>(net->ops.size()));
    for (size_t op = 0; op < net->ops.size(); ++op) {
      EXPECT_EQ(g->tensors[out[op]].elements(), net->ops[op].out.elements()) << "candidate " << i << " op " << op;
    }
    // Every tensor an operator reads was written before or is constant / input.
    std::vector<bool> ready(g->tensors.size(), false);
    ready[0] = true;
    for (size_t t = 0; t < g->tensors.size(); ++t) ready[t] = ready[t] || g->tensors[t].is_constant;
    for (const GraphOp& op : g->ops) {
      for (int t : op.inputs) EXPECT_TRUE(ready[t]) << "candidate " << i;
      for (int t : op.outputs) ready[t] = true;
    }
  }
}

}  // namespace
}  // namespace unas
