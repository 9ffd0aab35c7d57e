// The coordinator's multi-fidelity search and final retraining
// (docs/multi-fidelity.md), and the replay of a job's stored history at a
// restart, which both depend on.
//
// Rungs. A proposal is trained at rung 0. When a worker asks for work and no
// trial is pending, the highest rung with a due promotion (ASHA's rule,
// search::Promotable: its top 1/reduction_factor by Pareto rank that has not
// been promoted) gets one: a new trial of the same candidate at the next rung,
// continuing from its weights (WorkAssignment::init_weights). Only when no
// promotion is due does the strategy propose. Each rung's result is stored
// as its own trial; the strategy learns each candidate's highest-rung result
// (Tell, then Update).
//
// Final rounds. When the search is over (budget spent, nothing to promote)
// and the spec enables it, or on Finalize(), the job runs a final round: its
// pending search trials are cancelled, its leased ones finish, then the
// front of each candidate's highest-rung results and its near neighbours
// (search::SelectForFinal) are trained from scratch with the final recipe;
// the job succeeds when they have finished.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "costmodel/candidate.h"
#include "search/canonical.h"
#include "server/core/coordinator.h"
#include "server/core/coordinator_job.h"
#include "server/core/job_pause.h"
#include "server/core/log.h"

namespace unas::server {

namespace {

search::ObjectiveVector ObjectivesOf(const JobSpec& spec, const TrialRecord& t) {
  return search::MakeObjectives(ObjectiveError(spec, *t.metrics), MeasuredCosts(t));
}

// Whether final.max_train_seconds rules trial `t`'s candidate out of the
// final round (and so of promotion: no use training further what the round
// will never retrain).
bool TooSlow(const JobSpec& spec, int final_epochs, const TrialRecord& t) {
  return t.metrics && TooSlowForFinal(spec, t.rung, *t.metrics, final_epochs);
}

// A rung's results without the candidates too slow for the final round: they
// neither take a promotion nor count towards the rung's top. Only for a job
// with final.max_train_seconds; others rank the rung as it is, uncopied.
std::vector<search::RungResult> PromotionCandidates(const JobSpec& spec, const std::vector<search::RungResult>& rung,
                                                    const std::map<int64_t, TrialRecord>& trials) {
  std::vector<search::RungResult> results = rung;
  results.erase(std::remove_if(results.begin(), results.end(),
                               [&](const search::RungResult& r) {
                                 auto it = trials.find(r.id);
                                 return it != trials.end() && TooSlow(spec, 0, it->second);
                               }),
                results.end());
  return results;
}

}  // namespace

search::CompletedTrial Coordinator::HistoryEntry(const Job& job, const TrialRecord& t) const {
  search::CompletedTrial c;
  auto candidate = ParseCandidate(t.candidate_json);
  if (candidate.ok()) c.proposal.candidate = *candidate;
  c.proposal.trial_id = t.proposal_id;
  c.proposal.hash = candidate.ok() ? search::CandidateHash(*candidate) : 0;
  c.proposal.costs = t.costs;
  c.proposal.rejected_before = t.rejected_before;
  c.outcome = OutcomeOf(job.spec, t);
  c.update = !IsProposed(t);
  return c;
}

bool Coordinator::RecordResultLocked(Job& job, const TrialRecord& t) {
  if (t.final_round > 0 || t.status != TrialStatus::kCompleted || !t.metrics) return false;
  if (!search::MeetsConstraints(MeasuredCosts(t), job.spec.constraints)) return false;
  const search::ObjectiveVector objectives = ObjectivesOf(job.spec, t);
  const double error = objectives[static_cast<size_t>(search::Objective::kError)];
  if (job.best_error < 0 || error < job.best_error) job.best_error = error;
  if (t.rung >= 0 && t.rung < static_cast<int>(job.rungs.size())) {
    search::RungResult r;
    r.id = t.trial_id;
    r.objectives = objectives;
    job.rungs[t.rung].push_back(r);
  }
  return job.pareto->Insert(t.trial_id, job.front.Project(objectives));
}

Status Coordinator::ReplayLocked(Job& job, const std::vector<TrialRecord>& trials) {
  job.rungs.assign(RungCount(job.spec), {});
  std::vector<const TrialRecord*> told;
  std::set<int64_t> promoted;  // trials a stored promotion continues
  for (const TrialRecord& t : trials) {
    const TrialRecord& kept = job.trials.emplace(t.trial_id, t).first->second;
    if (t.told_seq > 0) told.push_back(&kept);
    job.next_trial_id = std::max(job.next_trial_id, t.trial_id + 1);
    if (t.final_round == 0 && t.promoted_from > 0) promoted.insert(t.promoted_from);
    if (t.final_round > 0 && t.final_round == job.record.final_round) job.final_created = true;
  }
  std::sort(told.begin(), told.end(), [](auto* a, auto* b) { return a->told_seq < b->told_seq; });
  std::vector<search::CompletedTrial> history;
  for (const TrialRecord* t : told) {
    if (t->final_round == 0) {
      search::CompletedTrial c = HistoryEntry(job, *t);
      if (c.proposal.hash == 0) return Status::Invalid("trial " + std::to_string(t->trial_id) + ": bad candidate");
      history.push_back(std::move(c));
    }
    job.told = std::max(job.told, t->told_seq);
    if (t->status == TrialStatus::kCompleted) {
      ++job.completed;
      RecordResultLocked(job, *t);
    } else {
      ++job.failed;
    }
    job.RecordHypervolume(t->finished_unix_ms);
  }
  for (auto& rung : job.rungs) {
    for (search::RungResult& r : rung) r.promoted = promoted.count(r.id) > 0;
  }
  if (IsFinal(job.record.status)) return Status::Ok();
  job.finalizing = job.record.final_round > 0;
  UNAS_RETURN_IF_ERROR(job.strategy->Restore(history));
  for (auto& [trial_id, t] : job.trials) {
    if (t.status != TrialStatus::kPending) continue;
    if (IsProposed(t)) {
      search::CompletedTrial c = HistoryEntry(job, t);
      UNAS_RETURN_IF_ERROR(job.strategy->ResumeInFlight(c.proposal));
    }
    job.pending.push_back(trial_id);
  }
  return Status::Ok();
}

std::optional<TrialRecord> Coordinator::PromotionLocked(Job& job, int64_t now_unix_ms, bool take) {
  if (job.finalizing || job.OverTime(now_unix_ms)) return std::nullopt;
  for (int rung = static_cast<int>(job.rungs.size()) - 2; rung >= 0; --rung) {
    const std::vector<int64_t> due =
        job.spec.final.max_train_seconds > 0
            ? search::Promotable(PromotionCandidates(job.spec, job.rungs[rung], job.trials), job.front,
                                 job.spec.reduction_factor)
            : search::Promotable(job.rungs[rung], job.front, job.spec.reduction_factor);
    if (due.empty()) continue;
    const TrialRecord& parent = job.trials.at(due.front());
    TrialRecord t;
    t.job_id = job.record.job_id;
    t.trial_id = job.next_trial_id;
    t.status = TrialStatus::kPending;
    t.candidate_json = parent.candidate_json;
    t.candidate_hash = parent.candidate_hash;
    t.proposal_id = parent.proposal_id;
    t.rung = rung + 1;
    t.promoted_from = parent.trial_id;
    t.costs = parent.costs;
    t.created_unix_ms = now_unix_ms;
    if (take) {
      ++job.next_trial_id;
      for (search::RungResult& r : job.rungs[rung]) {
        if (r.id == parent.trial_id) r.promoted = true;
      }
    }
    return t;
  }
  return std::nullopt;
}

Status Coordinator::StartFinalRoundLocked(Job& job, int epochs) {
  const int64_t now = clock_->NowUnixMs();
  std::vector<TrialRecord> cancelled;
  for (int64_t id : job.pending) {
    if (job.unstored.count(id)) continue;
    TrialRecord c = job.trials.at(id);
    c.status = TrialStatus::kCancelled;
    c.error = "cancelled: the job went on to its final round";
    c.finished_unix_ms = now;
    cancelled.push_back(std::move(c));
  }
  JobRecord record = job.record;
  record.final_round += 1;
  record.final_epochs = epochs;
  record.status = JobStatus::kRunning;
  record.finished_unix_ms = 0;
  if (IsPausedError(record.error)) record.error.clear();
  UNAS_RETURN_IF_ERROR(store_->UpdateTrialsAndJob(cancelled, &record));
  for (TrialRecord& c : cancelled) job.trials.at(c.trial_id) = std::move(c);
  for (int64_t id : job.unstored) job.trials.erase(id);
  job.unstored.clear();
  job.pending.clear();
  job.record = record;
  job.finalizing = true;
  job.final_created = false;
  LogInfo("final round started", {{"job", job.record.job_id}, {"round", std::to_string(record.final_round)}});
  return Status::Ok();
}

Status Coordinator::CreateFinalTrialsLocked(Job& job) {
  // Each candidate's highest-rung completed search trial that meets the
  // hard constraints and is better than chance.
  std::map<int64_t, const TrialRecord*> best;  // proposal id -> trial
  for (const auto& [id, t] : job.trials) {
    if (t.final_round > 0 || t.status != TrialStatus::kCompleted || !t.metrics) continue;
    if (!search::MeetsConstraints(MeasuredCosts(t), job.spec.constraints)) continue;
    auto [it, fresh] = best.emplace(t.proposal_id, &t);
    if (!fresh && t.rung > it->second->rung) it->second = &t;
  }
  std::vector<search::RungResult> results;
  for (const auto& [proposal, t] : best) {
    // A network no better than guessing is not worth retraining, however small.
    if (AtChanceLevel(ObjectiveError(job.spec, *t->metrics), job.input.num_classes)) continue;
    if (TooSlow(job.spec, job.record.final_epochs, *t)) {
      LogInfo("final round passes over a network too slow to retrain",
              {{"job", job.record.job_id}, {"trial", std::to_string(t->trial_id)},
               {"projected_seconds", std::to_string(std::lround(ProjectedFinalSeconds(
                                         job.spec, t->rung, *t->metrics, job.record.final_epochs)))},
               {"max_train_seconds", std::to_string(std::lround(job.spec.final.max_train_seconds))}});
      continue;
    }
    search::RungResult r;
    r.id = t->trial_id;
    r.objectives = ObjectivesOf(job.spec, *t);
    results.push_back(r);
  }
  const std::vector<int64_t> chosen =
      search::SelectForFinal(results, job.front, job.spec.final.networks, job.spec.final.neighbours);
  const int64_t now = clock_->NowUnixMs();
  std::vector<TrialRecord> created;
  int64_t next_id = job.next_trial_id;
  for (int64_t id : chosen) {
    const TrialRecord& source = job.trials.at(id);
    TrialRecord t;
    t.job_id = job.record.job_id;
    t.trial_id = next_id++;
    t.status = TrialStatus::kPending;
    t.candidate_json = source.candidate_json;
    t.candidate_hash = source.candidate_hash;
    t.proposal_id = source.proposal_id;
    t.rung = source.rung;
    t.promoted_from = source.trial_id;  // the search result it retrains
    t.final_round = job.record.final_round;
    t.costs = source.costs;
    t.created_unix_ms = now;
    created.push_back(std::move(t));
  }
  UNAS_RETURN_IF_ERROR(store_->InsertTrialsAndUpdateJob(created, nullptr));
  job.next_trial_id = next_id;
  for (TrialRecord& t : created) {
    job.pending.push_back(t.trial_id);
    job.trials.emplace(t.trial_id, std::move(t));
  }
  job.final_created = true;
  LogInfo("final round trials created",
          {{"job", job.record.job_id}, {"round", std::to_string(job.record.final_round)},
           {"trials", std::to_string(chosen.size())}});
  return Status::Ok();
}

Result<JobView> Coordinator::Finalize(const std::string& job_id, const FinalizeOptions& options) {
  if (options.epochs < 0 || options.epochs > 1000) {
    return Status::Invalid("epochs: " + std::to_string(options.epochs) + " is outside 1..1000");
  }
  std::lock_guard<std::mutex> lock(mu_);
  UNAS_ASSIGN_OR_RETURN(Job* job, FindJob(job_id));
  if (job->read_only) {
    return Status(StatusCode::kFailedPrecondition, "job '" + job_id + "' is served read-only: " + job->record.error);
  }
  const JobStatus status = job->record.status;
  // A cancelled job keeps its trials, so its front can still be retrained:
  // stopping early must not lose the search.
  if (status == JobStatus::kFailed) {
    return Status(StatusCode::kFailedPrecondition, "job '" + job_id + "' is " + JobStatusName(status) +
                                                       ": only a running, succeeded or cancelled job is finalised");
  }
  UNAS_RETURN_IF_ERROR(CheckFinalEpochs(job->spec, options.epochs, "epochs", "the job's final recipe"));
  if (job->finalizing) {
    return Status(StatusCode::kFailedPrecondition, "job '" + job_id + "': final round " +
                                                       std::to_string(job->record.final_round) + " is still running");
  }
  if (job->completed == 0) {
    return Status(StatusCode::kFailedPrecondition, "job '" + job_id + "' has no completed trial to retrain");
  }
  if (Status s = StartFinalRoundLocked(*job, options.epochs); !s.ok()) {
    job->record.error = PausedError(s);
    return s;
  }
  work_cv_.notify_all();
  return ViewOf(*job);
}

Assignment Coordinator::AssignmentLocked(Job& job, const TrialRecord& t) {
  Assignment a;
  a.job_id = job.record.job_id;
  a.trial_id = t.trial_id;
  a.lease_id = t.lease_id;
  a.candidate_json = t.candidate_json;
  a.attempt = t.attempts;
  TrialStage stage;
  stage.rung = t.rung;
  stage.final_round = t.final_round;
  stage.final_epochs = t.final_round > 0 ? job.record.final_epochs : 0;
  a.task = TrialTaskFor(job.spec, stage);
  if (t.final_round == 0 && t.promoted_from > 0 && t.rung > 0 && !job.spec.rungs.empty()) {
    // Continues from the lower rung's weights when they were kept; else the
    // rung's recipe is trained from scratch.
    auto weights = store_->GetWeights(job.record.job_id, t.promoted_from);
    if (weights.ok() && !weights->empty()) {
      a.init_weights = std::move(weights).value();
      a.init_epochs = job.spec.rungs[t.rung - 1].epochs;
    }
  }
  return a;
}

std::vector<TrialRecord> Coordinator::FinalFrontLocked(const Job& job, double* hypervolume) const {
  std::vector<const TrialRecord*> round;
  std::vector<search::Point> points;
  for (const auto& [id, t] : job.trials) {
    if (job.record.final_round == 0 || t.final_round != job.record.final_round) continue;
    if (t.status != TrialStatus::kCompleted || !t.metrics) continue;
    if (!search::MeetsConstraints(MeasuredCosts(t), job.spec.constraints)) continue;
    round.push_back(&t);
    points.push_back(job.front.Project(ObjectivesOf(job.spec, t)));
  }
  std::vector<TrialRecord> front;
  std::vector<search::Point> front_points;
  for (int i : search::NonDominatedIndices(points)) {
    front.push_back(*round[i]);
    front_points.push_back(points[i]);
  }
  std::sort(front.begin(), front.end(), [&](const TrialRecord& a, const TrialRecord& b) {
    const double ea = ObjectiveError(job.spec, *a.metrics), eb = ObjectiveError(job.spec, *b.metrics);
    return ea < eb || (ea == eb && a.trial_id < b.trial_id);
  });
  auto reference = job.front.Reference();
  *hypervolume = reference.ok() ? search::Hypervolume(front_points, *reference) : 0.0;
  return front;
}

}  // namespace unas::server
