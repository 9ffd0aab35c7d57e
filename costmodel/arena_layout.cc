#include "costmodel/arena_layout.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "costmodel/order_search.h"

namespace unas {

std::vector<int64_t> GreedyPlace(const std::vector<PlacedBuffer>& buffers, const std::vector<int>& placement_order,
                                 int64_t* arena_bytes) {
  std::vector<int64_t> offsets(buffers.size(), -1);
  std::vector<int> placed;
  placed.reserve(placement_order.size());
  std::vector<std::pair<int64_t, int64_t>> busy;  // [offset, end) of overlapping buffers
  busy.reserve(placement_order.size());
  *arena_bytes = 0;
  for (int b : placement_order) {
    const PlacedBuffer& buf = buffers[b];
    busy.clear();
    for (int p : placed) {
      if (buffers[p].first <= buf.last && buf.first <= buffers[p].last) {
        busy.emplace_back(offsets[p], offsets[p] + buffers[p].bytes);
      }
    }
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (const auto& [start, end] : busy) {
      if (offset + buf.bytes <= start) break;
      offset = std::max(offset, end);
    }
    offsets[b] = offset;
    *arena_bytes = std::max(*arena_bytes, offset + buf.bytes);
    placed.push_back(b);
  }
  return offsets;
}

Result<ArenaLayout> LayoutArena(const BufferGraph& g, const std::vector<int>& order) {
  UNAS_ASSIGN_OR_RETURN(OrderPeak checked, PeakOfOrder(g, order));
  UNAS_ASSIGN_OR_RETURN(BufferGraphFacts a, AnalyseBufferGraph(g));
  const int t_count = static_cast<int>(g.tensor_bytes.size());
  std::vector<int> pos(a.n);
  for (int s = 0; s < a.n; ++s) pos[order[s]] = s;
  ArenaLayout layout;
  layout.offsets.assign(t_count, -1);
  layout.first_step.assign(t_count, 0);
  layout.last_step.assign(t_count, 0);
  layout.alias_of.resize(t_count);
  std::iota(layout.alias_of.begin(), layout.alias_of.end(), 0);
  for (int t = 0; t < t_count; ++t) {
    const int p = a.producer[t];
    layout.first_step[t] = p < 0 ? 0 : pos[p];
    int last = layout.first_step[t];
    for (int c : a.consumers[t]) last = std::max(last, pos[c]);
    if (a.is_output[t]) last = std::max(a.n - 1, 0);
    layout.last_step[t] = last;
  }
  // Buffers: a root tensor plus the in-place outputs that reuse it.
  std::vector<int> buf_first = layout.first_step, buf_last = layout.last_step;
  std::vector<int64_t> buf_bytes = g.tensor_bytes;
  auto root = [&](int t) {
    while (layout.alias_of[t] != t) t = layout.alias_of[t];
    return t;
  };
  for (int s = 0; s < a.n; ++s) {
    const int x = order[s];
    const int out = g.ops[x].output;
    for (int i : g.ops[x].inplace_inputs) {
      const int r = root(i);
      if (a.is_output[i] || buf_last[r] != s || g.tensor_bytes[i] < g.tensor_bytes[out]) continue;
      layout.alias_of[out] = r;
      buf_last[r] = std::max(buf_last[r], layout.last_step[out]);
      buf_bytes[r] = std::max(buf_bytes[r], g.tensor_bytes[out]);
      break;
    }
  }
  std::vector<int> buffers;
  for (int t = 0; t < t_count; ++t) {
    const bool used = a.producer[t] >= 0 || !a.consumers[t].empty() || a.is_output[t];
    if (root(t) == t && buf_bytes[t] > 0 && used) buffers.push_back(t);
  }
  std::sort(buffers.begin(), buffers.end(), [&](int x, int y) {
    if (buf_bytes[x] != buf_bytes[y]) return buf_bytes[x] > buf_bytes[y];
    if (buf_first[x] != buf_first[y]) return buf_first[x] < buf_first[y];
    return x < y;
  });
  std::vector<PlacedBuffer> placed(t_count);
  for (int t = 0; t < t_count; ++t) placed[t] = {buf_bytes[t], buf_first[t], buf_last[t]};
  const std::vector<int64_t> offsets = GreedyPlace(placed, buffers, &layout.arena_bytes);
  for (int b : buffers) layout.offsets[b] = offsets[b];
  for (int t = 0; t < t_count; ++t) {
    if (g.tensor_bytes[t] > 0) layout.offsets[t] = layout.offsets[root(t)];
  }
  return layout;
}

Status CheckLayout(const BufferGraph& g, const ArenaLayout& layout) {
  const int t_count = static_cast<int>(g.tensor_bytes.size());
  for (int t = 0; t < t_count; ++t) {
    if (g.tensor_bytes[t] == 0 || layout.offsets[t] < 0) continue;
    if (layout.offsets[t] + g.tensor_bytes[t] > layout.arena_bytes) {
      return Status::Internal("tensor " + std::to_string(t) + " does not fit in the arena");
    }
    for (int u = t + 1; u < t_count; ++u) {
      if (g.tensor_bytes[u] == 0 || layout.offsets[u] < 0) continue;
      const bool same_buffer = layout.alias_of[t] == layout.alias_of[u] || layout.alias_of[u] == t ||
                               layout.alias_of[t] == u;
      if (same_buffer) continue;
      // Lifetimes touching at one step overlap, except an in-place reuse, which
      // is a same-buffer pair above.
      const bool live_together =
          layout.first_step[t] <= layout.last_step[u] && layout.first_step[u] <= layout.last_step[t];
      const bool disjoint = layout.offsets[t] + g.tensor_bytes[t] <= layout.offsets[u] ||
                            layout.offsets[u] + g.tensor_bytes[u] <= layout.offsets[t];
      if (live_together && !disjoint) {
        return Status::Internal("tensors " + std::to_string(t) + " and " + std::to_string(u) +
                                " are live together and overlap in the arena");
      }
    }
  }
  return Status::Ok();
}

}  // namespace unas
