// Multi-fidelity promotion (asynchronous successive halving) and the choice of
// networks for final retraining, for several objectives.
//
// Why Pareto rank. The job's deliverable is a front, not one best network: a
// candidate on its rung's front is the most promising there for some
// trade-off between error and resources, even when its error is mediocre. A
// single random scalarisation would promote by one arbitrary weighting and
// drop whole regions of the front at each rung; MO-ASHA (Schmucker et al.
// 2021, "Multi-objective Asynchronous Successive Halving") ranks a rung by
// non-dominated sorting in the same way.
//
// Why error breaks ties. Within one Pareto rank the resources are exact and
// stay as they are at every rung, while the error is what more training
// changes and what the cheap rung measures least well; the lower error is the
// better bet for the next rung. The id then makes the order total, so the
// same results always promote the same candidates.
//
// Inputs are the caller's successful results (a failed trial has no error to
// rank); objectives are projected by FrontSpec::Project (normalised or not,
// the ranks are the same). Equal points dominate neither each other: they
// share a rank. A NaN coordinate (latency unknown) compares as neither better
// nor worse for the rank; a NaN error sorts after every number within a rank. Pure functions; thread-compatible.
#pragma once

#include <cstdint>
#include <vector>

#include "search/objectives.h"
#include "search/pareto.h"

namespace unas::search {

// One candidate's result at one rung (or any set of results to rank).
struct RungResult {
  int64_t id = 0;                // the caller's id (the coordinator: a trial id)
  ObjectiveVector objectives{};  // the error at this rung and the exact resources
  bool promoted = false;         // already promoted to the next rung
};

// Non-dominated sorting: 0 for the points no other dominates, 1 for the front of the rest, ...
std::vector<int> ParetoRanks(const std::vector<Point>& points);

// Asynchronous successive halving's promotion rule (ASHA, Li et al. 2020) for several
// objectives: the rung's results ordered by (Pareto rank over front.Project(objectives),
// then error, then id); the first floor(n / reduction_factor) are the rung's top; returns
// the ids of those not yet promoted, in that order, but no more than the top's size less
// the rung's promotions so far. reduction_factor >= 2 (else empty).
//
// Why the cap. Promotions are irreversible, and a Pareto rank over several
// objectives is unstable: most results are non-dominated, and one new result
// can move several others out of the top. Uncapped, a rung's promotions
// accumulated to 57 % of its results in a 4-objective Fashion-MNIST run
// (docs/search-quality.md) instead of 1 / reduction_factor; capped, a rung
// never promotes more than synchronous successive halving would.
std::vector<int64_t> Promotable(const std::vector<RungResult>& rung, const FrontSpec& front, int reduction_factor);

// Final retraining's choice: the ids of the results' Pareto front (rank 0 over
// front.Project) plus `neighbours` more, the best of the remaining by (rank, error, id);
// at most `max_networks` in all: a front larger than max_networks is thinned to
// max_networks, and neighbours then add nothing. Returned in (rank, error, id) order.
// Thinning keeps the ceil(M / 2) lowest-error members of the front's (error, id)
// order and spreads the other floor(M / 2) evenly over the rest of it: positions
// B - 1 + round(i (F - B) / S), i = 1 .. S (F front size, M max_networks,
// B = ceil(M / 2), S = M - B), so the worst error (the smallest network) is kept.
// Why favour the error end: the figure a user takes from the final round is
// the best accuracy within the bounds, and a low-fidelity error ranks close
// networks unreliably, so the best few are the better bets; even thinning of
// a 40-member 4-objective front to 4 spent three of them on networks of
// 67-82 % (docs/search-quality.md). The spread keeps the front's far end.
// max_networks <= 0 gives nothing; neighbours < 0 counts as 0.
std::vector<int64_t> SelectForFinal(const std::vector<RungResult>& results, const FrontSpec& front,
                                    int max_networks, int neighbours);

}  // namespace unas::search
