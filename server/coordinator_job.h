// Private to the coordinator's own files (coordinator.cc, coordinator_views.cc):
// one job's live state and the small rules every part of the coordinator
// shares. Not a public header.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "search/pareto.h"
#include "search/strategy.h"
#include "server/coordinator.h"

namespace unas::server {

// One job's live state. Trial ids in the store are the strategy's proposal
// ids plus one (1, 2, ... for users).
struct Coordinator::Job {
  JobRecord record;
  JobSpec spec;
  InputSpec input;
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
  bool exhausted = false;  // the strategy found no new feasible candidate
  std::vector<HypervolumePoint> hv_history;
  std::vector<std::weak_ptr<Subscription>> watchers;

  bool OverTime(int64_t now_unix_ms) const {
    return spec.max_wall_seconds > 0 && now_unix_ms - record.created_unix_ms > spec.max_wall_seconds * 1000;
  }
  // The strategy may propose another trial: budget, time and ideas left.
  bool MayPropose(int64_t now_unix_ms) const {
    return !exhausted && !OverTime(now_unix_ms) && strategy->next_trial_id() < spec.max_trials;
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
inline Costs MeasuredCosts(const TrialRecord& trial) {
  if (!trial.pruned_costs) return trial.costs;
  Costs c = *trial.pruned_costs;
  c.latency_ms = trial.costs.latency_ms;  // not re-estimated for the pruned network
  return c;
}

// Trial ids in the store (and for users) are the strategy's proposal ids plus
// one: 1, 2, ... The two conversions, in one place.
inline int64_t TrialIdOf(int64_t proposal_id) { return proposal_id + 1; }
inline int64_t ProposalIdOf(int64_t trial_id) { return trial_id - 1; }

inline Status NoJob(const std::string& job_id) { return Status::NotFound("no job '" + job_id + "'"); }

}  // namespace unas::server
