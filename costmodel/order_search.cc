#include "costmodel/order_search.h"

#include <algorithm>
#include <array>
#include <bitset>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>

namespace unas {
namespace {

constexpr int kMaxOps = 256;
using OpSet = std::bitset<kMaxOps>;
using Facts = BufferGraphFacts;
constexpr int64_t kInf = std::numeric_limits<int64_t>::max();
// With a budget for the whole graph, each segment may still store this many
// states (a segment of up to 10 operators is then always exact).
constexpr int64_t kMinSegmentStates = 1024;

std::string NoOrderWithin(int64_t peak_limit) {
  return "no order within the peak limit of " + std::to_string(peak_limit) + " bytes";
}

std::string TooManyStates(int64_t max_states) {
  return "exact scheduling needs more than " + std::to_string(max_states) + " states";
}

// Bytes `x` adds while it runs: all its outputs, less the first one if it is
// written in place.
int64_t OutputBytes(const BufferGraph& g, const Facts& a, int x, bool in_place) {
  int64_t bytes = 0;
  for (int t : a.outputs[x]) bytes += g.tensor_bytes[t];
  return in_place ? bytes - g.tensor_bytes[g.ops[x].output] : bytes;
}

// Bytes live when exactly the ops in `done` have run.
int64_t LiveBytes(const BufferGraph& g, const Facts& a, const OpSet& done) {
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

// Downset keys: a 64-bit mask for segments of up to 64 ops (the common,
// fast case), four words beyond.
struct WideKey {
  uint64_t w[kMaxOps / 64] = {};
  bool operator==(const WideKey& o) const {
    for (int i = 0; i < kMaxOps / 64; ++i) {
      if (w[i] != o.w[i]) return false;
    }
    return true;
  }
};
bool Test(uint64_t k, int i) { return (k >> i) & 1; }
bool Test(const WideKey& k, int i) { return (k.w[i >> 6] >> (i & 63)) & 1; }
void Set(uint64_t& k, int i) { k |= uint64_t{1} << i; }
void Set(WideKey& k, int i) { k.w[i >> 6] |= uint64_t{1} << (i & 63); }
bool Any(uint64_t k) { return k != 0; }
bool Any(const WideKey& k) {
  for (uint64_t x : k.w) {
    if (x) return true;
  }
  return false;
}
// Whether `preds` holds an op that `state` does not.
bool Missing(uint64_t preds, uint64_t state) { return (preds & ~state) != 0; }
bool Missing(const WideKey& preds, const WideKey& state) {
  for (int i = 0; i < kMaxOps / 64; ++i) {
    if (preds.w[i] & ~state.w[i]) return true;
  }
  return false;
}
uint64_t And(uint64_t a, uint64_t b) { return a & b; }
uint64_t Or(uint64_t a, uint64_t b) { return a | b; }
uint64_t AndNot(uint64_t a, uint64_t b) { return a & ~b; }
int PopCount(uint64_t k) { return __builtin_popcountll(k); }
// Calls fn(i) for each i < m not in `k`, in increasing order.
template <typename Fn>
void ForEachOpNotIn(uint64_t k, int m, Fn&& fn) {
  for (uint64_t rest = ~k & (m == 64 ? ~uint64_t{0} : (uint64_t{1} << m) - 1); rest != 0; rest &= rest - 1) {
    fn(__builtin_ctzll(rest));
  }
}
WideKey And(const WideKey& a, const WideKey& b) {
  WideKey out;
  for (int i = 0; i < kMaxOps / 64; ++i) out.w[i] = a.w[i] & b.w[i];
  return out;
}
WideKey Or(const WideKey& a, const WideKey& b) {
  WideKey out;
  for (int i = 0; i < kMaxOps / 64; ++i) out.w[i] = a.w[i] | b.w[i];
  return out;
}
WideKey AndNot(const WideKey& a, const WideKey& b) {
  WideKey out;
  for (int i = 0; i < kMaxOps / 64; ++i) out.w[i] = a.w[i] & ~b.w[i];
  return out;
}
template <typename Fn>
void ForEachOpNotIn(const WideKey& k, int m, Fn&& fn) {
  for (int i = 0; i < m; ++i) {
    if (!Test(k, i)) fn(i);
  }
}
int PopCount(const WideKey& k) {
  int n = 0;
  for (uint64_t w : k.w) n += __builtin_popcountll(w);
  return n;
}
// splitmix64's finaliser: downset masks differ in few low bits, which an
// identity hash would crowd into neighbouring slots.
uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
uint64_t HashKey(uint64_t k) { return Mix(k); }
uint64_t HashKey(const WideKey& k) {
  uint64_t h = 0;
  for (uint64_t x : k.w) h = Mix(h ^ x);
  return h;
}

// Key -> index into a vector of states, by open addressing (linear
// probing, at most half full). The DP stores up to millions of states and
// looks each successor up once: a node-based map spent most of the time in
// allocation and pointer chasing.
template <typename Key>
class StateIndex {
 public:
  static constexpr int32_t kEmpty = -1;
  // Sized for `expected` keys without growing.
  explicit StateIndex(size_t expected = 0) : slots_(SlotsFor(expected), kEmpty), mask_(slots_.size() - 1) {}
  // The index stored for `key`, or kEmpty; `*slot` is where it is or would go.
  template <typename Keys>
  int32_t Find(const Key& key, const Keys& keys, size_t* slot) const {
    size_t s = HashKey(key) & mask_;
    while (slots_[s] != kEmpty && !(keys(slots_[s]) == key)) s = (s + 1) & mask_;
    *slot = s;
    return slots_[s];
  }
  // Stores `index` at `slot` (from Find, no insertion in between); grows
  // when half full, rehashing with `keys`.
  template <typename Keys>
  void Insert(size_t slot, int32_t index, const Keys& keys) {
    slots_[slot] = index;
    if (++size_ * 2 <= slots_.size()) return;
    std::vector<int32_t> old(slots_.size() * 2, kEmpty);
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    for (int32_t v : old) {
      if (v == kEmpty) continue;
      size_t s = HashKey(keys(v)) & mask_;
      while (slots_[s] != kEmpty) s = (s + 1) & mask_;
      slots_[s] = v;
    }
  }

 private:
  static size_t SlotsFor(size_t keys) {
    size_t slots = 64;
    while (slots < 2 * keys) slots *= 2;
    return slots;
  }

  std::vector<int32_t> slots_;
  size_t mask_;
  size_t size_ = 0;
};

// What a segment's op does to the live bytes, in terms of the segment's own
// ops only (everything in `before` has run, nothing after the segment has):
// what the DP needs of each step without building the set of done ops.
template <typename Key>
struct StepFacts {
  struct Release {
    Key waits;      // the segment's other readers of an input
    int64_t bytes;  // freed once they have all run
  };
  int64_t out_bytes = 0;      // all its outputs (OutputBytes without in-place)
  int64_t arrive_bytes = 0;   // its outputs that something reads or that are graph outputs
  int64_t inplace_bytes = 0;  // its first output's, saved when it runs in place
  bool always_in_place = false;    // an in-place input without the last-use rule
  std::vector<Key> in_place_waits; // by in-place input that may be a last use: its other readers
  std::vector<Release> releases;   // inputs this op may be the last reader of
};

// The ops among `consumers` that are neither `x` nor done before the
// segment, as local bits; false when one is after the segment (it never
// runs within it, so the tensor outlives the segment).
template <typename Key>
bool OtherReaders(const std::vector<int>& consumers, int x, const OpSet& before, const std::vector<int>& local,
                  Key* waits) {
  *waits = Key{};
  for (int c : consumers) {
    if (c == x || before[c]) continue;
    if (local[c] < 0) return false;
    Set(*waits, local[c]);
  }
  return true;
}

template <typename Key>
std::vector<StepFacts<Key>> StepFactsOf(const BufferGraph& g, const Facts& a, const std::vector<int>& ops,
                                        const OpSet& before, const std::vector<int>& local) {
  std::vector<StepFacts<Key>> facts(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    const int x = ops[i];
    StepFacts<Key>& f = facts[i];
    for (int t : a.outputs[x]) {
      f.out_bytes += g.tensor_bytes[t];
      if (a.is_output[t] || !a.consumers[t].empty()) f.arrive_bytes += g.tensor_bytes[t];
    }
    f.inplace_bytes = g.tensor_bytes[g.ops[x].output];
    for (int t : g.ops[x].inplace_inputs) {
      if (!g.inplace_requires_last_use) {
        f.always_in_place = true;
        break;
      }
      if (a.is_output[t]) continue;
      Key waits{};
      if (OtherReaders(a.consumers[t], x, before, local, &waits)) f.in_place_waits.push_back(waits);
    }
    for (int t : a.inputs[x]) {
      if (a.is_output[t]) continue;
      Key waits{};
      if (OtherReaders(a.consumers[t], x, before, local, &waits)) f.releases.push_back({waits, g.tensor_bytes[t]});
    }
  }
  return facts;
}

// Whether op `f` runs in place when exactly `state` of its segment has run.
template <typename Key>
bool RunsInPlace(const StepFacts<Key>& f, const Key& state) {
  bool in_place = f.always_in_place;
  for (size_t w = 0; !in_place && w < f.in_place_waits.size(); ++w) in_place = !Missing(f.in_place_waits[w], state);
  return in_place;
}

// Live bytes once op `f` has run after `state` (with `live` bytes live): its
// inputs whose every other reader has run are freed (graph outputs stay),
// its outputs that anything reads or that are graph outputs arrive.
template <typename Key>
int64_t LiveAfter(const StepFacts<Key>& f, const Key& state, int64_t live) {
  int64_t after = live + f.arrive_bytes;
  for (const auto& r : f.releases) {
    if (!Missing(r.waits, state)) after -= r.bytes;
  }
  return after;
}

// The peak of the segment run greedily from `live` bytes (each step the
// ready op whose step needs the fewest bytes; ties: fewer bytes left live,
// then the lower index): an upper bound on its least peak, which bounds the
// exact DP.
template <typename Key>
int64_t GreedyPeak(const std::vector<Key>& preds, const std::vector<StepFacts<Key>>& facts, int64_t live) {
  const int m = static_cast<int>(preds.size());
  Key state{};
  int64_t peak = 0;
  for (int step = 0; step < m; ++step) {
    int pick = -1;
    int64_t pick_cost = kInf, pick_after = kInf;
    for (int i = 0; i < m; ++i) {
      if (Test(state, i) || Missing(preds[i], state)) continue;
      const StepFacts<Key>& f = facts[i];
      const int64_t cost = live + f.out_bytes - (RunsInPlace(f, state) ? f.inplace_bytes : 0);
      const int64_t after = LiveAfter(f, state, live);
      if (cost < pick_cost || (cost == pick_cost && after < pick_after)) pick = i, pick_cost = cost, pick_after = after;
    }
    peak = std::max(peak, pick_cost);
    live = pick_after;
    Set(state, pick);
  }
  return peak;
}

template <typename Key>
struct KeyHash {
  size_t operator()(const Key& k) const { return static_cast<size_t>(HashKey(k)); }
};

// How many downsets a segment has, counted without visiting them, so that
// the exact DP is not started only to fail after storing max_states states
// (issue 28: half the tflm accounting's DP states were spent that way).
// Each op's ancestors and descendants are local bit sets. The count of a set
// S of ops splits over the connected components of S (a product) and, within
// one, over any op x: a downset either lacks x, and so everything above it,
// or holds x and everything below it. Bounded: returns -1 when `budget`
// calls did not settle it.
template <typename Key>
class DownsetCounter {
 public:
  DownsetCounter(std::vector<Key> below, std::vector<Key> above, int64_t cap, int64_t budget)
      : below_(std::move(below)), above_(std::move(above)), cap_(cap), budget_(budget) {}

  // min(downsets of S, cap + 1), or -1 when the budget ran out.
  int64_t Count(const Key& s) {
    if (!Any(s)) return 1;
    if (--budget_ < 0) return -1;
    if (auto it = memo_.find(s); it != memo_.end()) return it->second;
    const Key comp = ComponentOf(s);
    int64_t n = 0;
    if (!(comp == s)) {
      const int64_t first = Count(comp);
      if (first < 0) return -1;
      const int64_t rest = Count(AndNot(s, comp));
      if (rest < 0) return -1;
      n = first > (cap_ + 1) / rest ? cap_ + 1 : std::min(cap_ + 1, first * rest);
    } else {
      const int x = Pivot(s);
      Key up = And(above_[x], s), down = And(below_[x], s);
      Set(up, x);
      Set(down, x);
      const int64_t without = Count(AndNot(s, up));
      if (without < 0) return -1;
      const int64_t with = Count(AndNot(s, down));
      if (with < 0) return -1;
      n = std::min(cap_ + 1, without + with);
    }
    memo_[s] = n;
    return n;
  }

 private:
  int Size() const { return static_cast<int>(below_.size()); }
  // The ops of s comparable, through a chain within s, with its first op.
  Key ComponentOf(const Key& s) const {
    Key comp{}, added{};
    for (int i = 0; i < Size(); ++i) {
      if (Test(s, i)) {
        Set(comp, i);
        break;
      }
    }
    while (!(comp == added)) {
      const Key fresh = AndNot(comp, added);
      added = comp;
      for (int i = 0; i < Size(); ++i) {
        if (Test(fresh, i)) comp = Or(comp, And(Or(below_[i], above_[i]), s));
      }
    }
    return comp;
  }
  // The op of s that splits it most evenly (most ops on its smaller side).
  int Pivot(const Key& s) const {
    int best = -1, best_side = -1;
    for (int i = 0; i < Size(); ++i) {
      if (!Test(s, i)) continue;
      const int side = std::min(PopCount(And(below_[i], s)), PopCount(And(above_[i], s)));
      if (side > best_side) best = i, best_side = side;
    }
    return best;
  }

  std::vector<Key> below_, above_;
  int64_t cap_;
  int64_t budget_;
  std::unordered_map<Key, int64_t, KeyHash<Key>> memo_;
};

// Each op's predecessors within `ops`, as local bit sets.
template <typename Key>
std::vector<Key> LocalPredecessors(const Facts& a, const std::vector<int>& ops, const std::vector<int>& local) {
  std::vector<Key> preds(ops.size(), Key{});
  for (size_t i = 0; i < ops.size(); ++i) {
    for (int t : a.inputs[ops[i]]) {
      const int p = a.producer[t];
      if (p >= 0 && local[p] >= 0) Set(preds[i], local[p]);
    }
  }
  return preds;
}

// How many downsets the segment has, counted without visiting them: the
// exact DP stores every downset, so with more than max_states of them it
// would fail once it has stored max_states, and the caller fails at once
// instead. Returns min(count, max_states + 1), or -1 when the bounded count
// did not settle it.
template <typename Key>
int64_t CountDownsets(const std::vector<Key>& preds, int64_t max_states) {
  const int m = static_cast<int>(preds.size());
  std::vector<Key> below(m), above(m);
  for (int i = 0; i < m; ++i) {  // ops are in topological order
    for (int p = 0; p < i; ++p) {
      if (Test(preds[i], p)) {
        below[i] = Or(below[i], below[p]);
        Set(below[i], p);
      }
    }
  }
  for (int i = m - 1; i >= 0; --i) {
    for (int p = 0; p < i; ++p) {
      if (Test(below[i], p)) Set(above[p], i);
    }
  }
  Key all{};
  for (int i = 0; i < m; ++i) Set(all, i);
  DownsetCounter<Key> counter(std::move(below), std::move(above), max_states, /*budget=*/4 * m * m + 1024);
  return counter.Count(all);
}

// One state of the downset DP: the set of ops run, the lowest peak that
// reaches it, the live bytes after it, and how it was reached.
template <typename Key>
struct DownsetEntry {
  Key key;
  int64_t peak;
  int64_t live;
  int32_t parent;  // index of the state it was reached from; -1 for the empty set
  int32_t op;
};

// Beam search's cut of one level: keeps the `beam_width` states of `next`
// with the lowest (peak so far, live bytes).
template <typename Key>
void KeepBeam(const std::vector<DownsetEntry<Key>>& best, int64_t beam_width, std::vector<int32_t>* next) {
  if (beam_width <= 0 || static_cast<int64_t>(next->size()) <= beam_width) return;
  std::vector<std::pair<std::pair<int64_t, int64_t>, size_t>> ranked;
  ranked.reserve(next->size());
  for (size_t s = 0; s < next->size(); ++s) {
    const DownsetEntry<Key>& e = best[(*next)[s]];
    ranked.push_back({{e.peak, e.live}, s});
  }
  std::nth_element(ranked.begin(), ranked.begin() + beam_width, ranked.end());
  std::vector<int32_t> kept;
  for (int64_t r = 0; r < beam_width; ++r) kept.push_back((*next)[ranked[r].second]);
  *next = std::move(kept);
}

// The ops on the path from the empty set to state `last`, in run order.
template <typename Key>
std::vector<int> PathTo(const std::vector<DownsetEntry<Key>>& best, int32_t last) {
  std::vector<int> order;
  for (int32_t s = last; best[s].parent >= 0; s = best[s].parent) order.push_back(best[s].op);
  std::reverse(order.begin(), order.end());
  return order;
}

// Whether downset `a` comes before `b` (of the same size) in the order in
// which the unbounded exact DP first reaches its level's states: the
// smallest op in one and not the other is in `a`. (The DP reaches a state
// first from the state without its largest op, since ops are in topological
// order; by induction each level is in the lexicographic order of its sets'
// sorted ops.)
bool ReachedBefore(uint64_t a, uint64_t b) {
  const uint64_t d = a ^ b;
  return (d & (~d + 1) & a) != 0;
}
bool ReachedBefore(const WideKey& a, const WideKey& b) {
  for (int i = 0; i < kMaxOps / 64; ++i) {
    if (a.w[i] != b.w[i]) return ReachedBefore(a.w[i], b.w[i]);
  }
  return false;
}

// DP over the downsets of `ops`, all ops in `before` done. Exact when
// `beam_width` is 0 (fails past `max_states`); otherwise each level keeps
// only the `beam_width` best states by (peak so far, live bytes).
// `*states` is set to the states it stored, whether it succeeds or not.
// States are visited level by level in the order they were first reached,
// and a state's parent changes only for a strictly lower peak, so the order
// found (ties included) depends on nothing but the graph.
//
// With `bounds.prune` (exact DP only) the DP takes no step whose peak would
// exceed a bound: the peak of a greedy order of the segment (GreedyPeak),
// or `bounds.peak_limit` if lower, in which case it may fail with
// kOutOfRange (no order within the limit). A state on a path within the
// bound is reached only through such states, so its peak and its parent are
// what the unbounded DP finds, provided each level is visited in the
// unbounded DP's order (ReachedBefore): the order found is the same. It
// prunes only when it cannot change whether the DP fails at max_states (the
// downsets were counted, or 2^m is within max_states) and, with
// `bounds.count_states` (a budget over segments), reports the downset
// count in `*states`, what the unbounded DP would have stored.
struct DpBounds {
  bool prune = false;
  int64_t peak_limit = kInf;
  bool count_states = false;
};

// How many downsets the exact DP may store: -1 when not counted (a beam, or
// 2^m within max_states and no count asked for); kResourceExhausted, with
// `*states` = max_states, when the count exceeds max_states. `within_cap`:
// the DP is known to stay within max_states, so bounding cannot change
// whether it fails.
struct DownsetCount {
  int64_t downsets = -1;
  bool within_cap = false;
};

template <typename Key>
Result<DownsetCount> CountWithinCap(const std::vector<Key>& preds, int m, int64_t max_states,
                                    int64_t beam_width, const DpBounds& bounds, int64_t* states) {
  DownsetCount count;
  if (beam_width != 0) return count;
  const bool small = m < 62 && (int64_t{1} << m) <= max_states;
  if (!small || (bounds.prune && bounds.count_states)) count.downsets = CountDownsets(preds, max_states);
  if (count.downsets > max_states) {
    *states = max_states;  // callers' budgets count the states it would have stored
    return Status(StatusCode::kResourceExhausted, TooManyStates(max_states));
  }
  count.within_cap = small || count.downsets >= 0;
  return count;
}

template <typename Key>
Result<std::vector<int>> DownsetOrderT(const BufferGraph& g, const Facts& a, const std::vector<int>& ops,
                                       const OpSet& before, int64_t max_states, int64_t beam_width,
                                       const DpBounds& bounds, int64_t* states) {
  const int m = static_cast<int>(ops.size());
  std::vector<int> local(a.n, -1);
  for (int i = 0; i < m; ++i) local[ops[i]] = i;
  const std::vector<Key> preds = LocalPredecessors<Key>(a, ops, local);
  const Result<DownsetCount> count = CountWithinCap(preds, m, max_states, beam_width, bounds, states);
  if (!count.ok()) return count.status();
  const int64_t downsets = count->downsets;  // -1: not counted, or the count did not settle
  const bool bounded =
      bounds.prune && beam_width == 0 && count->within_cap && (!bounds.count_states || downsets >= 0);
  const std::vector<StepFacts<Key>> facts = StepFactsOf<Key>(g, a, ops, before, local);
  const int64_t live_before = LiveBytes(g, a, before);
  const int64_t limit = bounded ? std::min(bounds.peak_limit, GreedyPeak(preds, facts, live_before)) : kInf;
  std::vector<DownsetEntry<Key>> best;
  // The count bounds what the DP stores: no growing (a bounded DP stores
  // fewer).
  if (downsets > 0) best.reserve(static_cast<size_t>(downsets));
  StateIndex<Key> index(downsets > 0 ? static_cast<size_t>(downsets) : 0);
  auto key_of = [&](int32_t s) -> const Key& { return best[s].key; };
  best.push_back({Key{}, 0, live_before, -1, -1});
  size_t root_slot = 0;
  index.Find(Key{}, key_of, &root_slot);
  index.Insert(root_slot, 0, key_of);
  std::vector<int32_t> level = {0};
  std::vector<int32_t> next;
  auto reached_before = [&](int32_t x, int32_t y) { return ReachedBefore(best[x].key, best[y].key); };
  for (int depth = 0; depth < m; ++depth) {
    next.clear();
    for (int32_t from : level) {
      const Key state = best[from].key;
      const int64_t here = best[from].peak;
      const int64_t live = best[from].live;
      bool exhausted = false;
      ForEachOpNotIn(state, m, [&](int i) {
        if (exhausted || Missing(preds[i], state)) return;
        const StepFacts<Key>& f = facts[i];
        const int64_t cost = std::max(here, live + f.out_bytes - (RunsInPlace(f, state) ? f.inplace_bytes : 0));
        if (cost > limit) return;
        Key succ = state;
        Set(succ, i);
        size_t slot = 0;
        const int32_t found = index.Find(succ, key_of, &slot);
        if (found == StateIndex<Key>::kEmpty) {
          if (beam_width == 0 && static_cast<int64_t>(best.size()) >= max_states) {
            exhausted = true;
            return;
          }
          const int64_t after = LiveAfter(f, state, live);
          const int32_t id = static_cast<int32_t>(best.size());
          best.push_back({succ, cost, after, from, ops[i]});
          index.Insert(slot, id, key_of);
          next.push_back(id);
        } else if (cost < best[found].peak) {
          best[found].peak = cost;
          best[found].parent = from;
          best[found].op = ops[i];
        }
      });
      if (exhausted) {
        *states = static_cast<int64_t>(best.size());
        return Status(StatusCode::kResourceExhausted, TooManyStates(max_states));
      }
    }
    // Bounded, a state may first be reached from another parent than in the
    // unbounded DP; restore that DP's order of the level.
    const bool resort = bounded && !std::is_sorted(next.begin(), next.end(), reached_before);
    if (resort) std::sort(next.begin(), next.end(), reached_before);
    KeepBeam(best, beam_width, &next);
    level.swap(next);
    if (level.empty()) {
      *states = downsets >= 0 ? downsets : static_cast<int64_t>(best.size());
      return Status(StatusCode::kOutOfRange, NoOrderWithin(bounds.peak_limit));
    }
  }
  *states = bounded && downsets >= 0 ? downsets : static_cast<int64_t>(best.size());
  // The last level holds the full set alone (every op run).
  return PathTo(best, level.front());
}

Result<std::vector<int>> DownsetOrder(const BufferGraph& g, const Facts& a, const std::vector<int>& ops,
                                      const OpSet& before, int64_t max_states, int64_t beam_width = 0,
                                      int64_t* states = nullptr, const DpBounds& bounds = {}) {
  int64_t ignored = 0;
  if (states == nullptr) states = &ignored;
  if (ops.size() <= 64) return DownsetOrderT<uint64_t>(g, a, ops, before, max_states, beam_width, bounds, states);
  return DownsetOrderT<WideKey>(g, a, ops, before, max_states, beam_width, bounds, states);
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

// A segment of parallel chains: each starts at a consumer of `source` and
// runs to the sink, in op order.
struct ParallelChains {
  int source = -1;
  std::vector<std::vector<int>> chains;
};

// The segment as parallel chains, or nullopt if it is not of that shape
// (every op one input and one output, no in-place, each output read once,
// inside the segment or by the sink, the source read only inside it).
std::optional<ParallelChains> AsParallelChains(const BufferGraph& g, const Facts& a, const std::vector<int>& seg,
                                               const OpSet& before, int sink) {
  OpSet in_seg;
  for (int x : seg) in_seg.set(x);
  ParallelChains pc;
  for (int x : seg) {
    if (a.inputs[x].size() != 1 || a.outputs[x].size() != 1 || !g.ops[x].inplace_inputs.empty()) {
      return std::nullopt;
    }
    const int t = a.inputs[x][0];
    const int p = a.producer[t];
    if (p < 0 || before[p]) {
      if (pc.source >= 0 && pc.source != t) return std::nullopt;
      pc.source = t;
    } else if (!in_seg[p]) {
      return std::nullopt;
    }
    const int out = a.outputs[x][0];
    if (a.is_output[out] || a.consumers[out].size() != 1) return std::nullopt;
    const int c = a.consumers[out][0];
    if (c != sink && !in_seg[c]) return std::nullopt;
  }
  if (pc.source < 0 || a.is_output[pc.source]) return std::nullopt;
  for (int c : a.consumers[pc.source]) {
    if (!in_seg[c]) return std::nullopt;
  }
  // Follow each chain from its head (a consumer of the source) to the sink.
  size_t covered = 0;
  for (int head : a.consumers[pc.source]) {
    std::vector<int> chain;
    for (int x = head; x != sink; x = a.consumers[a.outputs[x][0]][0]) chain.push_back(x);
    covered += chain.size();
    pc.chains.push_back(std::move(chain));
  }
  if (covered != seg.size()) return std::nullopt;
  return pc;
}

// The DP over pause points. A state is one stop point per chain, numbered as
// a mixed-radix number (chain j's digit weighs stride[j]); a move advances one
// chain to its next stop, and the state's value is the least peak reaching it.
class ChainDp {
 public:
  static Result<ChainDp> Make(const BufferGraph& g, const Facts& a, ParallelChains pc, int64_t max_states) {
    ChainDp dp;
    dp.k_ = static_cast<int>(pc.chains.size());
    dp.source_bytes_ = g.tensor_bytes[pc.source];
    dp.r_.resize(dp.k_);
    dp.m_.resize(dp.k_);
    dp.stops_.resize(dp.k_);
    dp.stride_.resize(dp.k_);
    for (int j = 0; j < dp.k_; ++j) {
      const int n = static_cast<int>(pc.chains[j].size());
      dp.r_[j].assign(n + 1, 0);
      dp.m_[j].assign(n + 1, 0);
      for (int i = 1; i <= n; ++i) {
        dp.r_[j][i] = g.tensor_bytes[a.outputs[pc.chains[j][i - 1]][0]];
        dp.m_[j][i] = dp.r_[j][i - 1] + dp.r_[j][i];
      }
      dp.stops_[j] = StopPoints(dp.r_[j], dp.source_bytes_ == 0);
      // Each stretch's largest step, with the source live throughout or
      // only at the chain's first op (RelaxMovesFrom adds the others').
      const std::vector<int>& stops = dp.stops_[j];
      dp.stretch_peak_.emplace_back(stops.size(), std::array<int64_t, 2>{0, 0});
      for (size_t q = 0; q + 1 < stops.size(); ++q) {
        std::array<int64_t, 2>& peak = dp.stretch_peak_.back()[q];
        for (int i = stops[q] + 1; i <= stops[q + 1]; ++i) {
          peak[0] = std::max(peak[0], dp.m_[j][i] + (i == 1 ? dp.source_bytes_ : 0));
          peak[1] = std::max(peak[1], dp.m_[j][i] + dp.source_bytes_);
        }
      }
      dp.stride_[j] = dp.total_;
      dp.total_ *= static_cast<int64_t>(dp.stops_[j].size());
      if (dp.total_ > max_states) return Status(StatusCode::kResourceExhausted, TooManyStates(max_states));
    }
    dp.chains_ = std::move(pc.chains);
    return dp;
  }

  int64_t states() const { return total_; }

  // Every state in index order: a move only raises the index.
  void Solve() {
    best_.assign(total_, kInf);
    parent_.assign(total_, -1);
    moved_.assign(total_, -1);
    std::vector<int> digit(k_, 0);
    best_[0] = 0;
    for (int64_t idx = 0; idx < total_; ++idx) {
      if (idx > 0) {  // odometer increment of the mixed-radix digits
        for (int j = 0; j < k_; ++j) {
          if (++digit[j] < static_cast<int>(stops_[j].size())) break;
          digit[j] = 0;
        }
      }
      if (best_[idx] != kInf) RelaxMovesFrom(idx, digit);
    }
  }

  // Walk back from the final state, emitting each advanced stretch of a chain.
  std::vector<int> Order() const {
    std::vector<std::vector<int>> stretches;
    int64_t idx = total_ - 1;
    while (idx != 0) {
      const int j = moved_[idx];
      const int64_t prev = parent_[idx];
      const int q = static_cast<int>((prev / stride_[j]) % static_cast<int64_t>(stops_[j].size()));
      stretches.emplace_back(chains_[j].begin() + stops_[j][q], chains_[j].begin() + stops_[j][q + 1]);
      idx = prev;
    }
    std::vector<int> order;
    for (auto it = stretches.rbegin(); it != stretches.rend(); ++it) order.insert(order.end(), it->begin(), it->end());
    return order;
  }

 private:
  // Advances each chain in turn from state `idx` (digits `digit`) to its next
  // stop; the source stays live until every chain has started.
  void RelaxMovesFrom(int64_t idx, const std::vector<int>& digit) {
    int64_t resident = 0;
    int unstarted = 0;
    for (int j = 0; j < k_; ++j) {
      resident += r_[j][stops_[j][digit[j]]];
      unstarted += digit[j] == 0;
    }
    for (int j = 0; j < k_; ++j) {
      if (digit[j] + 1 >= static_cast<int>(stops_[j].size())) continue;
      const int from = stops_[j][digit[j]];
      const int64_t others = resident - r_[j][from];
      const bool others_need_source = unstarted - (from == 0) > 0;
      const int64_t cost = std::max(best_[idx], others + stretch_peak_[j][digit[j]][others_need_source ? 1 : 0]);
      const int64_t succ = idx + stride_[j];
      if (cost < best_[succ]) {
        best_[succ] = cost;
        parent_[succ] = idx;
        moved_[succ] = static_cast<int8_t>(j);
      }
    }
  }

  int k_ = 0;
  int64_t source_bytes_ = 0;
  std::vector<std::vector<int>> chains_;
  std::vector<std::vector<int64_t>> r_, m_;  // by chain: resident bytes after i ops; bytes while op i runs
  std::vector<std::vector<int>> stops_;      // by chain: StopPoints
  // by chain and stop: the largest bytes of one step of the stretch to the
  // next stop, [0] the source live for the chain's first op only, [1] throughout
  std::vector<std::vector<std::array<int64_t, 2>>> stretch_peak_;
  std::vector<int64_t> stride_;
  int64_t total_ = 1;                        // states
  std::vector<int64_t> best_, parent_;       // by state
  std::vector<int8_t> moved_;                // by state: the chain the last move advanced
};

// Exact schedule of parallel chains that all start from one source tensor of
// `source_bytes` and end at the next cut. Returns false in `*applies` if the
// segment is not of that shape (AsParallelChains).
// `*states`: the DP's states (0 when it did not run).
Result<std::vector<int>> ChainOrder(const BufferGraph& g, const Facts& a, const std::vector<int>& seg,
                                    const OpSet& before, int sink, int64_t max_states, bool* applies,
                                    int64_t* states) {
  *applies = false;
  *states = 0;
  if (sink < 0) return std::vector<int>{};
  std::optional<ParallelChains> pc = AsParallelChains(g, a, seg, before, sink);
  if (!pc) return std::vector<int>{};
  *applies = true;
  UNAS_ASSIGN_OR_RETURN(ChainDp dp, ChainDp::Make(g, a, std::move(*pc), max_states));
  *states = dp.states();
  dp.Solve();
  return dp.Order();
}

Result<OrderPeak> PeakOfOrderIn(const BufferGraph& g, const Facts& a, const std::vector<int>& order) {
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
    const int64_t step = live + OutputBytes(g, a, x, in_place);
    result.live_bytes.push_back(step);
    result.peak_bytes = std::max(result.peak_bytes, step);
    for (int t : a.inputs[x]) {
      if (--remaining[t] == 0 && !a.is_output[t]) live -= g.tensor_bytes[t];
    }
    for (int out : a.outputs[x]) {
      if (remaining[out] > 0 || a.is_output[out]) live += g.tensor_bytes[out];
    }
    done[x] = 1;
  }
  return result;
}

// The greedy order for graphs too large for exact search (order_search.h).
std::vector<int> GreedyOrder(const BufferGraph& g, const Facts& a) {
  std::vector<int> pending(a.n, 0), remaining(g.tensor_bytes.size());
  for (int x = 0; x < a.n; ++x) {
    for (int t : a.inputs[x]) pending[x] += a.producer[t] >= 0 ? 1 : 0;
  }
  for (size_t t = 0; t < remaining.size(); ++t) remaining[t] = static_cast<int>(a.consumers[t].size());
  // The ready operators, in no particular order (ties go to the lowest
  // index below): each step scans only these, not every operator.
  std::vector<int> ready;
  for (int x = 0; x < a.n; ++x) {
    if (pending[x] == 0) ready.push_back(x);
  }
  std::vector<int> order;
  int64_t live = 0;  // only differences matter for the choice
  for (int step = 0; step < a.n; ++step) {
    int pick = -1;
    size_t pick_at = 0;
    int64_t pick_step = kInf, pick_after = kInf;
    for (size_t r = 0; r < ready.size(); ++r) {
      const int x = ready[r];
      bool in_place = false;
      for (int i : g.ops[x].inplace_inputs) {
        in_place = in_place || !g.inplace_requires_last_use || (remaining[i] == 1 && !a.is_output[i]);
      }
      const int64_t during = live + OutputBytes(g, a, x, in_place);
      int64_t after = live;
      for (int t : a.inputs[x]) after -= remaining[t] == 1 && !a.is_output[t] ? g.tensor_bytes[t] : 0;
      for (int out : a.outputs[x]) {
        after += !a.consumers[out].empty() || a.is_output[out] ? g.tensor_bytes[out] : 0;
      }
      if (during < pick_step || (during == pick_step && (after < pick_after || (after == pick_after && x < pick)))) {
        pick = x, pick_at = r, pick_step = during, pick_after = after;
      }
    }
    order.push_back(pick);
    ready[pick_at] = ready.back();
    ready.pop_back();
    live = pick_after;
    for (int t : a.inputs[pick]) --remaining[t];
    for (int out : a.outputs[pick]) {
      for (int c : a.consumers[out]) {
        if (--pending[c] == 0) ready.push_back(c);
      }
    }
  }
  return order;
}

}  // namespace

Result<OrderPeak> PeakOfOrder(const BufferGraph& g, const std::vector<int>& order) {
  UNAS_ASSIGN_OR_RETURN(Facts a, AnalyseBufferGraph(g));
  return PeakOfOrderIn(g, a, order);
}

Result<OrderPeak> BestOrderByDownsets(const BufferGraph& g, int64_t max_states, bool bounded) {
  UNAS_ASSIGN_OR_RETURN(Facts a, AnalyseBufferGraph(g));
  if (a.n > kMaxOps) return Status(StatusCode::kResourceExhausted, "graph has too many ops");
  DpBounds bounds;
  bounds.prune = bounded;
  UNAS_ASSIGN_OR_RETURN(std::vector<int> order, DownsetOrder(g, a, a.topo, OpSet(), max_states, 0, nullptr, bounds));
  return PeakOfOrderIn(g, a, order);
}

namespace {

// More ops than a downset key holds: the better of the topological and the
// greedy order, not proven optimal.
Result<OrderPeak> LargeGraphOrder(const BufferGraph& g, const Facts& a) {
  UNAS_ASSIGN_OR_RETURN(OrderPeak topo, PeakOfOrderIn(g, a, a.topo));
  UNAS_ASSIGN_OR_RETURN(OrderPeak greedy, PeakOfOrderIn(g, a, GreedyOrder(g, a)));
  OrderPeak result = greedy.peak_bytes < topo.peak_bytes ? std::move(greedy) : std::move(topo);
  result.proven_optimal = false;
  result.note = "graph has more than " + std::to_string(kMaxOps) +
                " operators: the better of the topological and the greedy order, not proven optimal";
  return result;
}

// Each op's ancestors and descendants (the op itself excluded).
struct Closure {
  std::vector<OpSet> anc, desc;
};

Closure ClosureOf(const Facts& a) {
  Closure c{std::vector<OpSet>(a.n), std::vector<OpSet>(a.n)};
  for (int x : a.topo) {
    for (int t : a.inputs[x]) {
      const int p = a.producer[t];
      if (p >= 0) c.anc[x] |= c.anc[p], c.anc[x].set(p);
    }
  }
  for (auto it = a.topo.rbegin(); it != a.topo.rend(); ++it) {
    const int x = *it;
    for (int out : a.outputs[x]) {
      for (int d : a.consumers[out]) c.desc[x] |= c.desc[d], c.desc[x].set(d);
    }
  }
  return c;
}

// The cuts in topological order. A cut: every op is before or after it, and
// only its outputs cross it. With positions in the topological order, a
// tensor "spans" the positions strictly between its producer (-1 for graph
// inputs) and its last consumer (n for graph outputs); an op is crossed by
// another tensor iff spanned.
std::vector<int> Cuts(const BufferGraph& g, const Facts& a, const Closure& closure) {
  const int n = a.n;
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
    if (crossing == 0 && static_cast<int>((closure.anc[x] | closure.desc[x]).count()) + 1 == n) cuts.push_back(x);
  }
  return cuts;
}

// Schedules the segments between cuts one after another, appending to
// `order`: parallel chains exactly by ChainOrder, anything else by the
// downset DP (with `heuristics`, a beam search when the DP needs too many
// states, noted in `note`). Each segment may store `max_states` states, or
// what is left of `max_total_states` if less, never under kMinSegmentStates.
class SegmentScheduler {
 public:
  SegmentScheduler(const BufferGraph& g, const Facts& a, int64_t max_states, int64_t max_total_states,
                   bool heuristics, int64_t peak_limit)
      : g_(g),
        a_(a),
        max_states_(max_states),
        max_total_states_(max_total_states),
        heuristics_(heuristics),
        peak_limit_(peak_limit),
        total_left_(max_total_states) {}

