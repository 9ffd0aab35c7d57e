#include "search/acquisition.h"

#include <cmath>

#include <gtest/gtest.h>

namespace unas::search {
namespace {

Costs WithSram(int64_t peak_sram_bytes) {
  Costs c;
  c.peak_sram_bytes = peak_sram_bytes;
  c.flash_bytes = 0;
  c.macs = 0;
  return c;
}

// E[max(0, best - s.Loss(e))] for e ~ N(mu, sigma^2) by Simpson's rule over
// mu +- 12 sigma, straight from the scalarisation (not from the shape).
double NumericEi(const Scalarisation& s, const Limits& bounds, const Costs& costs, double mu, double sigma,
                 double best) {
  const int n = 400000;  // even
  const double lo = -12, hi = 12, h = (hi - lo) / n;
  double sum = 0;
  for (int i = 0; i <= n; ++i) {
    const double z = lo + i * h;
    const double loss = s.Loss(MakeObjectives(mu + sigma * z, costs), bounds);
    const double f = std::max(0.0, best - loss) * std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI);
    sum += f * (i == 0 || i == n ? 1 : (i % 2 ? 4 : 2));
  }
  return sum * h / 3;
}

struct EiCase {
  const char* what;
  const char* bounds;
  double lambda_error, lambda_sram;
  int64_t sram;
  double mu, sigma, best;
};

TEST(ExpectedImprovement, MatchesANumericIntegralOfTheScalarisedLoss) {
  const EiCase cases[] = {
      {"plain: the error term decides", "error=0.3,peak_sram=64000", 0.5, 0.8, 20000, 0.1, 0.05, 1.0},
      {"the resource floor cuts the improvement", "error=0.3,peak_sram=64000", 0.5, 0.8, 20000, 0.05, 0.1, 0.9},
      {"the 10x cap on the error term", "error=0.3,peak_sram=64000", 0.5, 0.8, 20000, 3.5, 1.0, 25.0},
      {"the cap below the best loss, mean far below", "error=0.3,peak_sram=64000", 0.5, 0.8, 20000, 1.0, 2.0, 30.0},
      {"the 0 floor of the loss", "error=0.3,peak_sram=64000", 0.5, 0.8, 0, 0.0, 0.2, 0.4},
      {"mean above the best", "error=0.3,peak_sram=64000", 0.5, 0.8, 0, 0.4, 0.05, 1.0},
      {"the floor above the cap: constant", "error=0.3,peak_sram=64000", 0.5, 0.4, 640000, 0.2, 0.1, 30.0},
      {"best at or below the floor: nothing", "error=0.3,peak_sram=64000", 0.5, 0.8, 20000, 0.0, 0.3, 0.39},
      {"error unbounded: the resources only", "peak_sram=64000", 0.5, 0.8, 20000, 0.1, 0.2, 0.5},
  };
  for (const EiCase& c : cases) {
    const Limits bounds = *ParseLimits(c.bounds);
    Scalarisation s;
    if (bounds[Objective::kError]) s.lambda[0] = c.lambda_error;
    s.lambda[1] = c.lambda_sram;
    const Costs costs = WithSram(c.sram);
    const LossShape shape = ShapeOf(s, bounds, MakeObjectives(0, costs));
    for (double e : {-0.5, 0.0, 0.1, 0.37, 2.0, 5.0}) {
      EXPECT_DOUBLE_EQ(shape.Loss(e), s.Loss(MakeObjectives(e, costs), bounds)) << c.what << " e = " << e;
    }
    const double closed = ExpectedImprovement(shape, c.mu, c.sigma, c.best);
    EXPECT_NEAR(closed, NumericEi(s, bounds, costs, c.mu, c.sigma, c.best), 1e-7) << c.what;
  }
}

TEST(ExpectedImprovement, KnownValues) {
  LossShape shape;
  shape.has_error = true;
  shape.scale = 1;
  shape.cap = 100;
  // No clamp in reach (the 0 floor 20 sd below): (L* - m) Φ(0) + s φ(0), m = L*.
  EXPECT_NEAR(ExpectedImprovement(shape, 20.0, 1.0, 20.0), 1 / std::sqrt(2 * M_PI), 1e-15);
  EXPECT_DOUBLE_EQ(ExpectedImprovement(shape, 1.5, 0.0, 2.0), 0.5);  // sigma 0: the improvement at mu
  shape.floor = 3;
  EXPECT_EQ(ExpectedImprovement(shape, 0.0, 1.0, 3.0), 0.0);  // L* <= r
  shape.has_error = false;
  EXPECT_DOUBLE_EQ(ExpectedImprovement(shape, 9.0, 1.0, 4.5), 1.5);
}

TEST(ShapeOf, UnknownLatencyCountsAsTenTimesItsBound) {
  const Limits bounds = *ParseLimits("error=0.5,latency=10");
  Scalarisation s;
  s.lambda[0] = 0.5;
  s.lambda[4] = 0.5;
  const LossShape shape = ShapeOf(s, bounds, MakeObjectives(0, WithSram(0)));  // latency NaN
  EXPECT_DOUBLE_EQ(shape.floor, 20.0);
  EXPECT_DOUBLE_EQ(shape.scale, 4.0);
  EXPECT_DOUBLE_EQ(shape.cap, 20.0);
}

TEST(SecondsModel, FitsLogSecondsOnLogMacsExactly) {
  // seconds = 2 sqrt(MACs): intercept ln 2, slope 0.5.
  const SecondsModel exact = SecondsModel::Fit({1e4, 1e6, 1e8}, {200, 2000, 20000});
  ASSERT_TRUE(exact.valid);
  EXPECT_NEAR(exact.intercept, std::log(2.0), 1e-12);
  EXPECT_NEAR(exact.slope, 0.5, 1e-12);
  EXPECT_NEAR(exact.PredictSeconds(1e10), 2e5, 1e-6);
  // Not on a line: log MACs 0, 1, 2 against log seconds 0, 2, 1 give slope
  // 1 / 2 and intercept 1 - 1 / 2 by hand. The 0-second trial is left out.
  const SecondsModel ls = SecondsModel::Fit({1, std::exp(1.0), std::exp(2.0), 50}, {1, std::exp(2.0), std::exp(1.0), 0});
  ASSERT_TRUE(ls.valid);
  EXPECT_NEAR(ls.slope, 0.5, 1e-12);
  EXPECT_NEAR(ls.intercept, 0.5, 1e-12);
}

TEST(SecondsModel, TooFewOrDegeneratePointsGivePlainEi) {
  EXPECT_FALSE(SecondsModel::Fit({1e4, 1e6}, {1, 10}).valid);
  EXPECT_FALSE(SecondsModel::Fit({1e4, 1e6, 1e8}, {1, 10, 0}).valid);  // 2 timed
  EXPECT_FALSE(SecondsModel::Fit({5e5, 5e5, 5e5}, {1, 2, 3}).valid);   // MACs do not vary
  EXPECT_FALSE(SecondsModel::Fit({1e4, 1e6, 1e8}, {1, 10}).valid);     // lengths differ
  EXPECT_EQ(SecondsModel{}.PredictSeconds(1e9), 1.0);
}

}  // namespace
}  // namespace unas::search
