#include "server/core/json_convert.h"

#include "tflite/metadata.h"

#include "costmodel/cost_model.h"
#include "costmodel/frontend_cost.h"
#include "base/json_limits.h"
#include "base/stored_json.h"
#include "costmodel/mcu.h"
#include "costmodel/network.h"
#include "costmodel/partial_execution.h"
#include "costmodel/pex_report.h"
#include "costmodel/report.h"
#include "server/core/job_costs.h"
#include "server/core/job_spec.h"
#include "server/store/job_json.h"

namespace unas::server {
namespace {

nlohmann::json ZeroAsNull(int64_t v) { return v == 0 ? nlohmann::json(nullptr) : nlohmann::json(v); }

template <typename T>
nlohmann::json OrNull(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json CostsJson(const Costs& c) {
  return {{"params", c.params},
          {"flash_bytes", c.flash_bytes},
          {"macs", c.macs},
          {"peak_sram_bytes", c.peak_sram_bytes},
          {"build_order_peak_sram_bytes", c.build_order_peak_bytes},
          {"latency_ms", OrNull(c.latency_ms)}};
}

}  // namespace

const char* EventKindName(JobEvent::Kind kind) {
  switch (kind) {
    case JobEvent::Kind::kTrialStarted: return "trial_started";
    case JobEvent::Kind::kTrialFinished: return "trial_finished";
    case JobEvent::Kind::kTrialFailed: return "trial_failed";
    case JobEvent::Kind::kParetoPoint: return "pareto_point";
    case JobEvent::Kind::kJobDone: return "job_done";
  }
  return "unknown";
}

nlohmann::json ToJson(const JobView& view) { return JobViewJson(view, /*with_spec=*/true); }

nlohmann::json ToJson(const TrialRecord& t) {
  nlohmann::json j;
  j["job_id"] = t.job_id;
  j["trial_id"] = t.trial_id;
  j["status"] = TrialStatusName(t.status);
  j["candidate"] = StoredJson(t.candidate_json);
  j["candidate_hash"] = t.candidate_hash;
  j["proposal_id"] = t.proposal_id;
  j["rung"] = t.rung;
  j["promoted_from"] = t.promoted_from;
  j["final_round"] = t.final_round;
  j["final_test_accuracy"] = OrNull(FinalTestAccuracy(t));
  j["objective_error"] = OrNull(t.objective_error);
  j["costs"] = CostsJson(t.costs);
  if (t.metrics) {
    const Metrics& m = *t.metrics;
    j["metrics"] = {{"val_error", m.val_error},
                    {"test_error", m.test_error < 0 ? nlohmann::json(nullptr) : nlohmann::json(m.test_error)},
                    {"train_seconds", m.train_seconds},
                    {"samples_per_second", m.samples_per_second},
                    {"epochs", m.epochs},
                    {"int8_val_error", OrNull(m.int8_val_error)},
                    {"int8_test_error", OrNull(m.int8_test_error)},
                    {"c_library_flash_bytes", OrNull(m.c_library_flash_bytes)},
                    {"c_library_flash_note", m.c_library_flash_note}};
  } else {
    j["metrics"] = nullptr;
  }
  j["attempts"] = t.attempts;
  j["progress"] = t.progress;
  j["worker_id"] = t.worker_id;
  j["error"] = t.error;
  if (t.pruned_costs) {
    j["pruned_candidate"] = StoredJson(t.pruned_candidate_json);
    j["pruned_costs"] = CostsJson(*t.pruned_costs);
  } else {
    j["pruned_candidate"] = nullptr;
    j["pruned_costs"] = nullptr;
  }
  j["has_tflite"] = t.has_tflite;
  j["created_unix_ms"] = t.created_unix_ms;
  j["started_unix_ms"] = ZeroAsNull(t.started_unix_ms);
  j["finished_unix_ms"] = ZeroAsNull(t.finished_unix_ms);
  return j;
}

nlohmann::json ToJson(const ParetoView& front) {
  nlohmann::json trials = nlohmann::json::array(), final_front = nlohmann::json::array();
  for (const TrialRecord& t : front.trials) trials.push_back(ToJson(t));
  for (const TrialRecord& t : front.final_front) final_front.push_back(ToJson(t));
  return {{"objectives", front.objectives},
          {"hypervolume", front.hypervolume},
          {"trials", std::move(trials)},
          {"final_round", front.final_round},
          {"final_hypervolume", front.final_hypervolume},
          {"final", std::move(final_front)}};
}

nlohmann::json ToJson(const std::vector<HypervolumePoint>& history) {
  nlohmann::json points = nlohmann::json::array();
  for (const HypervolumePoint& p : history) {
    points.push_back({{"trials_finished", p.trials_finished}, {"unix_ms", p.unix_ms}, {"hypervolume", p.hypervolume}});
  }
  return {{"points", std::move(points)}};
}

nlohmann::json ToJson(const JobEvent& event) {
  nlohmann::json j{{"kind", EventKindName(event.kind)}, {"job", ToJson(event.job)}};
  if (event.trial) j["trial"] = ToJson(*event.trial);
  return j;
}

Result<nlohmann::json> TrialDetailJson(const JobSpec& spec, const TrialRecord& trial,
                                       const CoordinatorOptions& options) {
  UNAS_ASSIGN_OR_RETURN(Candidate candidate, ParseCandidate(trial.candidate_json));
  if (!options.resolve_input) return Status::Internal("the coordinator cannot resolve data set inputs");
  UNAS_ASSIGN_OR_RETURN(InputSpec input, options.resolve_input(spec.dataset));
  const Accounting accounting = spec.accounting;
  UNAS_ASSIGN_OR_RETURN(Network network, BuildNetwork(candidate, input));
  UNAS_ASSIGN_OR_RETURN(CostReport report, CostNetwork(network, accounting, spec.mcu));
  UNAS_ASSIGN_OR_RETURN(std::optional<FrontendCost> frontend, JobFrontendCost(spec));
  if (frontend) AddFrontendToReport(*frontend, report);

  nlohmann::json j = ToJson(trial);
  j["input"] = {{"shape", {input.height, input.width, input.channels}}, {"num_classes", input.num_classes}};
  if (spec.dataset.kind == data::DatasetKind::kSpeechCommands) {
    j["input"]["class_names"] = data::SpeechClassNames(spec.dataset.speech);
  }
  j["accounting"] = AccountingName(accounting);
  j["mcu"] = spec.mcu ? nlohmann::json(spec.mcu->name) : nlohmann::json(nullptr);
  j["cost_report"] = CostReportToJson(network, report);
  auto pex = PlanPartialExecution(network, accounting);
  j["partial_execution"] = pex.ok() ? PexPlanToJson(network, *pex) : nlohmann::json(nullptr);
  auto limits = [](const search::Limits& l) {
    return nlohmann::json{{"peak_sram_bytes", OrNull(l[search::Objective::kPeakSram])},
                          {"flash_bytes", OrNull(l[search::Objective::kFlash])}};
  };
  j["limits"] = {{"constraints", limits(spec.constraints)}, {"bounds", limits(spec.bounds)}};
  return j;
}

Result<nlohmann::json> TrialExportJson(const JobView& job, const JobSpec& spec, const TrialRecord& trial,
                                       const CoordinatorOptions& options, const std::string& model_tflite) {
  UNAS_ASSIGN_OR_RETURN(nlohmann::json detail, TrialDetailJson(spec, trial, options));
  nlohmann::json contract = nullptr;
  if (!model_tflite.empty()) {
    // The model's own metadata: what a device must feed it.
    auto read = ReadInputContract(reinterpret_cast<const uint8_t*>(model_tflite.data()), model_tflite.size());
    if (!read.ok()) return read.status().WithContext("the trial's model");
    if (*read) contract = data::InputContractToJson(**read);
  }
  return nlohmann::json{{"format", "unas-trial-export/1"},
                        {"input_contract", contract},
                        {"job", ToJson(job)},
                        {"architecture", detail["candidate"]},
                        {"input", detail["input"]},
                        {"metrics", detail["metrics"]},
                        {"costs", detail["costs"]},
                        {"cost_report", detail["cost_report"]},
                        {"partial_execution", detail["partial_execution"]}};
}

}  // namespace unas::server
