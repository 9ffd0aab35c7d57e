#include "server/coordinator.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "costmodel/cost_model.h"
#include "costmodel/mcu.h"
#include "costmodel/network.h"
#include "search/bayes_opt.h"
#include "search/canonical.h"
#include "search/objectives.h"
#include "search/pareto.h"
#include "search/strategy.h"
#include "server/job_pause.h"
#include "server/log.h"
#include "server/result_validation.h"

namespace unas::server {

// One job's live state. Trial ids in the store are the strategy's proposal
// ids plus one (1, 2, ... for users).
struct Coordinator::Job {
  JobRecord record;
  JobSpec spec;
  InputSpec input;
  Accounting accounting = Accounting::kTflm;
  const McuProfile* mcu = nullptr;
  search::Limits bounds, constraints;
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
};

namespace {

std::string HashHex(uint64_t hash) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, hash);
  return buf;
}

search::Limits ToLimits(const LimitsSpec& spec) {
  search::Limits limits;
  limits[search::Objective::kError] = spec.val_error;
  limits[search::Objective::kPeakSram] = spec.peak_sram_bytes;
  limits[search::Objective::kFlash] = spec.flash_bytes;
  limits[search::Objective::kMacs] = spec.macs;
  limits[search::Objective::kLatency] = spec.latency_ms;
  return limits;
}

search::ResourceCosts ToResourceCosts(const Costs& costs, bool has_latency) {
  search::ResourceCosts r;
  r.peak_sram_bytes = costs.peak_sram_bytes;
  r.flash_bytes = costs.flash_bytes;
  r.macs = costs.macs;
  r.params = costs.params;
  r.build_order_peak_sram_bytes = costs.build_order_peak_sram_bytes;
  if (has_latency) r.latency_ms = costs.latency_ms;
  return r;
}

// The costs of the network a trial's metrics describe: as pruned, if it was.
Costs MeasuredCosts(const TrialRecord& trial) {
  if (!trial.pruned_costs) return trial.costs;
  Costs c = *trial.pruned_costs;
  c.latency_ms = trial.costs.latency_ms;  // not re-estimated for the pruned network
  return c;
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

// ---------------------------------------------------------------- Subscription

bool Subscription::Next(JobEvent* event, int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return !events_.empty() || closed_; });
  if (events_.empty()) return false;
  *event = std::move(events_.front());
  events_.pop_front();
  return true;
}

bool Subscription::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_ && events_.empty();
}

void Subscription::Push(const JobEvent& event) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (events_.size() >= 10'000) events_.pop_front();  // a stalled watcher loses the oldest
    events_.push_back(event);
  }
  cv_.notify_all();
}

void Subscription::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

// ---------------------------------------------------------------- Coordinator

Coordinator::Coordinator(std::unique_ptr<Store> store, const Clock* clock, CoordinatorOptions options)
    : store_(std::move(store)), clock_(clock), options_(std::move(options)) {}

