// TensorFlow Lite Micro's tensor arena for a ModelGraph run in a given
// operator order: the planned (non-persistent) part exactly as TFLM's
// GreedyMemoryPlanner lays it out, and an estimate of the persistent part
// for a 32-bit Cortex-M. Rules measured on tflite-micro 90b983c2 with the
// reference kernels (../shared/spec/deployment.md):
//
// Planned buffers: every tensor that is not constant, not variable, has a
// non-zero size and is used (a graph input, written or read by an operator);
// added to the planner in tensor index order. Lifetimes in scopes: scope 0
// is before the first operator, the operator at position p of the order runs
// in scope p + 1. A graph input is created in scope 0, an operator's output
// in its producer's scope; it lives until the scope of its last reader (its
// producer's if nobody reads it); graph outputs live until the last
// operator's scope. Intervals are closed (an operator's inputs and outputs
// are live together) and nothing is in place. Each buffer's size is rounded
// up to a multiple of 16 bytes. Placement: largest first; among equal sizes
// the one added later goes first; each at the lowest offset clear of every
// placed buffer whose lifetime overlaps its own. The planned arena is the
// highest end.
//
// Not modelled: scratch buffers (among the reference kernels only SVDF asks
// for one for int8 models; TflmArena::notes says so when the graph has one),
// offline-planned offsets, and multi-subgraph models (only the first
// subgraph is described by a ModelGraph).
//
// Thread safety: all functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "costmodel/buffer_graph.h"
#include "costmodel/model_graph.h"
#include "costmodel/status.h"

namespace unas {

// TFLM's arena buffer alignment (MicroArenaBufferAlignment()).
constexpr int64_t kTflmBufferAlignment = 16;

// Persistent-arena constants for a 32-bit Cortex-M (measured on Cortex-M4,
// deployment.md; an x86-64 build needs about twice as much).
struct TflmPersistentCosts {
  int64_t per_tensor_bytes = 12;         // TfLiteEvalTensor: data and dims pointers, type; weights included
  int64_t per_operator_bytes = 32;       // the node and registration record of each operator
  int64_t conv_bytes = 56;               // CONV_2D / DEPTHWISE_CONV_2D OpData
  int64_t conv_per_channel_bytes = 8;    // per output channel: int32 multiplier and shift
  int64_t fully_connected_bytes = 48;    // FULLY_CONNECTED OpData
  int64_t per_graph_io_bytes = 32;       // per graph input and output tensor
};

struct TflmBuffer {
  int tensor = -1;           // tensor id in the ModelGraph
  int64_t bytes = 0;         // the tensor's bytes
  int64_t planned_bytes = 0; // rounded up to kTflmBufferAlignment
  int first_scope = 0, last_scope = 0;  // closed lifetime
  int64_t offset = 0;        // in the planned arena
};

struct TflmArena {
  std::vector<TflmBuffer> buffers;   // in the order they are added (tensor index order)
  int64_t arena_bytes = 0;           // planned arena: highest end of any buffer
  int64_t live_peak_bytes = 0;       // largest sum of planned bytes live in one scope (lower bound)
  int64_t persistent_bytes = 0;      // TflmPersistentBytes(graph)
  int64_t total_arena_bytes = 0;     // arena_bytes + persistent_bytes: what must fit
  std::vector<std::string> notes;    // what the model leaves out for this graph
};

// Rounds up to kTflmBufferAlignment.
int64_t TflmRound(int64_t bytes);

// Whether TFLM plans an arena buffer for tensor `t` (see above).
bool IsTflmPlannedTensor(const ModelGraph& graph, int t);

// The planned arena for `order` (a permutation of graph.ops indices in
// which every tensor is read only after it is written). Fails with
// kInvalidArgument for a bad order or tensor id.
Result<TflmArena> PlanTflmArena(const ModelGraph& graph, const std::vector<int>& order,
                                const TflmPersistentCosts& costs = {});

// The persistent part's estimate: per tensor, per operator (plus its OpData
// for convolutions and fully connected layers), per graph input/output, and
// the rounded bytes of variable tensors.
int64_t TflmPersistentBytes(const ModelGraph& graph, const TflmPersistentCosts& costs = {});

// The graph under TFLM's rules for order search (order_search.h): tensor ids
// and op ids as in `graph`, bytes TflmRound(bytes) for planned tensors and 0
// for the rest, no in-place operator, graph outputs kept to the end. Its
// PeakOfOrder is the largest sum of planned bytes live in one scope (graph
// inputs nobody reads aside, which TFLM keeps for scope 0 only).
BufferGraph TflmBufferGraph(const ModelGraph& graph);

// The same graph with unrounded bytes of non-constant, non-variable tensors:
// tflite-tools' rule (producer to last reader, graph inputs from the start,
// outputs to the end, no alignment, nothing in place). Variable tensors (an
// SVDF's state) are persistent in TFLM, not activations.
BufferGraph LiveBytesBufferGraph(const ModelGraph& graph);

}  // namespace unas
