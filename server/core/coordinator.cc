#include "server/core/coordinator.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "base/json_limits.h"
#include "costmodel/cost_model.h"
#include "costmodel/mcu.h"
#include "costmodel/network.h"
#include "search/bayes_opt.h"
#include "search/canonical.h"
#include "search/objectives.h"
#include "search/pareto.h"
#include "search/strategy.h"
#include "server/core/coordinator_job.h"
#include "server/core/job_costs.h"
#include "server/core/job_pause.h"
#include "server/core/log.h"
#include "server/core/result_validation.h"

namespace unas::server {

namespace {

std::string HashHex(uint64_t hash) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, hash);
  return buf;
}

std::mt19937_64& LeaseRng() {
  static std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

std::string NewId(const char* prefix) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%016" PRIx64, prefix, static_cast<uint64_t>(LeaseRng()()));
  return buf;
}

}  // namespace

// ---------------------------------------------------------------- Coordinator

Coordinator::Coordinator(std::unique_ptr<Store> store, const Clock* clock, CoordinatorOptions options)
    : store_(std::move(store)), clock_(clock), options_(std::move(options)) {}

Result<std::unique_ptr<Coordinator>> Coordinator::Open(std::unique_ptr<Store> store, const Clock* clock,
                                                       CoordinatorOptions options) {
  if (!options.resolve_input) return Status::Invalid("coordinator: resolve_input is required");
  std::unique_ptr<Coordinator> c(new Coordinator(std::move(store), clock, std::move(options)));
  if (!c->options_.datasets_dir.empty()) {
    UNAS_ASSIGN_OR_RETURN(c->datasets_, DatasetRegistry::Open(c->store_.get(), c->options_.datasets_dir,
                                                              c->options_.max_dataset_bytes));
  }
  UNAS_RETURN_IF_ERROR(c->Load());
  c->expiry_thread_ = std::thread([raw = c.get()] {
    std::unique_lock<std::mutex> lock(raw->mu_);
    while (!raw->shutting_down_) {
      raw->expiry_cv_.wait_for(lock, std::chrono::milliseconds(raw->options_.expiry_check_interval_ms));
      if (!raw->shutting_down_) raw->ExpireLeasesLocked();
    }
  });
  return c;
}

Coordinator::~Coordinator() { Shutdown(); }

void Coordinator::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_ && !expiry_thread_.joinable()) return;
    shutting_down_ = true;
    for (auto& [id, job] : jobs_) {
      for (auto& w : job->watchers) {
        if (auto s = w.lock()) s->Close();
      }
    }
  }
  work_cv_.notify_all();
  expiry_cv_.notify_all();
  if (expiry_thread_.joinable()) expiry_thread_.join();
}

Result<std::unique_ptr<Coordinator::Job>> Coordinator::MakeJob(JobRecord record, JobSpec parsed) {
  auto job = std::make_unique<Job>();
  UseRegistryCopy(&parsed);
  job->spec = std::move(parsed);
  const JobSpec& spec = job->spec;
  auto input = options_.resolve_input(spec.dataset);
  // The submitter's mistake (400), said as "dataset: <why>" whatever the
  // resolver's own code and message shape (a path would read "dataset./p").
  if (!input.ok() && !IsFinal(record.status)) return Status::Invalid("dataset: " + input.status().message());
  // A finished job is only shown, never searched: it needs no data set (a
  // trial's cost report resolves the input itself).
  if (input.ok()) job->input = *input;
  for (search::Objective o : spec.objectives) {
    if (!spec.bounds[o]) {
      return Status::Invalid(std::string("bounds: objective '") + search::ObjectiveName(o) +
                             "' needs a bound (it sets the hypervolume's reference point)");
    }
    job->front.objectives.push_back(o);
  }
  job->front.bounds = spec.bounds;
  job->rungs.assign(RungCount(spec), {});
  UNAS_ASSIGN_OR_RETURN(search::Point reference, job->front.Reference());
  job->pareto = std::make_unique<search::ParetoArchive>(reference);

  search::StrategyConfig config;
  config.seed = spec.seed;
  config.bounds = spec.bounds;
  config.constraints = spec.constraints;
  UNAS_ASSIGN_OR_RETURN(job->frontend, JobFrontendCost(spec));
  config.costs = search::MakeCostFunction(job->input, spec.accounting, spec.mcu, spec.memory, job->frontend);
  switch (spec.strategy) {
    case StrategyKind::kAging: {
      search::AgingConfig aging;
      aging.population_size = spec.population;
      aging.sample_size = spec.sample_size;
      job->strategy = std::make_unique<search::AgingEvolution>(config, aging);
      break;
    }
    case StrategyKind::kRandom:
      job->strategy = std::make_unique<search::RandomSearch>(config);
      break;
    case StrategyKind::kBayesian: {
      search::BayesOptConfig bo;
      bo.input = job->input;
      job->strategy = std::make_unique<search::BayesOpt>(config, bo);
      break;
    }
  }
  job->record = std::move(record);
  return job;
}