Result<std::unique_ptr<Coordinator>> Coordinator::Open(std::unique_ptr<Store> store, const Clock* clock,
                                                       CoordinatorOptions options) {
  if (!options.resolve_input) return Status::Invalid("coordinator: resolve_input is required");
  std::unique_ptr<Coordinator> c(new Coordinator(std::move(store), clock, std::move(options)));
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

Result<std::unique_ptr<Coordinator::Job>> Coordinator::MakeJob(JobRecord record) {
  auto job = std::make_unique<Job>();
  UNAS_ASSIGN_OR_RETURN(job->spec, ParseJobSpecText(record.spec_json));
  const JobSpec& spec = job->spec;
  auto input = options_.resolve_input(spec.dataset);
  // The submitter's mistake (400), said as "dataset: <why>" whatever the
  // resolver's own code and message shape (a path would read "dataset./p").
  if (!input.ok() && !IsFinal(record.status)) return Status::Invalid("dataset: " + input.status().message());
  // A finished job is only shown, never searched: it needs no data set (a
  // trial's cost report resolves the input itself).
  if (input.ok()) job->input = *input;
  UNAS_ASSIGN_OR_RETURN(job->accounting, ParseAccounting(spec.accounting));
  if (!spec.mcu.empty()) {
    auto mcu = FindMcu(spec.mcu);
    if (!mcu.ok()) return Status::Invalid("mcu: " + mcu.status().message());
    job->mcu = *mcu;
  }
  job->bounds = ToLimits(spec.bounds);
  job->constraints = ToLimits(spec.constraints);
  for (const std::string& name : spec.objectives) {
    UNAS_ASSIGN_OR_RETURN(search::Objective o, search::ParseObjective(name));
    if (!job->bounds[o]) {
      return Status::Invalid("bounds: objective '" + name +
                             "' needs a bound (it sets the hypervolume's reference point)");
    }
    job->front.objectives.push_back(o);
  }
  job->front.bounds = job->bounds;
  UNAS_ASSIGN_OR_RETURN(search::Point reference, job->front.Reference());
  job->pareto = std::make_unique<search::ParetoArchive>(reference);

  search::StrategyConfig config;
  config.seed = spec.seed;
  config.bounds = job->bounds;
  config.constraints = job->constraints;
  UNAS_ASSIGN_OR_RETURN(search::MemoryModel memory, search::ParseMemoryModel(spec.memory));
  config.costs = search::MakeCostFunction(job->input, job->accounting, job->mcu, memory);
  switch (spec.strategy) {
    case StrategyKind::kAging:
      job->strategy = std::make_unique<search::AgingEvolution>(config, search::AgingConfig{spec.population, spec.sample_size});
      break;
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
  (void)requeued;
  UNAS_ASSIGN_OR_RETURN(std::vector<JobRecord> records, store_->ListJobs());
  for (JobRecord& record : records) {
    const std::string id = record.job_id;
    auto made = MakeJob(record);
    if (!made.ok()) {
      if (!IsFinal(record.status)) {
        // Failed, saying why, in the log and on the job; its unfinished
        // trials end with it. It stays served as a finished job, so the user
        // sees why rather than a 404.
        const int64_t now = clock_->NowUnixMs();
        record.status = JobStatus::kFailed;
        record.error = "cannot resume: " + made.status().message();
        record.finished_unix_ms = now;
        LogWarn("job cannot resume", {{"job_id", id}, {"reason", made.status().message()}});
        UNAS_ASSIGN_OR_RETURN(std::vector<TrialRecord> trials, store_->AllTrials(id));
        std::vector<TrialRecord> ended;
        for (TrialRecord& t : trials) {
          if (IsFinal(t.status)) continue;
          t.status = TrialStatus::kCancelled;
          t.lease_id.clear();
          t.finished_unix_ms = now;
          ended.push_back(t);
        }
        UNAS_RETURN_IF_ERROR(store_->UpdateTrialsAndJob(ended, &record));
        made = MakeJob(record);  // a finished job needs no data set: served from here on
      }
    }
    if (!made.ok()) {
      continue;  // a finished job that cannot be rebuilt is kept in the store, not served
    }
    std::unique_ptr<Job> job = std::move(made).value();
    UNAS_ASSIGN_OR_RETURN(std::vector<TrialRecord> trials, store_->AllTrials(id));
    std::vector<const TrialRecord*> told;
    for (TrialRecord& t : trials) {
      if (t.told_seq > 0) told.push_back(&job->trials.emplace(t.trial_id, t).first->second);
      else job->trials.emplace(t.trial_id, t);
    }
    std::sort(told.begin(), told.end(), [](auto* a, auto* b) { return a->told_seq < b->told_seq; });
    std::vector<search::CompletedTrial> history;
    for (const TrialRecord* t : told) {
      search::CompletedTrial c;
      auto candidate = ParseCandidate(t->candidate_json);
      if (!candidate.ok()) return candidate.status().WithContext("trial " + std::to_string(t->trial_id));
      c.proposal.trial_id = t->trial_id - 1;
      c.proposal.candidate = *candidate;
      c.proposal.hash = search::CandidateHash(*candidate);
      c.proposal.costs = ToResourceCosts(t->costs, job->mcu != nullptr);
      c.proposal.rejected_before = t->rejected_before;
      c.outcome = t->status == TrialStatus::kCompleted && t->metrics
                      ? search::Outcome::Success(t->metrics->val_error)
                      : search::Outcome::Failure(t->error);
      history.push_back(std::move(c));
      job->told = std::max(job->told, t->told_seq);
      if (t->status == TrialStatus::kCompleted) {
        ++job->completed;
        const search::ResourceCosts measured = ToResourceCosts(MeasuredCosts(*t), job->mcu != nullptr);
        if (search::MeetsConstraints(measured, job->constraints) && t->metrics) {
          job->pareto->Insert(t->trial_id, job->front.Project(search::MakeObjectives(t->metrics->val_error, measured)));
        }
      } else {
        ++job->failed;
      }
      job->hv_history.push_back({job->completed + job->failed, t->finished_unix_ms, job->pareto->hypervolume()});
    }
    if (!IsFinal(job->record.status)) {
      UNAS_RETURN_IF_ERROR(job->strategy->Restore(history));
      for (auto& [trial_id, t] : job->trials) {
        if (t.status != TrialStatus::kPending) continue;
        auto candidate = ParseCandidate(t.candidate_json);
        if (!candidate.ok()) return candidate.status().WithContext("trial " + std::to_string(trial_id));
        search::Proposal p;
        p.trial_id = trial_id - 1;
        p.candidate = *candidate;
        p.hash = search::CandidateHash(*candidate);
        p.costs = ToResourceCosts(t.costs, job->mcu != nullptr);
        p.rejected_before = t.rejected_before;
        UNAS_RETURN_IF_ERROR(job->strategy->ResumeInFlight(p));
        job->pending.push_back(trial_id);
      }
    }
    job_order_.push_back(id);
    jobs_[id] = std::move(job);
  }
  return Status::Ok();
}

Coordinator::Job* Coordinator::FindJob(const std::string& job_id) {
  auto it = jobs_.find(job_id);
  return it == jobs_.end() ? nullptr : it->second.get();
}

JobView Coordinator::ViewOf(const Job& job) const {
  JobView v;
  v.record = job.record;
  v.completed = job.completed;
  v.failed = job.failed;
  v.running = static_cast<int64_t>(job.pending.size()) + job.leased;
  v.budget = job.spec.max_trials;
  v.hypervolume = job.pareto->hypervolume();
  for (int64_t id : job.pareto->ids()) {
    const TrialRecord& t = job.trials.at(id);
    if (t.metrics && (v.best_val_error < 0 || t.metrics->val_error < v.best_val_error)) {
      v.best_val_error = t.metrics->val_error;
    }
  }
  return v;
}

Result<JobView> Coordinator::Submit(const std::string& spec_json) {
  UNAS_ASSIGN_OR_RETURN(JobSpec spec, ParseJobSpecText(spec_json));
  JobRecord record;
  record.name = spec.name;
  record.spec_json = JobSpecToJson(spec).dump();
  record.created_unix_ms = clock_->NowUnixMs();
  record.status = JobStatus::kQueued;
  // Build the job fully before storing anything: a refused job leaves no trace.
  UNAS_ASSIGN_OR_RETURN(std::unique_ptr<Job> job, MakeJob(record));
  std::lock_guard<std::mutex> lock(mu_);
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

Result<JobView> Coordinator::GetJob(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Job* job = FindJob(job_id);
  if (!job) return Status(StatusCode::kNotFound, "no job '" + job_id + "'");
  return ViewOf(*job);
}

std::vector<JobView> Coordinator::ListJobs() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<JobView> views;
  for (const std::string& id : job_order_) views.push_back(ViewOf(*jobs_.at(id)));
  return views;
}

Result<JobView> Coordinator::Cancel(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Job* job = FindJob(job_id);
  if (!job) return Status(StatusCode::kNotFound, "no job '" + job_id + "'");
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
  PublishLocked(*job, JobEvent::Kind::kJobDone, nullptr);
  return ViewOf(*job);
}

Result<TrialPage> Coordinator::ListTrials(const std::string& job_id, int status, const std::string& page_token,
                                          int page_size) {
  if (page_size <= 0) page_size = 100;
  if (page_size > 1000) return Status::OutOfRange("page_size: " + std::to_string(page_size) + " is outside 1..1000");
  int64_t after = 0;
  if (!page_token.empty()) {
    char* end = nullptr;
    after = std::strtoll(page_token.c_str(), &end, 10);
    if (*end != '\0' || after < 0) return Status::Invalid("page_token: '" + page_token + "' is not a token from this API");
  }
  if (status < 0 || status > static_cast<int>(TrialStatus::kCancelled)) {
    return Status::Invalid("status: " + std::to_string(status) + " is not a trial status");
  }
  std::lock_guard<std::mutex> lock(mu_);
  Job* job = FindJob(job_id);
  if (!job) return Status(StatusCode::kNotFound, "no job '" + job_id + "'");
  TrialPage page;
  for (auto it = job->trials.upper_bound(after); it != job->trials.end(); ++it) {
    if (status != 0 && static_cast<int>(it->second.status) != status) continue;
    if (static_cast<int>(page.trials.size()) == page_size) {
      page.next_page_token = std::to_string(page.trials.back().trial_id);
      break;
    }
    page.trials.push_back(it->second);
  }
  return page;
}

Result<std::vector<TrialRecord>> Coordinator::ListTrialsSorted(const std::string& job_id, int status,
                                                               const std::string& sort_key, bool descending,
                                                               int64_t offset, int page_size, int64_t* total) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!FindJob(job_id)) return Status(StatusCode::kNotFound, "no job '" + job_id + "'");
  }
  // The store is written before memory changes, so reading it without mu_
  // sees every committed change (the store serialises its own statements).
  return store_->ListTrialsSorted(job_id, status, sort_key, descending, offset, page_size, total);
}

