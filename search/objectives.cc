#include "search/objectives.h"

#include "costmodel/frontend_cost.h"
#include "costmodel/partial_execution.h"
#include "costmodel/proposal_costs.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "costmodel/network.h"

namespace unas::search {

const char* ObjectiveName(Objective objective) {
  switch (objective) {
    case Objective::kError: return "error";
    case Objective::kPeakSram: return "peak_sram";
    case Objective::kFlash: return "flash";
    case Objective::kMacs: return "macs";
    case Objective::kLatency: return "latency";
  }
  return "?";
}

Result<Objective> ParseObjective(const std::string& name) {
  for (int i = 0; i < kNumObjectives; ++i) {
    if (name == ObjectiveName(static_cast<Objective>(i))) return static_cast<Objective>(i);
  }
  return Status::Invalid("unknown objective '" + name +
                         "' (known: error, peak_sram, flash, macs, latency)");
}

Result<MemoryModel> ParseMemoryModel(const std::string& name) {
  if (name == "whole") return MemoryModel::kWholeTensor;
  if (name == "partial_execution") return MemoryModel::kPartialExecution;
  return Status::Invalid("memory: '" + name + "' is not one of whole, partial_execution");
}

// The costs are SummariseProposalCosts's (costmodel/proposal_costs.h): under
// kTflm without the CMSIS-NN kernels' arena, which no proposal reads.
CostFunction MakeCostFunction(const InputSpec& input, Accounting accounting, const McuProfile* mcu,
                              MemoryModel memory, std::optional<FrontendCost> frontend) {
  return [input, accounting, mcu, memory, frontend](const Candidate& candidate) -> Result<Costs> {
    UNAS_ASSIGN_OR_RETURN(Network network, BuildNetwork(candidate, input));
    UNAS_ASSIGN_OR_RETURN(CostSummary summary, SummariseProposalCosts(network, accounting));
    Costs costs = MakeCosts(summary);
    if (memory == MemoryModel::kPartialExecution) {
      UNAS_ASSIGN_OR_RETURN(costs.peak_sram_bytes, PexPeakBytes(network, accounting));
    }
    if (mcu != nullptr) costs.latency_ms = EstimateLatency(*mcu, network).latency_ms;
    // After Pex: the front end runs before the network, whatever its schedule.
    if (frontend) costs = WithFrontendCost(std::move(costs), *frontend, accounting, mcu);
    return costs;
  };
}

Result<Limits> ParseLimits(const std::string& text) {
  Limits limits;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string::npos) return Status::Invalid("'" + item + "': expected NAME=VALUE");
    UNAS_ASSIGN_OR_RETURN(Objective o, ParseObjective(item.substr(0, eq)));
    const std::string value = item.substr(eq + 1);
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !(v > 0) || !std::isfinite(v)) {
      return Status::Invalid(item.substr(0, eq) + ": '" + value + "' is not a positive number");
    }
    limits[o] = v;
  }
  return limits;
}

ObjectiveVector MakeObjectives(double validation_error, const Costs& costs) {
  return {validation_error, static_cast<double>(costs.peak_sram_bytes),
          static_cast<double>(costs.flash_bytes), static_cast<double>(costs.macs),
          costs.latency_ms ? *costs.latency_ms : std::numeric_limits<double>::quiet_NaN()};
}

bool MeetsConstraints(const Costs& costs, const Limits& c) {
  if (c[Objective::kPeakSram] && costs.peak_sram_bytes > *c[Objective::kPeakSram]) return false;
  if (c[Objective::kFlash] && costs.flash_bytes > *c[Objective::kFlash]) return false;
  if (c[Objective::kMacs] && costs.macs > *c[Objective::kMacs]) return false;
  if (c[Objective::kLatency] && (!costs.latency_ms || *costs.latency_ms > *c[Objective::kLatency])) {
    return false;
  }
  return true;
}

Scalarisation Scalarisation::Draw(Rng& rng, const Limits& bounds) {
  Scalarisation s;
  for (int k = 0; k < kNumObjectives; ++k) {
    if (bounds.value[k]) s.lambda[k] = UniformOpen01(rng);
  }
  return s;
}

double Scalarisation::Loss(const ObjectiveVector& f, const Limits& bounds) const {
  double loss = 0;
  for (int k = 0; k < kNumObjectives; ++k) {
    if (!bounds.value[k]) continue;
    const double v = std::isnan(f[k]) ? 10.0 : std::min(f[k] / *bounds.value[k], 10.0);
    loss = std::max(loss, v / lambda[k]);
  }
  return loss;
}

}  // namespace unas::search