Status Coordinator::Load() {
  UNAS_ASSIGN_OR_RETURN(int requeued, store_->RequeueLeasedTrials());
  if (requeued > 0) LogInfo("requeued trials leased before the restart", {{"trials", std::to_string(requeued)}});
  UNAS_ASSIGN_OR_RETURN(std::vector<JobRecord> records, store_->ListJobs());
  for (JobRecord& record : records) {
    const std::string id = record.job_id;
    // One job that cannot be restored must not hold the start hostage: it is
    // set aside with the reason and the next one loads. The stored spec is the
    // normalised JSON of one that was valid when it was submitted: parsed
    // once here, at start-up, and never again (it may fail a limit this
    // version added).
    auto spec = ParseJobSpecText(record.spec_json);
    Result<std::unique_ptr<Job>> made = spec.ok() ? MakeJob(record, *spec) : spec.status();
    if (!made.ok()) {
      UNAS_RETURN_IF_ERROR(AddUnrestorableLocked(std::move(record), made.status().message()));
      continue;
    }
    std::unique_ptr<Job> job = std::move(made).value();
    UNAS_ASSIGN_OR_RETURN(std::vector<TrialRecord> trials, store_->AllTrials(id));
    if (Status replayed = ReplayLocked(*job, trials); !replayed.ok()) {
      UNAS_RETURN_IF_ERROR(
          AddUnrestorableLocked(std::move(job->record), "replaying its trials: " + replayed.message()));
      continue;
    }
    job_order_.push_back(id);
    jobs_[id] = std::move(job);
  }
  return Status::Ok();
}

