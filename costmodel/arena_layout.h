// Arena placement: offsets for every buffer of a BufferGraph under one
// execution order, so that no two buffers live at the same step overlap.
//
// Thread safety: all functions are pure.
#pragma once

#include <cstdint>
#include <vector>

#include "costmodel/buffer_graph.h"
#include "costmodel/status.h"

namespace unas {

// A concrete placement of tensors in one arena for an execution order.
struct ArenaLayout {
  std::vector<int64_t> offsets;  // by tensor id; -1 for tensors of 0 bytes
  std::vector<int> first_step;   // by tensor id: first step it is live (position in order)
  std::vector<int> last_step;    // by tensor id: last step it is live
  std::vector<int> alias_of;     // by tensor id: the tensor whose buffer it reuses, or itself
  int64_t arena_bytes = 0;
};

// One buffer for GreedyPlace: a size and a closed lifetime [first, last].
struct PlacedBuffer {
  int64_t bytes = 0;
  int first = 0, last = 0;
};

// Greedy placement as TensorFlow Lite Micro's GreedyMemoryPlanner: buffers in
// `placement_order`, each at the lowest offset where it overlaps no already
// placed buffer whose lifetime intersects its own (closed intervals).
// Returns offsets by buffer index; `*arena_bytes` is the highest end.
std::vector<int64_t> GreedyPlace(const std::vector<PlacedBuffer>& buffers, const std::vector<int>& placement_order,
                                 int64_t* arena_bytes);

// Greedy-by-size placement of a BufferGraph: largest first (ties: earlier
// first step, then lower tensor id), via GreedyPlace. An in-place operator's
// output shares its input's buffer when that input is at its last use
// (always legal physically, whatever the accounting says); further outputs
// of multi-output operators get their own buffers.
// The arena can exceed the order's peak: greedy placement is not optimal.
Result<ArenaLayout> LayoutArena(const BufferGraph& graph, const std::vector<int>& order);

// Checks that no two buffers that are live at the same step overlap, and that
// every buffer fits in the arena. Used by tests and assertions.
Status CheckLayout(const BufferGraph& graph, const ArenaLayout& layout);

}  // namespace unas
