// The one place where the coordinator's types become the REST API's JSON
// (what /api/v1/ returns and the dashboard reads). Units are in the names:
// *_bytes, macs, latency_ms, *_unix_ms. Absent values are null, not -1.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "server/core/coordinator.h"
#include "server/store/records.h"

namespace unas::server {

nlohmann::json ToJson(const JobView& view);
nlohmann::json ToJson(const TrialRecord& trial);
// {"objectives", "hypervolume", "trials": the search's front, "final_round",
// "final": the final front (ParetoView::final_front, in its order)}.
nlohmann::json ToJson(const ParetoView& front);
nlohmann::json ToJson(const std::vector<HypervolumePoint>& history);
// {"kind": "trial_started"|"trial_finished"|"trial_failed"|"pareto_point"|"job_done", "job", "trial"?}
nlohmann::json ToJson(const JobEvent& event);
const char* EventKindName(JobEvent::Kind kind);

// One trial with its full cost report, rebuilt from the candidate and the
// job's (parsed) spec: data set (input shape), accounting and MCU: the
// trial's fields plus "input", "accounting", "cost_report"
// (costmodel/report.h) and "partial_execution" (costmodel/pex_report.h; null
// if it cannot be planned). Errors: kInvalidArgument if the candidate cannot
// be rebuilt.
Result<nlohmann::json> TrialDetailJson(const JobSpec& spec, const TrialRecord& trial,
                                       const CoordinatorOptions& options);

// The trial export document (format "unas-trial-export/1"): job, architecture,
// input, input_contract, metrics, costs, cost report and partial-execution
// plan. The same for GET .../trials/N/export and gRPC GetTrial (what `unas
// export` writes). `input_contract` is the contract stored in `model_tflite`
// (the trial's int8 model, empty when it has none; data/input_contract.h's
// JSON), null when there is no model or it carries no contract. Errors:
// kInvalidArgument if the candidate cannot be rebuilt or the model's
// contract is malformed.
Result<nlohmann::json> TrialExportJson(const JobView& job, const JobSpec& spec, const TrialRecord& trial,
                                       const CoordinatorOptions& options, const std::string& model_tflite);

}  // namespace unas::server
