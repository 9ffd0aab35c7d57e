#include "search/acquisition.h"

#include <algorithm>
#include <cmath>

namespace unas::search {
namespace {

constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

double Cdf(double z) { return 0.5 * std::erfc(-z * kInvSqrt2); }
double Pdf(double z) { return kInvSqrt2Pi * std::exp(-0.5 * z * z); }

}  // namespace

double LossShape::Loss(double error) const {
  if (!has_error) return floor;
  return std::max(floor, std::min(scale * error, cap));
}

LossShape ShapeOf(const Scalarisation& s, const Limits& bounds, const ObjectiveVector& f) {
  LossShape shape;
  for (int k = 1; k < kNumObjectives; ++k) {
    if (!bounds.value[k]) continue;
    const double v = std::isnan(f[k]) ? 10.0 : std::min(f[k] / *bounds.value[k], 10.0);
    shape.floor = std::max(shape.floor, v / s.lambda[k]);
  }
  const auto& b = bounds[Objective::kError];
  if (b) {
    shape.has_error = true;
    const double lambda = s.lambda[static_cast<int>(Objective::kError)];
    shape.scale = 1.0 / (*b * lambda);
    shape.cap = 10.0 / lambda;
  }
  return shape;
}

double ExpectedImprovement(const LossShape& shape, double mu, double sigma, double best_loss) {
  const double r = shape.floor;
  if (best_loss <= r) return 0;
  if (!shape.has_error || r >= shape.cap) return best_loss - r;
  const double m = shape.scale * mu, sd = shape.scale * sigma;
  const double u = std::min(best_loss, shape.cap);
  if (!(sd > 0)) return std::max(0.0, best_loss - std::max(r, std::min(m, u)));
  const double alpha = (r - m) / sd, beta = (u - m) / sd;
  const double cdf_a = Cdf(alpha), cdf_b = Cdf(beta);
  const double ei = (best_loss - r) * cdf_a + (best_loss - m) * (cdf_b - cdf_a) +
                    sd * (Pdf(beta) - Pdf(alpha)) + (best_loss - u) * (1.0 - cdf_b);
  return std::max(0.0, ei);
}

double SecondsModel::PredictSeconds(double macs) const {
  if (!valid) return 1.0;
  return std::exp(intercept + slope * std::log(std::max(macs, 1.0)));
}

SecondsModel SecondsModel::Fit(const std::vector<double>& macs, const std::vector<double>& seconds) {
  SecondsModel model;
  if (macs.size() != seconds.size()) return model;
  std::vector<double> x, y;
  for (size_t i = 0; i < macs.size(); ++i) {
    if (!(seconds[i] > 0) || !std::isfinite(seconds[i]) || !std::isfinite(macs[i])) continue;
    x.push_back(std::log(std::max(macs[i], 1.0)));
    y.push_back(std::log(seconds[i]));
  }
  if (x.size() < 3) return model;
  const double n = static_cast<double>(x.size());
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  double sxx = 0, sxy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  if (!(sxx > 1e-12 * n)) return model;
  model.slope = sxy / sxx;
  model.intercept = my - model.slope * mx;
  model.valid = std::isfinite(model.slope) && std::isfinite(model.intercept);
  return model;
}

}  // namespace unas::search
