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

namespace {

// Every planned tensor's scope in `order` (first[t] / last[t], -1 when
// nothing writes it) and each op's place in the order. Errors: an order that
// is not a permutation, unknown tensors, a tensor read before it is written
// or written twice.
struct Scopes {
  std::vector<int> first, last, position;
};

Result<Scopes> ScopesIn(const ModelGraph& g, const std::vector<int>& order, const std::vector<char>& planned) {
  const int n = static_cast<int>(g.ops.size());
  Scopes s{std::vector<int>(g.tensors.size(), -1), std::vector<int>(g.tensors.size(), -1), std::vector<int>(n, -1)};
  for (int t : g.inputs) {
    if (!Valid(g, t)) return Status::Invalid("graph input " + std::to_string(t) + " is not a tensor");
    s.first[t] = s.last[t] = 0;
  }
  for (int p = 0; p < n; ++p) {
    const int x = order[p];
    if (x < 0 || x >= n || s.position[x] >= 0) return Status::Invalid("order is not a permutation of the ops");
    s.position[x] = p;
    const int scope = p + 1;
    for (int t : g.ops[x].inputs) {
      if (t == -1) continue;
      if (!Valid(g, t)) return Status::Invalid("op " + std::to_string(x) + " reads an unknown tensor");
      if (!planned[t]) continue;
      if (s.first[t] < 0) {
        return Status::Invalid("op " + std::to_string(x) + " reads tensor " + std::to_string(t) +
                               " before anything writes it");
      }
      s.last[t] = std::max(s.last[t], scope);
    }
    for (int t : g.ops[x].outputs) {
      if (!Valid(g, t)) return Status::Invalid("op " + std::to_string(x) + " writes an unknown tensor");
      if (!planned[t]) continue;
      if (s.first[t] >= 0) return Status::Invalid("tensor " + std::to_string(t) + " is written twice");
      s.first[t] = s.last[t] = scope;
    }
  }
  for (int t : g.outputs) {
    if (!Valid(g, t)) return Status::Invalid("graph output " + std::to_string(t) + " is not a tensor");
    if (s.first[t] >= 0) s.last[t] = n;
  }
  return s;
}

void AddBuffer(TflmBuffer b, TflmArena* arena, std::vector<PlacedBuffer>* placed) {
  arena->buffers.push_back(b);
  placed->push_back({b.planned_bytes, b.first_scope, b.last_scope});
}

// The greedy placement (largest first; among equal sizes the later-added
// buffer first), the live peak over scopes and the arena's size.
void PlaceBuffers(const std::vector<PlacedBuffer>& placed, int n, TflmArena* arena) {
  std::vector<int> placement(placed.size());
  std::iota(placement.begin(), placement.end(), 0);
  std::sort(placement.begin(), placement.end(), [&](int a, int b) {
    if (placed[a].bytes != placed[b].bytes) return placed[a].bytes > placed[b].bytes;
    return a > b;
  });
  const std::vector<int64_t> offsets = GreedyPlace(placed, placement, &arena->arena_bytes);
  std::vector<int64_t> per_scope(n + 1, 0);
  for (size_t i = 0; i < arena->buffers.size(); ++i) {
    arena->buffers[i].offset = offsets[i];
    for (int s = arena->buffers[i].first_scope; s <= arena->buffers[i].last_scope; ++s) {
      per_scope[s] += arena->buffers[i].planned_bytes;
    }
  }
  arena->live_peak_bytes = *std::max_element(per_scope.begin(), per_scope.end());
}

}  // namespace

TflmArenaPlanner::TflmArenaPlanner(const ModelGraph& graph) : graph_(graph), planned_(PlannedTensors(graph)) {}

// The planned tensors' buffers in tensor order, then the scratch buffers in
// request order, placed greedily; then the persistent part's size.
Result<TflmArena> TflmArenaPlanner::Plan(const std::vector<int>& order, TflmKernels kernels) {
  const ModelGraph& g = graph_;
  const int n = static_cast<int>(g.ops.size());
  if (static_cast<int>(order.size()) != n) {
    return Status::Invalid("order has " + std::to_string(order.size()) + " ops, graph has " + std::to_string(n));
  }
  UNAS_ASSIGN_OR_RETURN(Scopes scopes, ScopesIn(g, order, planned_));
  const int k = kernels == TflmKernels::kCmsisNn ? 1 : 0;
  if (!scratch_known_[k]) {
    scratch_[k] = TflmScratchRequests(g, kernels);
    scratch_known_[k] = true;
  }
  TflmArena arena;
  arena.kernels = kernels;
  std::vector<PlacedBuffer> placed;
  arena.buffers.reserve(g.tensors.size() + scratch_[k].size());
  placed.reserve(arena.buffers.capacity());
  for (int t = 0; t < static_cast<int>(g.tensors.size()); ++t) {
    if (!planned_[t] || scopes.first[t] < 0) continue;
    TflmBuffer b;
    b.tensor = t;
    b.bytes = g.tensors[t].bytes();
    b.planned_bytes = TflmRound(b.bytes);
    b.first_scope = scopes.first[t];
    b.last_scope = scopes.last[t];
    AddBuffer(b, &arena, &placed);
  }
  // Scratch buffers follow the tensors, in request order: operators in run
  // order (Prepare runs them so), each operator's requests in its order.
  std::vector<TflmScratch> scratch = scratch_[k];
  std::stable_sort(scratch.begin(), scratch.end(), [&](const TflmScratch& a, const TflmScratch& b) {
    return scopes.position[a.op] < scopes.position[b.op];
  });
  for (const TflmScratch& s : scratch) {
    TflmBuffer b;
    b.scratch_op = s.op;
    b.bytes = s.bytes;
    b.planned_bytes = TflmRound(s.bytes);
    b.first_scope = b.last_scope = scopes.position[s.op] + 1;
    arena.scratch_bytes += b.planned_bytes;
    AddBuffer(b, &arena, &placed);
  }
  PlaceBuffers(placed, n, &arena);
  arena.persistent_bytes = TflmPersistentBytes(g, order, kernels, static_cast<int>(scratch.size()));
  arena.total_arena_bytes = arena.arena_bytes + arena.persistent_bytes;
  return arena;
}

Result<TflmArena> PlanTflmArena(const ModelGraph& g, const std::vector<int>& order, TflmKernels kernels) {
  TflmArenaPlanner planner(g);
  UNAS_ASSIGN_OR_RETURN(TflmArena arena, planner.Plan(order, kernels));
  int scratch_buffers = 0;
  for (const TflmBuffer& b : arena.buffers) scratch_buffers += b.tensor < 0 ? 1 : 0;
  arena.persistent = TflmPersistentAllocations(g, order, kernels, scratch_buffers, &arena.notes);
  return arena;
}

BufferGraph TflmBufferGraph(const ModelGraph& graph) { return MakeGraph(graph, true); }

BufferGraph LiveBytesBufferGraph(const ModelGraph& graph) { return MakeGraph(graph, false); }

}  // namespace unas