  // Schedules the ops of `seg_set` (none of them done yet), whose outputs
  // are read by `sink` (-1: the graph's end); then runs the sink.
  Status Schedule(const OpSet& seg_set, int sink) {
    std::vector<int> seg;
    for (int x : a_.topo) {
      if (seg_set[x]) seg.push_back(x);
    }
    UNAS_ASSIGN_OR_RETURN(std::vector<int> part, SegmentOrder(seg, sink));
    order_.insert(order_.end(), part.begin(), part.end());
    done_ |= seg_set;
    if (sink >= 0) {
      done_.set(sink);
      order_.push_back(sink);
    }
    return Status::Ok();
  }

  const OpSet& done() const { return done_; }
  std::vector<int>& order() { return order_; }
  std::string& note() { return note_; }

 private:
  Result<std::vector<int>> SegmentOrder(const std::vector<int>& seg, int sink) {
    if (seg.size() <= 1) return seg;
    bool applies = false;
    // This segment's cap: its own, or what the whole graph's budget has
    // left, but never under kMinSegmentStates (small segments stay exact).
    const int64_t cap = std::min(max_states_, std::max(kMinSegmentStates, total_left_));
    int64_t used = 0;
    auto chains = ChainOrder(g_, a_, seg, done_, sink, cap, &applies, &used);
    total_left_ -= used;
    if (chains.ok() && applies) return chains;
    const DpBounds bounds{true, peak_limit_, max_total_states_ != std::numeric_limits<int64_t>::max()};
    auto general = DownsetOrder(g_, a_, seg, done_, cap, 0, &used, bounds);
    total_left_ -= used;
    if (general.status().code() == StatusCode::kResourceExhausted && heuristics_) {
      const int64_t m = static_cast<int64_t>(seg.size());
      const int64_t width = std::max<int64_t>(8, cap / (m * m));
      general = DownsetOrder(g_, a_, seg, done_, cap, width, &used);
      total_left_ -= used;
      if (!note_.empty()) note_ += "; ";
      note_ += "a segment of " + std::to_string(m) + " operators needs more than " + std::to_string(cap) +
               " states" +
               (cap < max_states_ ? " (what was left of the graph's " + std::to_string(max_total_states_) + ")"
                                  : std::string()) +
               ": scheduled by a beam search over downsets (" + std::to_string(width) +
               " states per step), not proven optimal";
    }
    return general;
  }

