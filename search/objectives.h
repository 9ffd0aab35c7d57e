// The search's objectives, their bounds and hard constraints, the injected
// cost function, and μNAS's randomised scalarisation.
//
// Objectives, all minimised, in this fixed order:
//   validation error (fraction 0..1), peak SRAM (bytes), flash (bytes),
//   MACs, latency (ms on a named MCU; absent without an MCU).
// Resource objectives are exact: they come from the cost model before
// training, so a strategy knows them when it proposes a candidate.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "costmodel/candidate.h"
#include "costmodel/cost_model.h"
#include "costmodel/costs.h"
#include "costmodel/mcu.h"
#include "base/status.h"
#include "search/rng.h"

namespace unas::search {

enum class Objective { kError = 0, kPeakSram, kFlash, kMacs, kLatency };
constexpr int kNumObjectives = 5;
const char* ObjectiveName(Objective objective);  // "error", "peak_sram", "flash", "macs", "latency"
Result<Objective> ParseObjective(const std::string& name);

using ObjectiveVector = std::array<double, kNumObjectives>;

// Injected into strategies so that tests can count calls or fake costs.
// Must be deterministic and thread-compatible (called from one thread).
using CostFunction = std::function<Result<Costs>(const Candidate&)>;

// Costs from the cost model on `input` (default accounting tflm, the one a
// device's "SRAM <= 64 KB" means). `mcu` may be null; if not, it must outlive
// the function.
// How activations are executed on the device, which decides the peak SRAM a
// strategy sees, constrains and optimises: whole tensors in the best order,
// or partial execution (Pex, costmodel/partial_execution.h), which runs
// chains of operators a channel slice at a time. Pex costs ~10 ms a
// candidate instead of ~30 us: fine next to training, slow for simulations.
enum class MemoryModel { kWholeTensor, kPartialExecution };
Result<MemoryModel> ParseMemoryModel(const std::string& name);  // "whole", "partial_execution"

// `frontend`: a keyword job's audio front end (costmodel/frontend_cost.h),
// added to every candidate's flash, peak SRAM and latency as the accounting
// says, so that constraints, objectives and the stored costs include it.
CostFunction MakeCostFunction(const InputSpec& input, Accounting accounting = Accounting::kTflm,
                              const McuProfile* mcu = nullptr, MemoryModel memory = MemoryModel::kWholeTensor,
                              std::optional<FrontendCost> frontend = std::nullopt);

// One optional limit per objective. Used both as soft bounds (scalarisation,
// hypervolume reference point) and as hard constraints (resources only).
struct Limits {
  std::array<std::optional<double>, kNumObjectives> value;
  std::optional<double>& operator[](Objective o) { return value[static_cast<int>(o)]; }
  const std::optional<double>& operator[](Objective o) const { return value[static_cast<int>(o)]; }
};

// Parses "peak_sram=64000,flash=64000,macs=30000000" (any subset; names as
// ObjectiveName). Values must be positive. "" gives no limits.
Result<Limits> ParseLimits(const std::string& text);

// Objective vector of a trained candidate; latency is NaN when unknown.
ObjectiveVector MakeObjectives(double validation_error, const Costs& costs);

// True when no resource cost exceeds its hard constraint (the error limit, if
// any, is ignored: it is not known before training). A latency constraint
// with unknown latency is not met.
bool MeetsConstraints(const Costs& costs, const Limits& constraints);

// μNAS's randomised scalarisation (spec section 3): with λ_k drawn uniformly
// in (0, 1) per bounded objective, loss = max_k min(f_k / b_k, 10) / λ_k over
// the objectives that have a bound (fitness = -loss). Lower is better.
struct Scalarisation {
  std::array<double, kNumObjectives> lambda{};  // 0 for unbounded objectives
  static Scalarisation Draw(Rng& rng, const Limits& bounds);
  double Loss(const ObjectiveVector& f, const Limits& bounds) const;
};

}  // namespace unas::search
