// How the client commands show jobs, trials and fronts: plain functions from
// the project's records to text or JSON, so `unas status|jobs|trials|pareto|
// finalize|submit --wait` print alike and tests can check the exact output.
// Errors are fractions (4 decimals), accuracies percentages, sizes bytes.
// What was not measured is never shown as 0: "-" in text, an empty field in
// CSV, null in JSON (a test error of -1, an absent int8 error or latency).
// Costs are the measured network's (server/core/measured_costs.h: the pruned
// one when the job prunes).
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

// `unas trials`: the header line and one line per trial (trial, status,
// rung, promoted from, val err, test err, int8 val, int8 test, peak SRAM,
// flash, MACs, attempts, C library (its measured flash, bytes, - when not
// measured), error; attempts is the 12th column).
std::string TrialsHeader();
std::string TrialLine(const server::TrialRecord& trial);

// An element of `unas trials --json`:
//   {"trial", "status", "rung", "final_round", "promoted_from" (null if
//    proposed), "proposal_id", "val_error", "test_error", "int8_val_error",
//    "int8_test_error" (each null if not measured), "epochs",
//    "train_seconds" (null without a result), "peak_sram_bytes",
//    "flash_bytes", "macs", "params", "latency_ms" (null without an MCU),
//    "pruned", "quantized", "c_library_flash_bytes" (the int8 model's C
//    library compiled for Cortex-M4, text + data; null when not measured),
//    "c_library_flash_note" (why not, "" when measured or unknown),
//    "attempts", "worker_id", "error"}
nlohmann::json TrialJson(const server::TrialRecord& trial);

// A trial's place in the search: "r0", "r1", ... for search rungs, "final1",
// "final2", ... for final-retraining rounds.
std::string RungLabel(const server::TrialRecord& trial);

// `unas pareto`: the final front first when there is one, then the search
// front, both with the same columns (trial, rung, validation, test and int8
// test accuracy in %, peak SRAM, flash, MACs, latency) under a line saying
// what their accuracies are, each followed by its hypervolume. With `csv`
// only the search front, as CSV (trial, val_error, test_error,
// peak_sram_bytes, flash_bytes, macs, latency_ms, params).
std::string ParetoText(const server::ParetoView& front, bool csv);

// `unas pareto --json`:
//   {"objectives", "hypervolume", "final_round", "final_hypervolume",
//    "final": [{"trial", "final_test_accuracy" (int8 when quantised, else
//               float; null if none), "quantized", "test_accuracy",
//               "int8_test_accuracy", "peak_sram_bytes", "flash_bytes", "macs",
//               "latency_ms", "proposal_id", "val_error"}],
//    "front": [{"trial", "rung", "val_error", "int8_val_error", "test_error",
//               "int8_test_error", "peak_sram_bytes", "flash_bytes", "macs",
//               "latency_ms"}]}
// Each figure not measured is null.
nlohmann::json ParetoJson(const server::ParetoView& front);

}  // namespace unas::cli