  const BufferGraph& g_;
  const Facts& a_;
  const int64_t max_states_, max_total_states_;
  const bool heuristics_;
  const int64_t peak_limit_;  // kInf: none
  int64_t total_left_;  // states all segments may still use
  std::vector<int> order_;
  OpSet done_;
  std::string note_;
};

Result<OrderPeak> Search(const BufferGraph& g, int64_t max_states, int64_t max_total_states, bool heuristics,
                         int64_t peak_limit = kInf) {
  UNAS_ASSIGN_OR_RETURN(Facts a, AnalyseBufferGraph(g));
  if (a.n > kMaxOps && !heuristics) {
    return Status(StatusCode::kResourceExhausted, "graph has more than " + std::to_string(kMaxOps) + " ops");
  }
  if (a.n > kMaxOps) return LargeGraphOrder(g, a);
  const Closure closure = ClosureOf(a);
  SegmentScheduler scheduler(g, a, max_states, max_total_states, heuristics, peak_limit);
  for (int c : Cuts(g, a, closure)) UNAS_RETURN_IF_ERROR(scheduler.Schedule(closure.anc[c] & ~scheduler.done(), c));
  OpSet rest;
  for (int x = 0; x < a.n; ++x) rest.set(x);
  UNAS_RETURN_IF_ERROR(scheduler.Schedule(rest & ~scheduler.done(), -1));
  UNAS_ASSIGN_OR_RETURN(OrderPeak result, PeakOfOrderIn(g, a, scheduler.order()));
  if (result.peak_bytes > peak_limit) {  // parallel chains are scheduled without the limit
    return Status(StatusCode::kOutOfRange, NoOrderWithin(peak_limit));
  }
  result.proven_optimal = scheduler.note().empty();
  result.note = std::move(scheduler.note());
  return result;
}

}  // namespace

Result<OrderPeak> BestOrder(const BufferGraph& g, int64_t max_states, int64_t max_total_states) {
  return Search(g, max_states, max_total_states, true);
}

Result<OrderPeak> BestOrderExact(const BufferGraph& g, int64_t max_states, int64_t max_total_states) {
  return Search(g, max_states, max_total_states, false);
}

Result<OrderPeak> BestOrderExactWithin(const BufferGraph& g, int64_t peak_limit, int64_t max_states) {
  return Search(g, max_states, std::numeric_limits<int64_t>::max(), false, peak_limit);
}

}  // namespace unas
