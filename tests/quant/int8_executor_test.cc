// The int8 executor's kernels on graphs small enough to work out by hand with
// TFLite's reference arithmetic (quant/int8_executor.h).
#include "quant/int8_executor.h"

#include <gtest/gtest.h>

#include "tests/quant/graph_builder.h"

namespace unas::quant {
namespace {

using unas::testing::GraphBuilder;
using I8 = std::vector<int8_t>;

I8 Exec(const ModelGraph& g, const I8& input) {
  auto out = RunInt8(g, input);
  EXPECT_TRUE(out.ok()) << out.status().message();
  return out.ok() ? *out : I8{};
}

// Two output channels with their own scales; worked in the test body.
ModelGraph PerChannelConv(Activation act) {
  GraphBuilder b;
  const int in = b.Activation({1, 2, 2, 1}, 0.5f, -1);
  const int w = b.Int8Constant({2, 2, 2, 1}, {1, 2, 3, 4, -1, 0, 2, -3}, {0.25f, 0.5f});
  const int bias = b.Int32Constant({2}, {10, -4});
  const int out = b.Activation({1, 1, 1, 2}, 1.0f, 3);
  b.Op(builtin::kConv2D, {in, w, bias}, out).activation = act;
  return b.Finish(in, out);
}

TEST(Int8ExecutorTest, Conv2DPerChannel) {
  // q - Z_in = {2, 4, 0, 6}. Channel 0: 2 + 8 + 0 + 24 + 10 = 44, x 0.125 =
  // 5.5: high multiply 22, 22 / 4 = 5.5 -> 6, + 3 = 9. Channel 1: -2 - 18 - 4
  // = -24, x 0.25 = -6, + 3 = -3.
  EXPECT_EQ(Exec(PerChannelConv(Activation::kNone), {1, 3, -1, 5}), (I8{9, -3}));
  // ReLU clamps at the output zero point.
  EXPECT_EQ(Exec(PerChannelConv(Activation::kRelu), {1, 3, -1, 5}), (I8{9, 3}));
}

TEST(Int8ExecutorTest, Conv2DSamePaddingSkipsOutOfBoundsTaps) {
  GraphBuilder b;
  const int in = b.Activation({1, 3, 3, 1}, 1.0f, -1);
  const int w = b.Int8Constant({1, 3, 3, 1}, I8(9, 1), {1.0f});
  const int out = b.Activation({1, 2, 2, 1}, 1.0f, 0);
  GraphOp& op = b.Op(builtin::kConv2D, {in, w, -1}, out);
  op.padding = Padding::kSame;
  op.stride_h = op.stride_w = 2;
  // SAME, stride 2 on 3x3: total padding 2, top/left 1. Input (q + 1) is 1..9;
  // each output sums the 2x2 in-bounds corner: 12, 16, 24, 28.
  EXPECT_EQ(Exec(b.Finish(in, out), {0, 1, 2, 3, 4, 5, 6, 7, 8}), (I8{12, 16, 24, 28}));
}

TEST(Int8ExecutorTest, DepthwiseConvPerChannel) {
  GraphBuilder b;
  const int in = b.Activation({1, 2, 2, 2}, 1.0f, 0);
  const int w = b.Int8Constant({1, 2, 2, 2}, {1, 1, 1, -1, 1, 1, 1, -1}, {1.0f, 0.5f}, 3);
  const int out = b.Activation({1, 1, 1, 2}, 1.0f, 0);
  b.Op(builtin::kDepthwiseConv2D, {in, w, -1}, out);
  // Channel 0: 1 + 2 + 3 + 4 = 10. Channel 1: 5 - 6 + 7 - 8 = -2, x 0.5 = -1.
  EXPECT_EQ(Exec(b.Finish(in, out), {1, 5, 2, 6, 3, 7, 4, 8}), (I8{10, -1}));
}

TEST(Int8ExecutorTest, FullyConnectedFlattensA4DInput) {
  GraphBuilder b;
  const int in = b.Activation({1, 1, 2, 2}, 0.5f, 1);
  const int w = b.Int8Constant({2, 4}, {1, 1, 1, 1, 2, 0, -1, 0}, {0.5f});
  const int bias = b.Int32Constant({2}, {3, -1});
  const int out = b.Activation({1, 2}, 0.25f, -2);
  b.Op(builtin::kFullyConnected, {in, w, bias}, out);
  // q - Z = {0, 1, 2, 3}; acc = {6 + 3, -2 - 1} = {9, -3}; multiplier
  // 0.5 * 0.5 / 0.25 = 1; -3: left shift -6, high multiply -3.5.. -> -3.
  EXPECT_EQ(Exec(b.Finish(in, out), {1, 2, 3, 4}), (I8{7, -5}));
}

ModelGraph Pool(int code, Padding padding, std::vector<int> out_shape, int64_t zp = 0,
                Activation act = Activation::kNone) {
  GraphBuilder b;
  const int in = b.Activation({1, 3, 3, 1}, 1.0f, zp);
  const int out = b.Activation(std::move(out_shape), 1.0f, zp);
  GraphOp& op = b.Op(code, {in}, out);
  op.padding = padding;
  op.filter_h = op.filter_w = op.stride_h = op.stride_w = 2;
  op.activation = act;
  return b.Finish(in, out);
}

TEST(Int8ExecutorTest, MaxPoolValidAndSame) {
  const I8 x{1, 2, 3, 4, 5, 6, 7, 8, 9};
  EXPECT_EQ(Exec(Pool(builtin::kMaxPool2D, Padding::kValid, {1, 1, 1, 1}), x), (I8{5}));
  // SAME on 3x3 with 2x2/2: padding only at the bottom/right (ceil mode).
  EXPECT_EQ(Exec(Pool(builtin::kMaxPool2D, Padding::kSame, {1, 2, 2, 1}), x), (I8{5, 6, 8, 9}));
  EXPECT_EQ(Exec(Pool(builtin::kMaxPool2D, Padding::kSame, {1, 2, 2, 1}, 6, Activation::kRelu), x), (I8{6, 6, 8, 9}));
}

TEST(Int8ExecutorTest, AveragePoolRoundsTiesAwayFromZero) {
  const ModelGraph g = Pool(builtin::kAveragePool2D, Padding::kSame, {1, 2, 2, 1});
  // Windows: 12/4 = 3, 9/2 = 4.5 -> 5, 15/2 = 7.5 -> 8, 10/1 = 10.
  EXPECT_EQ(Exec(g, {1, 2, 3, 4, 5, 6, 7, 8, 10}), (I8{3, 5, 8, 10}));
  EXPECT_EQ(Exec(g, {-1, -2, -3, -4, -5, -6, -7, -8, -10}), (I8{-3, -5, -8, -10}));
}

TEST(Int8ExecutorTest, AddRescalesBothInputs) {
  // The second operand gets its own quantisation (0.25, 1) from a depthwise
  // layer: ch0 2 x 4 x 0.5 = 4 (4.5 -> 4 in the high multiply), + 1 = 5;
  // ch1 1 x -3 x 1 = -3, + 1 = -2.
  GraphBuilder b;
  const int x = b.Activation({1, 1, 1, 2}, 0.5f, 0);
  const int w = b.Int8Constant({1, 1, 1, 2}, {2, 1}, {0.25f, 0.5f}, 3);
  const int second = b.Activation({1, 1, 1, 2}, 0.25f, 1);
  const int y = b.Activation({1, 1, 1, 2}, 0.5f, -1);
  b.Op(builtin::kDepthwiseConv2D, {x, w, -1}, second);
  b.Op(builtin::kAdd, {x, second}, y);
  auto executor = Int8Executor::Create(b.Finish(x, y));
  ASSERT_TRUE(executor.ok()) << executor.status().message();
  auto all = executor->RunAll({4, -3});
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ((*all)[second], (I8{5, -2}));
  // Multipliers: 0.5 / 1 -> (2^30, 0), 0.25 / 1 -> (2^30, -1), 1 / (2^20 x
  // 0.5) -> (2^30, -18). Element 0: 2^21 + 2^20 -> 6, - 1 = 5 (real 3).
  // Element 1: -1572864 - 786432 = -2359296 -> -4.5 -> -5, - 1 = -6 (real -2.25).
  EXPECT_EQ((*all)[y], (I8{5, -6}));
  EXPECT_TRUE(all->at(w).empty());
}

TEST(Int8ExecutorTest, PadWritesTheZeroPoint) {
  GraphBuilder b;
  const int in = b.Activation({1, 1, 2, 1}, 1.0f, 7);
  const int pads = b.Int32Constant({4, 2}, {0, 0, 0, 1, 0, 1, 0, 0});
  const int out = b.Activation({1, 2, 3, 1}, 1.0f, 7);
  b.Op(builtin::kPad, {in, pads}, out);
  EXPECT_EQ(Exec(b.Finish(in, out), {3, 4}), (I8{3, 4, 7, 7, 7, 7}));
}

ModelGraph Slice(std::vector<int32_t> begin, std::vector<int32_t> end, std::vector<int32_t> strides,
                 std::vector<int> out_shape) {
  GraphBuilder b;
  const int in = b.Activation({1, 3, 3, 1}, 1.0f, 0);
  const int b0 = b.Int32Constant({4}, begin), e0 = b.Int32Constant({4}, end), s0 = b.Int32Constant({4}, strides);
  const int out = b.Activation(std::move(out_shape), 1.0f, 0);
  b.Op(builtin::kStridedSlice, {in, b0, e0, s0}, out);
  return b.Finish(in, out);
}

TEST(Int8ExecutorTest, StridedSlice) {
  const I8 x{1, 2, 3, 4, 5, 6, 7, 8, 9};
  EXPECT_EQ(Exec(Slice({0, 1, 0, 0}, {1, 3, 2, 1}, {1, 1, 1, 1}, {1, 2, 2, 1}), x), (I8{4, 5, 7, 8}));
  EXPECT_EQ(Exec(Slice({0, 0, 0, 0}, {1, 3, 3, 1}, {1, 2, 2, 1}, {1, 2, 2, 1}), x), (I8{1, 3, 7, 9}));
  EXPECT_EQ(Exec(Slice({0, -1, 0, 0}, {1, 3, 3, 1}, {1, 1, 1, 1}, {1, 1, 3, 1}), x), (I8{7, 8, 9}));
  auto wrong = RunInt8(Slice({0, 0, 0, 0}, {1, 2, 2, 1}, {1, 1, 1, 1}, {1, 3, 3, 1}), x);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(),
            "operator 0 (STRIDED_SLICE): output shape disagrees with begin/end/strides");
}

TEST(Int8ExecutorTest, ConcatenationAlongWidth) {
  GraphBuilder b;
  const int x = b.Activation({1, 2, 3, 1}, 1.0f, 0);
  const int b0 = b.Int32Constant({4}, {0, 0, 0, 0}), e0 = b.Int32Constant({4}, {1, 2, 1, 1});
  const int b1 = b.Int32Constant({4}, {0, 0, 1, 0}), e1 = b.Int32Constant({4}, {1, 2, 3, 1});
  const int ones = b.Int32Constant({4}, {1, 1, 1, 1});
  const int left = b.Activation({1, 2, 1, 1}, 1.0f, 0), right = b.Activation({1, 2, 2, 1}, 1.0f, 0);
  const int out = b.Activation({1, 2, 3, 1}, 1.0f, 0);
  b.Op(builtin::kStridedSlice, {x, b0, e0, ones}, left);
  b.Op(builtin::kStridedSlice, {x, b1, e1, ones}, right);
  // Joined in reverse, so the result shows the order: row 0 = 2 3 | 1.
  b.Op(builtin::kConcatenation, {right, left}, out).axis = -2;
  EXPECT_EQ(Exec(b.Finish(x, out), {1, 2, 3, 4, 5, 6}), (I8{2, 3, 1, 5, 6, 4}));
}

TEST(Int8ExecutorTest, ReshapeCopies) {
  GraphBuilder b;
  const int in = b.Activation({1, 2, 2, 1}, 1.0f, 0);
  const int out = b.Activation({1, 4}, 1.0f, 0);
  b.Op(builtin::kReshape, {in}, out);
  EXPECT_EQ(Exec(b.Finish(in, out), {1, -2, 3, -4}), (I8{1, -2, 3, -4}));
}

TEST(Int8ExecutorTest, RejectsWhatItCannotRunExactly) {
  {
    GraphBuilder b;
    const int in = b.Activation({1, 4}, 1.0f, 0), out = b.Activation({1, 4}, 1.0f / 256, -128);
    b.Op(builtin::kSoftmax, {in}, out);
    auto r = Int8Executor::Create(b.Finish(in, out));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), "operator 0 (SOFTMAX): operator not supported by the int8 executor");
  }
  {
    GraphBuilder b;
    const int in = b.Activation({1, 3, 3, 1}, 1.0f, 0), out = b.Activation({1, 2, 2, 1}, 0.5f, 0);
    GraphOp& op = b.Op(builtin::kMaxPool2D, {in}, out);
    op.padding = Padding::kSame;
    op.filter_h = op.filter_w = op.stride_h = op.stride_w = 2;
    auto r = Int8Executor::Create(b.Finish(in, out));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), "operator 0 (MAX_POOL_2D): input and output quantisation must be equal");
  }
  {
    GraphBuilder b;
    const int in = b.Activation({1, 2}, 1.0f, 0);
    const int w = b.Int8Constant({2, 2}, {1, 2, 3, 4}, {0.5f, 0.25f});
    const int out = b.Activation({1, 2}, 1.0f, 0);
    b.Op(builtin::kFullyConnected, {in, w, -1}, out);
    auto r = Int8Executor::Create(b.Finish(in, out));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(),
              "operator 0 (FULLY_CONNECTED): per-channel fully connected weights are not supported");
  }
  auto wrong_size = RunInt8(PerChannelConv(Activation::kNone), {1, 2});
  ASSERT_FALSE(wrong_size.ok());
  EXPECT_EQ(wrong_size.status().message(), "input has 2 values, the graph input needs 4");
}

}  // namespace
}  // namespace unas::quant
