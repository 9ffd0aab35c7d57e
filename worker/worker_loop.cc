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
  WorkerLoopStats stats;
  std::string worker_id;
  int heartbeat_ms = 1000;
  int backoff_ms = options_.initial_backoff_ms;
  std::mt19937_64 jitter_rng{options_.jitter_seed != 0 ? options_.jitter_seed : std::random_device{}()};
  int auth_failures = 0;  // refused credentials in a row
  std::optional<WorkAssignment> prefetched;  // the next trial, from the last CompleteAndAcquire
  // True when `why` ends the loop (WorkerLoopStats::exit says why).
  auto final_answer = [&](const Status& why) {
    if (why.code() == StatusCode::kPermissionDenied) {
      stats.exit = WorkerExit::kToldToStop;
      stats.exit_reason = why.message();
    } else if (why.code() == StatusCode::kUnauthenticated && ++auth_failures >= options_.max_auth_failures) {
      stats.exit = WorkerExit::kUnauthenticated;
      stats.exit_reason = "the coordinator refused the credentials " + std::to_string(auth_failures) +
                          " times in a row (" + why.message() + ")";
    } else {
      return false;
    }
    Log("stopping: " + stats.exit_reason);
    return true;
  };
  auto backoff = [&](const Status& why) {
    const int wait_ms = JitteredBackoffMs(backoff_ms, jitter_rng);
    Log("coordinator unavailable (" + why.message() + "); retrying in " + std::to_string(wait_ms) + " ms");
    ++stats.reconnects;
    const bool go_on = Sleep(wait_ms);
    backoff_ms = std::min(options_.max_backoff_ms, backoff_ms * 2);
    return go_on;
  };
  while (!stop_.load()) {
    if (options_.max_trials > 0 && stats.trials_completed + stats.trials_failed >= options_.max_trials) break;
    if (worker_id.empty()) {
      auto registered = source_.Register(options_.name, options_.threads);
      if (!registered.ok()) {
        if (final_answer(registered.status()) || !backoff(registered.status())) break;
        continue;
      }
      auth_failures = 0;
      worker_id = registered->first;
      if (registered->second > 0) heartbeat_ms = registered->second;
      backoff_ms = options_.initial_backoff_ms;
      Log("registered as " + worker_id);
    }
    std::optional<WorkAssignment> next = std::move(prefetched);
    prefetched.reset();
    if (!next) {
      auto acquired = source_.Acquire(worker_id, options_.acquire_wait_ms);
      if (!acquired.ok()) {
        if (acquired.status().code() == StatusCode::kNotFound) worker_id.clear();  // coordinator forgot us
        if (final_answer(acquired.status()) || !backoff(acquired.status())) break;
        continue;
      }
      auth_failures = 0;
      backoff_ms = options_.initial_backoff_ms;
      if (!acquired->has_value()) continue;
      next = std::move(*acquired);
    }
    const WorkAssignment a = std::move(*next);
    Log("trial " + a.job_id + "/" + std::to_string(a.trial_id) + " attempt " + std::to_string(a.attempt));

    // Heartbeats from their own thread while the evaluation runs here.
    std::atomic<bool> cancel{false};
    std::atomic<double> progress{0.0};
    std::mutex hb_mu;
    std::condition_variable hb_cv;
    bool evaluation_done = false;  // guarded by hb_mu
    std::thread heartbeat([&] {
      std::unique_lock<std::mutex> lock(hb_mu);
      while (!evaluation_done) {
        hb_cv.wait_for(lock, std::chrono::milliseconds(heartbeat_ms), [&] { return evaluation_done; });
        if (evaluation_done) break;
        if (stop_.load()) cancel.store(true);
        lock.unlock();
        auto answer = source_.Heartbeat(worker_id, a.lease_id, progress.load());
        lock.lock();
        // A failed heartbeat is not fatal: the lease outlives a few of them.
        if (answer.ok() && !answer->keep_going) cancel.store(true);
      }
    });
    TrialResult result = evaluate_(a, cancel, [&](double p) {
      progress.store(p);
      if (stop_.load()) cancel.store(true);
    });
    {
      std::lock_guard<std::mutex> lock(hb_mu);
      evaluation_done = true;
    }
    hb_cv.notify_all();
    heartbeat.join();

    if (cancel.load() && !stop_.load()) {
      Log("trial " + a.job_id + "/" + std::to_string(a.trial_id) + " stopped by the coordinator");
      continue;  // cancelled job or lost lease: nothing to report
    }
    if (stop_.load()) {
      result = TrialResult{};
      result.released = true;
    }
    // Report, retrying while the coordinator is away (the lease may expire
    // meanwhile; then the result is ignored and the trial re-run elsewhere).
    // The next trial comes with the answer, unless the loop stops after this
    // one (a trial leased then would wait for its lease to expire).
    const bool last = options_.max_trials > 0 &&
                      stats.trials_completed + stats.trials_failed + 1 >= options_.max_trials;
    const bool ask_next = !result.released && !last;
    for (int tries = 0; tries < 8; ++tries) {
      Result<CompleteAnswer> answer = [&]() -> Result<CompleteAnswer> {
        if (ask_next) return source_.CompleteAndAcquire(worker_id, a.lease_id, result, options_.acquire_wait_ms);
        UNAS_ASSIGN_OR_RETURN(bool accepted, source_.Complete(worker_id, a.lease_id, result));
        return CompleteAnswer{accepted, false, std::nullopt};
      }();
      if (answer.ok()) {
        if (result.released) ++stats.trials_released;
        else if (!answer->accepted) ++stats.results_ignored;
        else if (result.succeeded) ++stats.trials_completed;
        else ++stats.trials_failed;
        if (answer->next_answered && answer->next) prefetched = std::move(answer->next);
        break;
      }
      if (result.released || !backoff(answer.status())) break;
    }
    backoff_ms = options_.initial_backoff_ms;
  }
  // A trial that came with the last answer but will not run goes back.
  if (prefetched) {
    TrialResult released;
    released.released = true;
    if (source_.Complete(worker_id, prefetched->lease_id, released).ok()) ++stats.trials_released;
  }
  return stats;
}

}  // namespace unas::worker
