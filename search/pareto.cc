#include "search/pareto.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

namespace unas::search {
namespace {

// Points as rows of `d` coordinates in one buffer: the recursion below makes
// many small sets, and one allocation per set (not per point) keeps it cheap.
struct Rows {
  int d = 0;
  std::vector<double> v;
  size_t size() const { return d == 0 ? 0 : v.size() / static_cast<size_t>(d); }
  const double* row(size_t i) const { return v.data() + i * static_cast<size_t>(d); }
  void push(const double* p) { v.insert(v.end(), p, p + d); }
};

// a <= b in every coordinate (a weakly dominates b or equals it).
bool AllLessEqual(const double* a, const double* b, int d) {
  for (int j = 0; j < d; ++j) {
    if (a[j] > b[j]) return false;
  }
  return true;
}

// Rows reordered by `order`.
Rows Permuted(const Rows& rows, const std::vector<size_t>& order) {
  Rows out;
  out.d = rows.d;
  out.v.reserve(rows.v.size());
  for (size_t i : order) out.push(rows.row(i));
  return out;
}

// Keeps the rows no other row weakly dominates (one of equal rows). The rows
// are taken in order of their coordinate sums (a row at least as good as
// another never has a larger sum, even rounded: rounding is monotone), so a
// dominated row mostly meets its dominator among the rows kept before it;
// ties of sums are why a row may still replace kept rows it dominates.
// O(n log n + n * kept * d).
void KeepNonDominated(Rows* rows) {
  const int d = rows->d;
  const size_t n = rows->size();
  struct Key {
    double sum;
    size_t index;
  };
  std::vector<Key> order(n);
  for (size_t i = 0; i < n; ++i) {
    double sum = 0;
    for (int j = 0; j < d; ++j) sum += rows->row(i)[j];
    order[i] = {sum, i};
  }
  std::sort(order.begin(), order.end(),
            [](const Key& a, const Key& b) { return a.sum < b.sum || (a.sum == b.sum && a.index < b.index); });
  Rows kept;
  kept.d = d;
  size_t last = 0;  // the kept row that dominated the previous row: often the next one's too
  for (const Key& key : order) {
    const double* p = rows->row(key.index);
    if (last < kept.size() && AllLessEqual(kept.row(last), p, d)) continue;
    bool dominated = false;
    size_t w = 0;  // kept rows that survive p, compacted in place
    const size_t count = kept.size();
    for (size_t k = 0; k < count; ++k) {
      const double* q = kept.v.data() + k * static_cast<size_t>(d);
      if (AllLessEqual(q, p, d)) {
        // Then p dominates no kept row (they are mutually non-dominated),
        // so nothing has been moved yet.
        dominated = true;
        last = k;
        break;
      }
      if (AllLessEqual(p, q, d)) continue;  // p replaces it
      if (w != k) std::copy(q, q + d, kept.v.data() + w * static_cast<size_t>(d));
      ++w;
    }
    if (dominated) continue;
    kept.v.resize(w * static_cast<size_t>(d));
    kept.push(p);
  }
  *rows = std::move(kept);
}

double Box(const double* p, const double* ref, int d) {
  double volume = 1;
  for (int j = 0; j < d; ++j) volume *= ref[j] - p[j];
  return volume;
}

// d = 2: sort by x, sweep the staircase. O(n log n).
double Hv2(const Rows& rows, const double* ref) {
  std::vector<size_t> order(rows.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const double *p = rows.row(a), *q = rows.row(b);
    return p[0] < q[0] || (p[0] == q[0] && p[1] < q[1]);
  });
  double area = 0, y_best = ref[1];
  for (size_t i : order) {
    const double* p = rows.row(i);
    if (p[1] < y_best) {
      area += (ref[0] - p[0]) * (y_best - p[1]);
      y_best = p[1];
    }
  }
  return area;
}

// d = 3: sweep z upwards, keeping the (x, y) staircase of the points below in
// a balanced tree and its area up to date as each point arrives (Beume,
// Fonseca, Lopez-Ibanez, Paquete and Vahrenhold 2009). Each point is inserted
// and erased at most once: O(n log n).
double Hv3(const Rows& rows, const double* ref) {
  std::vector<size_t> order(rows.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rows.row(a)[2] < rows.row(b)[2]; });
  std::map<double, double> stair;  // x -> y: x increasing, y strictly decreasing
  double area = 0, volume = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    const double* p = rows.row(order[i]);
    const double x = p[0], y = p[1];
    auto it = stair.lower_bound(x);
    bool dominated = it != stair.end() && it->first == x && it->second <= y;
    double height = ref[1];  // the staircase's height just left of x
    if (it != stair.begin()) {
      height = std::prev(it)->second;
      dominated = dominated || height <= y;
    }
    if (!dominated) {
      // The new area: above y, below the old staircase, right of x. The old
      // points it passes over (x' >= x, y' >= y) are dominated: erase them.
      double added = 0, at = x;
      while (it != stair.end() && it->second >= y) {
        added += (it->first - at) * (height - y);
        at = it->first;
        height = it->second;
        it = stair.erase(it);
      }
      added += ((it != stair.end() ? it->first : ref[0]) - at) * (height - y);
      stair.emplace_hint(it, x, y);
      area += added;
    }
    const double next_z = i + 1 < order.size() ? rows.row(order[i + 1])[2] : ref[2];
    volume += area * (next_z - p[2]);
  }
  return volume;
}

