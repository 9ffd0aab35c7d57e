#include "costmodel/tflm_arena.h"

#include <algorithm>
#include <numeric>

#include "costmodel/arena_layout.h"

namespace unas {
namespace {

bool Valid(const ModelGraph& g, int t) { return t >= 0 && t < static_cast<int>(g.tensors.size()); }

// Tensor ids an operator really reads or writes (-1 marks omitted inputs).
std::vector<int> Present(const std::vector<int>& ids) {
  std::vector<int> out;
  for (int t : ids) {
    if (t >= 0 && std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  }
  return out;
}

// By tensor: whether TFLM plans a buffer for it (IsTflmPlannedTensor).
std::vector<char> PlannedTensors(const ModelGraph& g) {
  std::vector<char> used(g.tensors.size(), 0);
  auto mark = [&](int t) {
    if (Valid(g, t)) used[t] = 1;
  };
  for (int t : g.inputs) mark(t);
  for (const GraphOp& op : g.ops) {
    for (int t : op.inputs) mark(t);
    for (int t : op.outputs) mark(t);
  }
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const GraphTensor& tensor = g.tensors[t];
    used[t] = used[t] && !tensor.is_constant && !tensor.is_variable && tensor.bytes() > 0;
  }
  return used;
}

BufferGraph MakeGraph(const ModelGraph& g, bool tflm) {
  BufferGraph b;
  b.inplace_requires_last_use = true;
  b.tensor_bytes.assign(g.tensors.size(), 0);
  const std::vector<char> planned = PlannedTensors(g);
  std::vector<char> written(g.tensors.size(), 0);
  for (const GraphOp& op : g.ops) {
    for (int t : op.outputs) {
      if (Valid(g, t)) written[t] = 1;
    }
  }
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const GraphTensor& tensor = g.tensors[t];
    if (tflm) {
      b.tensor_bytes[t] = planned[t] ? TflmRound(tensor.bytes()) : 0;
    } else {
      b.tensor_bytes[t] = tensor.is_constant || tensor.is_variable ? 0 : tensor.bytes();
    }
  }
  for (const GraphOp& op : g.ops) {
    BufferGraph::Step step;
    // Tensors of no bytes that no operator writes (constants, mostly) cannot
    // change a peak; leaving them out keeps the graph's cuts visible to the
    // order search (a constant counts as a graph input, which would span
    // every operator before its reader).
    for (int t : Present(op.inputs)) {
      if (b.tensor_bytes[t] > 0 || written[t]) step.inputs.push_back(t);
    }
    // A tensor an operator both reads and writes (a variable's state) is
    // state the operator updates, not a new buffer: keep it as an input.
    std::vector<int> outs;
    for (int t : Present(op.outputs)) {
      if (std::find(step.inputs.begin(), step.inputs.end(), t) == step.inputs.end()) outs.push_back(t);
    }
    if (!outs.empty()) step.output = outs[0];
    step.outputs.assign(outs.begin() + (outs.empty() ? 0 : 1), outs.end());
    b.ops.push_back(std::move(step));
  }
  b.graph_outputs = g.outputs;
  return b;
}

}  // namespace

int64_t TflmRound(int64_t bytes) {
  return (bytes + kTflmBufferAlignment - 1) / kTflmBufferAlignment * kTflmBufferAlignment;
}

bool IsTflmPlannedTensor(const ModelGraph& g, int t) { return Valid(g, t) && PlannedTensors(g)[t]; }

