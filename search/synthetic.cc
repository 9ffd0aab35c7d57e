#include "search/synthetic.h"

#include <algorithm>
#include <cmath>

#include "costmodel/cost_model.h"
#include "costmodel/network.h"
#include "search/canonical.h"
#include "search/rng.h"

namespace unas::search {
namespace {
double Clamp01(double x) { return std::min(1.0, std::max(0.0, x)); }
constexpr uint64_t kSyntheticStream = 0x73796e7468657469ULL;  // "synthetic"
}  // namespace

Result<double> SyntheticEvaluator::ExpectedError(const Candidate& candidate) const {
  UNAS_ASSIGN_OR_RETURN(Network network, BuildNetwork(candidate, config_.input));
  UNAS_ASSIGN_OR_RETURN(CostSummary summary, SummariseCosts(network, Accounting::kUnas));
  int layers = 0, resolved = 0;
  for (const Op& op : network.ops) {
    if (op.role != OpRole::kLayer || op.kind == OpKind::kDense) continue;
    ++layers;
    if (op.out.h >= 4 && op.out.w >= 4) ++resolved;
  }
  const double compute = Clamp01(std::log10(std::max<int64_t>(summary.macs, 1)) / 7.0);
  const double capacity = Clamp01(std::log10(std::max<int64_t>(summary.params, 1)) / 5.0);
  const double depth = std::min(layers, 8) / 8.0;
  const double resolution = layers > 0 ? static_cast<double>(resolved) / layers : 0.0;
  const double q = 0.35 * compute + 0.30 * capacity + 0.20 * depth + 0.15 * resolution;
  return 0.04 + 0.9 * std::exp(-3.5 * q);
}

Result<double> SyntheticEvaluator::ValidationError(const Candidate& candidate) const {
  UNAS_ASSIGN_OR_RETURN(double expected, ExpectedError(candidate));
  Rng rng(DeriveSeed(config_.seed, kSyntheticStream, CandidateHash(candidate)));
  return Clamp01(expected + config_.noise_sd * StandardNormal(rng));
}

}  // namespace unas::search