Status Coordinator::AddUnrestorableLocked(JobRecord record, const std::string& reason) {
  const std::string id = record.job_id;
  UNAS_ASSIGN_OR_RETURN(std::vector<TrialRecord> trials, store_->AllTrials(id));
  if (!IsFinal(record.status)) {
    // Failed, saying why, in the log and on the job; its unfinished trials
    // end with it.
    const int64_t now = clock_->NowUnixMs();
    record.status = JobStatus::kFailed;
    record.error = "cannot resume: " + reason;
    record.finished_unix_ms = now;
    LogWarn("job cannot resume", {{"job_id", id}, {"reason", reason}});
    std::vector<TrialRecord> ended;
    for (TrialRecord& t : trials) {
      if (IsFinal(t.status)) continue;
      t.status = TrialStatus::kCancelled;
      t.lease_id.clear();
      t.finished_unix_ms = now;
      ended.push_back(t);
    }
    UNAS_RETURN_IF_ERROR(store_->UpdateTrialsAndJob(ended, &record));
  }
  // A finished job needs no data set and no strategy: rebuilt as usual when
  // its spec still parses, so its front and figures are shown.
  auto spec = ParseJobSpecText(record.spec_json);
  Result<std::unique_ptr<Job>> made = spec.ok() ? MakeJob(record, *spec) : spec.status();
  std::unique_ptr<Job> job;
  if (made.ok()) {
    job = std::move(made).value();
    if (!ReplayLocked(*job, trials).ok()) job.reset();
  }
  if (!job) {
    // Served as stored: the record and its trials, no front. The reason is
    // shown on the job (in memory only: the store keeps what it had).
    LogWarn("job served read-only: it cannot be restored by this version", {{"job_id", id}, {"reason", reason}});
    job = std::make_unique<Job>();
    job->read_only = true;
    job->pareto = std::make_unique<search::ParetoArchive>(search::Point{});
    if (record.error.rfind("cannot resume: ", 0) != 0) {
      record.error = (record.error.empty() ? "" : record.error + "; ") + "cannot be restored: " + reason;
    }
    job->record = std::move(record);
    for (TrialRecord& t : trials) {
      job->next_trial_id = std::max(job->next_trial_id, t.trial_id + 1);
      if (t.status == TrialStatus::kCompleted) ++job->completed;
      if (t.status == TrialStatus::kFailed) ++job->failed;
      const int64_t trial_id = t.trial_id;
      job->trials.emplace(trial_id, std::move(t));
    }
  }
  job_order_.push_back(id);
  jobs_[id] = std::move(job);
  return Status::Ok();
}

Result<Coordinator::Job*> Coordinator::FindJob(const std::string& job_id) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return NoJob(job_id);
  return it->second.get();
}

void Coordinator::MarkFailed(JobRecord& record, const std::string& error) const {
  record.status = JobStatus::kFailed;
  record.error = error;
  record.finished_unix_ms = clock_->NowUnixMs();
}

bool Coordinator::FailJobLocked(Job& job, const std::string& error) {
  JobRecord failed = job.record;  // memory changes only once the store has it
  MarkFailed(failed, error);
  if (Status s = store_->UpdateJob(failed); !s.ok()) {
    LogError("cannot record a failed job", {{"job", job.record.job_id}, {"error", s.message()}});
    job.record.error = PausedError(s);
    return false;
  }
  job.record = failed;
  job.finalizing = false;
  PublishLocked(job, JobEvent::Kind::kJobDone, nullptr);
  return true;
}

Status Coordinator::RequeueLocked(Job& job, TrialRecord& trial, bool count_attempt, const std::string& why) {
  TrialRecord next = trial;
  next.status = TrialStatus::kPending;
  if (!count_attempt) next.attempts -= 1;
  if (!why.empty()) next.error = why;
  next.lease_id.clear();
  next.lease_expires_unix_ms = 0;
  UNAS_RETURN_IF_ERROR(store_->UpdateTrialsAndJob({next}, nullptr));
  leases_.erase(trial.lease_id);
  trial = next;
  job.leased -= 1;
  job.pending.push_front(trial.trial_id);
  return Status::Ok();
}

void Coordinator::FinishJobIfDoneLocked(Job& job) {
  if (Status s = MaybeFinishJobLocked(job); !s.ok()) {
    // Retried at the next Acquire, Complete or lease check.
    LogError("cannot record a finished job", {{"job", job.record.job_id}, {"error", s.message()}});
  }
}