Result<TflmArena> PlanTflmArena(const ModelGraph& g, const std::vector<int>& order, TflmKernels kernels) {
  const int n = static_cast<int>(g.ops.size());
  const int t_count = static_cast<int>(g.tensors.size());
  if (static_cast<int>(order.size()) != n) {
    return Status::Invalid("order has " + std::to_string(order.size()) + " ops, graph has " + std::to_string(n));
  }
  // first[t] / last[t]: scopes; -1 while unknown. position[x]: op x's place in the order.
  std::vector<int> first(t_count, -1), last(t_count, -1), position(n, -1);
  const std::vector<char> planned = PlannedTensors(g);
  for (int t : g.inputs) {
    if (!Valid(g, t)) return Status::Invalid("graph input " + std::to_string(t) + " is not a tensor");
    first[t] = last[t] = 0;
  }
  for (int p = 0; p < n; ++p) {
    const int x = order[p];
    if (x < 0 || x >= n || position[x] >= 0) return Status::Invalid("order is not a permutation of the ops");
    position[x] = p;
    const int scope = p + 1;
    for (int t : g.ops[x].inputs) {
      if (t == -1) continue;
      if (!Valid(g, t)) return Status::Invalid("op " + std::to_string(x) + " reads an unknown tensor");
      if (!planned[t]) continue;
      if (first[t] < 0) {
        return Status::Invalid("op " + std::to_string(x) + " reads tensor " + std::to_string(t) +
                               " before anything writes it");
      }
      last[t] = std::max(last[t], scope);
    }
    for (int t : g.ops[x].outputs) {
      if (!Valid(g, t)) return Status::Invalid("op " + std::to_string(x) + " writes an unknown tensor");
      if (!planned[t]) continue;
      if (first[t] >= 0) return Status::Invalid("tensor " + std::to_string(t) + " is written twice");
      first[t] = last[t] = scope;
    }
  }
  for (int t : g.outputs) {
    if (!Valid(g, t)) return Status::Invalid("graph output " + std::to_string(t) + " is not a tensor");
    if (first[t] >= 0) last[t] = n;
  }
  TflmArena arena;
  arena.kernels = kernels;
  std::vector<PlacedBuffer> placed;
  for (int t = 0; t < t_count; ++t) {
    if (!planned[t] || first[t] < 0) continue;
    TflmBuffer b;
    b.tensor = t;
    b.bytes = g.tensors[t].bytes();
    b.planned_bytes = TflmRound(b.bytes);
    b.first_scope = first[t];
    b.last_scope = last[t];
    arena.buffers.push_back(b);
    placed.push_back({b.planned_bytes, b.first_scope, b.last_scope});
  }
  // Scratch buffers follow the tensors, in request order: operators in run
  // order (Prepare runs them so), each operator's requests in its order.
  std::vector<TflmScratch> scratch = TflmScratchRequests(g, kernels);
  std::stable_sort(scratch.begin(), scratch.end(),
                   [&](const TflmScratch& a, const TflmScratch& b) { return position[a.op] < position[b.op]; });
  for (const TflmScratch& s : scratch) {
    TflmBuffer b;
    b.scratch_op = s.op;
    b.bytes = s.bytes;
    b.planned_bytes = TflmRound(s.bytes);
    b.first_scope = b.last_scope = position[s.op] + 1;
    arena.scratch_bytes += b.planned_bytes;
    arena.buffers.push_back(b);
    placed.push_back({b.planned_bytes, b.first_scope, b.last_scope});
  }
  // Largest first; among equal sizes the later-added buffer first.
  std::vector<int> placement(placed.size());
  std::iota(placement.begin(), placement.end(), 0);
  std::sort(placement.begin(), placement.end(), [&](int a, int b) {
    if (placed[a].bytes != placed[b].bytes) return placed[a].bytes > placed[b].bytes;
    return a > b;
  });
  const std::vector<int64_t> offsets = GreedyPlace(placed, placement, &arena.arena_bytes);
  std::vector<int64_t> per_scope(n + 1, 0);
  for (size_t i = 0; i < arena.buffers.size(); ++i) {
    arena.buffers[i].offset = offsets[i];
    for (int s = arena.buffers[i].first_scope; s <= arena.buffers[i].last_scope; ++s) {
      per_scope[s] += arena.buffers[i].planned_bytes;
    }
  }
  arena.live_peak_bytes = *std::max_element(per_scope.begin(), per_scope.end());
  arena.persistent =
      TflmPersistentAllocations(g, order, kernels, static_cast<int>(scratch.size()), &arena.notes);
  arena.persistent_bytes = TflmTailBytes(arena.persistent);
  arena.total_arena_bytes = arena.arena_bytes + arena.persistent_bytes;
  return arena;
}

BufferGraph TflmBufferGraph(const ModelGraph& graph) { return MakeGraph(graph, true); }

BufferGraph LiveBytesBufferGraph(const ModelGraph& graph) { return MakeGraph(graph, false); }

}  // namespace unas
