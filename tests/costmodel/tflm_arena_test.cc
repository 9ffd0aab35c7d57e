// TFLM's planned arena, worked by hand from the rules in
// ../shared/spec/deployment.md (and costmodel/tflm_arena.h).
#include "costmodel/tflm_arena.h"

#include <random>

#include <gtest/gtest.h>

#include "costmodel/lowering.h"
#include "costmodel/network.h"
#include "costmodel/order_search.h"
#include "tests/common/graph_test_util.h"
#include "tests/costmodel/random_candidates.h"

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

TEST(TflmArenaTest, PersistentPartFollowsTflmsAllocationsAndAlignment) {
  // Tail bytes after each allocation (round_up(used + size, alignment)):
  // allocator objects 36, 44, 36 -> 116; builtin-data allocator 8 -> 124;
  // SubgraphAllocations 8 -> 132; 10 TfLiteEvalTensors x 12 -> 252; 4
  // NodeAndRegistrations x 32 -> 380. Options: RESHAPE 36 -> 416, DEPTHWISE
  // 28 -> 444, FULLY_CONNECTED 5 (align 1) -> 449, SOFTMAX 4 (align 4) ->
  // 456. OpData (align 16): depthwise 56 -> 512, fully connected 48 -> 560,
  // softmax 56 -> 616 -> 624. Depthwise per-channel multipliers and shifts,
  // 8 x 4 each: 656, 688. Input pointer array 4 (align 16) -> 704, its
  // TfLiteTensor 32 -> 736; output array -> 752, TfLiteTensor -> 784. The
  // test tensors are not quantised, so no TfLiteAffineQuantization.
  const ModelGraph g = MicroSpeechLike();
  auto arena = PlanTflmArena(g, {0, 1, 2, 3});
  ASSERT_TRUE(arena.ok());
  EXPECT_EQ(arena->persistent_bytes, 784);
  EXPECT_EQ(arena->total_arena_bytes, 5968 + 784);
  EXPECT_TRUE(arena->notes.empty());
  // A quantised graph input adds TfLiteAffineQuantization (12) and its zero
  // points (4 + 4 per scale) after its TfLiteTensor: 736 + 12 + 8 -> 756,
  // then the output array (align 16) 768, its TfLiteTensor 800.
  ModelGraph q = g;
  q.tensors[0].quant.scale = {0.5f};
  q.tensors[0].quant.zero_point = {3};
  EXPECT_EQ(PlanTflmArena(q, {0, 1, 2, 3})->persistent_bytes, 800);
}

TEST(TflmArenaTest, CmsisNnKernelsAddTheirScratchBuffersAndLargerOpData) {
  // A 3x3 CONV_2D over [1,8,8,3] (VALID) -> [1,6,6,4], then a 5x5 depthwise
  // (SAME, multiplier 1) -> [1,6,6,4], then AVERAGE_POOL_2D 2x2 -> [1,3,3,4].
  GraphTensor in;
  in.shape = {1, 8, 8, 3};
  GraphTensor w1 = Tensor({4, 3, 3, 3}, TensorType::kInt8, true), w2 = Tensor({1, 5, 5, 4}, TensorType::kInt8, true);
  const ModelGraph g = Graph({in, w1, Tensor({1, 6, 6, 4}), w2, Tensor({1, 6, 6, 4}), Tensor({1, 3, 3, 4})},
                             {Op(builtin::kConv2D, {0, 1, -1}, {2}), Op(builtin::kDepthwiseConv2D, {2, 3, -1}, {4}),
                              Op(builtin::kAveragePool2D, {4}, {5})},
                             5);
  ModelGraph same = g;
  same.ops[1].padding = Padding::kSame;
  // Scratch: conv 4 * round4(3 * 3 * 3) = 112; depthwise 2 * 4 * 5 * 5 = 200;
  // average pool 4 * 4 = 16. None with the reference kernels.
  const std::vector<TflmScratch> scratch = TflmScratchRequests(same, TflmKernels::kCmsisNn);
  ASSERT_EQ(scratch.size(), 3u);
  EXPECT_EQ(scratch[0].bytes, 112);
  EXPECT_EQ(scratch[1].bytes, 200);
  EXPECT_EQ(scratch[2].bytes, 16);
  EXPECT_TRUE(TflmScratchRequests(same, TflmKernels::kReference).empty());
  // Planned, reference: input 192 [0,1], conv out 144 [1,2], dw out 144
  // [2,3], pool out 48 [3,3]. The 192 at 0; dw out (added later) at 192
  // (overlaps the input? no: [2,3] vs [0,1]) -> 0; conv out overlaps input
  // and dw out -> 192; pool out overlaps dw out -> 144. Arena 336.
  auto ref = PlanTflmArena(same, {0, 1, 2});
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->arena_bytes, 336);
  // With CMSIS-NN: scratch 112 [1,1], 208 [2,2], 16 [3,3] join. Placement:
  // dw scratch 208 at 0; input 192 ([0,1], clear of [2,2]) at 0; dw out 144
  // [2,3] overlaps the 208 -> 208; conv out 144 [1,2] overlaps input and
  // the 208 and dw out -> 352; conv scratch 112 [1,1] overlaps input and
  // conv out -> 192 (192..304 is clear of conv out at 352); pool out 48
  // [3,3] overlaps dw out -> 0; pool scratch 16 [3,3] overlaps pool out and
  // dw out -> 48. Arena 496.
  auto cmsis = PlanTflmArena(same, {0, 1, 2}, TflmKernels::kCmsisNn);
  ASSERT_TRUE(cmsis.ok());
  EXPECT_EQ(cmsis->arena_bytes, 496);
  EXPECT_EQ(cmsis->scratch_bytes, 112 + 208 + 16);
  // Persistent: CMSIS-NN's conv and depthwise OpData are 60 (not 56), its
  // pooling OpData 36 (not 32); one ScratchBufferHandle block of 3 x 4.
  EXPECT_GT(cmsis->persistent_bytes, ref->persistent_bytes);
  // A VALID 5x5 depthwise has no padding either: still the generic kernel.
  EXPECT_EQ(TflmScratchRequests(g, TflmKernels::kCmsisNn)[1].bytes, 200);
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
  // Persistent: allocator objects 116, builtin-data allocator 124,
  // SubgraphAllocations 132, 6 TfLiteEvalTensors 204, 1 node 236; ADD
  // options 2 -> 238, OpDataAdd 60 (align 16) -> 304; the variable's 7 bytes
  // (align 16) -> 320; input array 336, TfLiteTensor 368; output array 384,
  // TfLiteTensor 416.
  EXPECT_EQ(arena->persistent_bytes, 416);
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