double Hv(const Rows& rows, const double* ref);

// The volume `p` adds to `count` other points (rows of `stride` doubles from
// `others`, their first d coordinates): its box less the hypervolume of the
// others limited to that box (each one's coordinates raised to p's), which
// WFG (While, Bradstreet and Barone 2012) prunes to its non-dominated part
// before recursing. The others need not be non-dominated.
double Exclusive(const double* p, int d, const double* others, size_t count, int stride, const double* ref) {
  Rows limited;
  limited.d = d;
  limited.v.resize(count * static_cast<size_t>(d));
  double* out = limited.v.data();
  for (size_t i = 0; i < count; ++i, out += d) {
    const double* o = others + i * static_cast<size_t>(stride);
    if (AllLessEqual(o, p, d)) return 0;  // p adds nothing
    for (int j = 0; j < d; ++j) out[j] = std::max(o[j], p[j]);
  }
  if (d >= 4) KeepNonDominated(&limited);
  return Box(p, ref, d) - Hv(limited, ref);
}

// Hypervolume of rows that all lie strictly inside `ref` (first rows.d
// coordinates). d >= 4: with the rows sorted by their last coordinate,
// worst first, each row's exclusive volume against the rows after it is a
// slab of depth ref_k - p_k times its exclusive volume in one dimension
// less (every later row is at least as good in the last coordinate, so only
// the others decide), and the slabs add up to the whole.
double Hv(const Rows& rows, const double* ref) {
  const size_t n = rows.size();
  const int d = rows.d;
  if (n == 0) return 0;
  if (d == 1) {
    double lo = rows.row(0)[0];
    for (size_t i = 1; i < n; ++i) lo = std::min(lo, rows.row(i)[0]);
    return ref[0] - lo;
  }
  if (d == 2) return Hv2(rows, ref);
  if (d == 3) return Hv3(rows, ref);
  const int k = d - 1;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rows.row(a)[k] > rows.row(b)[k]; });
  const Rows sorted = Permuted(rows, order);
  double volume = 0;
  for (size_t i = 0; i + 1 < n; ++i) {
    const double* p = sorted.row(i);
    volume += (ref[k] - p[k]) * Exclusive(p, k, sorted.row(i + 1), n - i - 1, d, ref);
  }
  const double* last = sorted.row(n - 1);
  return volume + (ref[k] - last[k]) * Box(last, ref, k);
}

// The points strictly inside `reference` as rows.
Rows Inside(const std::vector<Point>& points, const Point& reference) {
  Rows rows;
  rows.d = static_cast<int>(reference.size());
  for (const Point& p : points) {
    bool ok = true;
    for (int j = 0; j < rows.d && ok; ++j) ok = p[j] < reference[j];
    if (ok) rows.push(p.data());
  }
  return rows;
}

}  // namespace

bool Dominates(const Point& a, const Point& b) {
  bool strictly = false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) strictly = true;
  }
  return strictly;
}