Result<TrialRecord> Coordinator::GetTrial(const std::string& job_id, int64_t trial_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Job* job = FindJob(job_id);
  if (!job) return Status(StatusCode::kNotFound, "no job '" + job_id + "'");
  auto it = job->trials.find(trial_id);
  if (it == job->trials.end()) {
    return Status(StatusCode::kNotFound, "no trial " + std::to_string(trial_id) + " in job '" + job_id + "'");
  }
  return it->second;
}

Status Coordinator::CheckStore() {
  std::lock_guard<std::mutex> lock(mu_);  // store writes are serialised under mu_
  return store_->CheckWritable();
}

Result<ParetoView> Coordinator::Pareto(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Job* job = FindJob(job_id);
  if (!job) return Status(StatusCode::kNotFound, "no job '" + job_id + "'");
  ParetoView view;
  view.objectives = job->spec.objectives;
  view.hypervolume = job->pareto->hypervolume();
  for (int64_t id : job->pareto->ids()) view.trials.push_back(job->trials.at(id));
  std::sort(view.trials.begin(), view.trials.end(), [](const TrialRecord& a, const TrialRecord& b) {
    return a.metrics->val_error < b.metrics->val_error ||
           (a.metrics->val_error == b.metrics->val_error && a.trial_id < b.trial_id);
  });
  return view;
}

