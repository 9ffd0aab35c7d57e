#include <algorithm>

#include "server/core/coordinator.h"
#include "server/core/coordinator_job.h"

// The coordinator's read side: views of jobs and trials, the Pareto front,
// and events for watchers.
namespace unas::server {

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

// ---------------------------------------------------------------- views

JobView Coordinator::ViewOf(const Job& job) const {
  JobView v;
  v.record = job.record;
  v.completed = job.completed;
  v.failed = job.failed;
  v.running = static_cast<int64_t>(job.pending.size()) + job.leased;
  v.budget = job.spec.max_trials;
  v.proposed = job.strategy ? job.strategy->next_trial_id() : 0;
  v.finalizing = job.finalizing;
  v.hypervolume = job.pareto->hypervolume();
  v.best_val_error = job.best_error;
  return v;
}

Result<JobView> Coordinator::GetJob(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  UNAS_ASSIGN_OR_RETURN(Job* job, FindJob(job_id));
  return ViewOf(*job);
}

std::vector<JobView> Coordinator::ListJobs() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<JobView> views;
  for (const std::string& id : job_order_) views.push_back(ViewOf(*jobs_.at(id)));
  return views;
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
  UNAS_ASSIGN_OR_RETURN(Job* job, FindJob(job_id));
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
    UNAS_RETURN_IF_ERROR(FindJob(job_id).status());
  }
  // The store is written before memory changes, so reading it without mu_
  // sees every committed change (the store serialises its own statements).
  return store_->ListTrialsSorted(job_id, status, sort_key, descending, offset, page_size, total);
}

Result<TrialRecord> Coordinator::GetTrial(const std::string& job_id, int64_t trial_id) {
  std::lock_guard<std::mutex> lock(mu_);
  UNAS_ASSIGN_OR_RETURN(Job* job, FindJob(job_id));
  auto it = job->trials.find(trial_id);
  if (it == job->trials.end()) {
    return Status(StatusCode::kNotFound, "no trial " + std::to_string(trial_id) + " in job '" + job_id + "'");
  }
  return it->second;
}

Result<JobSpec> Coordinator::GetSpec(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  UNAS_ASSIGN_OR_RETURN(Job* job, FindJob(job_id));
  return job->spec;
}

Result<ParetoView> Coordinator::Pareto(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  UNAS_ASSIGN_OR_RETURN(Job* job, FindJob(job_id));
  ParetoView view;
  view.objectives = ObjectiveNames(job->spec);
  view.hypervolume = job->pareto->hypervolume();
  for (int64_t id : job->pareto->ids()) view.trials.push_back(job->trials.at(id));
  // By the error the front was built on (the objective's), as everywhere.
  const JobSpec& spec = job->spec;
  std::sort(view.trials.begin(), view.trials.end(), [&spec](const TrialRecord& a, const TrialRecord& b) {
    const double ea = ObjectiveError(spec, *a.metrics), eb = ObjectiveError(spec, *b.metrics);
    return ea < eb || (ea == eb && a.trial_id < b.trial_id);
  });
  view.final_round = job->record.final_round;
  view.final_front = FinalFrontLocked(*job, &view.final_hypervolume);
  return view;
}

Result<std::vector<HypervolumePoint>> Coordinator::HypervolumeHistory(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  UNAS_ASSIGN_OR_RETURN(Job* job, FindJob(job_id));
  return job->hv_history;
}

Result<std::string> Coordinator::TrialWeights(const std::string& job_id, int64_t trial_id) {
  UNAS_ASSIGN_OR_RETURN(TrialRecord trial, GetTrial(job_id, trial_id));
  return store_->GetWeights(job_id, trial.trial_id);
}

Result<std::string> Coordinator::TrialModelTflite(const std::string& job_id, int64_t trial_id) {
  UNAS_ASSIGN_OR_RETURN(TrialRecord trial, GetTrial(job_id, trial_id));
  return store_->GetModelTflite(job_id, trial.trial_id);
}

Result<std::shared_ptr<Subscription>> Coordinator::Watch(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  UNAS_ASSIGN_OR_RETURN(Job* job, FindJob(job_id));
  auto sub = std::make_shared<Subscription>();
  if (IsFinal(job->record.status)) {
    JobEvent done;
    done.kind = JobEvent::Kind::kJobDone;
    done.job = ViewOf(*job);
    sub->Push(done);
  } else {
    job->watchers.push_back(sub);
  }
  return sub;
}

void Coordinator::PublishLocked(Job& job, JobEvent::Kind kind, const TrialRecord* trial) {
  if (job.watchers.empty()) return;
  JobEvent event;
  event.kind = kind;
  event.job = ViewOf(job);
  if (trial) event.trial = *trial;
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

}  // namespace unas::server
