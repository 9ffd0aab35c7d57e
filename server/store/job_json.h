// A job's view as JSON: the one shape `unas status --json` and `unas jobs
// --json` print and the REST API answers for a job (docs/api.md), so the
// CLI, which links no server core, and the server cannot disagree on a key.
// Thread safety: pure function.
#pragma once

#include <nlohmann/json.hpp>

#include "base/stored_json.h"
#include "server/store/records.h"

namespace unas::server {

//   {"job_id", "name", "status", "trials_completed", "trials_failed",
//    "trials_running", "trials_proposed", "trials_budget" (the budget
//    counts proposals; promotions and final retraining are trials too),
//    "infeasible_rejected", "best_val_error" (null before a feasible trial),
//    "hypervolume", "error", "created_unix_ms", "finished_unix_ms" (null
//    while the job is unfinished), "final_round", "final_epochs",
//    "finalizing"[, "spec"]}
// With `with_spec` (`unas status --json`, REST), "spec" is the stored
// normalised spec (StoredJson: an object, or a short string for text that is
// not JSON); without it (`unas jobs --json`), no "spec" key.
inline nlohmann::json JobViewJson(const JobView& view, bool with_spec) {
  const JobRecord& r = view.record;
  nlohmann::json j;
  j["job_id"] = r.job_id;
  j["name"] = r.name;
  j["status"] = JobStatusName(r.status);
  j["trials_completed"] = view.completed;
  j["trials_failed"] = view.failed;
  j["trials_running"] = view.running;
  j["trials_proposed"] = view.proposed;
  j["trials_budget"] = view.budget;
  j["infeasible_rejected"] = r.infeasible_rejected;
  j["best_val_error"] = view.best_val_error < 0 ? nlohmann::json(nullptr) : nlohmann::json(view.best_val_error);
  j["hypervolume"] = view.hypervolume;
  j["error"] = r.error;
  j["created_unix_ms"] = r.created_unix_ms;
  j["finished_unix_ms"] = r.finished_unix_ms == 0 ? nlohmann::json(nullptr) : nlohmann::json(r.finished_unix_ms);
  j["final_round"] = r.final_round;
  j["final_epochs"] = r.final_epochs;
  j["finalizing"] = view.finalizing;
  if (with_spec) j["spec"] = StoredJson(r.spec_json);
  return j;
}

}  // namespace unas::server