Result<JobView> Coordinator::Submit(const std::string& spec_json) {
  UNAS_ASSIGN_OR_RETURN(JobSpec spec, ParseSubmission(spec_json));
  // At submission only: a stored job's spec from before this rule still loads.
  UNAS_RETURN_IF_ERROR(CheckFinalEpochs(spec, spec.final.training.epochs, "final.training.epochs",
                                        "the search's " + std::to_string(SearchEpochs(spec))));
  JobRecord record;
  record.name = spec.name;
  // Stored normalised (every default filled in) for display and restarts;
  // the job runs on the parsed `spec`, never on this text.
  record.spec_json = JobSpecToJson(spec).dump();
  record.created_unix_ms = clock_->NowUnixMs();
  record.status = JobStatus::kQueued;
  // Build the job fully before storing anything: a refused job leaves no trace.
  UNAS_ASSIGN_OR_RETURN(std::unique_ptr<Job> job, MakeJob(record, std::move(spec)));
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.max_unfinished_jobs > 0) {
    int64_t unfinished = 0;
    for (const auto& [id, j] : jobs_) unfinished += IsFinal(j->record.status) ? 0 : 1;
    if (unfinished >= options_.max_unfinished_jobs) {
      return Status::ResourceExhausted("jobs: " + std::to_string(unfinished) +
                                       " jobs are queued or running, the limit per token (--max-running-jobs " +
                                       std::to_string(options_.max_unfinished_jobs) +
                                       "); wait for one to finish or cancel one");
    }
  }
  do {
    job->record.job_id = NewId("job-");
  } while (jobs_.count(job->record.job_id));
  UNAS_RETURN_IF_ERROR(store_->InsertJob(job->record));
  const std::string id = job->record.job_id;
  job_order_.push_back(id);
  jobs_[id] = std::move(job);
  work_cv_.notify_all();
  return ViewOf(*jobs_[id]);
}

Result<JobView> Coordinator::Cancel(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  UNAS_ASSIGN_OR_RETURN(Job* job, FindJob(job_id));
  if (IsFinal(job->record.status)) return ViewOf(*job);
  // Copies first: memory changes only once the store has the change.
  std::vector<TrialRecord> changed;
  const int64_t now = clock_->NowUnixMs();
  for (const auto& [id, t] : job->trials) {
    if (t.status != TrialStatus::kPending && t.status != TrialStatus::kLeased) continue;
    if (job->unstored.count(id)) continue;  // never stored: dropped below
    TrialRecord c = t;
    c.status = TrialStatus::kCancelled;
    c.lease_id.clear();
    c.finished_unix_ms = now;
    changed.push_back(std::move(c));
  }
  JobRecord cancelled = job->record;
  cancelled.status = JobStatus::kCancelled;
  cancelled.finished_unix_ms = now;
  if (IsPausedError(cancelled.error)) cancelled.error.clear();
  if (Status s = store_->UpdateTrialsAndJob(changed, &cancelled); !s.ok()) {
    job->record.error = PausedError(s);
    return s;
  }
  for (TrialRecord& c : changed) {
    TrialRecord& t = job->trials.at(c.trial_id);
    if (t.status == TrialStatus::kLeased) leases_.erase(t.lease_id);
    t = std::move(c);
  }
  for (int64_t id : job->unstored) job->trials.erase(id);
  job->unstored.clear();
  job->record = cancelled;
  job->pending.clear();
  job->leased = 0;
  job->finalizing = false;  // a final round cancelled with its job is over, not running
  PublishLocked(*job, JobEvent::Kind::kJobDone, nullptr);
  return ViewOf(*job);
}

Status Coordinator::CheckStore() {
  std::lock_guard<std::mutex> lock(mu_);  // store writes are serialised under mu_
  return store_->CheckWritable();
}

// ---------------------------------------------------------------- workers

std::string Coordinator::RegisterWorker(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string id;
  do {
    id = NewId("w-");
  } while (workers_.count(id));
  workers_[id].name = name;
  return id;
}

Result<std::optional<TrialRecord>> Coordinator::ProposeLocked(Job& job) {
  auto proposal = job.strategy->Ask();
  if (!proposal.ok()) {
    if (proposal.status().code() == StatusCode::kResourceExhausted) {
      job.exhausted = true;
      return std::optional<TrialRecord>();
    }
    return proposal.status();
  }
  TrialRecord t;
  t.job_id = job.record.job_id;
  t.trial_id = job.next_trial_id++;
  t.proposal_id = proposal->trial_id;
  t.status = TrialStatus::kPending;
  t.candidate_json = std::move(proposal->candidate_json);
  t.candidate_hash = HashHex(proposal->hash);
  // The peak the strategy saw: the best whole-tensor order, or with Pex.
  t.costs = proposal->costs;
  t.rejected_before = proposal->rejected_before;
  t.created_unix_ms = clock_->NowUnixMs();
  return std::optional<TrialRecord>(std::move(t));
}

