#include "costmodel/memory_planner.h"

#include <algorithm>
#include <bitset>
#include <limits>
#include <numeric>
#include <string>
#include <unordered_map>

namespace unas {
namespace {

constexpr int kMaxOps = 256;
using OpSet = std::bitset<kMaxOps>;
constexpr int64_t kInf = std::numeric_limits<int64_t>::max();

// Derived facts about a graph, checked once.
struct Analysis {
  int n = 0;
  std::vector<int> producer;                   // by tensor; -1 for graph inputs
  std::vector<std::vector<int>> consumers;     // by tensor; distinct ops
  std::vector<std::vector<int>> inputs;        // by op; distinct tensors
  std::vector<char> is_output;                 // by tensor
  std::vector<int> topo;                       // a topological order of ops
};

Result<Analysis> Analyse(const BufferGraph& g) {
  Analysis a;
  a.n = static_cast<int>(g.ops.size());
  const int t_count = static_cast<int>(g.tensor_bytes.size());
  a.producer.assign(t_count, -1);
  a.consumers.assign(t_count, {});
  a.inputs.assign(a.n, {});
  a.is_output.assign(t_count, 0);
  auto valid = [&](int t) { return t >= 0 && t < t_count; };
  for (int t = 0; t < t_count; ++t) {
    if (g.tensor_bytes[t] < 0) return Status::Invalid("tensor " + std::to_string(t) + " has negative size");
  }
  for (int x = 0; x < a.n; ++x) {
    const auto& op = g.ops[x];
    if (!valid(op.output)) return Status::Invalid("op " + std::to_string(x) + " writes an unknown tensor");
    if (a.producer[op.output] != -1) {
      return Status::Invalid("tensor " + std::to_string(op.output) + " is written by two ops");
    }
    a.producer[op.output] = x;
    for (int t : op.inputs) {
      if (!valid(t)) return Status::Invalid("op " + std::to_string(x) + " reads an unknown tensor");
      if (t == op.output) return Status::Invalid("op " + std::to_string(x) + " reads its own output");
      if (std::find(a.inputs[x].begin(), a.inputs[x].end(), t) == a.inputs[x].end()) {
        a.inputs[x].push_back(t);
        a.consumers[t].push_back(x);
      }
    }
    for (int t : op.inplace_inputs) {
      if (std::find(op.inputs.begin(), op.inputs.end(), t) == op.inputs.end()) {
        return Status::Invalid("op " + std::to_string(x) + " may overwrite a tensor it does not read");
      }
    }
  }
  for (int t : g.graph_outputs) {
    if (!valid(t)) return Status::Invalid("unknown graph output tensor");
    a.is_output[t] = 1;
  }
  // Kahn's algorithm, smallest index first so that a build order stays as is.
  std::vector<int> pending(a.n, 0);
  for (int x = 0; x < a.n; ++x) {
    for (int t : a.inputs[x]) pending[x] += a.producer[t] >= 0 ? 1 : 0;
  }
  std::vector<int> ready;
  for (int x = a.n - 1; x >= 0; --x) {
    if (pending[x] == 0) ready.push_back(x);
  }
  while (!ready.empty()) {
    const int x = ready.back();
    ready.pop_back();
    a.topo.push_back(x);
    for (int c : a.consumers[g.ops[x].output]) {
      if (--pending[c] == 0) {
        ready.push_back(c);
        std::sort(ready.rbegin(), ready.rend());
      }
    }
  }
  if (static_cast<int>(a.topo.size()) != a.n) return Status::Invalid("the graph has a cycle");
  return a;
}

// Whether `x`, run when exactly the ops in `done` have run, may write in place.
bool RunsInPlace(const BufferGraph& g, const Analysis& a, int x, const OpSet& done) {
  for (int i : g.ops[x].inplace_inputs) {
    if (!g.inplace_requires_last_use) return true;
    if (a.is_output[i]) continue;
    bool last_use = true;
    for (int c : a.consumers[i]) last_use = last_use && (c == x || done[c]);
    if (last_use) return true;
  }
  return false;
}

// Bytes live when exactly the ops in `done` have run.
int64_t LiveBytes(const BufferGraph& g, const Analysis& a, const OpSet& done) {
  int64_t live = 0;
  for (size_t t = 0; t < g.tensor_bytes.size(); ++t) {
    const int p = a.producer[t];
    if (p >= 0 && !done[p]) continue;
    bool needed = a.is_output[t];
    for (int c : a.consumers[t]) needed = needed || !done[c];
    if (needed) live += g.tensor_bytes[t];
  }
  return live;
}

// Exact DP over the downsets of `ops` (at most 64), all ops in `before` done.
Result<std::vector<int>> DownsetOrder(const BufferGraph& g, const Analysis& a, const std::vector<int>& ops,
                                      const OpSet& before, int64_t max_states, int64_t* peak_out) {
  const int m = static_cast<int>(ops.size());
  if (m > 64) return Status(StatusCode::kResourceExhausted, "segment of more than 64 operators");
  std::vector<int> local(a.n, -1);
  for (int i = 0; i < m; ++i) local[ops[i]] = i;
  std::vector<uint64_t> preds(m, 0);
  for (int i = 0; i < m; ++i) {
    for (int t : a.inputs[ops[i]]) {
      const int p = a.producer[t];
      if (p >= 0 && local[p] >= 0) preds[i] |= uint64_t{1} << local[p];
    }
  }
  struct Entry {
    int64_t peak;
    uint64_t parent;
    int op;
  };
  std::unordered_map<uint64_t, Entry> best;
  best[0] = {0, 0, -1};
  std::vector<uint64_t> level = {0};
  for (int depth = 0; depth < m; ++depth) {
    std::vector<uint64_t> next;
    for (uint64_t state : level) {
      const int64_t here = best[state].peak;
      OpSet done = before;
      for (int i = 0; i < m; ++i) {
        if (state >> i & 1) done.set(ops[i]);
      }
      const int64_t live = LiveBytes(g, a, done);
      for (int i = 0; i < m; ++i) {
        if ((state >> i & 1) || (preds[i] & ~state)) continue;
        const int x = ops[i];
        const int64_t out = RunsInPlace(g, a, x, done) ? 0 : g.tensor_bytes[g.ops[x].output];
        // The output is counted once even if it was already live (it cannot be).
        const int64_t cost = std::max(here, live + out);
        const uint64_t succ = state | uint64_t{1} << i;
        auto it = best.find(succ);
        if (it == best.end()) {
          if (static_cast<int64_t>(best.size()) >= max_states) {
            return Status(StatusCode::kResourceExhausted,
                          "exact scheduling needs more than " + std::to_string(max_states) + " states");
          }
          best[succ] = {cost, state, x};
          next.push_back(succ);
        } else if (cost < it->second.peak) {
          it->second = {cost, state, x};
        }
      }
    }
    level = std::move(next);
  }
  const uint64_t full = m == 64 ? ~uint64_t{0} : (uint64_t{1} << m) - 1;
  std::vector<int> order;
  for (uint64_t s = full; s != 0; s = best[s].parent) order.push_back(best[s].op);
  std::reverse(order.begin(), order.end());
  *peak_out = best[full].peak;
  return order;
}

// Positions where a chain may be paused without raising the peak. r[i] is
// the chain's resident bytes after its first i ops (r[0] = 0, the source is
// accounted separately). Exchange argument, for a pause after op i with
// 2 <= i < n, in any schedule:
//  - if r[i+1] <= min(r[i-1], r[i]), running op i+1 right after op i costs no
//    more than op i did (same background, r[i] + r[i+1] <= r[i-1] + r[i]), and
//    the chain then holds r[i+1] <= r[i] while paused;
//  - if r[i-1] <= min(r[i], r[i+1]), postponing op i to just before op i+1
//    costs no more than op i+1 does, and the chain holds r[i-1] <= r[i].
// At a pause that is not a weak local minimum one of the two applies, moving
// the pause to a neighbour of strictly smaller r, so repeated exchanges end
// with pauses only at the head or at weak local minima. The head (i = 1) is
// special only because the shared source tensor is freed once every chain
// has started; when the source costs nothing (μNAS does not count the network
// input) the second argument holds for i = 1 too. The tests check the result
// against the plain DP and against brute force.
std::vector<int> StopPoints(const std::vector<int64_t>& r, bool source_is_free) {
  const int n = static_cast<int>(r.size()) - 1;
  std::vector<int> stops = {0};
  for (int i = 1; i <= n; ++i) {
    const bool head = i == 1 && !source_is_free;
    if (head || i == n || (r[i] <= r[i - 1] && r[i] <= r[i + 1])) stops.push_back(i);
  }
  return stops;
}

// Exact schedule of parallel chains that all start from one source tensor of
// `source_bytes` and end at the next cut. Returns false in `*applies` if the
// segment is not of that shape.
Result<std::vector<int>> ChainOrder(const BufferGraph& g, const Analysis& a, const std::vector<int>& seg,
                                    const OpSet& before, int sink, int64_t max_states, bool* applies) {
  *applies = false;
  if (sink < 0) return std::vector<int>{};
  OpSet in_seg;
  for (int x : seg) in_seg.set(x);
  int source = -1;
  for (int x : seg) {
    if (a.inputs[x].size() != 1 || !g.ops[x].inplace_inputs.empty()) return std::vector<int>{};
    const int t = a.inputs[x][0];
    const int p = a.producer[t];
    if (p < 0 || before[p]) {
      if (source >= 0 && source != t) return std::vector<int>{};
      source = t;
    } else if (!in_seg[p]) {
      return std::vector<int>{};
    }
    const int out = g.ops[x].output;
    if (a.is_output[out] || a.consumers[out].size() != 1) return std::vector<int>{};
    const int c = a.consumers[out][0];
    if (c != sink && !in_seg[c]) return std::vector<int>{};
  }
  if (source < 0 || a.is_output[source]) return std::vector<int>{};
  for (int c : a.consumers[source]) {
    if (!in_seg[c]) return std::vector<int>{};
  }
  // Follow each chain from its head (a consumer of the source) to the sink.
  std::vector<std::vector<int>> chains;
  size_t covered = 0;
  for (int head : a.consumers[source]) {
    std::vector<int> chain;
    for (int x = head; x != sink; x = a.consumers[g.ops[x].output][0]) chain.push_back(x);
    covered += chain.size();
    chains.push_back(std::move(chain));
  }
  if (covered != seg.size()) return std::vector<int>{};
  *applies = true;

  const int k = static_cast<int>(chains.size());
  const int64_t source_bytes = g.tensor_bytes[source];
  std::vector<std::vector<int64_t>> r(k), m(k);
  std::vector<std::vector<int>> stops(k);
  std::vector<int64_t> stride(k);
  int64_t total = 1;
  for (int j = 0; j < k; ++j) {
    const int n = static_cast<int>(chains[j].size());
    r[j].assign(n + 1, 0);
    m[j].assign(n + 1, 0);
    for (int i = 1; i <= n; ++i) {
      r[j][i] = g.tensor_bytes[g.ops[chains[j][i - 1]].output];
      m[j][i] = r[j][i - 1] + r[j][i];
    }
    stops[j] = StopPoints(r[j], source_bytes == 0);
    stride[j] = total;
    total *= static_cast<int64_t>(stops[j].size());
    if (total > max_states) {
      return Status(StatusCode::kResourceExhausted,
                    "exact scheduling needs more than " + std::to_string(max_states) + " states");
    }
  }
  std::vector<int64_t> best(total, kInf), parent(total, -1);
  std::vector<int8_t> moved(total, -1);
  std::vector<int> digit(k, 0);
  best[0] = 0;
  for (int64_t idx = 0; idx < total; ++idx) {
    if (idx > 0) {  // odometer increment of the mixed-radix digits
      for (int j = 0; j < k; ++j) {
        if (++digit[j] < static_cast<int>(stops[j].size())) break;
        digit[j] = 0;
      }
    }
    if (best[idx] == kInf) continue;
    int64_t resident = 0;
    int unstarted = 0;
    for (int j = 0; j < k; ++j) {
      resident += r[j][stops[j][digit[j]]];
      unstarted += digit[j] == 0;
    }
    for (int j = 0; j < k; ++j) {
      if (digit[j] + 1 >= static_cast<int>(stops[j].size())) continue;
      const int from = stops[j][digit[j]], to = stops[j][digit[j] + 1];
      const int64_t others = resident - r[j][from];
      const bool others_need_source = unstarted - (from == 0) > 0;
      int64_t cost = best[idx];
      for (int i = from + 1; i <= to; ++i) {
        const int64_t src = (i == 1 || others_need_source) ? source_bytes : 0;
        cost = std::max(cost, others + m[j][i] + src);
      }
      const int64_t succ = idx + stride[j];
      if (cost < best[succ]) {
        best[succ] = cost;
        parent[succ] = idx;
        moved[succ] = static_cast<int8_t>(j);
      }
    }
  }
  // Walk back from the final state, emitting each advanced stretch of a chain.
  std::vector<std::vector<int>> stretches;
  int64_t idx = total - 1;
  while (idx != 0) {
    const int j = moved[idx];
    const int64_t prev = parent[idx];
    const int q = static_cast<int>((prev / stride[j]) % static_cast<int64_t>(stops[j].size()));
    stretches.emplace_back(chains[j].begin() + stops[j][q], chains[j].begin() + stops[j][q + 1]);
    idx = prev;
  }
  std::vector<int> order;
  for (auto it = stretches.rbegin(); it != stretches.rend(); ++it) order.insert(order.end(), it->begin(), it->end());
  return order;
}

}  // namespace

static Result<OrderPeak> PeakOfOrderIn(const BufferGraph& g, const Analysis& a, const std::vector<int>& order) {
  if (static_cast<int>(order.size()) != a.n) {
    return Status::Invalid("order has " + std::to_string(order.size()) + " ops, graph has " + std::to_string(a.n));
  }
  std::vector<char> done(a.n, 0);
  std::vector<int> remaining(g.tensor_bytes.size());
  int64_t live = 0;
  for (size_t t = 0; t < g.tensor_bytes.size(); ++t) {
    remaining[t] = static_cast<int>(a.consumers[t].size());
    if (a.producer[t] < 0 && (remaining[t] > 0 || a.is_output[t])) live += g.tensor_bytes[t];
  }
  OrderPeak result;
  result.order = order;
  for (int x : order) {
    if (x < 0 || x >= a.n || done[x]) return Status::Invalid("order is not a permutation of the ops");
    for (int t : a.inputs[x]) {
      if (a.producer[t] >= 0 && !done[a.producer[t]]) {
        return Status::Invalid("op " + std::to_string(x) + " runs before the producer of its input");
      }
    }
    bool in_place = false;
    for (int i : g.ops[x].inplace_inputs) {
      in_place = in_place || !g.inplace_requires_last_use || (remaining[i] == 1 && !a.is_output[i]);
    }
    const int out = g.ops[x].output;
    const int64_t step = live + (in_place ? 0 : g.tensor_bytes[out]);
    result.live_bytes.push_back(step);
    result.peak_bytes = std::max(result.peak_bytes, step);
    for (int t : a.inputs[x]) {
      if (--remaining[t] == 0 && !a.is_output[t]) live -= g.tensor_bytes[t];
    }
    if (remaining[out] > 0 || a.is_output[out]) live += g.tensor_bytes[out];
    done[x] = 1;
  }
  return result;
}

Result<OrderPeak> PeakOfOrder(const BufferGraph& g, const std::vector<int>& order) {
  UNAS_ASSIGN_OR_RETURN(Analysis a, Analyse(g));
  return PeakOfOrderIn(g, a, order);
}

Result<OrderPeak> BestOrderByDownsets(const BufferGraph& g, int64_t max_states) {
  UNAS_ASSIGN_OR_RETURN(Analysis a, Analyse(g));
  if (a.n > kMaxOps) return Status(StatusCode::kResourceExhausted, "graph has too many ops");
  int64_t peak = 0;
  UNAS_ASSIGN_OR_RETURN(std::vector<int> order, DownsetOrder(g, a, a.topo, OpSet(), max_states, &peak));
  return PeakOfOrderIn(g, a, order);
}

Result<OrderPeak> BestOrder(const BufferGraph& g, int64_t max_states) {
  UNAS_ASSIGN_OR_RETURN(Analysis a, Analyse(g));
  if (a.n > kMaxOps) {
    return Status(StatusCode::kResourceExhausted, "graph has more than " + std::to_string(kMaxOps) + " ops");
  }
  const int n = a.n;
  std::vector<OpSet> anc(n), desc(n);
  for (int x : a.topo) {
    for (int t : a.inputs[x]) {
      const int p = a.producer[t];
      if (p >= 0) anc[x] |= anc[p], anc[x].set(p);
    }
  }
  for (auto it = a.topo.rbegin(); it != a.topo.rend(); ++it) {
    const int x = *it;
    for (int c : a.consumers[g.ops[x].output]) desc[x] |= desc[c], desc[x].set(c);
  }
  // A cut: every op is before or after it, and only its output crosses it.
  // With positions in the topological order, a tensor "spans" the positions
  // strictly between its producer (-1 for graph inputs) and its last consumer
  // (n for graph outputs); an op is crossed by another tensor iff spanned.
  std::vector<int> pos(n);
  for (int i = 0; i < n; ++i) pos[a.topo[i]] = i;
  std::vector<int> spanned(n + 1, 0);
  for (size_t t = 0; t < g.tensor_bytes.size(); ++t) {
    const int from = a.producer[t] < 0 ? -1 : pos[a.producer[t]];
    int to = from;
    for (int c : a.consumers[t]) to = std::max(to, pos[c]);
    if (a.is_output[t]) to = n;
    if (to - from >= 2) {  // difference array over positions from+1 .. to-1
      spanned[from + 1] += 1;
      spanned[to] -= 1;
    }
  }
  std::vector<int> cuts;
  int crossing = 0;
  for (int i = 0; i < n; ++i) {
    crossing += spanned[i];
    const int x = a.topo[i];
    if (crossing == 0 && static_cast<int>((anc[x] | desc[x]).count()) + 1 == n) cuts.push_back(x);
  }
  std::vector<int> order;
  OpSet done;
  auto solve = [&](const OpSet& seg_set, int sink) -> Status {
    std::vector<int> seg;
    for (int x : a.topo) {
      if (seg_set[x]) seg.push_back(x);
    }
    if (seg.size() <= 1) {
      order.insert(order.end(), seg.begin(), seg.end());
      return Status::Ok();
    }
    bool applies = false;
    auto chains = ChainOrder(g, a, seg, done, sink, max_states, &applies);
    if (!chains.ok()) return chains.status();
    if (applies) {
      order.insert(order.end(), chains->begin(), chains->end());
      return Status::Ok();
    }
    int64_t peak = 0;
    auto general = DownsetOrder(g, a, seg, done, max_states, &peak);
    if (!general.ok()) return general.status();
    order.insert(order.end(), general->begin(), general->end());
    return Status::Ok();
  };
  for (int c : cuts) {
    UNAS_RETURN_IF_ERROR(solve(anc[c] & ~done, c));
    done |= anc[c];
    done.set(c);
    order.push_back(c);
  }
  OpSet rest;
  for (int x = 0; x < n; ++x) rest.set(x);
  UNAS_RETURN_IF_ERROR(solve(rest & ~done, -1));
  return PeakOfOrderIn(g, a, order);
}

Result<ArenaLayout> LayoutArena(const BufferGraph& g, const std::vector<int>& order) {
  UNAS_ASSIGN_OR_RETURN(OrderPeak checked, PeakOfOrder(g, order));
  UNAS_ASSIGN_OR_RETURN(Analysis a, Analyse(g));
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
    if (a.is_output[t]) last = a.n - 1;
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
  std::vector<int> placed;
  for (int b : buffers) {
    std::vector<std::pair<int64_t, int64_t>> busy;  // [offset, end) of overlapping buffers
    for (int p : placed) {
      if (buf_first[p] <= buf_last[b] && buf_first[b] <= buf_last[p]) {
        busy.emplace_back(layout.offsets[p], layout.offsets[p] + buf_bytes[p]);
      }
    }
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (const auto& [start, end] : busy) {
      if (offset + buf_bytes[b] <= start) break;
      offset = std::max(offset, end);
    }
    layout.offsets[b] = offset;
    layout.arena_bytes = std::max(layout.arena_bytes, offset + buf_bytes[b]);
    placed.push_back(b);
  }
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
