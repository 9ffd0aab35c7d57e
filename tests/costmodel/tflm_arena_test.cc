// TFLM's planned arena, worked by hand from the rules in
// ../shared/spec/deployment.md (and costmodel/tflm_arena.h).
#include "costmodel/tflm_arena.h"

#include <gtest/gtest.h>

#include "costmodel/order_search.h"
#include "tests/common/graph_test_util.h"

namespace unas {
namespace {

GraphTensor Tensor(std::vector<int> shape, TensorType type = TensorType::kInt8, bool constant = false) {
  GraphTensor t;
  t.shape = std::move(shape);
  t.type = type;
  t.is_constant = constant;
  return t;
}

GraphOp Op(int code, std::vector<int> inputs, std::vector<int> outputs) {
  return testing::GraphOpOf(code, std::move(inputs), std::move(outputs));
}

// A graph that reads tensor 0 and writes tensor `output`.
ModelGraph Graph(std::vector<GraphTensor> tensors, std::vector<GraphOp> ops, int output) {
  ModelGraph g;
  g.tensors = std::move(tensors);
  g.ops = std::move(ops);
  g.inputs = {0};
  g.outputs = {output};
  return g;
}

// micro_speech's structure: RESHAPE [1,1960] -> [1,49,40,1], DEPTHWISE_CONV_2D
// -> [1,25,20,8], FULLY_CONNECTED -> [1,4], SOFTMAX -> [1,4].
ModelGraph MicroSpeechLike() {
  return Graph({Tensor({1, 1960}),                               // 0 input
                Tensor({1, 49, 40, 1}),                          // 1 reshaped
                Tensor({4}, TensorType::kInt32, true),           // 2 new shape
                Tensor({1, 10, 8, 8}, TensorType::kInt8, true),  // 3 dw filter
                Tensor({8}, TensorType::kInt32, true),           // 4 dw bias
                Tensor({1, 25, 20, 8}),                          // 5 dw out
                Tensor({4, 4000}, TensorType::kInt8, true),      // 6 fc weights
                Tensor({4}, TensorType::kInt32, true),           // 7 fc bias
                Tensor({1, 4}),                                  // 8 fc out
                Tensor({1, 4})},                                 // 9 softmax out
               {Op(builtin::kReshape, {0, 2}, {1}), Op(builtin::kDepthwiseConv2D, {1, 3, 4}, {5}),
                Op(builtin::kFullyConnected, {5, 6, 7}, {8}), Op(builtin::kSoftmax, {8}, {9})},
               9);
}

TEST(TflmArenaTest, MicroSpeechShapeRoundsTo5968) {
  // Scopes: input [0,1], reshaped [1,2], dw out [2,3], fc out [3,4], softmax
  // out [4,4]. Rounded: 1968, 1968, 4000, 16, 16. Live per scope (rounded):
  // 1968 | 3936 | 5968 | 4016 | 32. Placement: dw out (4000) at 0; then the
  // 1968s, later-added first: reshaped overlaps dw out -> 4000; input
  // overlaps only reshaped -> 0; then the 16s: softmax out overlaps nothing
  // placed -> 0; fc out overlaps dw out and softmax out -> 4000. Arena 5968.
  const ModelGraph g = MicroSpeechLike();
  auto arena = PlanTflmArena(g, {0, 1, 2, 3});
  ASSERT_TRUE(arena.ok()) << arena.status().message();
  ASSERT_EQ(arena->buffers.size(), 5u);
  const std::vector<int> tensors = {0, 1, 5, 8, 9};
  const std::vector<int64_t> offsets = {0, 4000, 0, 4000, 0};
  const std::vector<int> first = {0, 1, 2, 3, 4}, last = {1, 2, 3, 4, 4};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(arena->buffers[i].tensor, tensors[i]);
    EXPECT_EQ(arena->buffers[i].offset, offsets[i]) << "tensor " << tensors[i];
    EXPECT_EQ(arena->buffers[i].first_scope, first[i]);
    EXPECT_EQ(arena->buffers[i].last_scope, last[i]);
  }
  EXPECT_EQ(arena->arena_bytes, 5968);
  EXPECT_EQ(arena->live_peak_bytes, 5968);
  // Unrounded (tflite-tools' rule): 1960 + 4000 = 5960 at the depthwise conv.
  EXPECT_EQ(PeakOfOrder(LiveBytesBufferGraph(g), {0, 1, 2, 3})->peak_bytes, 5960);
  EXPECT_EQ(PeakOfOrder(TflmBufferGraph(g), {0, 1, 2, 3})->peak_bytes, 5968);
}

TEST(TflmArenaTest, PersistentEstimateCountsEachConstant) {
  // 10 tensors x 12 + 2 graph inputs/outputs x 32 + 4 ops x 32
  // + depthwise 56 + 8 channels x 8 + fully connected 48 = 480.
  const ModelGraph g = MicroSpeechLike();
  EXPECT_EQ(TflmPersistentBytes(g), 120 + 64 + 128 + 56 + 64 + 48);
  auto arena = PlanTflmArena(g, {0, 1, 2, 3});
  EXPECT_EQ(arena->persistent_bytes, 480);
  EXPECT_EQ(arena->total_arena_bytes, 5968 + 480);
}

TEST(TflmArenaTest, EqualSizesPlaceTheLaterAddedFirst) {
  // Input x (32 B) read by both ops; a = op0(x); y = ADD(x, a), the output.
  // Lifetimes x [0,2], a [1,2], y [2,2]: all three overlap, and nothing is
  // in place. Later-added first: y at 0, a at 32, x at 64; arena 96.
  const ModelGraph g = Graph({Tensor({32}), Tensor({32}), Tensor({32})},
                             {Op(builtin::kRelu, {0}, {1}), Op(builtin::kAdd, {0, 1}, {2})}, 2);
  auto arena = PlanTflmArena(g, {0, 1});
  ASSERT_TRUE(arena.ok());
  EXPECT_EQ(arena->buffers[0].offset, 64);
  EXPECT_EQ(arena->buffers[1].offset, 32);
  EXPECT_EQ(arena->buffers[2].offset, 0);
  EXPECT_EQ(arena->arena_bytes, 96);
}

TEST(TflmArenaTest, ConstantsVariablesEmptyAndUnusedTensorsAreNotPlanned) {
  // op0 reads input 0, constant 1, variable 3; writes 5 and an empty tensor 2.
  // Tensor 4 is used by nothing.
  ModelGraph g =
      Graph({Tensor({10}), Tensor({5}, TensorType::kInt8, true), Tensor({0}), Tensor({7}), Tensor({100}), Tensor({3})},
            {Op(builtin::kAdd, {0, 1, 3}, {5, 2})}, 5);
  g.tensors[3].is_variable = true;
  auto arena = PlanTflmArena(g, {0});
  ASSERT_TRUE(arena.ok());
  ASSERT_EQ(arena->buffers.size(), 2u);
  EXPECT_EQ(arena->buffers[0].tensor, 0);
  EXPECT_EQ(arena->buffers[1].tensor, 5);
  EXPECT_EQ(arena->arena_bytes, 32);
  // Persistent: 6 tensors x 12 + 2 x 32 + 1 op x 32 + the variable rounded (16).
  EXPECT_EQ(arena->persistent_bytes, 72 + 64 + 32 + 16);
}

TEST(TflmArenaTest, UnreadOutputLivesInItsProducersScopeOnly) {
  // x -> op0 -> (a, b); b is read by nobody; op1(a) -> y. b lives [1,1] only,
  // so y (scope 2) may share b's place. x [0,1] (16), a [1,2] (32),
  // b [1,1] (48), y [2,2] (48). The 48s, later-added first: y at 0; b does
  // not overlap y -> 0; a overlaps b and y -> 48; x overlaps b and a -> 80.
  // Arena 96.
  const ModelGraph g = Graph({Tensor({16}), Tensor({32}), Tensor({48}), Tensor({48})},
                             {Op(builtin::kCustom, {0}, {1, 2}), Op(builtin::kRelu, {1}, {3})}, 3);
  auto arena = PlanTflmArena(g, {0, 1});
  ASSERT_TRUE(arena.ok());
  EXPECT_EQ(arena->buffers[2].last_scope, 1);
  EXPECT_EQ(arena->buffers[2].offset, 0);
  EXPECT_EQ(arena->buffers[3].offset, 0);
  EXPECT_EQ(arena->buffers[1].offset, 48);
  EXPECT_EQ(arena->buffers[0].offset, 80);
  EXPECT_EQ(arena->arena_bytes, 96);
}

TEST(TflmArenaTest, RejectsBadOrders) {
  const ModelGraph g = MicroSpeechLike();
  EXPECT_EQ(PlanTflmArena(g, {0, 1}).status().message(), "order has 2 ops, graph has 4");
  EXPECT_EQ(PlanTflmArena(g, {0, 0, 1, 2}).status().message(), "order is not a permutation of the ops");
  EXPECT_EQ(PlanTflmArena(g, {1, 0, 2, 3}).status().message(), "op 1 reads tensor 1 before anything writes it");
}

}  // namespace
}  // namespace unas
