// Where the REST API's analyses run (POST /api/v1/analyze): a bounded pool
// apart from the threads that answer requests, so that uploads that take
// seconds to analyse never hold up /healthz or the rest of the API.
//
// - At most `workers` analyses run at once and `queue` more wait; a request
//   beyond that gets 503 with Retry-After (Busy()).
// - Each analysis runs in a child process (fork, no exec) with a budget:
//   `time_budget_ms` of wall time from its start (killed beyond, 422), and
//   `memory_budget_bytes` of address space beyond what the process had
//   (RLIMIT_AS; an allocation beyond fails, 422). A process, not a thread,
//   because neither budget can be enforced on a thread, and a thread cannot
//   be stopped halfway through the library's planners; a process is killed
//   and its memory is gone with it, whatever the analysis was doing. It runs
//   at nice 10, with every inherited descriptor closed but its answer pipe,
//   and dies with the coordinator (PR_SET_PDEATHSIG).
// - A client that goes away (its connection hung up) cancels its analysis:
//   dropped if still queued, killed if running; no answer is made.
// - Shutdown() kills the running analyses and drops the queued ones, so a
//   SIGTERM is not held up by them.
//
// What a task may do: it runs in a copy of a multi-threaded process, so only
// the calling thread exists there. It may allocate and compute (glibc's
// malloc and stdio are safe after fork), but must not take locks other
// threads of the server may hold (the coordinator, the store, logging) or
// use gRPC or Asio.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "server/http/http_api.h"

namespace unas::server {

struct AnalysisPoolOptions {
  int workers = 2;                                    // analyses running at once
  int queue = 8;                                      // analyses waiting beyond those
  int64_t time_budget_ms = 20'000;                    // one analysis' wall time, from its start
  int64_t memory_budget_bytes = int64_t{512} << 20;   // address space one analysis may add
  int64_t max_answer_bytes = int64_t{64} << 20;       // an answer larger is refused (500)
  int retry_after_seconds = 5;                        // the 503's Retry-After
};

struct AnalysisPoolStats {
  int running = 0;
  int queued = 0;
  int64_t answered = 0;     // ran and answered (any status, budgets included)
  int64_t over_budget = 0;  // of those, stopped by the time or memory budget
  int64_t cancelled = 0;    // the client went away first (queued or running)
  int64_t refused = 0;      // the queue was full (503)
};

class AnalysisPool {
 public:
  // Runs in the child process (see above); its answer is sent to the client.
  using Task = std::function<HttpResponse()>;
  // Called on a pool thread with the answer; never for a cancelled task.
  using Done = std::function<void(HttpResponse)>;

  explicit AnalysisPool(AnalysisPoolOptions options);
  ~AnalysisPool();  // Shutdown()
  AnalysisPool(const AnalysisPool&) = delete;
  AnalysisPool& operator=(const AnalysisPool&) = delete;

  // Queues `task`; false (counted as refused; the caller answers Busy())
  // when `queue` tasks wait already, or after Shutdown(). `client_fd` is the
  // connection the answer is for: when its peer hangs up first (POLLRDHUP,
  // POLLHUP, POLLERR), the task is cancelled. -1: no such check. The caller
  // keeps the descriptor open until `done` runs or the pool is shut down.
  bool Submit(Task task, int client_fd, Done done);
  // 503 with Retry-After, saying how full the pool is.
  HttpResponse Busy() const;

  AnalysisPoolStats stats() const;
  // Waits until `until(stats())` holds (checked at every change) or
  // timeout_ms pass; returns whether it held. For tests and probes.
  bool WaitFor(const std::function<bool(const AnalysisPoolStats&)>& until, int64_t timeout_ms) const;

  // Kills running analyses, drops queued ones (their Done is destroyed
  // uncalled), joins the pool's threads. Idempotent.
  void Shutdown();

  const AnalysisPoolOptions& options() const { return options_; }

 private:
  struct Item {
    Task task;
    int client_fd = -1;
    Done done;
  };
  enum class Ended { kAnswered, kOverBudget, kCancelled };
  void Loop();
  // Runs one task in a child process; *answer is set unless cancelled.
  Ended Run(const Item& item, HttpResponse* answer);
  bool Stopping() const;

  const AnalysisPoolOptions options_;
  mutable std::mutex mu_;               // guards queue_, stats_, stopping_
  mutable std::condition_variable cv_;  // a task queued, stats changed, or stopping
  std::deque<Item> queue_;
  AnalysisPoolStats stats_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace unas::server