std::optional<Assignment> Coordinator::TryLeaseLocked(const std::string& worker_id) {
  const int64_t now = clock_->NowUnixMs();
  // Candidate jobs in round-robin order; the fewest leased goes first.
  std::vector<Job*> order;
  for (size_t i = 0; i < job_order_.size(); ++i) {
    Job* job = jobs_.at(job_order_[(round_robin_ + i) % job_order_.size()]).get();
    if (!IsFinal(job->record.status)) order.push_back(job);
  }
  std::stable_sort(order.begin(), order.end(), [](Job* a, Job* b) { return a->leased < b->leased; });
  for (Job* job : order) {
    // A fresh proposal is stored already leased: one transaction, not two.
    std::optional<TrialRecord> fresh;
    if (job->finalizing && !job->final_created && job->leased == 0) {
      if (Status s = CreateFinalTrialsLocked(*job); !s.ok()) {
        job->record.error = PausedError(s);  // tried again when a worker next asks
        return std::nullopt;
      }
    }
    if (job->pending.empty()) fresh = PromotionLocked(*job, now, /*take=*/true);
    if (!fresh && job->pending.empty() && job->MayPropose(now)) {
      auto proposed = ProposeLocked(*job);
      if (!proposed.ok()) {
        // A failed write leaves the job as it was, paused: the worker asks again.
        if (!FailJobLocked(*job, "proposing a candidate failed: " + proposed.status().message())) return std::nullopt;
        continue;
      }
      fresh = std::move(proposed).value();
    }
    if (!fresh && job->pending.empty()) {
      FinishJobIfDoneLocked(*job);
      continue;
    }
    TrialRecord next = fresh ? *fresh : job->trials.at(job->pending.front());
    next.status = TrialStatus::kLeased;
    next.attempts += 1;
    next.worker_id = worker_id;
    next.lease_id = NewId("L-");
    next.lease_expires_unix_ms = now + options_.lease_timeout_ms;
    if (next.started_unix_ms == 0) next.started_unix_ms = now;
    JobRecord job_record = job->record;
    job_record.status = JobStatus::kRunning;
    // A proposal that a failed write left unstored is inserted now, like a fresh one.
    const bool insert = fresh || job->unstored.count(next.trial_id) > 0;
    if (insert) job_record.infeasible_rejected += next.rejected_before;
    if (IsPausedError(job_record.error)) job_record.error.clear();  // only ever in memory
    const bool job_changed = job->record.status != JobStatus::kRunning || (insert && next.rejected_before > 0);
    Status s = insert ? store_->InsertTrialAndUpdateJob(next, job_changed ? &job_record : nullptr)
                      : store_->UpdateTrialsAndJob({next}, job_changed ? &job_record : nullptr);
    if (!s.ok()) {
      // Nothing was stored and nothing changes, except that a fresh proposal
      // (which the strategy counts in flight) waits in memory, unstored. The
      // job is paused, not failed; the worker asks again.
      job->record.error = PausedError(s);
      if (fresh) {
        job->trials[fresh->trial_id] = *fresh;
        job->pending.push_front(fresh->trial_id);
        job->unstored.insert(fresh->trial_id);
      }
      return std::nullopt;
    }
    job->unstored.erase(next.trial_id);
    job->record = std::move(job_record);
    if (!fresh) job->pending.pop_front();
    TrialRecord& t = job->trials[next.trial_id];
    t = std::move(next);
    job->leased += 1;
    leases_[t.lease_id] = {job->record.job_id, t.trial_id};
    round_robin_ = (round_robin_ + 1) % std::max<size_t>(1, job_order_.size());
    PublishLocked(*job, JobEvent::Kind::kTrialStarted, &t);
    return AssignmentLocked(*job, t);
  }
  return std::nullopt;
}

