#include "costmodel/partial_execution.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "costmodel/reference_executor.h"
#include "tests/costmodel/random_candidates.h"
#include "tests/costmodel/test_data.h"

namespace unas {
namespace {

// conv 3x3 x4 -> dwconv 3x3 -> 1x1 x2 -> dense 10 -> dense 10 on 8x8x1:
// tensors 8x8x1 = 64, 6x6x4 = 144, 4x4x4 = 64, 4x4x2 = 32, 10, 10.
Network SmallChain() {
  const char* text = R"({"conv_blocks":[{"is_branch":false,"layers":[
    {"type":"Conv2D","ker_size":3,"filters":4,"2x_stride":false,"has_bn":false,"has_relu":true,"has_prepool":false},
    {"type":"DWConv2D","ker_size":3,"2x_stride":false,"has_bn":false,"has_relu":true,"has_prepool":false},
    {"type":"1x1Conv2D","filters":2,"has_bn":false,"has_relu":true,"has_prepool":false}]}],
    "pooling":null,"dense_blocks":[{"units":10}]})";
  return BuildNetwork(ParseCandidate(text).value(), InputSpec{8, 8, 1, 10}).value();
}

int64_t NetworkMacs(const Network& net) {
  int64_t macs = 0;
  for (const Op& op : net.ops) macs += op.macs();
  return macs;
}

TEST(PartialExecutionTest, SlicesConvIntoDepthwiseOneChannelAtATime) {
  const Network net = SmallChain();
  auto plan = PlanPartialExecution(net, Accounting::kTflm);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  // Whole: conv 64+144 = dw 144+64 = 208.
  EXPECT_EQ(plan->whole_peak_bytes, 208);
  EXPECT_EQ(plan->build_order_peak_bytes, 208);
  ASSERT_EQ(plan->segments.size(), 1u);
  EXPECT_EQ(plan->segments[0].ops, (std::vector<int>{0, 1}));
  EXPECT_EQ(plan->segments[0].slices(), 4);
  EXPECT_FALSE(plan->segments[0].accumulates);
  // Slices of 6x6x1 = 36 into the full 4x4x4 = 64 dw output. conv slice 0:
  // 64+36; dw slice 0: 64+36+64; then 164 until the last conv slice frees
  // the input: last dw slice 36+64; 1x1 64+32; dense 32+10; dense 10+10.
  EXPECT_EQ(plan->timeline, (std::vector<int64_t>{100, 164, 164, 164, 164, 164, 164, 100, 96, 42, 20}));
  EXPECT_EQ(plan->peak_bytes, 164);
  EXPECT_EQ(plan->macs, NetworkMacs(net));
  EXPECT_TRUE(CheckLayout(plan->graph, plan->layout).ok());
}

TEST(PartialExecutionTest, UnasAccountingDoesNotCountTheInput) {
  auto plan = PlanPartialExecution(SmallChain(), Accounting::kUnas);
  ASSERT_TRUE(plan.ok());
  // Whole: dw 144+64 = 208. Sliced: dw slice 36+64 = 100; the 1x1 needs 96.
  EXPECT_EQ(plan->whole_peak_bytes, 208);
  EXPECT_EQ(plan->peak_bytes, 100);
}

TEST(PartialExecutionTest, AccumulatesDenseOverSlicesOfA1x1Conv) {
  // Reference candidate 0: 1x1 x108 on 28x28x1, then dense 153, 69, 10.
  const char* text = R"({"conv_blocks":[{"is_branch":false,"layers":[
    {"type":"1x1Conv2D","filters":108,"has_bn":true,"has_relu":true,"has_prepool":false}]}],
    "pooling":null,"dense_blocks":[{"units":153},{"units":69}]})";
  const Network net = BuildNetwork(ParseCandidate(text).value(), testing::FashionMnist()).value();
  auto plan = PlanPartialExecution(net, Accounting::kTflm);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->whole_peak_bytes, 784 + 84672);
  ASSERT_EQ(plan->segments.size(), 1u);
  EXPECT_EQ(plan->segments[0].ops, (std::vector<int>{0, 1}));
  EXPECT_TRUE(plan->segments[0].accumulates);
  // Input 784 + one 28x28x1 channel 784 + int32 accumulator 4 x 153.
  EXPECT_EQ(plan->peak_bytes, 784 + 784 + 4 * 153);
  EXPECT_EQ(plan->macs, NetworkMacs(net));
}

TEST(PartialExecutionTest, RejectsSegmentsThatBreakTheRules) {
  const Network net = SmallChain();
  PexSegment skip;  // conv -> 1x1 skips the depthwise conv
  skip.ops = {0, 2};
  skip.channels = 4;
  skip.accumulates = true;
  EXPECT_EQ(PlanSegments(net, Accounting::kTflm, {skip}).status().code(), StatusCode::kInvalidArgument);
  PexSegment one_slice;
  one_slice.ops = {0, 1};
  one_slice.channels = 4;
  one_slice.slice_channels = 4;
  EXPECT_EQ(PlanSegments(net, Accounting::kTflm, {one_slice}).status().code(), StatusCode::kInvalidArgument);
}

