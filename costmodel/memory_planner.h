// Activation-memory planning for a graph of operators. Knows nothing about
// neural networks: tensors with byte sizes, operators that read some tensors
// and write one, and which inputs an operator may overwrite in place.
//
// Semantics (docs/cost-model.md section 3): while an operator runs, its
// inputs, its output and every tensor still needed later are live; a tensor
// stays live until its last consumer has run; graph outputs stay live to the
// end. An in-place operator (an Add) writes into one of its `inplace_inputs`,
// so its output costs nothing extra while it runs; with
// `inplace_requires_last_use` that input must have no other pending consumer.
//
// Thread safety: all functions are pure; a BufferGraph may be shared.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"

namespace unas {

struct BufferGraph {
  struct Step {
    std::vector<int> inputs;          // tensor ids read
    int output = -1;                  // tensor id written
    std::vector<int> inplace_inputs;  // inputs this operator may overwrite
  };
  std::vector<int64_t> tensor_bytes;  // by tensor id; tensors no step writes are graph inputs
  std::vector<Step> ops;
  std::vector<int> graph_outputs;     // tensor ids kept live to the end
  bool inplace_requires_last_use = true;
};

struct OrderPeak {
  int64_t peak_bytes = 0;
  std::vector<int> order;               // op indices in execution order
  std::vector<int64_t> live_bytes;      // per step of `order`: bytes live while it runs
};

// Peak memory of one execution order. Fails if `order` is not a topological
// order of all operators.
Result<OrderPeak> PeakOfOrder(const BufferGraph& graph, const std::vector<int>& order);

// The exact minimum peak over all valid execution orders, and one order that
// reaches it.
//
// Algorithm: (1) find "cut" operators, which every other operator precedes or
// follows and whose output is the only tensor crossing them; the order of the
// operators between two cuts is independent of the rest, and the memory at a
// cut does not depend on any order. (2) Between two cuts the operators of
// networks in this search space form parallel chains from one source tensor
// to the next cut. These are scheduled exactly by dynamic programming over the
// chains' positions, where a chain may only pause after its first operator or
// at a weak local minimum of its resident bytes (an exchange argument, given
// in memory_planner.cc, shows that pausing anywhere else never lowers the
// peak). (3) Any other shape of segment falls back to dynamic programming
// over all its downsets.
// Fails with kResourceExhausted if that fallback would exceed `max_states`.
Result<OrderPeak> BestOrder(const BufferGraph& graph, int64_t max_states = 4'000'000);

// Reference for tests: dynamic programming over every downset of the whole
// graph (no cuts, no chain compression). Exponential; small graphs only.
Result<OrderPeak> BestOrderByDownsets(const BufferGraph& graph, int64_t max_states = 4'000'000);

// A concrete placement of tensors in one arena for an execution order.
struct ArenaLayout {
  std::vector<int64_t> offsets;  // by tensor id; -1 for tensors of 0 bytes
  std::vector<int> first_step;   // by tensor id: first step it is live (position in order)
  std::vector<int> last_step;    // by tensor id: last step it is live
  std::vector<int> alias_of;     // by tensor id: the tensor whose buffer it reuses, or itself
  int64_t arena_bytes = 0;
};

// Greedy-by-size placement (as TensorFlow Lite Micro's GreedyMemoryPlanner):
// buffers are placed largest first, each at the lowest offset that does not
// overlap any already placed buffer whose lifetime intersects its own. An
// in-place operator's output shares its input's buffer when that input is at
// its last use (always legal physically, whatever the accounting says).
// The arena can exceed the order's peak: greedy placement is not optimal.
Result<ArenaLayout> LayoutArena(const BufferGraph& graph, const std::vector<int>& order);

// Checks that no two buffers that are live at the same step overlap, and that
// every buffer fits in the arena. Used by tests and assertions.
Status CheckLayout(const BufferGraph& graph, const ArenaLayout& layout);

}  // namespace unas