Result<std::vector<HypervolumePoint>> Coordinator::HypervolumeHistory(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Job* job = FindJob(job_id);
  if (!job) return Status(StatusCode::kNotFound, "no job '" + job_id + "'");
  return job->hv_history;
}

Result<std::string> Coordinator::TrialWeights(const std::string& job_id, int64_t trial_id) {
  UNAS_ASSIGN_OR_RETURN(TrialRecord trial, GetTrial(job_id, trial_id));
  return store_->GetWeights(job_id, trial.trial_id);
}

Result<std::shared_ptr<Subscription>> Coordinator::Watch(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Job* job = FindJob(job_id);
  if (!job) return Status(StatusCode::kNotFound, "no job '" + job_id + "'");
  auto sub = std::make_shared<Subscription>();
  if (IsFinal(job->record.status)) {
    sub->Push({JobEvent::Kind::kJobDone, ViewOf(*job), std::nullopt});
  } else {
    job->watchers.push_back(sub);
  }
  return sub;
}

void Coordinator::PublishLocked(Job& job, JobEvent::Kind kind, const TrialRecord* trial) {
  if (job.watchers.empty()) return;
  JobEvent event{kind, ViewOf(job), trial ? std::optional<TrialRecord>(*trial) : std::nullopt};
  auto& ws = job.watchers;
  ws.erase(std::remove_if(ws.begin(), ws.end(), [](const std::weak_ptr<Subscription>& w) { return w.expired(); }),
           ws.end());
  for (auto& w : ws) {
    if (auto s = w.lock()) {
      s->Push(event);
      if (kind == JobEvent::Kind::kJobDone) s->Close();
    }
  }
  if (kind == JobEvent::Kind::kJobDone) ws.clear();
}

// ---------------------------------------------------------------- workers

