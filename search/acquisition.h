// Cost-aware acquisition for Bayesian optimisation (search/bayes_opt.h):
// expected improvement of the scalarised loss under a Gaussian posterior on
// the error, and a model of what a trial costs in seconds ("EI per second",
// Snoek, Larochelle and Adams 2012, "Practical Bayesian Optimization of
// Machine Learning Algorithms").
//
// Loss shape. μNAS's scalarisation (search/objectives.h) is
//   loss = max(0, max_k min(f_k / b_k, 10) / λ_k)
// over the bounded objectives. For one candidate every resource f_k is exact
// (the cost model's), so all terms but the error's are a constant r >= 0 (the
// 0 included), and with a = 1 / (b_error λ_error) and c = 10 / λ_error
//   loss(e) = max(r, min(a e, c))   (loss = r when the error is unbounded).
//
// Expected improvement. With L* the best loss among evaluated trials and
// e ~ N(mu, sigma^2), the improvement max(0, L* - loss(e)) is
//   0 everywhere when L* <= r; L* - r everywhere when r >= c; otherwise
//   L* - clamp(a e, r, u) with u = min(L*, c).
// For x = a e ~ N(m, s^2) (m = a mu, s = a sigma), α = (r - m) / s,
// β = (u - m) / s, Φ and φ the standard normal cdf and pdf:
//   EI = (L* - r) Φ(α) + (L* - m)(Φ(β) - Φ(α)) + s (φ(β) - φ(α))
//        + (L* - u)(1 - Φ(β)),
// the three pieces of the clamp (below r, between, above u). Without the
// clamps (r = -inf, u = L*) it is the textbook (L* - m) Φ(β) + s φ(β).
//
// Seconds. log(train_seconds) = intercept + slope log(MACs), least squares
// over the trials' first results (a promotion's seconds are not what a new
// proposal costs). Fewer than 3 points, or MACs that do not vary, give an
// invalid model, and then the cost term is 1 (plain EI).
//
// Pure functions; thread-compatible.
#pragma once

#include <vector>

#include "search/objectives.h"

namespace unas::search {

// loss(e) = max(floor, min(scale e, cap)) for one candidate under one λ.
struct LossShape {
  bool has_error = false;  // false: the loss is `floor` whatever the error
  double scale = 0;        // a = 1 / (b_error λ_error)
  double cap = 0;          // c = 10 / λ_error
  double floor = 0;        // r: the resource terms (and 0)
  double Loss(double error) const;
};

// The shape of s.Loss(MakeObjectives(e, costs), bounds) as a function of e:
// `f` is the candidate's objective vector (its error coordinate is ignored).
LossShape ShapeOf(const Scalarisation& s, const Limits& bounds, const ObjectiveVector& f);

// E[max(0, best_loss - shape.Loss(e))] for e ~ N(mu, sigma^2), closed form
// (above); sigma <= 0 gives the improvement at mu. Never negative.
double ExpectedImprovement(const LossShape& shape, double mu, double sigma, double best_loss);

struct SecondsModel {
  bool valid = false;
  double intercept = 0;  // natural logs
  double slope = 0;
  // exp(intercept + slope log(max(macs, 1))); 1 when invalid.
  double PredictSeconds(double macs) const;
  // Least squares on the pairs with seconds > 0; `macs` and `seconds` the
  // same length (else invalid).
  static SecondsModel Fit(const std::vector<double>& macs, const std::vector<double>& seconds);
};

}  // namespace unas::search
