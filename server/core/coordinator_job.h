// Private to the coordinator's own files (coordinator.cc, coordinator_views.cc):
// one job's live state and the small rules every part of the coordinator
// shares. Not a public header.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "costmodel/cost_model.h"
#include "search/pareto.h"
#include "search/promotion.h"
#include "search/strategy.h"
#include "server/core/coordinator.h"
#include "server/core/measured_costs.h"

namespace unas::server {

// One job's live state. Trial ids are 1, 2, ... in creation order; a trial's
// proposal_id is the strategy's id of its candidate.
struct Coordinator::Job {
  JobRecord record;
  JobSpec spec;
  InputSpec input;
  std::optional<FrontendCost> frontend;  // keyword jobs: the audio front end (job_costs.h)
  search::FrontSpec front;
  std::unique_ptr<search::Strategy> strategy;
  std::unique_ptr<search::ParetoArchive> pareto;
  std::map<int64_t, TrialRecord> trials;
  std::deque<int64_t> pending;  // trial ids waiting for a worker, front first
  // Pending proposals a failed write left out of the store (job_pause.h):
  // inserted when next leased, dropped by a restart (the strategy then
  // proposes again from what the store has).
  std::set<int64_t> unstored;
  int64_t leased = 0;
  int64_t completed = 0;
  int64_t failed = 0;
  int64_t told = 0;  // outcomes told to the strategy so far
  // The lowest objective error of any completed search trial within the
  // hard constraints, at any rung (RecordResultLocked): never rises during a
  // job, unlike the front's own minimum when a promotion replaces a result.
  double best_error = -1;
  bool exhausted = false;  // the strategy found no new feasible candidate
  int64_t next_trial_id = 1;
  // Multi-fidelity: each rung's completed search trials that meet the hard
  // constraints (RungResult::id = trial id), for ASHA's promotions.
  std::vector<std::vector<search::RungResult>> rungs;
  // Final retraining: the search is over and round record.final_round runs;
  // its trials have been created (then the round ends when they have).
  bool finalizing = false;
  bool final_created = false;
  std::vector<HypervolumePoint> hv_history;
  // Workers that gave a pending trial back because they could not run it
  // (TrialResult::failure kWorker), by trial id; in memory only.
  std::map<int64_t, std::set<std::string>> worker_refusals;
  // Loaded from the store but not restorable (Coordinator::AddUnrestorableLocked):
  // served as stored, never run, finalised or replayed; spec, strategy and
  // front are empty.
  bool read_only = false;
  std::vector<std::weak_ptr<Subscription>> watchers;

  bool OverTime(int64_t now_unix_ms) const {
    return spec.max_wall_seconds > 0 && now_unix_ms - record.created_unix_ms > spec.max_wall_seconds * 1000;
  }
  // The strategy may propose another trial: budget, time and ideas left.
  bool MayPropose(int64_t now_unix_ms) const {
    return !finalizing && !exhausted && !OverTime(now_unix_ms) && strategy->next_trial_id() < spec.max_trials;
  }
  // Records a finished trial's point on the hypervolume history.
  void RecordHypervolume(int64_t unix_ms) {
    HypervolumePoint point;
    point.trials_finished = completed + failed;
    point.unix_ms = unix_ms;
    point.hypervolume = pareto->hypervolume();
    hv_history.push_back(point);
  }
};

// The costs of the network a trial's metrics describe: as pruned, if it was.
inline Costs MeasuredCosts(const TrialRecord& trial) { return MeasuredTrialCosts(trial); }

// Wall seconds a finished trial cost the job (lease to result), or what the
// worker measured when the times are missing.
inline double TrialSeconds(const TrialRecord& t) {
  if (t.started_unix_ms > 0 && t.finished_unix_ms > t.started_unix_ms) {
    return static_cast<double>(t.finished_unix_ms - t.started_unix_ms) / 1000.0;
  }
  return t.metrics ? t.metrics->train_seconds : 0.0;
}

// A finished trial's outcome as its strategy is told it.
inline search::Outcome OutcomeOf(const JobSpec& spec, const TrialRecord& t) {
  if (t.status != TrialStatus::kCompleted || !t.metrics) return search::Outcome::Failure(t.error);
  search::Outcome outcome = search::Outcome::Success(ObjectiveError(spec, *t.metrics), TrialSeconds(t));
  // A pruned trial is ranked by the network it measured.
  if (t.pruned_costs) outcome.measured_costs = MeasuredTrialCosts(t);
  return outcome;
}

// A search trial that a strategy proposed (not a promotion, not a final
// retraining): the one whose outcome is Tell()'s rather than Update()'s.
inline bool IsProposed(const TrialRecord& t) { return t.final_round == 0 && t.promoted_from == 0; }

inline Status NoJob(const std::string& job_id) { return Status::NotFound("no job '" + job_id + "'"); }

}  // namespace unas::server
