#include "worker/worker_loop.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

namespace unas::worker {

int JitteredBackoffMs(int backoff_ms, std::mt19937_64& rng) {
  if (backoff_ms <= 1) return std::max(0, backoff_ms);
  return std::uniform_int_distribution<int>(backoff_ms / 2, backoff_ms)(rng);
}

WorkerLoop::WorkerLoop(TrialSource& source, EvaluateFn evaluate, WorkerLoopOptions options)
    : source_(source), evaluate_(std::move(evaluate)), options_(std::move(options)) {}

bool WorkerLoop::Sleep(int ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!stop_.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(ms, 50)));
  }
  return !stop_.load();
}

WorkerLoopStats WorkerLoop::Run() {
  Session s;
  s.backoff_ms = options_.initial_backoff_ms;
  s.jitter_rng.seed(options_.jitter_seed != 0 ? options_.jitter_seed : std::random_device{}());
  while (!stop_.load()) {
    if (options_.max_trials > 0 && s.stats.trials_completed + s.stats.trials_failed >= options_.max_trials) break;
    Next next = s.worker_id.empty() ? Register(s) : Next::kGoOn;
    std::optional<WorkAssignment> assignment;
    if (next == Next::kGoOn) next = AcquireTrial(s, &assignment);
    if (next == Next::kStop) break;
    if (next == Next::kRetry || !assignment) continue;
    const WorkAssignment& a = *assignment;
    Log("trial " + a.job_id + "/" + std::to_string(a.trial_id) + " attempt " + std::to_string(a.attempt));
    std::atomic<bool> cancel{false};
    TrialResult result = EvaluateWithHeartbeats(s, a, &cancel);
    if (cancel.load() && !stop_.load()) {
      Log("trial " + a.job_id + "/" + std::to_string(a.trial_id) + " stopped by the coordinator");
      continue;  // cancelled job or lost lease: nothing to report
    }
    if (stop_.load()) {
      result = TrialResult{};
      result.released = true;
    }
    Report(s, a, result);
  }
  // A trial that came with the last answer but will not run goes back.
  if (s.prefetched) {
    TrialResult released;
    released.released = true;
    if (source_.Complete(s.worker_id, s.prefetched->lease_id, released).ok()) ++s.stats.trials_released;
  }
  return s.stats;
}

WorkerLoop::Next WorkerLoop::Register(Session& s) {
  auto registered = source_.Register(options_.name, options_.threads);
  if (!registered.ok()) {
    return FinalAnswer(s, registered.status()) || !Backoff(s, registered.status()) ? Next::kStop : Next::kRetry;
  }
  s.auth_failures = 0;
  s.worker_id = registered->first;
  if (registered->second > 0) s.heartbeat_ms = registered->second;
  s.backoff_ms = options_.initial_backoff_ms;
  Log("registered as " + s.worker_id);
  return Next::kGoOn;
}

WorkerLoop::Next WorkerLoop::AcquireTrial(Session& s, std::optional<WorkAssignment>* assignment) {
  if (s.prefetched) {  // the next trial came with the last result's answer
    *assignment = std::move(s.prefetched);
    s.prefetched.reset();
    return Next::kGoOn;
  }
  auto acquired = source_.Acquire(s.worker_id, options_.acquire_wait_ms);
  if (!acquired.ok()) {
    if (acquired.status().code() == StatusCode::kNotFound) s.worker_id.clear();  // coordinator forgot us
    return FinalAnswer(s, acquired.status()) || !Backoff(s, acquired.status()) ? Next::kStop : Next::kRetry;
  }
  s.auth_failures = 0;
  s.backoff_ms = options_.initial_backoff_ms;
  *assignment = std::move(*acquired);
  return Next::kGoOn;
}

