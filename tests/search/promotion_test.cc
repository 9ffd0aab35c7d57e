#include "search/promotion.h"

#include <limits>

#include <gtest/gtest.h>

namespace unas::search {
namespace {

RungResult R(int64_t id, std::vector<double> v, bool promoted = false) {
  RungResult r;
  r.id = id;
  r.objectives.fill(0);
  for (size_t i = 0; i < v.size(); ++i) r.objectives[i] = v[i];
  r.promoted = promoted;
  return r;
}

FrontSpec TwoD() { return {{Objective::kError, Objective::kPeakSram}, *ParseLimits("error=1,peak_sram=1000"), true}; }

// (error, peak SRAM): 10, 11, 12 are the front; 13 (by 11), 14 (by 10) and
// 16 (by 12) the second rank; 15 (by 13) the third.
std::vector<RungResult> TwoDRung() {
  return {R(13, {0.25, 600}), R(10, {0.10, 900}), R(15, {0.40, 700}), R(11, {0.20, 500}),
          R(16, {0.35, 200}), R(12, {0.30, 100}), R(14, {0.15, 950})};
}

TEST(ParetoRanks, PeelsFrontsInTurn) {
  std::vector<Point> points;
  for (const RungResult& r : TwoDRung()) points.push_back(TwoD().Project(r.objectives));
  // 13, 10, 15, 11, 16, 12, 14
  EXPECT_EQ(ParetoRanks(points), (std::vector<int>{1, 0, 2, 0, 1, 0, 1}));
  EXPECT_EQ(ParetoRanks({}), std::vector<int>{});
  EXPECT_EQ(ParetoRanks({{1, 1}, {1, 1}, {2, 2}}), (std::vector<int>{0, 0, 1}));  // duplicates share a rank
}

TEST(Promotable, TakesTheTopFractionByRankThenErrorThenId) {
  // Order: 10, 11, 12 (rank 0 by error), 14, 13, 16 (rank 1), 15.
  EXPECT_EQ(Promotable(TwoDRung(), TwoD(), 2), (std::vector<int64_t>{10, 11, 12}));  // floor(7 / 2)
  EXPECT_EQ(Promotable(TwoDRung(), TwoD(), 3), (std::vector<int64_t>{10, 11}));
  EXPECT_EQ(Promotable(TwoDRung(), TwoD(), 7), (std::vector<int64_t>{10}));
}

TEST(Promotable, SkipsTheAlreadyPromoted) {
  auto rung = TwoDRung();
  rung[3].promoted = true;  // 11
  EXPECT_EQ(Promotable(rung, TwoD(), 2), (std::vector<int64_t>{10, 12}));
  rung[1].promoted = true;  // 10
  rung[5].promoted = true;  // 12
  EXPECT_EQ(Promotable(rung, TwoD(), 2), std::vector<int64_t>{});  // the top did not grow
  rung.push_back(R(17, {0.9, 990}));  // 8 results: the top is 4, so 14 joins it
  EXPECT_EQ(Promotable(rung, TwoD(), 2), (std::vector<int64_t>{14}));
}

TEST(Promotable, ARungNeverPromotesMoreThanItsTop) {
  // 13 and 15 were promoted while they were in the top (an earlier, smaller
  // rung) and are not now: with two of the top's three places used, one more
  // is due, the best not yet promoted.
  auto rung = TwoDRung();
  rung[0].promoted = true;  // 13
  rung[2].promoted = true;  // 15
  EXPECT_EQ(Promotable(rung, TwoD(), 2), (std::vector<int64_t>{10}));
  rung[1].promoted = true;  // 10
  EXPECT_EQ(Promotable(rung, TwoD(), 2), std::vector<int64_t>{});  // 11 and 12 are in the top, but it is used up
  EXPECT_EQ(Promotable(rung, TwoD(), 3), std::vector<int64_t>{});
  rung.push_back(R(17, {0.9, 990}));  // 8 results: the top is 4
  EXPECT_EQ(Promotable(rung, TwoD(), 2), (std::vector<int64_t>{11}));
}

TEST(Promotable, FewerResultsThanTheReductionFactorPromoteNothing) {
  const std::vector<RungResult> rung = {R(1, {0.1, 100}), R(2, {0.2, 200})};
  EXPECT_EQ(Promotable(rung, TwoD(), 3), std::vector<int64_t>{});
  EXPECT_EQ(Promotable(rung, TwoD(), 2), (std::vector<int64_t>{1}));
  EXPECT_EQ(Promotable(rung, TwoD(), 1), std::vector<int64_t>{});  // reduction factor < 2
  EXPECT_EQ(Promotable({}, TwoD(), 2), std::vector<int64_t>{});
}

TEST(Promotable, RanksOverFourObjectives) {
  const FrontSpec spec{{Objective::kError, Objective::kPeakSram, Objective::kFlash, Objective::kMacs},
                       *ParseLimits("error=1,peak_sram=1000,flash=1000,macs=1000"), true};
  // 1, 2, 3 trade off; 4 is dominated by 1, 5 by 2 (and 1), 6 by 4.
  const std::vector<RungResult> rung = {
      R(6, {0.35, 160, 160, 160}), R(5, {0.25, 200, 200, 200}), R(4, {0.30, 150, 150, 150}),
      R(3, {0.30, 50, 300, 300}),  R(2, {0.10, 200, 200, 200}), R(1, {0.20, 100, 100, 100})};
  // 5's error (0.25) beats 3's (0.30), but 3 is on the front.
  EXPECT_EQ(Promotable(rung, spec, 2), (std::vector<int64_t>{2, 1, 3}));
  EXPECT_EQ(Promotable(rung, spec, 3), (std::vector<int64_t>{2, 1}));
}

TEST(Promotable, DuplicatesShareARankAndTheIdBreaksTheTie) {
  const std::vector<RungResult> rung = {R(8, {0.2, 300}), R(6, {0.3, 500}), R(7, {0.2, 300}), R(9, {0.1, 400})};
  EXPECT_EQ(Promotable(rung, TwoD(), 2), (std::vector<int64_t>{9, 7}));
  EXPECT_EQ(SelectForFinal(rung, TwoD(), 10, 0), (std::vector<int64_t>{9, 7, 8}));
}

TEST(SelectForFinal, TheFrontThenTheBestNeighboursWithinTheCap) {
  EXPECT_EQ(SelectForFinal(TwoDRung(), TwoD(), 10, 0), (std::vector<int64_t>{10, 11, 12}));
  EXPECT_EQ(SelectForFinal(TwoDRung(), TwoD(), 10, 2), (std::vector<int64_t>{10, 11, 12, 14, 13}));
  EXPECT_EQ(SelectForFinal(TwoDRung(), TwoD(), 4, 2), (std::vector<int64_t>{10, 11, 12, 14}));
  EXPECT_EQ(SelectForFinal(TwoDRung(), TwoD(), 3, 2), (std::vector<int64_t>{10, 11, 12}));
  EXPECT_EQ(SelectForFinal(TwoDRung(), TwoD(), 100, 100), (std::vector<int64_t>{10, 11, 12, 14, 13, 16, 15}));
  EXPECT_EQ(SelectForFinal(TwoDRung(), TwoD(), 10, -1), (std::vector<int64_t>{10, 11, 12}));
  EXPECT_EQ(SelectForFinal(TwoDRung(), TwoD(), 0, 2), std::vector<int64_t>{});
  EXPECT_EQ(SelectForFinal({}, TwoD(), 5, 2), std::vector<int64_t>{});
}

TEST(SelectForFinal, ThinsALargeFrontKeepingTheBestHalfAndSpreadingTheRest) {
  // A front of 7 (ids 20..26, error 0.1..0.7, SRAM 700..100), given out of
  // order, and a dominated 99.
  std::vector<RungResult> results = {R(99, {0.5, 800})};
  for (int i : {3, 6, 0, 5, 1, 4, 2}) results.push_back(R(20 + i, {0.1 * (i + 1), 700.0 - 100 * i}));
  // The best ceil(M / 2) of the error order, then positions
  // B - 1 + round(i (7 - B) / S) for the other S.
  EXPECT_EQ(SelectForFinal(results, TwoD(), 3, 2), (std::vector<int64_t>{20, 21, 26}));
  EXPECT_EQ(SelectForFinal(results, TwoD(), 4, 2), (std::vector<int64_t>{20, 21, 24, 26}));
  EXPECT_EQ(SelectForFinal(results, TwoD(), 5, 2), (std::vector<int64_t>{20, 21, 22, 24, 26}));
  EXPECT_EQ(SelectForFinal(results, TwoD(), 6, 2), (std::vector<int64_t>{20, 21, 22, 23, 25, 26}));
  EXPECT_EQ(SelectForFinal(results, TwoD(), 2, 2), (std::vector<int64_t>{20, 26}));
  EXPECT_EQ(SelectForFinal(results, TwoD(), 1, 2), (std::vector<int64_t>{20}));
  EXPECT_EQ(SelectForFinal(results, TwoD(), 7, 2), (std::vector<int64_t>{20, 21, 22, 23, 24, 25, 26}));
  EXPECT_EQ(SelectForFinal(results, TwoD(), 8, 2), (std::vector<int64_t>{20, 21, 22, 23, 24, 25, 26, 99}));
}

TEST(Promotable, ANanErrorSortsLastWithinItsRank) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // A NaN coordinate decides nothing: 1 ties 2 on SRAM, so neither dominates
  // the other (rank 0), and 1 dominates 4 on SRAM alone.
  const std::vector<RungResult> rung = {R(4, {0.3, 200}), R(1, {nan, 100}), R(2, {0.1, 100})};
  EXPECT_EQ(Promotable(rung, TwoD(), 2), (std::vector<int64_t>{2}));
  EXPECT_EQ(SelectForFinal(rung, TwoD(), 10, 0), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(SelectForFinal(rung, TwoD(), 10, 1), (std::vector<int64_t>{2, 1, 4}));
}

}  // namespace
}  // namespace unas::search
