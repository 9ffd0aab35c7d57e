// Pareto fronts and exact hypervolume, all objectives minimised.
//
// Hypervolume: the Lebesgue measure of the region dominated by a set of points
// and bounded by a reference point r (for the search: the bounds). Points
// that do not strictly dominate r in every coordinate contribute nothing and
// are ignored. Exact for any dimension, by HSO-style slicing: sort by the last
// coordinate, and for each slab between consecutive values add the slab's
// depth times the (d-1)-dimensional hypervolume of the points below it (kept
// non-dominated as the sweep adds them); d = 2 is a sorted sweep, d = 1 a
// minimum. Worst case grows steeply with d, but fronts are small: this is
// meant for up to 5 objectives and fronts of up to a few hundred points
// (docs/search-benchmark.md has timings).
//
// ParetoArchive keeps the front incrementally: Insert() is O(front size) and
// only a change to the front marks the cached hypervolume stale, so feeding
// thousands of dominated points costs no recomputation.
//
// Thread-compatible (no shared state); not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
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

class ParetoArchive {
 public:
  explicit ParetoArchive(Point reference) : reference_(std::move(reference)) {}

  // Adds a point with a caller's id. Returns true if the front changed (the
  // point is not dominated by, nor equal to, a member); dominated members are
  // removed.
  bool Insert(int64_t id, const Point& point);

  const std::vector<Point>& points() const { return points_; }
  const std::vector<int64_t>& ids() const { return ids_; }
  // Cached; recomputed only after the front changed.
  double hypervolume() const;
  int recomputations() const { return recomputations_; }

 private:
  Point reference_;
  std::vector<Point> points_;
  std::vector<int64_t> ids_;
  mutable std::optional<double> cached_;
  mutable int recomputations_ = 0;
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