std::string Coordinator::RegisterWorker(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string id;
  do {
    id = NewId("w-");
  } while (workers_.count(id));
  workers_[id] = name;
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
  t.trial_id = proposal->trial_id + 1;
  t.status = TrialStatus::kPending;
  t.candidate_json = CandidateToJson(proposal->candidate).dump();
  t.candidate_hash = HashHex(proposal->hash);
  // The peak the strategy saw: the best whole-tensor order, or with Pex.
  const search::ResourceCosts& c = proposal->costs;
  t.costs = {c.params, c.flash_bytes, c.macs, c.peak_sram_bytes, c.build_order_peak_sram_bytes,
             c.latency_ms.value_or(0)};
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
    const bool over_time = job->spec.max_wall_seconds > 0 &&
                           now - job->record.created_unix_ms > job->spec.max_wall_seconds * 1000;
    // A fresh proposal is stored already leased: one transaction, not two.
    std::optional<TrialRecord> fresh;
    if (job->pending.empty() && !job->exhausted && !over_time &&
        job->strategy->next_trial_id() < job->spec.max_trials) {
      auto proposed = ProposeLocked(*job);
      if (!proposed.ok()) {
        JobRecord failed = job->record;
        failed.status = JobStatus::kFailed;
        failed.error = "proposing a candidate failed: " + proposed.status().message();
        failed.finished_unix_ms = now;
        if (Status s = store_->UpdateJob(failed); !s.ok()) {
          job->record.error = PausedError(s);
          return std::nullopt;
        }
        job->record = failed;
        PublishLocked(*job, JobEvent::Kind::kJobDone, nullptr);
        continue;
      }
      fresh = std::move(proposed).value();
    }
    if (!fresh && job->pending.empty()) {
      (void)MaybeFinishJobLocked(*job);
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
    job->record = job_record;
    if (!fresh) job->pending.pop_front();
    TrialRecord& t = job->trials[next.trial_id];
    t = next;
    job->leased += 1;
    leases_[t.lease_id] = {job->record.job_id, t.trial_id};
    round_robin_ = (round_robin_ + 1) % std::max<size_t>(1, job_order_.size());
    PublishLocked(*job, JobEvent::Kind::kTrialStarted, &t);
    return Assignment{job->record.job_id, t.trial_id, t.lease_id, t.candidate_json, job->record.spec_json, t.attempts};
  }
  return std::nullopt;
}

bool Coordinator::IsRegistered(const std::string& worker_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return workers_.count(worker_id) > 0;
}

std::optional<Assignment> Coordinator::Acquire(const std::string& worker_id, int64_t wait_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<int64_t>(0, wait_ms));
  std::unique_lock<std::mutex> lock(mu_);
  if (!workers_.count(worker_id)) return std::nullopt;  // only registered workers get trials
  while (!shutting_down_) {
    if (auto a = TryLeaseLocked(worker_id)) return a;
    if (work_cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      return shutting_down_ ? std::nullopt : TryLeaseLocked(worker_id);
    }
  }
  return std::nullopt;
}

HeartbeatReply Coordinator::Heartbeat(const std::string& worker_id, const std::string& lease_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(lease_id);
  if (it == leases_.end()) return {};
  Job* job = FindJob(it->second.first);
  TrialRecord& t = job->trials.at(it->second.second);
  if (t.worker_id != worker_id || t.status != TrialStatus::kLeased) return {};
  t.lease_expires_unix_ms = clock_->NowUnixMs() + options_.lease_timeout_ms;
  return {true, t.lease_expires_unix_ms};
}

Status Coordinator::FinishTrialLocked(Job& job, TrialRecord& trial, const TrialResult& result) {
  TrialRecord next = trial;
  next.status = result.succeeded ? TrialStatus::kCompleted : TrialStatus::kFailed;
  if (result.succeeded) {
    next.metrics = result.metrics;
    next.pruned_candidate_json = result.pruned_candidate_json;
    next.pruned_costs = result.pruned_costs;
  }
  next.error = result.succeeded ? "" : result.error;
  next.finished_unix_ms = clock_->NowUnixMs();
  next.lease_id.clear();
  next.lease_expires_unix_ms = 0;
  next.told_seq = job.told + 1;
  // Committed (with the weights) before anything else changes, so an
  // acknowledged result is durable.
  UNAS_RETURN_IF_ERROR(store_->FinishTrial(next, result.succeeded ? result.weights : std::string()));
  trial = next;
  job.told += 1;
  const int64_t strategy_id = trial.trial_id - 1;
  const search::Outcome outcome = result.succeeded ? search::Outcome::Success(result.metrics.val_error)
                                                   : search::Outcome::Failure(result.error);
  (void)job.strategy->Tell(strategy_id, outcome);
  if (result.succeeded) {
    job.completed += 1;
    const search::ResourceCosts costs = ToResourceCosts(MeasuredCosts(trial), job.mcu != nullptr);
    if (search::MeetsConstraints(costs, job.constraints)) {
      const bool changed = job.pareto->Insert(
          trial.trial_id, job.front.Project(search::MakeObjectives(result.metrics.val_error, costs)));
      if (changed) PublishLocked(job, JobEvent::Kind::kParetoPoint, &trial);
    }
    PublishLocked(job, JobEvent::Kind::kTrialFinished, &trial);
  } else {
    job.failed += 1;
    PublishLocked(job, JobEvent::Kind::kTrialFailed, &trial);
  }
  job.hv_history.push_back({job.completed + job.failed, trial.finished_unix_ms, job.pareto->hypervolume()});
  return Status::Ok();
}

