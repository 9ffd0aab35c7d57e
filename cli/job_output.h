// How the client commands show jobs, trials and fronts: plain functions from
// the project's records to text or JSON, so `unas status|trials|pareto|
// finalize|submit --wait` print alike and tests can check the exact output.
// Errors are fractions (4 decimals), accuracies percentages, sizes bytes.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "server/store/records.h"

namespace unas::cli {

std::string Fixed(double v, int digits);
// "-" for a negative error (not measured) or an absent one.
std::string ErrorText(double error);
std::string ErrorText(const std::optional<double>& error);

// One line per job: id, name, status, trial counts, best error,
// hypervolume, and the final round when there is one.
std::string JobLine(const server::JobView& job);

// A trial's place in the search: "r0", "r1", ... for search rungs, "final1",
// "final2", ... for final-retraining rounds.
std::string RungLabel(const server::TrialRecord& trial);

// `unas pareto`: the final front first when there is one (trial, final test
// accuracy in %, measured peak SRAM, flash, MACs, "int8" when quantised),
// then the search front. With `csv` only the search front, as CSV.
std::string ParetoText(const server::ParetoView& front, bool csv);

// `unas pareto --json`:
//   {"objectives", "hypervolume", "final_round",
//    "final": [{"trial", "final_test_accuracy" (null if none), "quantized",
//               "peak_sram_bytes", "flash_bytes", "macs", "proposal_id", "val_error"}],
//    "front": [{"trial", "rung", "val_error", "int8_val_error" (null if none),
//               "peak_sram_bytes", "flash_bytes", "macs"}]}
// Costs are the measured network's (server/core/measured_costs.h).
nlohmann::json ParetoJson(const server::ParetoView& front);

}  // namespace unas::cli
