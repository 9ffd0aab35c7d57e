// Order search on graphs beyond the search space's networks: multi-output
// operators, several graph inputs, inputs with several readers, unread
// outputs, and the heuristic fallbacks past the exact search's limits.
#include "costmodel/order_search.h"

#include <algorithm>
#include <random>

#include <gtest/gtest.h>

#include "costmodel/arena_layout.h"
#include "tests/common/graph_test_util.h"

namespace unas {
namespace {

BufferGraph::Step Op(std::vector<int> inputs, std::vector<int> outputs) {
  BufferGraph::Step s;
  s.inputs = std::move(inputs);
  s.output = outputs.empty() ? -1 : outputs[0];
  s.outputs.assign(outputs.begin() + (outputs.empty() ? 0 : 1), outputs.end());
  return s;
}

using testing::BruteForcePeak;

TEST(OrderSearchTest, MultiOutputOperatorHoldsAllItsOutputs) {
  // in(10) -> split writes a(20) and b(30); c reads a -> c(5); d reads b, c -> d(1).
  // Order split, c, d: 10+20+30 = 60 | in freed: 50 + 5 = 55 | a freed: 35 + 1 = 36.
  BufferGraph g;
  g.tensor_bytes = {10, 20, 30, 5, 1};
  g.ops = {Op({0}, {1, 2}), Op({1}, {3}), Op({2, 3}, {4})};
  g.graph_outputs = {4};
  auto peak = PeakOfOrder(g, {0, 1, 2});
  ASSERT_TRUE(peak.ok()) << peak.status().message();
  EXPECT_EQ(peak->live_bytes, (std::vector<int64_t>{60, 55, 36}));
  auto best = BestOrder(g);
  ASSERT_TRUE(best.ok());
  EXPECT_EQ(best->peak_bytes, 60);
  EXPECT_TRUE(best->proven_optimal);
  auto layout = LayoutArena(g, best->order);
  ASSERT_TRUE(layout.ok());
  EXPECT_TRUE(CheckLayout(g, *layout).ok());
  EXPECT_NE(layout->offsets[1], layout->offsets[2]);
}

TEST(OrderSearchTest, SecondInputAndUnreadOutput) {
  // Two graph inputs x(7), y(3); op 0 reads x and writes u(4) and an output
  // nobody reads, w(9); op 1 reads u and y -> z(2), the graph output.
  // Op 0: 7+3+4+9 = 23 (w is live during its producer only) | op 1: 3+4+2 = 9.
  BufferGraph g;
  g.tensor_bytes = {7, 3, 4, 9, 2};
  g.ops = {Op({0}, {2, 3}), Op({2, 1}, {4})};
  g.graph_outputs = {4};
  auto peak = PeakOfOrder(g, {0, 1});
  ASSERT_TRUE(peak.ok());
  EXPECT_EQ(peak->live_bytes, (std::vector<int64_t>{23, 9}));
}

TEST(OrderSearchTest, RejectsAnOperatorWritingATensorTwice) {
  BufferGraph g;
  g.tensor_bytes = {1, 1};
  g.ops = {Op({0}, {1, 1})};
  EXPECT_EQ(BestOrder(g).status().message(), "tensor 1 is written by two ops");
  g.ops = {Op({0}, {0})};
  EXPECT_EQ(BestOrder(g).status().message(), "op 0 reads its own output");
}

// Random DAGs with several graph inputs, multi-output operators, shared
// readers and several graph outputs: the planner equals brute force.
TEST(OrderSearchTest, BestOrderEqualsBruteForceOnRandomGeneralGraphs) {
  std::mt19937_64 rng(77);
  for (int trial = 0; trial < 300; ++trial) {
    BufferGraph g;
    const int inputs = 1 + static_cast<int>(rng() % 2);
    for (int i = 0; i < inputs; ++i) g.tensor_bytes.push_back(static_cast<int64_t>(rng() % 40));
    const int n = 2 + static_cast<int>(rng() % 6);
    for (int x = 0; x < n; ++x) {
      std::vector<int> in;
      const int reads = 1 + static_cast<int>(rng() % 2);
      for (int r = 0; r < reads; ++r) {
        const int t = static_cast<int>(rng() % g.tensor_bytes.size());
        if (std::find(in.begin(), in.end(), t) == in.end()) in.push_back(t);
      }
      std::vector<int> out;
      const int writes = rng() % 4 == 0 ? 2 : 1;
      for (int w = 0; w < writes; ++w) {
        out.push_back(static_cast<int>(g.tensor_bytes.size()));
        g.tensor_bytes.push_back(1 + static_cast<int64_t>(rng() % 100));
      }
      g.ops.push_back(Op(in, out));
      if (in.size() == 2 && rng() % 3 == 0) g.ops.back().inplace_inputs = {in[0]};
    }
    g.graph_outputs = {static_cast<int>(g.tensor_bytes.size()) - 1};
    if (rng() % 2) g.graph_outputs.push_back(static_cast<int>(rng() % g.tensor_bytes.size()));
    g.inplace_requires_last_use = trial % 2 == 0;
    auto best = BestOrder(g);
    ASSERT_TRUE(best.ok()) << best.status().message();
    EXPECT_TRUE(best->proven_optimal);
    EXPECT_EQ(best->peak_bytes, BruteForcePeak(g)) << "trial " << trial;
    auto layout = LayoutArena(g, best->order);
    ASSERT_TRUE(layout.ok());
    EXPECT_TRUE(CheckLayout(g, *layout).ok()) << "trial " << trial;
  }
}

// A side op (op 0: the side tensor) then `branches` ops that each read the
// source and the side tensor, then a join: not parallel chains, so the
// downset DP runs, over 1 + 2^branches + 1 downsets of the whole graph (the
// empty set; the side op with any set of branches; everything).
BufferGraph BranchesReadingASideTensor(int branches) {
  BufferGraph g;
  g.tensor_bytes = {5, 3};
  g.ops.push_back(Op({0}, {1}));
  std::vector<int> join_inputs;
  for (int b = 0; b < branches; ++b) {
    const int t = static_cast<int>(g.tensor_bytes.size());
    g.tensor_bytes.push_back(10 + b);
    g.ops.push_back(Op({0, 1}, {t}));
    join_inputs.push_back(t);
  }
  const int out = static_cast<int>(g.tensor_bytes.size());
  g.tensor_bytes.push_back(1);
  g.ops.push_back(Op(join_inputs, {out}));
  g.graph_outputs = {out};
  return g;
}

TEST(OrderSearchTest, PastTheStateLimitSaysTheOrderIsNotProven) {
  // Six branches: 2^6 + 2 states exceed 10.
  const BufferGraph g = BranchesReadingASideTensor(6);
  auto exact = BestOrder(g);
  ASSERT_TRUE(exact.ok());
  EXPECT_TRUE(exact->proven_optimal);
  EXPECT_TRUE(exact->note.empty());
  auto limited = BestOrder(g, 10);
  ASSERT_TRUE(limited.ok()) << limited.status().message();
  EXPECT_FALSE(limited->proven_optimal);
  EXPECT_EQ(limited->note,
            "a segment of 7 operators needs more than 10 states: scheduled by a beam search over downsets "
            "(8 states per step), not proven optimal");
  EXPECT_GE(limited->peak_bytes, exact->peak_bytes);
  EXPECT_EQ(PeakOfOrder(g, limited->order)->peak_bytes, limited->peak_bytes);
  EXPECT_EQ(BestOrderByDownsets(g, 10).status().code(), StatusCode::kResourceExhausted);
}

// The exact DP fails once a segment has more downsets than max_states, and
// says so before it runs when their count settles it (issue 28): the limit
// is exact, not approximate.
TEST(OrderSearchTest, TheExactSearchFailsExactlyPastItsStateLimit) {
  for (int branches : {6, 9}) {
    const BufferGraph g = BranchesReadingASideTensor(branches);
    const int64_t downsets = 1 + (int64_t{1} << branches) + 1;
    auto enough = BestOrderByDownsets(g, downsets);
    ASSERT_TRUE(enough.ok()) << branches << ": " << enough.status().message();
    EXPECT_EQ(enough->peak_bytes, BestOrder(g)->peak_bytes);
    auto short_by_one = BestOrderByDownsets(g, downsets - 1);
    EXPECT_EQ(short_by_one.status().code(), StatusCode::kResourceExhausted) << branches;
    EXPECT_EQ(short_by_one.status().message(),
              "exact scheduling needs more than " + std::to_string(downsets - 1) + " states");
    // The segment before the join (its cut) has one downset fewer.
    EXPECT_TRUE(BestOrderExact(g, downsets - 1).ok()) << branches;
    EXPECT_EQ(BestOrderExact(g, downsets - 2).status().code(), StatusCode::kResourceExhausted) << branches;
  }
}

// The exact DP takes no step past a greedy order's peak and visits each
// level in the unbounded DP's order, so it finds the very same order, ties
// included. Random DAGs of 4-9 ops with sizes 16 or 32 (ties are common:
// the test counts the graphs with several optimal orders, checked by
// enumerating every order of the smaller ones).
TEST(OrderSearchTest, BoundingTheDownsetDpChangesNoOrderEvenAmongTies) {
  std::mt19937_64 rng(28);
  int with_ties = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const int n = 4 + static_cast<int>(rng() % 6);
    BufferGraph g;
    g.tensor_bytes = {16};
    for (int i = 0; i < n; ++i) {
      g.tensor_bytes.push_back(rng() % 2 ? 16 : 32);
      std::vector<int> in = {static_cast<int>(rng() % (i + 1))};
      if (i > 0 && rng() % 3 == 0) {
        const int extra = static_cast<int>(rng() % (i + 1));
        if (extra != in[0]) in.push_back(extra);
      }
      BufferGraph::Step step = Op(in, {i + 1});
      if (in.size() == 2 && rng() % 2) step.inplace_inputs = {in[rng() % 2]};
      g.ops.push_back(step);
    }
    g.graph_outputs = {n};
    g.inplace_requires_last_use = trial % 2 == 0;
    auto unbounded = BestOrderByDownsets(g);
    auto bounded = BestOrderByDownsets(g, 4'000'000, /*bounded=*/true);
    ASSERT_TRUE(unbounded.ok() && bounded.ok()) << "trial " << trial;
    EXPECT_EQ(bounded->order, unbounded->order) << "trial " << trial;
    EXPECT_EQ(bounded->peak_bytes, unbounded->peak_bytes) << "trial " << trial;
    if (n > 6) continue;
    std::vector<int> order(n);
    for (int i = 0; i < n; ++i) order[i] = i;
    int optimal_orders = 0;
    do {
      auto peak = PeakOfOrder(g, order);
      optimal_orders += peak.ok() && peak->peak_bytes == unbounded->peak_bytes;
    } while (std::next_permutation(order.begin(), order.end()));
    with_ties += optimal_orders > 1;
  }
  EXPECT_GT(with_ties, 100);
}

// A peak limit: the same order as without one when the least peak is within
// it, kOutOfRange (with the limit named) when it is not.
TEST(OrderSearchTest, TheExactSearchWithinAPeakLimit) {
  // Two branches off a 10-byte input: a(40) -> b(5), c(30) -> d(5); e = b + d.
  // a, b first: b runs with the input, a and b live: 10 + 40 + 5 = 55; then
  // c 15 + 30, d 5 + 30 + 5, e 11. c, d first: 40, 45, then a 15 + 40 = 55.
  // Starting both branches: 10 + 40 + 30 = 80. Least peak 55.
  BufferGraph g;
  g.tensor_bytes = {10, 40, 5, 30, 5, 1};
  g.ops = {Op({0}, {1}), Op({1}, {2}), Op({0}, {3}), Op({3}, {4}), Op({2, 4}, {5})};
  g.graph_outputs = {5};
  auto exact = BestOrderExact(g, 1000);
  ASSERT_TRUE(exact.ok()) << exact.status().message();
  EXPECT_EQ(exact->peak_bytes, 55);
  auto within = BestOrderExactWithin(g, 55, 1000);
  ASSERT_TRUE(within.ok()) << within.status().message();
  EXPECT_EQ(within->order, exact->order);
  EXPECT_EQ(within->peak_bytes, 55);
  auto below = BestOrderExactWithin(g, 54, 1000);
  EXPECT_EQ(below.status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(below.status().message(), "no order within the peak limit of 54 bytes");
}

TEST(OrderSearchTest, OverTwoHundredFiftySixOperatorsUsesTheGreedyOrder) {
  // A chain of 300 ops alternating 10 and 30 bytes: the only order, peak 40.
  BufferGraph g;
  g.tensor_bytes = {10};
  for (int x = 0; x < 300; ++x) {
    g.tensor_bytes.push_back(x % 2 ? 10 : 30);
    g.ops.push_back(Op({x}, {x + 1}));
  }
  g.graph_outputs = {300};
  auto best = BestOrder(g);
  ASSERT_TRUE(best.ok());
  EXPECT_FALSE(best->proven_optimal);
  EXPECT_EQ(best->note,
            "graph has more than 256 operators: the better of the topological and the greedy order, "
            "not proven optimal");
  EXPECT_EQ(best->peak_bytes, 40);
}

}  // namespace
}  // namespace unas
