#include "search/pareto.h"

#include <algorithm>
#include <numeric>

namespace unas::search {
namespace {

// Hypervolume of points in their first d coordinates; every point strictly
// dominates the reference there.
double Hv(std::vector<Point> pts, const Point& ref, int d) {
  if (pts.empty()) return 0;
  if (d == 1) {
    double lo = pts[0][0];
    for (const Point& p : pts) lo = std::min(lo, p[0]);
    return ref[0] - lo;
  }
  if (d == 2) {
    std::sort(pts.begin(), pts.end(), [](const Point& a, const Point& b) {
      return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]);
    });
    double area = 0, y_best = ref[1];
    for (const Point& p : pts) {
      if (p[1] < y_best) {
        area += (ref[0] - p[0]) * (y_best - p[1]);
        y_best = p[1];
      }
    }
    return area;
  }
  const int k = d - 1;  // the slicing coordinate
  std::sort(pts.begin(), pts.end(), [k](const Point& a, const Point& b) { return a[k] < b[k]; });
  double volume = 0;
  std::vector<Point> below;  // non-dominated in the first k coordinates
  for (size_t i = 0; i < pts.size(); ++i) {
    const Point& p = pts[i];
    bool dominated = false;
    for (const Point& q : below) {
      bool weakly = true;
      for (int j = 0; j < k && weakly; ++j) weakly = q[j] <= p[j];
      if (weakly) {
        dominated = true;
        break;
      }
    }
    if (!dominated) {
      below.erase(std::remove_if(below.begin(), below.end(),
                                 [&](const Point& q) {
                                   for (int j = 0; j < k; ++j) {
                                     if (p[j] > q[j]) return false;
                                   }
                                   return true;
                                 }),
                  below.end());
      below.push_back(p);
    }
    const double next = i + 1 < pts.size() ? pts[i + 1][k] : ref[k];
    if (next > p[k]) volume += Hv(below, ref, k) * (next - p[k]);
  }
  return volume;
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

double Hypervolume(const std::vector<Point>& points, const Point& reference) {
  const int d = static_cast<int>(reference.size());
  std::vector<Point> inside;
  for (const Point& p : points) {
    bool ok = true;
    for (int j = 0; j < d && ok; ++j) ok = p[j] < reference[j];
    if (ok) inside.push_back(p);
  }
  if (d == 0) return 0;
  return Hv(std::move(inside), reference, d);
}

bool ParetoArchive::Insert(int64_t id, const Point& point) {
  for (const Point& q : points_) {
    if (q == point || Dominates(q, point)) return false;
  }
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
  cached_.reset();
  return true;
}

double ParetoArchive::hypervolume() const {
  if (!cached_) {
    cached_ = Hypervolume(points_, reference_);
    ++recomputations_;
  }
  return *cached_;
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
    if (!t.outcome.ok || !MeetsConstraints(t.proposal.costs, constraints)) continue;
    points.push_back(spec.Project(t.objectives()));
    ids.push_back(t.proposal.trial_id);
  }
  std::vector<int64_t> front;
  for (int i : NonDominatedIndices(points)) front.push_back(ids[i]);
  return front;
}

}  // namespace unas::search
