#include "search/pareto.h"

#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "search/rng.h"

namespace unas::search {
namespace {

// Inclusion-exclusion over all non-empty subsets: the volume of the union of
// boxes [p, ref] is sum over S of (-1)^(|S|+1) * prod_k (ref_k - max_{i in S} p_ik).
double BruteForce(const std::vector<Point>& pts, const Point& ref) {
  std::vector<Point> in;
  for (const Point& p : pts) {
    bool ok = true;
    for (size_t k = 0; k < ref.size(); ++k) ok = ok && p[k] < ref[k];
    if (ok) in.push_back(p);
  }
  double total = 0;
  const size_t n = in.size();
  for (uint32_t mask = 1; mask < (1u << n); ++mask) {
    Point corner(ref.size(), -1e300);
    int bits = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!(mask & (1u << i))) continue;
      ++bits;
      for (size_t k = 0; k < ref.size(); ++k) corner[k] = std::max(corner[k], in[i][k]);
    }
    double vol = 1;
    for (size_t k = 0; k < ref.size(); ++k) vol *= ref[k] - corner[k];
    total += (bits % 2 ? 1 : -1) * vol;
  }
  return total;
}

// The slicing algorithm this file used before WFG (HSO-style, worst case
// exponential in the dimension), kept as an independent reference.
double HsoReference(std::vector<Point> pts, const Point& ref, int d) {
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
  const int k = d - 1;
  std::sort(pts.begin(), pts.end(), [k](const Point& a, const Point& b) { return a[k] < b[k]; });
  double volume = 0;
  std::vector<Point> below;
  for (size_t i = 0; i < pts.size(); ++i) {
    const Point& p = pts[i];
    bool dominated = false;
    for (const Point& q : below) {
      bool weakly = true;
      for (int j = 0; j < k && weakly; ++j) weakly = q[j] <= p[j];
      dominated = dominated || weakly;
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
    if (next > p[k]) volume += HsoReference(below, ref, k) * (next - p[k]);
  }
  return volume;
}

double OldHypervolume(const std::vector<Point>& points, const Point& ref) {
  std::vector<Point> inside;
  for (const Point& p : points) {
    bool ok = true;
    for (size_t j = 0; j < ref.size() && ok; ++j) ok = p[j] < ref[j];
    if (ok) inside.push_back(p);
  }
  return HsoReference(inside, ref, static_cast<int>(ref.size()));
}

// Random points: on a coarse grid (ties, duplicates, dominated points) or on
// the simplex sum = 1 (every point non-dominated, the hard case).
std::vector<Point> RandomPoints(Rng& rng, int n, int d, bool on_simplex) {
  std::vector<Point> pts;
  for (int i = 0; i < n; ++i) {
    Point p;
    double sum = 0;
    for (int k = 0; k < d; ++k) {
      p.push_back(on_simplex ? Uniform01(rng) + 1e-3 : UniformInt(rng, 0, 8) / 8.0);
      sum += p.back();
    }
    if (on_simplex) {
      for (double& v : p) v /= sum;
    }
    pts.push_back(p);
  }
  return pts;
}

bool NearRelative(double a, double b, double tolerance) {
  return std::abs(a - b) <= tolerance * std::max({1.0, std::abs(a), std::abs(b)});
}

TEST(Hypervolume, HandWorked2D) {
  // Staircase: (1,3), (2,2), (3,1) against (4,4): 3*1 + 2*1 + 1*1 + ... =
  // area of union = 3 + 2*2 - ... computed by columns: x in [1,2): 4-3=1;
  // [2,3): 4-2=2; [3,4): 4-1=3 -> 6.
  EXPECT_DOUBLE_EQ(Hypervolume({{1, 3}, {2, 2}, {3, 1}}, {4, 4}), 6.0);
  // A dominated point and one outside the reference change nothing.
  EXPECT_DOUBLE_EQ(Hypervolume({{1, 3}, {2, 2}, {3, 1}, {3, 3}, {5, 0}}, {4, 4}), 6.0);
}

TEST(Hypervolume, HandWorked3D) {
  // Two unit-free boxes against (2,2,2): (0,0,1) covers 2*2*1 = 4,
  // (1,1,0) covers 1*1*2 = 2, overlap [1,2]x[1,2]x[1,2] = 1 -> 5.
  EXPECT_DOUBLE_EQ(Hypervolume({{0, 0, 1}, {1, 1, 0}}, {2, 2, 2}), 5.0);
  EXPECT_DOUBLE_EQ(Hypervolume({{0, 0, 0}}, {2, 3, 4}), 24.0);
}

TEST(Hypervolume, HandWorked5D) {
  // One point: a box; two points: 1 + 1 - 0.5 * 1 overlap.
  EXPECT_DOUBLE_EQ(Hypervolume({{0, 0, 0, 0, 0}}, {1, 1, 1, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(Hypervolume({{0, 0, 0, 0, 0.5}, {0, 0, 0, 0.5, 0}}, {1, 1, 1, 1, 1}), 0.75);
}

TEST(Hypervolume, HandWorkedUnitVectorsIn4And5D) {
  // Point i is 0.5 in coordinate i and 0 elsewhere, against (1, ..., 1): a
  // box of volume 0.5; any k of them overlap in a box of 0.5^k; by
  // inclusion-exclusion the union is sum_k (-1)^(k+1) C(n,k) 0.5^k = 1 - 0.5^n.
  for (int d : {4, 5}) {
    std::vector<Point> pts;
    for (int i = 0; i < d; ++i) {
      Point p(d, 0.0);
      p[i] = 0.5;
      pts.push_back(p);
    }
    const double expected = 1.0 - std::pow(0.5, d);  // 0.9375, 0.96875
    EXPECT_DOUBLE_EQ(Hypervolume(pts, Point(d, 1.0)), expected) << d;
    // The same built up one point at a time.
    ParetoArchive archive(Point(d, 1.0));
    for (int i = 0; i < d; ++i) EXPECT_TRUE(archive.Insert(i, pts[i]));
    EXPECT_DOUBLE_EQ(archive.hypervolume(), expected) << d;
  }
}

TEST(Hypervolume, HandWorkedContribution) {
  // Against (2,2,2): (0,0,1) covers 4; (1,1,0) adds its box 2 less the
  // overlap [1,2]^3 = 1. A point another one dominates adds nothing; so does
  // one outside the reference.
  EXPECT_DOUBLE_EQ(HypervolumeContribution({1, 1, 0}, {{0, 0, 1}}, {2, 2, 2}), 1.0);
  EXPECT_DOUBLE_EQ(HypervolumeContribution({1, 1, 1}, {{0, 0, 1}}, {2, 2, 2}), 0.0);
  EXPECT_DOUBLE_EQ(HypervolumeContribution({0, 0, 2}, {}, {2, 2, 2}), 0.0);
  // 4-D: (0,0,0,1) and (1,1,1,0) against (2,2,2,2): 8 + 2 - 1.
  EXPECT_DOUBLE_EQ(HypervolumeContribution({1, 1, 1, 0}, {{0, 0, 0, 1}}, {2, 2, 2, 2}), 1.0);
  EXPECT_DOUBLE_EQ(Hypervolume({{0, 0, 0, 1}, {1, 1, 1, 0}}, {2, 2, 2, 2}), 9.0);
}

TEST(Hypervolume, EqualsTheOldSlicingAlgorithmOnRandomFronts) {
  Rng rng(23);
  for (int d = 2; d <= 5; ++d) {
    for (bool simplex : {false, true}) {
      for (int trial = 0; trial < 12; ++trial) {
        const int n = 1 + UniformInt(rng, 0, d == 5 ? 40 : 120);
        const std::vector<Point> pts = RandomPoints(rng, n, d, simplex);
        const Point ref(d, simplex ? 1.0 : 0.875);  // the grid puts some points on or past it
        const double old_hv = OldHypervolume(pts, ref);
        EXPECT_TRUE(NearRelative(Hypervolume(pts, ref), old_hv, 1e-12))
            << "d=" << d << " n=" << n << " simplex=" << simplex << ": " << Hypervolume(pts, ref) << " vs " << old_hv;
      }
    }
  }
}

TEST(ParetoArchive, IncrementalHypervolumeEqualsRecomputationAfterEveryPoint) {
  Rng rng(41);
  for (int d = 1; d <= 5; ++d) {
    for (bool simplex : {false, true}) {
      const Point ref(d, simplex ? 1.0 : 0.875);
      ParetoArchive archive(ref);
      const std::vector<Point> pts = RandomPoints(rng, d == 5 ? 150 : 300, d, simplex);
      for (size_t i = 0; i < pts.size(); ++i) {
        archive.Insert(static_cast<int64_t>(i), pts[i]);
        const double recomputed = Hypervolume(archive.points(), ref);
        ASSERT_TRUE(NearRelative(archive.hypervolume(), recomputed, 1e-12))
            << "d=" << d << " simplex=" << simplex << " after point " << i << ": " << archive.hypervolume()
            << " vs " << recomputed;
        if (i % 50 == 0) {
          // The whole history, not only the front, gives the same volume.
          const std::vector<Point> seen(pts.begin(), pts.begin() + static_cast<std::ptrdiff_t>(i + 1));
          ASSERT_TRUE(NearRelative(archive.hypervolume(), OldHypervolume(seen, ref), 1e-12));
        }
      }
    }
  }
}

TEST(Hypervolume, MatchesInclusionExclusionOnRandomSets) {
  Rng rng(5);
  for (int d = 1; d <= 5; ++d) {
    for (int trial = 0; trial < 40; ++trial) {
      const int n = 1 + UniformInt(rng, 0, 10);
      std::vector<Point> pts;
      for (int i = 0; i < n; ++i) {
        Point p;
        // Coarse grid values so ties happen.
        for (int k = 0; k < d; ++k) p.push_back(UniformInt(rng, 0, 6) / 4.0);
        pts.push_back(p);
      }
      const Point ref(d, 1.25);
      EXPECT_NEAR(Hypervolume(pts, ref), BruteForce(pts, ref), 1e-12) << "d=" << d << " n=" << n;
    }
  }
}

TEST(Pareto, NonDominatedIndices) {
  const std::vector<Point> pts = {{1, 3}, {2, 2}, {2, 3}, {3, 1}, {2, 2}, {0, 5}};
  EXPECT_EQ(NonDominatedIndices(pts), (std::vector<int>{0, 1, 3, 5}));
}

TEST(ParetoArchive, KeepsTheFrontAndItsHypervolume) {
  ParetoArchive archive({4, 4});
  EXPECT_TRUE(archive.Insert(1, {2, 2}));
  EXPECT_DOUBLE_EQ(archive.hypervolume(), 4.0);
  EXPECT_FALSE(archive.Insert(2, {3, 3}));  // dominated
  EXPECT_FALSE(archive.Insert(3, {2, 2}));  // equal
  EXPECT_DOUBLE_EQ(archive.hypervolume(), 4.0);
  EXPECT_TRUE(archive.Insert(4, {1, 3}));  // adds [1,2) x [3,4)
  EXPECT_DOUBLE_EQ(archive.hypervolume(), 5.0);
  EXPECT_TRUE(archive.Insert(6, {5, 0}));  // outside the reference: on the front, adds nothing
  EXPECT_DOUBLE_EQ(archive.hypervolume(), 5.0);
  EXPECT_TRUE(archive.Insert(5, {1, 1}));  // dominates both inside
  EXPECT_EQ(archive.ids(), (std::vector<int64_t>{6, 5}));
  EXPECT_DOUBLE_EQ(archive.hypervolume(), 9.0);
}

TEST(ParetoArchive, ThousandsOfPointsKeepAnExactHypervolume) {
  // 3000 random points in 4 objectives, then 1000 on the 5-objective
  // simplex (all non-dominated): the running sum equals a recomputation.
  // (Speed: bench/bench_hypervolume, docs/benchmarks.md.)
  Rng rng(9);
  ParetoArchive archive({1, 1, 1, 1});
  for (int i = 0; i < 3000; ++i) {
    Point p;
    for (int k = 0; k < 4; ++k) p.push_back(Uniform01(rng));
    archive.Insert(i, p);
  }
  EXPECT_GT(archive.hypervolume(), 0.5);
  EXPECT_TRUE(NearRelative(archive.hypervolume(), Hypervolume(archive.points(), {1, 1, 1, 1}), 1e-12));
  ParetoArchive simplex(Point(5, 1.0));
  const std::vector<Point> pts = RandomPoints(rng, 1000, 5, true);
  for (size_t i = 0; i < pts.size(); ++i) EXPECT_TRUE(simplex.Insert(static_cast<int64_t>(i), pts[i]));
  EXPECT_EQ(simplex.points().size(), 1000u);
  EXPECT_TRUE(NearRelative(simplex.hypervolume(), Hypervolume(pts, Point(5, 1.0)), 1e-12));
}

TEST(Pareto, NonDominatedIndicesEqualsEveryPairOnRandomSets) {
  Rng rng(3);
  for (int d = 1; d <= 5; ++d) {
    for (int trial = 0; trial < 20; ++trial) {
      const std::vector<Point> pts = RandomPoints(rng, 1 + UniformInt(rng, 0, 60), d, false);
      std::vector<int> expected;
      for (size_t i = 0; i < pts.size(); ++i) {
        bool keep = true;
        for (size_t j = 0; j < pts.size() && keep; ++j) {
          if (j != i && (Dominates(pts[j], pts[i]) || (j < i && pts[j] == pts[i]))) keep = false;
        }
        if (keep) expected.push_back(static_cast<int>(i));
      }
      EXPECT_EQ(NonDominatedIndices(pts), expected) << "d=" << d;
    }
  }
}

TEST(ParetoTrials, FeasibleSuccessfulTrialsOnly) {
  auto trial = [](int64_t id, bool ok, double err, int64_t sram) {
    CompletedTrial t;
    t.proposal.trial_id = id;
    t.proposal.costs.peak_sram_bytes = sram;
    t.proposal.costs.flash_bytes = 100;
    t.outcome = ok ? Outcome::Success(err) : Outcome::Failure("x");
    return t;
  };
  FrontSpec spec{{Objective::kError, Objective::kPeakSram}, *ParseLimits("error=1,peak_sram=1000"), true};
  const Limits constraints = *ParseLimits("peak_sram=900");
  auto front = ParetoTrials({trial(0, true, 0.2, 500), trial(1, false, 0.0, 10), trial(2, true, 0.1, 950),
                             trial(3, true, 0.3, 400), trial(4, true, 0.25, 600)},
                            spec, constraints);
  ASSERT_TRUE(front.ok());
  EXPECT_EQ(*front, (std::vector<int64_t>{0, 3}));
}

// A pruned trial counts with the network it measured: trial 2 was proposed
// at 950 bytes (over the 900-byte constraint) but pruned to 300, which puts
// it in the front and pushes out trial 3 (0.3 error at 400 bytes).
TEST(ParetoTrials, APrunedTrialCountsWithItsMeasuredCosts) {
  auto trial = [](int64_t id, double err, int64_t sram, std::optional<int64_t> pruned_sram) {
    CompletedTrial t;
    t.proposal.trial_id = id;
    t.proposal.costs.peak_sram_bytes = sram;
    t.outcome = Outcome::Success(err);
    if (pruned_sram) {
      t.outcome.measured_costs = t.proposal.costs;
      t.outcome.measured_costs->peak_sram_bytes = *pruned_sram;
    }
    return t;
  };
  const CompletedTrial pruned = trial(2, 0.1, 950, 300);
  EXPECT_EQ(pruned.objectives()[static_cast<size_t>(Objective::kPeakSram)], 300);
  FrontSpec spec{{Objective::kError, Objective::kPeakSram}, *ParseLimits("error=1,peak_sram=1000"), true};
  auto front = ParetoTrials({trial(0, 0.2, 500, std::nullopt), pruned, trial(3, 0.3, 400, std::nullopt)}, spec,
                            *ParseLimits("peak_sram=900"));
  ASSERT_TRUE(front.ok());
  EXPECT_EQ(*front, (std::vector<int64_t>{2}));
}

}  // namespace
}  // namespace unas::search