bool Agree(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  float scale = 1;
  for (float v : a) scale = std::max(scale, std::fabs(v));
  for (size_t i = 0; i < a.size(); ++i) {
    if (!(std::fabs(a[i] - b[i]) <= 1e-4f * scale)) return false;
  }
  return true;
}

// Checks everything a plan promises, running it in its arena.
void ExpectPlanIsReal(const Network& net, const PexPlan& plan, uint64_t seed) {
  ASSERT_TRUE(CheckLayout(plan.graph, plan.layout).ok());
  EXPECT_EQ(plan.macs, NetworkMacs(net));
  EXPECT_EQ(plan.peak_bytes, *std::max_element(plan.timeline.begin(), plan.timeline.end()));
  EXPECT_GE(plan.layout.arena_bytes, plan.peak_bytes);
  const ReferenceWeights weights = RandomWeights(net, seed);
  const std::vector<float> input = RandomInput(net, seed + 1);
  auto whole = RunWhole(net, weights, input);
  auto sliced = RunPlan(net, plan, weights, input);
  ASSERT_TRUE(whole.ok() && sliced.ok()) << sliced.status().message();
  EXPECT_TRUE(Agree(whole->output, sliced->output));
  EXPECT_EQ(whole->macs, sliced->macs);  // no extra computation
}

TEST(PartialExecutionTest, ExecutorAgreesWithWholeExecutionOnRandomCandidates) {
  std::mt19937_64 rng(7);
  int sliced_plans = 0;
  for (int i = 0; i < 120; ++i) {
    auto drawn = testing::DrawRandomNetwork(rng, testing::ExecutableLimits(4, 12), 3, 12, 5);
    ASSERT_TRUE(drawn.ok());
    const Network& net = drawn->network;
    for (Accounting accounting : {Accounting::kTflm, Accounting::kUnas}) {
      SCOPED_TRACE("candidate " + std::to_string(i) + " " + AccountingName(accounting));
      auto plan = PlanPartialExecution(net, accounting);
      ASSERT_TRUE(plan.ok()) << plan.status().message();
      EXPECT_LE(plan->peak_bytes, plan->whole_peak_bytes);
      ExpectPlanIsReal(net, *plan, i);
      sliced_plans += !plan->segments.empty();
      // Also a schedule the optimiser would not pick: disjoint candidate
      // segments with random slice widths.
      std::vector<PexSegment> forced;
      for (PexSegment s : CandidateSegments(net)) {
        bool overlaps = false;
        for (const PexSegment& f : forced) {
          for (int op : s.ops) overlaps |= std::count(f.ops.begin(), f.ops.end(), op) > 0;
        }
        if (overlaps || std::bernoulli_distribution(0.3)(rng)) continue;
        s.slice_channels = std::uniform_int_distribution<int>(1, (s.channels + 1) / 2)(rng);
        forced.push_back(s);
      }
      auto forced_plan = PlanSegments(net, accounting, forced);
      ASSERT_TRUE(forced_plan.ok()) << forced_plan.status().message();
      ExpectPlanIsReal(net, *forced_plan, i + 1000);
    }
  }
  EXPECT_GT(sliced_plans, 60);
}

TEST(PartialExecutionTest, PlanThatUndercountsSlicesFailsInItsArena) {
  const Network net = SmallChain();
  PexPlan plan = PlanPartialExecution(net, Accounting::kTflm).value();
  // Claim slices are half their size and lay the arena out for that claim.
  PexPlan wrong = plan;
  for (size_t t = 0; t < wrong.tensors.size(); ++t) {
    if (wrong.tensors[t].kind == PexTensorKind::kSlice) wrong.graph.tensor_bytes[t] /= 2;
  }
  wrong.layout = LayoutArena(wrong.graph, wrong.order).value();
  ASSERT_LT(wrong.layout.arena_bytes, plan.layout.arena_bytes);
  EXPECT_FALSE(CheckLayout(plan.graph, wrong.layout).ok());
  const ReferenceWeights weights = RandomWeights(net, 1);
  const std::vector<float> input = RandomInput(net, 2);
  const auto whole = RunWhole(net, weights, input).value();
  const auto sliced = RunPlan(net, wrong, weights, input);
  EXPECT_TRUE(!sliced.ok() || !Agree(whole.output, sliced->output));
}

TEST(PartialExecutionTest, ArenaOneByteShortIsRefused) {
  const Network net = SmallChain();
  PexPlan plan = PlanPartialExecution(net, Accounting::kTflm).value();
  plan.layout.arena_bytes -= 1;
  const ReferenceWeights weights = RandomWeights(net, 1);
  EXPECT_EQ(RunPlan(net, plan, weights, RandomInput(net, 2)).status().code(), StatusCode::kFailedPrecondition);
}

TEST(PartialExecutionTest, PexPeakBytesMatchesThePlan) {
  const Network net = BuildNetwork(testing::WorkedExample(), testing::FashionMnist()).value();
  for (Accounting accounting : {Accounting::kTflm, Accounting::kUnas}) {
    const int64_t peak = PexPeakBytes(net, accounting).value();
    EXPECT_EQ(peak, PlanPartialExecution(net, accounting)->peak_bytes);
    EXPECT_LE(peak, SummariseCosts(net, accounting)->peak_sram_bytes);
  }
}

}  // namespace
}  // namespace unas
