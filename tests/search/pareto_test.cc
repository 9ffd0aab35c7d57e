#include "search/pareto.h"

#include <chrono>

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

TEST(ParetoArchive, KeepsTheFrontAndRecomputesOnlyOnChange) {
  ParetoArchive archive({4, 4});
  EXPECT_TRUE(archive.Insert(1, {2, 2}));
  EXPECT_DOUBLE_EQ(archive.hypervolume(), 4.0);
  EXPECT_FALSE(archive.Insert(2, {3, 3}));  // dominated
  EXPECT_FALSE(archive.Insert(3, {2, 2}));  // equal
  EXPECT_DOUBLE_EQ(archive.hypervolume(), 4.0);
  EXPECT_EQ(archive.recomputations(), 1);
  EXPECT_TRUE(archive.Insert(4, {1, 3}));
  EXPECT_TRUE(archive.Insert(5, {1, 1}));  // dominates both
  EXPECT_EQ(archive.ids(), (std::vector<int64_t>{5}));
  EXPECT_DOUBLE_EQ(archive.hypervolume(), 9.0);
  EXPECT_EQ(archive.recomputations(), 2);
}

TEST(ParetoArchive, ThousandsOfPointsStayCheap) {
  // 3000 random points in 4 objectives: the front and its hypervolume are
  // maintained in well under a second on one core.
  Rng rng(9);
  ParetoArchive archive({1, 1, 1, 1});
  const auto start = std::chrono::steady_clock::now();
  double hv = 0;
  for (int i = 0; i < 3000; ++i) {
    Point p;
    for (int k = 0; k < 4; ++k) p.push_back(Uniform01(rng));
    archive.Insert(i, p);
    if (i % 50 == 49) hv = archive.hypervolume();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GT(hv, 0.5);
  EXPECT_LT(seconds, 5.0);
  RecordProperty("front_size", static_cast<int>(archive.points().size()));
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

}  // namespace
}  // namespace unas::search