bool Coordinator::IsRegistered(const std::string& worker_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return workers_.count(worker_id) > 0;
}

Status Coordinator::CheckWorker(const std::string& worker_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) {
    return Status::NotFound("worker '" + QuotePrefix(worker_id) + "' is not registered (call RegisterWorker first)");
  }
  if (!it->second.stop_reason.empty()) return Status(StatusCode::kPermissionDenied, it->second.stop_reason);
  return Status::Ok();
}

std::optional<Assignment> Coordinator::Acquire(const std::string& worker_id, int64_t wait_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<int64_t>(0, wait_ms));
  std::unique_lock<std::mutex> lock(mu_);
  auto worker = workers_.find(worker_id);
  // Only registered workers get trials, and not one told to stop.
  if (worker == workers_.end() || !worker->second.stop_reason.empty()) return std::nullopt;
  while (!shutting_down_) {
    if (auto a = TryLeaseLocked(worker_id)) return a;
    if (work_cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      return shutting_down_ ? std::nullopt : TryLeaseLocked(worker_id);
    }
  }
  return std::nullopt;
}

HeartbeatReply Coordinator::Heartbeat(const std::string& worker_id, const std::string& lease_id, double progress) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(lease_id);
  if (it == leases_.end()) return {};
  TrialRecord& t = jobs_.at(it->second.first)->trials.at(it->second.second);
  if (t.worker_id != worker_id || t.status != TrialStatus::kLeased) return {};
  t.lease_expires_unix_ms = clock_->NowUnixMs() + options_.lease_timeout_ms;
  t.progress = std::clamp(progress, 0.0, 1.0);
  HeartbeatReply reply;
  reply.keep_going = true;
  reply.lease_expires_unix_ms = t.lease_expires_unix_ms;
  return reply;
}

Status Coordinator::FinishTrialLocked(Job& job, TrialRecord& trial, const TrialResult& result) {
  TrialRecord next = trial;
  next.status = result.succeeded ? TrialStatus::kCompleted : TrialStatus::kFailed;
  if (result.succeeded) {
    next.metrics = result.metrics;
    next.objective_error = ObjectiveError(job.spec, result.metrics);
    next.pruned_candidate_json = result.pruned_candidate_json;
    next.pruned_costs = result.pruned_costs;
    // The worker costs the pruned network alone (and the coordinator checked
    // that); the job's front end is added as for every proposal.
    if (next.pruned_costs && job.frontend) {
      next.pruned_costs = WithFrontendCost(*next.pruned_costs, *job.frontend, job.spec.accounting, job.spec.mcu);
    }
    next.has_tflite = !result.model_tflite.empty();
  }
  next.error = result.succeeded ? "" : result.error;
  next.finished_unix_ms = clock_->NowUnixMs();
  next.lease_id.clear();
  next.lease_expires_unix_ms = 0;
  next.told_seq = job.told + 1;
  // Committed (with the weights) before anything else changes, so an
  // acknowledged result is durable.
  static const std::string kNone;  // both branches lvalues: the blobs (up to 3 MiB each) are not copied
  UNAS_RETURN_IF_ERROR(store_->FinishTrial(next, result.succeeded ? result.weights : kNone,
                                           result.succeeded ? result.model_tflite : kNone));
  trial = std::move(next);
  job.told += 1;
  if (trial.final_round == 0) {
    // The strategy already holds the proposal: only its id and the outcome travel.
    const search::Outcome outcome = OutcomeOf(job.spec, trial);
    Status s = IsProposed(trial) ? job.strategy->Tell(trial.proposal_id, outcome)
                                 : job.strategy->Update(trial.proposal_id, outcome);
    if (!s.ok()) {
      // Only a bug (an id the strategy never proposed) gets here; the result is stored.
      LogError("the strategy refused an outcome", {{"job", job.record.job_id}, {"error", s.message()}});
    }
  }
  if (result.succeeded) {
    job.completed += 1;
    if (RecordResultLocked(job, trial)) PublishLocked(job, JobEvent::Kind::kParetoPoint, &trial);
    PublishLocked(job, JobEvent::Kind::kTrialFinished, &trial);
  } else {
    job.failed += 1;
    PublishLocked(job, JobEvent::Kind::kTrialFailed, &trial);
  }
  job.RecordHypervolume(trial.finished_unix_ms);
  return Status::Ok();
}