std::vector<int> NonDominatedIndices(const std::vector<Point>& points) {
  // Lexicographic order (ties by index): a point can only be dominated by, or
  // equal to, an earlier one, and whatever dominates it dominates it through
  // some kept point, so each is checked against the kept points only. NaN
  // (an unknown latency) has no place in that order: then every pair.
  std::vector<int> order(points.size());
  std::iota(order.begin(), order.end(), 0);
  const bool has_nan = std::any_of(points.begin(), points.end(), [](const Point& p) {
    return std::any_of(p.begin(), p.end(), [](double v) { return std::isnan(v); });
  });
  if (has_nan) {
    std::vector<int> out;
    for (size_t i = 0; i < points.size(); ++i) {
      bool keep = true;
      for (size_t j = 0; j < points.size() && keep; ++j) {
        if (j == i) continue;
        if (Dominates(points[j], points[i]) || (j < i && points[j] == points[i])) keep = false;
      }
      if (keep) out.push_back(static_cast<int>(i));
    }
    return out;
  }
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return points[a] < points[b]; });
  std::vector<int> kept;
  for (int i : order) {
    bool keep = true;
    for (size_t k = 0; k < kept.size() && keep; ++k) {
      const Point& q = points[kept[k]];
      keep = !(q == points[i] || Dominates(q, points[i]));
    }
    if (keep) kept.push_back(i);
  }
  std::sort(kept.begin(), kept.end());
  return kept;
}

double Hypervolume(const std::vector<Point>& points, const Point& reference) {
  if (reference.empty()) return 0;
  Rows rows = Inside(points, reference);
  if (rows.d >= 4) KeepNonDominated(&rows);
  return Hv(rows, reference.data());
}

double HypervolumeContribution(const Point& point, const std::vector<Point>& others, const Point& reference) {
  const int d = static_cast<int>(reference.size());
  if (d == 0) return 0;
  for (int j = 0; j < d; ++j) {
    if (!(point[j] < reference[j])) return 0;
  }
  const Rows rows = Inside(others, reference);
  return Exclusive(point.data(), d, rows.v.data(), rows.size(), d, reference.data());
}

bool ParetoArchive::Insert(int64_t id, const Point& point) {
  for (const Point& q : points_) {
    if (q == point || Dominates(q, point)) return false;
  }
  // Members the point dominates lie inside its box, so its contribution
  // against the whole front is what the front's hypervolume gains.
  hypervolume_ += HypervolumeContribution(point, points_, reference_);
  size_t w = 0;
  for (size_t i = 0; i < points_.size(); ++i) {
    if (!Dominates(point, points_[i])) {
      if (w != i) {
        points_[w] = std::move(points_[i]);
        ids_[w] = ids_[i];
      }
      ++w;
    }
  }
  points_.resize(w);
  ids_.resize(w);
  points_.push_back(point);
  ids_.push_back(id);
  return true;
}

Result<Point> FrontSpec::Reference() const {
  Point ref;
  for (Objective o : objectives) {
    if (!bounds[o]) return Status::Invalid(std::string("objective ") + ObjectiveName(o) + " has no bound");
    ref.push_back(normalise ? 1.0 : *bounds[o]);
  }
  return ref;
}

Point FrontSpec::Project(const ObjectiveVector& f) const {
  Point p;
  for (Objective o : objectives) {
    const double v = f[static_cast<int>(o)];
    p.push_back(normalise && bounds[o] ? v / *bounds[o] : v);
  }
  return p;
}

Result<std::vector<int64_t>> ParetoTrials(const std::vector<CompletedTrial>& trials,
                                          const FrontSpec& spec, const Limits& constraints) {
  std::vector<Point> points;
  std::vector<int64_t> ids;
  for (const CompletedTrial& t : trials) {
    if (!t.outcome.ok || !MeetsConstraints(t.costs(), constraints)) continue;
    points.push_back(spec.Project(t.objectives()));
    ids.push_back(t.proposal.trial_id);
  }
  std::vector<int64_t> front;
  for (int i : NonDominatedIndices(points)) front.push_back(ids[i]);
  return front;
}

}  // namespace unas::search
