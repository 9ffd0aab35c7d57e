// The planner's model of a computation: tensors with byte sizes and
// operators that read some tensors and write others. Knows nothing about
// neural networks; the cost model (MakeBufferGraph), partial execution and
// the TFLite-level graph (tflm_arena.h) all describe themselves this way.
//
// Semantics shared by order search (order_search.h) and arena placement
// (arena_layout.h), docs/cost-model.md section 3:
//   - a tensor no operator writes is a graph input: live from the start
//     while something reads it or it is a graph output;
//   - an operator's output is live from its step to its last reader's step;
//     graph outputs stay live to the end; an output nobody reads is live
//     during its producer's step only;
//   - while an operator runs, its inputs, all its outputs and every tensor
//     still needed later are live;
//   - an operator may write its first output (`output`) into one of its
//     `inplace_inputs` (an Add), so that output costs nothing extra while it
//     runs; with `inplace_requires_last_use` the input must have no other
//     pending reader and must not be a graph output. Further outputs
//     (`outputs`) always get their own buffers.
//
// Thread safety: plain values; the functions over them are pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "costmodel/status.h"

namespace unas {

struct BufferGraph {
  struct Step {
    std::vector<int> inputs;          // tensor ids read (duplicates count once)
    int output = -1;                  // tensor id written; -1 if only `outputs`
    std::vector<int> outputs;         // further tensor ids written (multi-output operators)
    std::vector<int> inplace_inputs;  // inputs that `output` may overwrite
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
  // False when BestOrder could not prove `order` optimal (an exact search
  // would exceed its state limit); `note` then says which heuristic chose it.
  bool proven_optimal = true;
  std::string note;
};

// Derived facts about a graph, checked once: which op writes each tensor,
// who reads it, and a topological order. Fails (kInvalidArgument) on unknown
// tensor ids, negative sizes, a tensor written twice, an op reading its own
// output, in-place inputs it does not read, and cycles.
struct BufferGraphFacts {
  int n = 0;                                   // ops
  std::vector<int> producer;                   // by tensor; -1 for graph inputs
  std::vector<std::vector<int>> consumers;     // by tensor; distinct ops
  std::vector<std::vector<int>> inputs;        // by op; distinct tensors
  std::vector<std::vector<int>> outputs;       // by op; `output` first, then `outputs`
  std::vector<char> is_output;                 // by tensor
  std::vector<int> topo;                       // a topological order, smallest index first
};
Result<BufferGraphFacts> AnalyseBufferGraph(const BufferGraph& graph);

}  // namespace unas