Status Coordinator::MaybeFinishJobLocked(Job& job) {
  if (IsFinal(job.record.status) || !job.pending.empty() || job.leased > 0) return Status::Ok();
  const int64_t now = clock_->NowUnixMs();
  const bool over_time =
      job.spec.max_wall_seconds > 0 && now - job.record.created_unix_ms > job.spec.max_wall_seconds * 1000;
  if (!job.exhausted && !over_time && job.strategy->next_trial_id() < job.spec.max_trials) return Status::Ok();
  JobRecord done = job.record;  // memory changes only once the store has it
  done.status = JobStatus::kSucceeded;
  done.error = job.exhausted ? "stopped early: no new candidate within the constraints could be found" : "";
  done.finished_unix_ms = now;
  if (Status s = store_->UpdateJob(done); !s.ok()) {
    job.record.error = PausedError(s);
    return s;
  }
  job.record = done;
  PublishLocked(job, JobEvent::Kind::kJobDone, nullptr);
  return Status::Ok();
}

Result<bool> Coordinator::Complete(const std::string& worker_id, const std::string& lease_id,
                                   const TrialResult& result) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(lease_id);
  if (it == leases_.end()) return false;  // expired, cancelled or already completed
  Job* job = FindJob(it->second.first);
  TrialRecord& t = job->trials.at(it->second.second);
  if (t.worker_id != worker_id || t.status != TrialStatus::kLeased) return false;
  auto checked = ValidateTrialResult(result, {job->input, job->accounting, job->spec.pruning.has_value()});
  if (!result.released && !checked.ok()) {
    // Nothing of a refused result is stored: the trial goes back to the
    // queue, or fails once it has used its attempts.
    const Status refused = Status::Invalid("result refused: " + checked.status().message());
    if (t.attempts >= options_.max_attempts) {
      TrialResult failure;
      failure.error = refused.message() + " (attempt " + std::to_string(t.attempts) + " of " +
                      std::to_string(options_.max_attempts) + ")";
      UNAS_RETURN_IF_ERROR(FinishTrialLocked(*job, t, failure));
    } else {
      TrialRecord next = t;
      next.status = TrialStatus::kPending;
      next.lease_id.clear();
      next.lease_expires_unix_ms = 0;
      UNAS_RETURN_IF_ERROR(store_->UpdateTrialsAndJob({next}, nullptr));
      t = next;
      job->pending.push_front(t.trial_id);
    }
    leases_.erase(lease_id);
    job->leased -= 1;
    (void)MaybeFinishJobLocked(*job);
    work_cv_.notify_all();
    return refused;
  }
  if (result.released) {
    TrialRecord next = t;
    next.status = TrialStatus::kPending;
    next.attempts -= 1;  // giving work back is not a failed attempt
    next.lease_id.clear();
    next.lease_expires_unix_ms = 0;
    UNAS_RETURN_IF_ERROR(store_->UpdateTrialsAndJob({next}, nullptr));
    t = next;
    leases_.erase(it);
    job->leased -= 1;
    job->pending.push_front(t.trial_id);
    work_cv_.notify_one();
    return true;
  }
  if (Status s = FinishTrialLocked(*job, t, *checked); !s.ok()) {
    job->record.error = PausedError(s);  // the lease stays: the worker retries, or it expires
    return s;
  }
  leases_.erase(lease_id);
  job->leased -= 1;
  (void)MaybeFinishJobLocked(*job);  // the result is stored; a failed job update pauses the job
  work_cv_.notify_all();
  return true;
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
    } else {
      TrialRecord next = t;
      next.status = TrialStatus::kPending;
      next.lease_id.clear();
      next.lease_expires_unix_ms = 0;
      if (!store_->UpdateTrialsAndJob({next}, nullptr).ok()) continue;
      t = next;
      job.pending.push_front(trial_id);
    }
    leases_.erase(lease_id);
    job.leased -= 1;
    (void)MaybeFinishJobLocked(job);
    work_cv_.notify_all();
  }
}

}  // namespace unas::server