Status Coordinator::MaybeFinishJobLocked(Job& job) {
  if (IsFinal(job.record.status) || !job.pending.empty() || job.leased > 0) return Status::Ok();
  const int64_t now = clock_->NowUnixMs();
  if (!job.finalizing) {
    if (job.MayPropose(now) || PromotionLocked(job, now, /*take=*/false)) return Status::Ok();
    // The search is over: the job's own final round, once (`unas finalize`
    // may have run one already).
    if (job.spec.final.enabled && job.record.final_round == 0 && job.completed > 0) {
      UNAS_RETURN_IF_ERROR(StartFinalRoundLocked(job, 0));
      work_cv_.notify_all();
      return Status::Ok();
    }
  } else if (!job.final_created) {
    return Status::Ok();  // created when a worker next asks
  }
  JobRecord done = job.record;  // memory changes only once the store has it
  done.status = JobStatus::kSucceeded;
  done.error = job.exhausted ? "stopped early: no new candidate within the constraints could be found" : "";
  if (job.completed == 0 && job.failed > 0) {
    // Nothing to show for it: a failure, with the reason the last trial gave.
    const TrialRecord* last = nullptr;
    for (const auto& [id, t] : job.trials) {
      if (t.status == TrialStatus::kFailed && (!last || t.told_seq > last->told_seq)) last = &t;
    }
    done.status = JobStatus::kFailed;
    done.error = "all " + std::to_string(job.failed) + " trials failed; the last: " +
                 (last ? QuotePrefix(last->error, 500) : std::string("?"));
  }
  done.finished_unix_ms = now;
  if (Status s = store_->UpdateJob(done); !s.ok()) {
    job.record.error = PausedError(s);
    return s;
  }
  job.record = done;
  job.finalizing = false;
  PublishLocked(job, JobEvent::Kind::kJobDone, nullptr);
  return Status::Ok();
}

Result<bool> Coordinator::Complete(const std::string& worker_id, const std::string& lease_id,
                                   const TrialResult& result) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(lease_id);
  if (it == leases_.end()) return false;  // expired, cancelled or already completed
  Job* job = jobs_.at(it->second.first).get();
  TrialRecord& t = job->trials.at(it->second.second);
  if (t.worker_id != worker_id || t.status != TrialStatus::kLeased) return false;
  auto checked = ValidateTrialResult(result, {job->input, job->spec.accounting, job->spec.training.prune.enabled});
  if (!result.released && !checked.ok()) {
    // Nothing of a refused result is stored: the trial goes back to the
    // queue, or fails once it has used its attempts.
    const Status refused = Status::Invalid("result refused: " + checked.status().message());
    if (t.attempts >= options_.max_attempts) {
      TrialResult failure;
      failure.error = refused.message() + " (attempt " + std::to_string(t.attempts) + " of " +
                      std::to_string(options_.max_attempts) + ")";
      UNAS_RETURN_IF_ERROR(FinishTrialLocked(*job, t, failure));
      leases_.erase(lease_id);
      job->leased -= 1;
    } else {
      UNAS_RETURN_IF_ERROR(RequeueLocked(*job, t, /*count_attempt=*/true));
    }
    FinishJobIfDoneLocked(*job);
    work_cv_.notify_all();
    return refused;
  }
  if (result.released) {
    // Giving work back is not a failed attempt.
    UNAS_RETURN_IF_ERROR(RequeueLocked(*job, t, /*count_attempt=*/false));
    work_cv_.notify_one();
    return true;
  }
  if (!checked->succeeded && checked->failure == worker::FailureKind::kWorker) {
    UNAS_RETURN_IF_ERROR(WorkerFailedLocked(*job, t, worker_id, checked->error));
    FinishJobIfDoneLocked(*job);
    work_cv_.notify_all();
    return true;
  }
  if (checked->succeeded) workers_[worker_id].failures_in_a_row = 0;
  if (Status s = FinishTrialLocked(*job, t, *checked); !s.ok()) {
    job->record.error = PausedError(s);  // the lease stays: the worker retries, or it expires
    return s;
  }
  leases_.erase(lease_id);
  job->leased -= 1;
  FinishJobIfDoneLocked(*job);  // the result is stored; a failed job update pauses the job
  work_cv_.notify_all();
  return true;
}

