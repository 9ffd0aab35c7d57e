// The worker's main loop, independent of transport and of what a trial is:
// register with a coordinator, pull a trial, evaluate it while a separate
// thread heartbeats its lease, report the result and take the next trial in
// the same call (CompleteAndAcquire), repeat.
//
// - The coordinator is a TrialSource: in-process (embedded workers) or over
//   gRPC (`unas worker`). When it cannot be reached the loop retries with
//   exponential backoff (capped), re-registering when needed.
// - Two answers end the loop instead (WorkerLoopStats::exit says which):
//   kPermissionDenied from Register or Acquire (the coordinator told this
//   worker to stop: its trials kept failing because it cannot run them), at
//   once; kUnauthenticated (the token is refused), after max_auth_failures
//   in a row, since a coordinator restarting with a new token is not
//   something retrying fixes.
// - A heartbeat answered "stop" (job cancelled, lease lost) cancels the
//   evaluation between batches; its result is then not reported.
// - Stopping the loop (SIGTERM) cancels the evaluation in progress and gives
//   the trial back to the queue (Complete with released = true).
//
// Thread safety: Run() blocks the calling thread; Stop() may be called from
// any thread (or a signal handler through the atomic flag it sets).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>

#include "base/status.h"
#include "worker/protocol.h"

namespace unas::worker {

struct HeartbeatAnswer {
  bool keep_going = false;
  int heartbeat_interval_ms = 0;  // 0: keep the current interval
};

// A result's answer and, when the source fetched it in the same round trip,
// the next trial.
struct CompleteAnswer {
  bool accepted = false;       // false: ignored as late (see TrialSource::Complete)
  bool next_answered = false;  // `next` is the coordinator's answer; false: ask with Acquire
  std::optional<WorkAssignment> next;  // with next_answered: the next trial, if there was one in wait_ms
};

class TrialSource {
 public:
  virtual ~TrialSource() = default;
  // Returns the worker id and the heartbeat interval to use (ms).
  // kUnauthenticated when the coordinator refuses the credentials.
  virtual Result<std::pair<std::string, int>> Register(const std::string& name, int threads) = 0;
  // Waits up to wait_ms; nullopt when there is no work. kNotFound: register
  // again; kPermissionDenied: this worker was told to stop (the message says
  // why); kUnauthenticated: the credentials were refused.
  virtual Result<std::optional<WorkAssignment>> Acquire(const std::string& worker_id, int wait_ms) = 0;
  virtual Result<HeartbeatAnswer> Heartbeat(const std::string& worker_id, const std::string& lease_id,
                                            double progress) = 0;
  // True if the coordinator accepted the result (false: ignored as late).
  virtual Result<bool> Complete(const std::string& worker_id, const std::string& lease_id,
                                const TrialResult& result) = 0;
  // Complete, then the next trial as Acquire(worker_id, wait_ms) would give
  // it, in one round trip (issue 28: half the coordinator's calls). When the
  // coordinator does not answer the second part (an older one, or this
  // worker may not take work now) next_answered is false and the caller
  // asks with Acquire, which says why. Errors as Complete's: the result was
  // not recorded.
  virtual Result<CompleteAnswer> CompleteAndAcquire(const std::string& worker_id, const std::string& lease_id,
                                                    const TrialResult& result, int wait_ms) = 0;
};

// Evaluates one assignment. Must return soon after `cancel` becomes true, and
// may report progress (0..1) through `progress`.
using EvaluateFn = std::function<TrialResult(const WorkAssignment& assignment, const std::atomic<bool>& cancel,
                                            const std::function<void(double)>& progress)>;

struct WorkerLoopOptions {
  std::string name = "worker";
  int threads = 1;
  int acquire_wait_ms = 5000;
  // Retries wait a jittered (JitteredBackoffMs) exponential backoff, capped
  // low so a restarted coordinator gets its workers back within ~2 s.
  int initial_backoff_ms = 200;
  int max_backoff_ms = 2000;
  uint64_t jitter_seed = 0;  // 0: from std::random_device (tests set one)
  // Stop after this many trials (0 = never); for tests and batch use.
  int64_t max_trials = 0;
  // Give up after this many refused credentials in a row.
  int max_auth_failures = 3;
  // Log lines ("registered as ...", "trial ... done") go here if set.
  std::function<void(const std::string&)> log;
};

// Why Run() returned.
enum class WorkerExit {
  kStopped,          // Stop() or max_trials
  kUnauthenticated,  // the coordinator refused the credentials max_auth_failures times in a row
  kToldToStop,       // the coordinator told this worker to stop
};

struct WorkerLoopStats {
  WorkerExit exit = WorkerExit::kStopped;
  std::string exit_reason;  // kUnauthenticated / kToldToStop: the coordinator's words
  int64_t trials_completed = 0;  // reported and accepted
  int64_t trials_failed = 0;     // reported as failed
  int64_t trials_released = 0;   // given back on stop
  int64_t results_ignored = 0;   // the coordinator had moved on
  int64_t reconnects = 0;
};

// The wait before a retry whose backoff is `backoff_ms`: uniform in
// [backoff_ms / 2, backoff_ms], so workers that lost the coordinator at the
// same moment do not all come back at the same moment.
int JitteredBackoffMs(int backoff_ms, std::mt19937_64& rng);

class WorkerLoop {
 public:
  WorkerLoop(TrialSource& source, EvaluateFn evaluate, WorkerLoopOptions options);

  // Runs until Stop() or max_trials. Returns the stats.
  WorkerLoopStats Run();
  void Stop() { stop_.store(true); }
  const std::atomic<bool>& stop_flag() const { return stop_; }

 private:
  // What one Run() carries from trial to trial.
  struct Session {
    WorkerLoopStats stats;
    std::string worker_id;  // empty: not registered
    int heartbeat_ms = 1000;
    int backoff_ms = 0;
    int auth_failures = 0;  // refused credentials in a row
    std::mt19937_64 jitter_rng;
    std::optional<WorkAssignment> prefetched;  // the next trial, from the last CompleteAndAcquire
  };
  // What the loop does after a step.
  enum class Next { kGoOn, kRetry, kStop };

  Next Register(Session& s);
  // kGoOn with `*assignment` set when a trial was acquired (or came with
  // the last result's answer).
  Next AcquireTrial(Session& s, std::optional<WorkAssignment>* assignment);
  // Evaluates `a` while a thread heartbeats its lease; `*cancel` ends true
  // when the coordinator or Stop() cancelled it.
  TrialResult EvaluateWithHeartbeats(const Session& s, const WorkAssignment& a, std::atomic<bool>* cancel);
  // Reports `result`, retrying while the coordinator is away, and asks for
  // the next trial in the same call unless this is the last one.
  void Report(Session& s, const WorkAssignment& a, const TrialResult& result);
  // True when `why` ends the loop (stats.exit says why).
  bool FinalAnswer(Session& s, const Status& why);
  // Waits the jittered backoff and doubles it; false if stopped meanwhile.
  bool Backoff(Session& s, const Status& why);
  bool Sleep(int ms);  // false if stopped meanwhile
  void Log(const std::string& line) const {
    if (options_.log) options_.log(line);
  }

  TrialSource& source_;
  EvaluateFn evaluate_;
  WorkerLoopOptions options_;
  std::atomic<bool> stop_{false};
};

}  // namespace unas::worker