// What the tflm costing relies on, on lowered random candidates: the
// planner's figures equal PlanTflmArena's (whose persistent list adds up to
// them), a planned arena is never below its order's peak in
// TflmBufferGraph (so an order of larger peak cannot give a smaller arena),
// and the exact order search within a peak limit finds BestOrderExact's
// order exactly when its peak is within the limit.
TEST(TflmArena, ThePlannerAndTheBoundedSearchAgreeWithTheFullOnesOnRandomCandidates) {
  std::mt19937_64 rng(2028);
  int exact_found = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const Candidate c = testing::RandomCandidate(rng, testing::ExecutableLimits(5, 24));
    auto net = BuildNetwork(c, InputSpec{16, 16, 1, 10});
    if (!net.ok()) continue;
    const ModelGraph graph = LowerNetwork(*net).value();
    const BufferGraph g = TflmBufferGraph(graph);
    std::vector<int> build(graph.ops.size());
    for (size_t i = 0; i < build.size(); ++i) build[i] = static_cast<int>(i);
    auto exact = BestOrderExact(g, 20'000);
    TflmArenaPlanner planner(graph);
    for (const std::vector<int>& order : {build, exact.ok() ? exact->order : build}) {
      for (TflmKernels kernels : {TflmKernels::kReference, TflmKernels::kCmsisNn}) {
        const TflmArena full = PlanTflmArena(graph, order, kernels).value();
        const TflmArena fast = planner.Plan(order, kernels).value();
        EXPECT_EQ(fast.arena_bytes, full.arena_bytes) << "trial " << trial;
        EXPECT_EQ(fast.persistent_bytes, full.persistent_bytes) << "trial " << trial;
        EXPECT_EQ(fast.total_arena_bytes, full.total_arena_bytes) << "trial " << trial;
        EXPECT_EQ(full.persistent_bytes, TflmTailBytes(full.persistent)) << "trial " << trial;
        EXPECT_TRUE(fast.persistent.empty());
        ASSERT_EQ(fast.buffers.size(), full.buffers.size());
        for (size_t b = 0; b < full.buffers.size(); ++b) EXPECT_EQ(fast.buffers[b].offset, full.buffers[b].offset);
        EXPECT_GE(full.arena_bytes, PeakOfOrder(g, order)->peak_bytes) << "trial " << trial;
      }
    }
    if (!exact.ok()) continue;
    ++exact_found;
    auto within = BestOrderExactWithin(g, exact->peak_bytes, 20'000);
    ASSERT_TRUE(within.ok()) << within.status().message();
    EXPECT_EQ(within->order, exact->order) << "trial " << trial;
    EXPECT_EQ(BestOrderExactWithin(g, exact->peak_bytes - 1, 20'000).status().code(), StatusCode::kOutOfRange);
  }
  EXPECT_GT(exact_found, 30);
}

}  // namespace
}  // namespace unas