Status Coordinator::WorkerFailedLocked(Job& job, TrialRecord& t, const std::string& worker_id,
                                       const std::string& error) {
  std::set<std::string>& refused = job.worker_refusals[t.trial_id];
  refused.insert(worker_id);
  const std::string why = "worker " + worker_id + " could not run it: " + error;
  if (static_cast<int>(refused.size()) >= options_.max_attempts) {
    TrialResult failure;
    failure.error = "no worker could run it (" + std::to_string(refused.size()) + " workers tried; the last, " + why + ")";
    const std::string lease_id = t.lease_id;
    UNAS_RETURN_IF_ERROR(FinishTrialLocked(job, t, failure));
    leases_.erase(lease_id);
    job.leased -= 1;
    job.worker_refusals.erase(t.trial_id);
  } else {
    UNAS_RETURN_IF_ERROR(RequeueLocked(job, t, /*count_attempt=*/false, why));
  }
  WorkerState& worker = workers_[worker_id];
  worker.failures_in_a_row += 1;
  if (worker.failures_in_a_row >= options_.max_worker_failures && worker.stop_reason.empty()) {
    worker.stop_reason = "worker " + worker_id + " (" + worker.name + ") is told to stop: its last " +
                         std::to_string(worker.failures_in_a_row) +
                         " trials failed because it cannot run them (the last: " + QuotePrefix(error, 200) + ")";
    LogWarn("worker told to stop", {{"worker", worker_id}, {"name", worker.name}, {"reason", worker.stop_reason}});
  }
  return Status::Ok();
}

void Coordinator::ExpireLeases() {
  std::lock_guard<std::mutex> lock(mu_);
  ExpireLeasesLocked();
}

void Coordinator::ExpireLeasesLocked() {
  const int64_t now = clock_->NowUnixMs();
  std::vector<std::string> expired;
  for (const auto& [lease_id, where] : leases_) {
    const TrialRecord& t = jobs_.at(where.first)->trials.at(where.second);
    if (t.lease_expires_unix_ms < now) expired.push_back(lease_id);
  }
  for (const std::string& lease_id : expired) {
    const auto [job_id, trial_id] = leases_.at(lease_id);
    Job& job = *jobs_.at(job_id);
    TrialRecord& t = job.trials.at(trial_id);
    if (t.attempts >= options_.max_attempts) {
      TrialResult failure;
      failure.error = "lease expired " + std::to_string(t.attempts) + " times (last worker " + t.worker_id + ")";
      if (!FinishTrialLocked(job, t, failure).ok()) continue;  // retried at the next check
      leases_.erase(lease_id);
      job.leased -= 1;
    } else if (!RequeueLocked(job, t, /*count_attempt=*/true).ok()) {
      continue;  // retried at the next check
    }
    FinishJobIfDoneLocked(job);
    work_cv_.notify_all();
  }
}

}  // namespace unas::server
