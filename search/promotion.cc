#include "search/promotion.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace unas::search {
namespace {

// A NaN error sorts last (and keeps the order a strict weak ordering).
double ErrorKey(const RungResult& r) {
  const double e = r.objectives[static_cast<int>(Objective::kError)];
  return std::isnan(e) ? std::numeric_limits<double>::infinity() : e;
}

// Indices of `results` in (Pareto rank, error, id) order, and the ranks.
std::vector<int> RankOrder(const std::vector<RungResult>& results, const FrontSpec& front,
                           std::vector<int>* ranks_out) {
  std::vector<Point> points;
  points.reserve(results.size());
  for (const RungResult& r : results) points.push_back(front.Project(r.objectives));
  std::vector<int> ranks = ParetoRanks(points);
  std::vector<int> order(results.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    if (ranks[a] != ranks[b]) return ranks[a] < ranks[b];
    const double ea = ErrorKey(results[a]), eb = ErrorKey(results[b]);
    if (ea != eb) return ea < eb;
    return results[a].id < results[b].id;
  });
  if (ranks_out) *ranks_out = std::move(ranks);
  return order;
}

}  // namespace

std::vector<int> ParetoRanks(const std::vector<Point>& points) {
  const size_t n = points.size();
  std::vector<int> rank(n, -1);
  size_t assigned = 0;
  for (int level = 0; assigned < n; ++level) {
    std::vector<size_t> front;
    for (size_t i = 0; i < n; ++i) {
      if (rank[i] >= 0) continue;
      bool dominated = false;
      for (size_t j = 0; j < n && !dominated; ++j) {
        dominated = j != i && rank[j] < 0 && Dominates(points[j], points[i]);
      }
      if (!dominated) front.push_back(i);
    }
    for (size_t i : front) rank[i] = level;
    assigned += front.size();
  }
  return rank;
}

std::vector<int64_t> Promotable(const std::vector<RungResult>& rung, const FrontSpec& front,
                                int reduction_factor) {
  if (reduction_factor < 2) return {};
  const size_t top = rung.size() / static_cast<size_t>(reduction_factor);
  const size_t promoted =
      static_cast<size_t>(std::count_if(rung.begin(), rung.end(), [](const RungResult& r) { return r.promoted; }));
  if (promoted >= top) return {};
  const std::vector<int> order = RankOrder(rung, front, nullptr);
  std::vector<int64_t> ids;
  for (size_t i = 0; i < top && ids.size() < top - promoted; ++i) {
    if (!rung[order[i]].promoted) ids.push_back(rung[order[i]].id);
  }
  return ids;
}

std::vector<int64_t> SelectForFinal(const std::vector<RungResult>& results, const FrontSpec& front,
                                    int max_networks, int neighbours) {
  if (max_networks <= 0) return {};
  std::vector<int> ranks;
  const std::vector<int> order = RankOrder(results, front, &ranks);
  size_t front_size = 0;
  while (front_size < order.size() && ranks[order[front_size]] == 0) ++front_size;
  const size_t m = static_cast<size_t>(max_networks);
  std::vector<int64_t> ids;
  if (front_size > m) {
    // The front's members are in (error, id) order: the best ceil(M / 2),
    // then the rest spread evenly over the remaining members.
    const size_t best = (m + 1) / 2, spread = m - best;
    for (size_t i = 0; i < best; ++i) ids.push_back(results[order[i]].id);
    if (spread == 0) return ids;
    const size_t first = best, last = front_size - 1;  // positions to spread over
    for (size_t i = 1; i <= spread; ++i) {
      // round(first + i (last - first + 1) / spread) - 1: the i-th of `spread`
      // equal parts of [first, last] ends there, so the last is the worst error.
      const size_t at = first + (2 * i * (last - first + 1) + spread) / (2 * spread) - 1;
      ids.push_back(results[order[at]].id);
    }
    return ids;
  }
  const size_t extra = std::min(static_cast<size_t>(std::max(neighbours, 0)), m - front_size);
  const size_t total = std::min(order.size(), front_size + extra);
  for (size_t i = 0; i < total; ++i) ids.push_back(results[order[i]].id);
  return ids;
}

}  // namespace unas::search