TrialResult WorkerLoop::EvaluateWithHeartbeats(const Session& s, const WorkAssignment& a,
                                               std::atomic<bool>* cancel) {
  // Heartbeats from their own thread while the evaluation runs here.
  std::atomic<double> progress{0.0};
  std::mutex hb_mu;
  std::condition_variable hb_cv;
  bool evaluation_done = false;  // guarded by hb_mu
  const int heartbeat_ms = s.heartbeat_ms;
  const std::string& worker_id = s.worker_id;
  std::thread heartbeat([&] {
    std::unique_lock<std::mutex> lock(hb_mu);
    while (!evaluation_done) {
      hb_cv.wait_for(lock, std::chrono::milliseconds(heartbeat_ms), [&] { return evaluation_done; });
      if (evaluation_done) break;
      if (stop_.load()) cancel->store(true);
      lock.unlock();
      auto answer = source_.Heartbeat(worker_id, a.lease_id, progress.load());
      lock.lock();
      // A failed heartbeat is not fatal: the lease outlives a few of them.
      if (answer.ok() && !answer->keep_going) cancel->store(true);
    }
  });
  TrialResult result = evaluate_(a, *cancel, [&](double p) {
    progress.store(p);
    if (stop_.load()) cancel->store(true);
  });
  {
    std::lock_guard<std::mutex> lock(hb_mu);
    evaluation_done = true;
  }
  hb_cv.notify_all();
  heartbeat.join();
  return result;
}

void WorkerLoop::Report(Session& s, const WorkAssignment& a, const TrialResult& result) {
  // The lease may expire while the coordinator is away; then the result is
  // ignored and the trial re-run elsewhere. The next trial comes with the
  // answer, unless the loop stops after this one (a trial leased then would
  // wait for its lease to expire).
  const bool last = options_.max_trials > 0 &&
                    s.stats.trials_completed + s.stats.trials_failed + 1 >= options_.max_trials;
  const bool ask_next = !result.released && !last;
  for (int tries = 0; tries < 8; ++tries) {
    Result<CompleteAnswer> answer = [&]() -> Result<CompleteAnswer> {
      if (ask_next) return source_.CompleteAndAcquire(s.worker_id, a.lease_id, result, options_.acquire_wait_ms);
      UNAS_ASSIGN_OR_RETURN(bool accepted, source_.Complete(s.worker_id, a.lease_id, result));
      return CompleteAnswer{accepted, false, std::nullopt};
    }();
    if (answer.ok()) {
      if (result.released) ++s.stats.trials_released;
      else if (!answer->accepted) ++s.stats.results_ignored;
      else if (result.succeeded) ++s.stats.trials_completed;
      else ++s.stats.trials_failed;
      if (answer->next_answered && answer->next) s.prefetched = std::move(answer->next);
      break;
    }
    if (result.released || !Backoff(s, answer.status())) break;
  }
  s.backoff_ms = options_.initial_backoff_ms;
}

bool WorkerLoop::FinalAnswer(Session& s, const Status& why) {
  if (why.code() == StatusCode::kPermissionDenied) {
    s.stats.exit = WorkerExit::kToldToStop;
    s.stats.exit_reason = why.message();
  } else if (why.code() == StatusCode::kUnauthenticated && ++s.auth_failures >= options_.max_auth_failures) {
    s.stats.exit = WorkerExit::kUnauthenticated;
    s.stats.exit_reason = "the coordinator refused the credentials " + std::to_string(s.auth_failures) +
                          " times in a row (" + why.message() + ")";
  } else {
    return false;
  }
  Log("stopping: " + s.stats.exit_reason);
  return true;
}

bool WorkerLoop::Backoff(Session& s, const Status& why) {
  const int wait_ms = JitteredBackoffMs(s.backoff_ms, s.jitter_rng);
  Log("coordinator unavailable (" + why.message() + "); retrying in " + std::to_string(wait_ms) + " ms");
  ++s.stats.reconnects;
  const bool go_on = Sleep(wait_ms);
  s.backoff_ms = std::min(options_.max_backoff_ms, s.backoff_ms * 2);
  return go_on;
}

}  // namespace unas::worker
