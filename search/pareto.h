// Pareto fronts and exact hypervolume, all objectives minimised.
//
// Hypervolume: the Lebesgue measure of the region dominated by a set of points
// and bounded by a reference point r (for the search: the bounds). Points
// that do not strictly dominate r in every coordinate contribute nothing and
// are ignored. Exact for any dimension d:
//   - d = 1 a minimum, d = 2 a sorted sweep, d = 3 a sweep over the last
//     coordinate keeping the 2-D staircase in a balanced tree (Beume et al.
//     2009): O(n log n);
//   - d >= 4 WFG (While, Bradstreet and Barone 2012): with the points sorted
//     by their last coordinate, the volume is a sum of slabs, each a point's
//     exclusive volume in d-1 dimensions against the points after it, found
//     as its box less the hypervolume of those points limited to the box
//     (pruned to their non-dominated part). Worst case (every limited set
//     still non-dominated) O(n^(d-2) log n): d = 4 O(n^2 log n), d = 5
//     O(n^3 log n); in practice the limited sets collapse and it is far
//     faster (docs/benchmarks.md: 10,000 random points in 5 objectives).
// Jobs have at most kNumObjectives = 5 distinct objectives (the job spec
// refuses more), so d <= 5 in the service.
//
// ParetoArchive keeps the front and its hypervolume incrementally: a point
// that joins a front of m points adds its exclusive contribution (its box
// less the hypervolume of the m points limited to it: worst case
// O(m^(d-2) log m), O(m log m) up to d = 3), a dominated point costs one
// O(m * d) scan and no volume at all, and hypervolume() is a stored number. The running sum differs from a recomputation only by
// floating-point rounding (relative 1e-12 in the tests).
//
// Thread-compatible (no shared state); not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "search/objectives.h"
#include "search/strategy.h"

namespace unas::search {

using Point = std::vector<double>;

// a weakly dominates b: a <= b everywhere and a < b somewhere.
bool Dominates(const Point& a, const Point& b);

// Indices of the non-dominated points (duplicates: the first one is kept).
std::vector<int> NonDominatedIndices(const std::vector<Point>& points);

// Exact hypervolume of `points` against `reference` (all the same dimension).
double Hypervolume(const std::vector<Point>& points, const Point& reference);

// What `point` adds to the hypervolume of `others`: Hypervolume(others + point)
// - Hypervolume(others), computed directly (0 when a member of `others` is at
// least as good everywhere or the point is not strictly inside `reference`).
double HypervolumeContribution(const Point& point, const std::vector<Point>& others, const Point& reference);

class ParetoArchive {
 public:
  explicit ParetoArchive(Point reference) : reference_(std::move(reference)) {}

  // Adds a point with a caller's id. Returns true if the front changed (the
  // point is not dominated by, nor equal to, a member); dominated members are
  // removed and the hypervolume grows by the point's contribution.
  bool Insert(int64_t id, const Point& point);

  const std::vector<Point>& points() const { return points_; }
  const std::vector<int64_t>& ids() const { return ids_; }
  // The front's hypervolume against the reference, kept up to date by Insert.
  double hypervolume() const { return hypervolume_; }

 private:
  Point reference_;
  std::vector<Point> points_;
  std::vector<int64_t> ids_;
  double hypervolume_ = 0;
};

// The objective subset used for a front, with the reference from the bounds.
// Every chosen objective needs a bound (kInvalidArgument otherwise). With
// `normalise`, each coordinate is divided by its bound, so the reference is
// (1, ..., 1) and the hypervolume a fraction of the bounded box.
struct FrontSpec {
  std::vector<Objective> objectives;
  Limits bounds;
  bool normalise = true;
  Result<Point> Reference() const;
  Point Project(const ObjectiveVector& f) const;
};

// Trial ids of the Pareto front over completed trials that succeeded and meet
// the hard constraints (feasible trials only).
Result<std::vector<int64_t>> ParetoTrials(const std::vector<CompletedTrial>& trials,
                                          const FrontSpec& spec, const Limits& constraints);

}  // namespace unas::search
