#include "costmodel/memory_planner.h"

#include <algorithm>
#include <random>

#include <gtest/gtest.h>

#include "costmodel/cost_model.h"
#include "tests/common/graph_test_util.h"
#include "tests/costmodel/random_candidates.h"

namespace unas {
namespace {

// Builds a graph where tensor 0 is the input and op i writes tensor i + 1.
BufferGraph Graph(std::vector<int64_t> bytes, std::vector<std::vector<int>> inputs, bool tflm = true) {
  BufferGraph g;
  g.tensor_bytes = std::move(bytes);
  for (size_t i = 0; i < inputs.size(); ++i) {
    BufferGraph::Step s;
    s.inputs = inputs[i];
    s.output = static_cast<int>(i) + 1;
    g.ops.push_back(s);
  }
  g.graph_outputs = {static_cast<int>(inputs.size())};
  g.inplace_requires_last_use = tflm;
  return g;
}

using testing::BruteForcePeak;

TEST(MemoryPlannerTest, ChainPeakIsLargestNeighbouringPair) {
  // in(10) -> a(40) -> b(5) -> c(30): steps 50, 45, 35.
  const BufferGraph g = Graph({10, 40, 5, 30}, {{0}, {1}, {2}});
  auto peak = PeakOfOrder(g, {0, 1, 2});
  ASSERT_TRUE(peak.ok());
  EXPECT_EQ(peak->live_bytes, (std::vector<int64_t>{50, 45, 35}));
  EXPECT_EQ(peak->peak_bytes, 50);
}

TEST(MemoryPlannerTest, KeepsSharedInputLiveUntilLastConsumer) {
  // in(0) -> a(100); a -> b(10); a -> c(20); add(b, c) -> d(20).
  // Order a, b, c, d: 100 | 100+10 | 100+10+20 | 10+20 (+0 in place) = 130 peak.
  BufferGraph g = Graph({0, 100, 10, 20, 20}, {{0}, {1}, {1}, {2, 3}});
  g.ops[3].inplace_inputs = {3};
  auto peak = PeakOfOrder(g, {0, 1, 2, 3});
  ASSERT_TRUE(peak.ok());
  EXPECT_EQ(peak->live_bytes, (std::vector<int64_t>{100, 110, 130, 30}));
}

TEST(MemoryPlannerTest, BestOrderRunsTheBigChainFirst) {
  // Two chains from s(10): x1(50) -> x2(1), and y1(2) -> y2(40); then a
  // 1-byte op joins them. s stays live until both chain heads have run.
  //   x1,x2,y1,y2,join: 60 | 61 | 13 | 43 | 42  -> peak 61
  //   x1,y1,...:        60 | 62 | ...           -> peak >= 62
  //   y1,x1,...:        12 | 62 | ...           -> peak >= 62
  //   y1,y2,x1,x2:      12 | 52 | 100 | ...     -> peak >= 100
  const BufferGraph g = Graph({10, 50, 1, 2, 40, 1}, {{0}, {1}, {0}, {3}, {2, 4}});
  auto best = BestOrder(g);
  ASSERT_TRUE(best.ok());
  EXPECT_EQ(best->peak_bytes, 61);
  EXPECT_EQ(best->order, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(best->live_bytes, (std::vector<int64_t>{60, 61, 13, 43, 42}));
  EXPECT_EQ(BruteForcePeak(g), 61);
}

TEST(MemoryPlannerTest, InPlaceAddNeedsLastUseOnlyInTflm) {
  // in(0) -> a(8); b = relu-like copy of a (8); add(a, b) -> c(8); d reads a.
  // a still has a pending consumer (d) at the add.
  BufferGraph g = Graph({0, 8, 8, 8, 1}, {{0}, {1}, {1, 2}, {1, 3}});
  g.ops[2].inplace_inputs = {1, 2};
  // b is at its last use at the add, so both accountings may write into b.
  auto tflm = PeakOfOrder(g, {0, 1, 2, 3});
  ASSERT_TRUE(tflm.ok());
  EXPECT_EQ(tflm->live_bytes[2], 16);
  // Only a may be overwritten now: tflm must pay for the output, unas does not.
  g.ops[2].inplace_inputs = {1};
  tflm = PeakOfOrder(g, {0, 1, 2, 3});
  EXPECT_EQ(tflm->live_bytes[2], 24);
  g.inplace_requires_last_use = false;
  auto unas = PeakOfOrder(g, {0, 1, 2, 3});
  EXPECT_EQ(unas->live_bytes[2], 16);
}

TEST(MemoryPlannerTest, RejectsInvalidOrdersAndGraphs) {
  const BufferGraph g = Graph({1, 1, 1}, {{0}, {1}});
  EXPECT_EQ(PeakOfOrder(g, {1, 0}).status().message(), "op 1 runs before the producer of its input");
  EXPECT_EQ(PeakOfOrder(g, {0}).status().message(), "order has 1 ops, graph has 2");
  EXPECT_EQ(PeakOfOrder(g, {0, 0}).status().message(), "order is not a permutation of the ops");
  BufferGraph cyclic = Graph({1, 1, 1}, {{2}, {1}});
  EXPECT_EQ(BestOrder(cyclic).status().message(), "the graph has a cycle");
  BufferGraph bad = Graph({1, 1}, {{5}});
  EXPECT_EQ(BestOrder(bad).status().message(), "op 0 reads an unknown tensor");
}

TEST(MemoryPlannerTest, LayoutHandWorkedOffsets) {
  // in(0) -> a(100) -> b(30) -> c(100) -> d(10). Lifetimes: a [0,1], b [1,2],
  // c [2,3], d [3,3]. Largest first: a at 0; c at 0 (a is dead by step 2);
  // b overlaps both: at 100; d overlaps c: at 100. Arena 130 = peak 130.
  const BufferGraph g = Graph({0, 100, 30, 100, 10}, {{0}, {1}, {2}, {3}});
  auto layout = LayoutArena(g, {0, 1, 2, 3});
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(layout->offsets, (std::vector<int64_t>{-1, 0, 100, 0, 100}));
  EXPECT_EQ(layout->arena_bytes, 130);
  EXPECT_TRUE(CheckLayout(g, *layout).ok());
  EXPECT_EQ(PeakOfOrder(g, {0, 1, 2, 3})->peak_bytes, 130);
}

TEST(MemoryPlannerTest, LayoutReusesInputBufferForInPlaceAdd) {
  BufferGraph g = Graph({0, 10, 10, 10, 1}, {{0}, {0}, {1, 2}, {3}});
  g.ops[2].inplace_inputs = {1, 2};
  auto layout = LayoutArena(g, {0, 1, 2, 3});
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(layout->alias_of[3], 1);
  EXPECT_EQ(layout->offsets[3], layout->offsets[1]);
  EXPECT_EQ(layout->arena_bytes, 20);
  EXPECT_TRUE(CheckLayout(g, *layout).ok());
}

TEST(MemoryPlannerTest, CheckLayoutCatchesOverlap) {
  const BufferGraph g = Graph({0, 100, 30, 100, 10}, {{0}, {1}, {2}, {3}});
  auto layout = LayoutArena(g, {0, 1, 2, 3}).value();
  layout.offsets[2] = 50;  // b now overlaps a and c while they are live
  EXPECT_FALSE(CheckLayout(g, layout).ok());
}

// Random DAGs of up to 8 ops: the exact planner equals brute force.
TEST(MemoryPlannerTest, BestOrderEqualsBruteForceOnRandomSmallGraphs) {
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 300; ++trial) {
    const int n = 2 + static_cast<int>(rng() % 7);
    std::vector<int64_t> bytes = {static_cast<int64_t>(rng() % 50)};
    std::vector<std::vector<int>> inputs;
    for (int i = 0; i < n; ++i) {
      bytes.push_back(1 + static_cast<int64_t>(rng() % 100));
      std::vector<int> in = {static_cast<int>(rng() % (i + 1))};
      if (i > 0 && rng() % 3 == 0) {
        const int extra = static_cast<int>(rng() % (i + 1));
        if (extra != in[0]) in.push_back(extra);
      }
      inputs.push_back(in);
    }
    BufferGraph g = Graph(bytes, inputs, trial % 2 == 0);
    for (auto& op : g.ops) {
      if (op.inputs.size() == 2 && rng() % 2) op.inplace_inputs = {op.inputs[rng() % 2]};
    }
    // Every op's output must be used or be the output, as in real networks.
    auto best = BestOrder(g);
    ASSERT_TRUE(best.ok()) << best.status().message();
    EXPECT_EQ(best->peak_bytes, BruteForcePeak(g)) << "trial " << trial;
    auto downsets = BestOrderByDownsets(g);
    ASSERT_TRUE(downsets.ok());
    EXPECT_EQ(downsets->peak_bytes, best->peak_bytes) << "trial " << trial;
  }
}

// Small random candidates: the exact planner equals brute force over all
// execution orders, in both accountings.
TEST(MemoryPlannerTest, BestOrderEqualsBruteForceOnSmallCandidates) {
  std::mt19937_64 rng(9);
  int checked = 0;
  for (int trial = 0; trial < 400 && checked < 120; ++trial) {
    const Candidate c = testing::RandomCandidate(rng, {4, 2, 16, 1});
    auto net = BuildNetwork(c, InputSpec{16, 16, 2, 10});
    ASSERT_TRUE(net.ok());
    if (net->ops.size() > 8) continue;
    ++checked;
    for (Accounting acc : {Accounting::kUnas, Accounting::kTflm, Accounting::kFirmware}) {
      const BufferGraph g = MakeBufferGraph(*net, acc);
      auto best = BestOrder(g);
      ASSERT_TRUE(best.ok());
      EXPECT_EQ(best->peak_bytes, BruteForcePeak(g)) << "trial " << trial;
    }
  }
  EXPECT_EQ(checked, 120);
}

// Large random candidates: the chain-compressed planner equals the plain
// downset DP, best order <= build order, and greedy layouts never overlap.
TEST(MemoryPlannerTest, RandomCandidatesAgreeWithDownsetDpAndLayoutsAreValid) {
  std::mt19937_64 rng(21);
  int compared = 0;
  for (int trial = 0; trial < 600; ++trial) {
    const Candidate c = testing::RandomCandidate(rng, {10, 3, 128, 3});
    auto net = BuildNetwork(c, trial % 3 ? InputSpec{28, 28, 1, 10} : InputSpec{32, 32, 3, 10});
    ASSERT_TRUE(net.ok());
    for (Accounting acc : {Accounting::kUnas, Accounting::kTflm, Accounting::kFirmware}) {
      const BufferGraph g = MakeBufferGraph(*net, acc);
      auto best = BestOrder(g);
      ASSERT_TRUE(best.ok()) << best.status().message();
      std::vector<int> build(g.ops.size());
      for (size_t i = 0; i < build.size(); ++i) build[i] = static_cast<int>(i);
      EXPECT_LE(best->peak_bytes, PeakOfOrder(g, build)->peak_bytes);
      auto reference = BestOrderByDownsets(g, 300'000);
      if (reference.ok()) {
        ++compared;
        EXPECT_EQ(reference->peak_bytes, best->peak_bytes) << "trial " << trial;
      }
      auto layout = LayoutArena(g, best->order);
      ASSERT_TRUE(layout.ok());
      EXPECT_TRUE(CheckLayout(g, *layout).ok()) << CheckLayout(g, *layout).message();
      EXPECT_GE(layout->arena_bytes, best->peak_bytes);
    }
  }
  EXPECT_GT(compared, 900);
}

}  // namespace
}  // namespace unas
