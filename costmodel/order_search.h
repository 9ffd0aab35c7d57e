// Execution-order search: the peak of live bytes of one operator order, and
// the order with the smallest peak (semantics: buffer_graph.h).
//
// Thread safety: all functions are pure; a BufferGraph may be shared.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "costmodel/buffer_graph.h"
#include "base/status.h"

namespace unas {

// Peak memory of one execution order. Fails if `order` is not a topological
// order of all operators.
Result<OrderPeak> PeakOfOrder(const BufferGraph& graph, const std::vector<int>& order);

// The exact minimum peak over all valid execution orders, and one order that
// reaches it.
//
// Algorithm: (1) find "cut" operators, which every other operator precedes or
// follows and which no tensor but their own outputs crosses; the order of the
// operators between two cuts is independent of the rest, and the memory at a
// cut does not depend on any order. (2) Between two cuts the operators of
// networks in this search space form parallel chains from one source tensor
// to the next cut. These are scheduled exactly by dynamic programming over the
// chains' positions, where a chain may only pause after its first operator or
// at a weak local minimum of its resident bytes (an exchange argument, given
// in order_search.cc, shows that pausing anywhere else never lowers the
// peak). (3) Any other shape of segment (branching, multi-output operators,
// several graph inputs) falls back to dynamic programming over all its
// downsets.
//
// When a segment's downset DP would exceed `max_states`, or the graph has
// more than 256 operators, the result is not proven optimal: the segment is
// then scheduled by a beam search over downsets (each level keeps the states
// with the lowest peak so far, ties by fewer live bytes, about
// max_states / m^2 of them for a segment of m operators), and a graph over
// 256 operators by the better of its topological order and a greedy order
// (run the ready operator whose step needs the fewest bytes, ties by fewer
// bytes left live, then lowest index). `proven_optimal` is false and `note`
// says so. Errors: an invalid graph (AnalyseBufferGraph).
//
// Cost: each segment stores at most `max_states` states of one key (8 bytes
// up to 64 operators, 32 beyond) and does O(m) work per state; with
// `max_total_states` the segments together store at most about that many:
// each segment's cap is the smaller of max_states and what is left (but at
// least 1,024, so a segment of up to 10 operators stays exact), and the
// beam's width shrinks with it (a beam of width w over m operators stores at
// most about w * m^2 states). The default leaves only the per-segment cap.
// The greedy order is O(n * ready operators * their tensors).
Result<OrderPeak> BestOrder(const BufferGraph& graph, int64_t max_states = 4'000'000,
                            int64_t max_total_states = std::numeric_limits<int64_t>::max());

// As BestOrder, but never a heuristic: fails with kResourceExhausted where
// BestOrder would use one (for callers with a cheaper fallback of their own).
Result<OrderPeak> BestOrderExact(const BufferGraph& graph, int64_t max_states,
                                 int64_t max_total_states = std::numeric_limits<int64_t>::max());

// BestOrderExact for a caller that wants the order only if its peak is at
// most `peak_limit` bytes (the TFLM accounting: an order whose peak exceeds
// an arena already planned cannot give a smaller arena): the same order as
// BestOrderExact when its peak is within the limit, and kOutOfRange when it
// is not (or kResourceExhausted, as BestOrderExact, when a segment has too
// many states: either way no order). Faster: the downset DP takes no step
// past the limit (it visits its states in BestOrderExact's order, so ties
// are broken the same way).
Result<OrderPeak> BestOrderExactWithin(const BufferGraph& graph, int64_t peak_limit, int64_t max_states);

// Reference for tests: dynamic programming over every downset of the whole
// graph (no cuts, no chain compression). Exponential; small graphs only.
// Fails with kResourceExhausted past `max_states` (never a heuristic).
// `bounded`: the DP takes no step past a greedy order's peak, as BestOrder's
// and BestOrderExact's do (the tests check that this changes no order).
Result<OrderPeak> BestOrderByDownsets(const BufferGraph& graph, int64_t max_states = 4'000'000,
                                      bool bounded = false);

}  // namespace unas
