// The coordinator's core: jobs, one search driver per job, trials handed to
// workers under leases, results committed to the store before they are
// acknowledged, and events for watchers. No gRPC, HTTP or SQLite types: the
// gRPC and REST layers are thin translations onto this class.
//
// Leases. Acquire() hands a trial to a worker with a lease that Heartbeat()
// renews. A lease not renewed within lease_timeout_ms expires: the trial goes
// back to the queue, and after max_attempts leases it is recorded as failed
// with the reason. A result quoting an expired or unknown lease, or for a
// trial already finished, is ignored (Complete returns false).
//
// Fairness. A free worker gets work from the running job with the fewest
// trials leased, ties broken round-robin, so concurrent jobs share workers.
//
// Restart. Open() on an existing store requeues every leased trial and
// rebuilds each unfinished job's strategy from its completed trials (in the
// order their results were told) and its pending proposals: the search
// continues where it was, nothing completed is lost or repeated.
//
// Thread safety: every public method may be called from any thread. One
// mutex (mu_) guards all job and lease state and serialises store writes.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "costmodel/candidate.h"
#include "base/status.h"
#include "server/core/clock.h"
#include "server/core/job_spec.h"
#include "server/store/records.h"
#include "server/store/store.h"
#include "worker/worker_loop.h"

namespace unas::search {
struct CompletedTrial;
}

namespace unas::server {

struct CoordinatorOptions {
  int64_t lease_timeout_ms = 60'000;
  int64_t heartbeat_interval_ms = 10'000;
  int max_attempts = 3;
  int64_t expiry_check_interval_ms = 250;
  // Input shape and classes of a data set named in a job spec ("fashion-mnist",
  // "idx:DIR", ...). Injected so the core does not depend on the worker.
  std::function<Result<InputSpec>(const data::DatasetSpec& dataset)> resolve_input;
};

// A watcher's queue of events for one job.
class Subscription {
 public:
  // Waits up to timeout_ms for the next event. False on timeout or when the
  // subscription was closed (the coordinator shut down).
  bool Next(JobEvent* event, int64_t timeout_ms);
  bool closed() const;

 private:
  friend class Coordinator;
  void Push(const JobEvent& event);
  void Close();
  mutable std::mutex mu_;  // guards events_ and closed_
  std::condition_variable cv_;
  std::deque<JobEvent> events_;
  bool closed_ = false;
};

// A trial handed to a worker: the worker protocol's own type (a plain
// header; no training code comes with it).
using Assignment = worker::WorkAssignment;

// What a worker reports: the worker protocol's own type.
using worker::TrialResult;

// `unas finalize` / POST .../finalize: retrain the job's front from scratch.
struct FinalizeOptions {
  int epochs = 0;  // 0: the job's final recipe (spec "final.training")
};

struct HeartbeatReply {
  bool keep_going = false;
  int64_t lease_expires_unix_ms = 0;
};

class Coordinator {
 public:
  static Result<std::unique_ptr<Coordinator>> Open(std::unique_ptr<Store> store, const Clock* clock,
                                                   CoordinatorOptions options);
  ~Coordinator();  // Shutdown()
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // Jobs. Submit refuses an invalid spec (kInvalidArgument naming the field)
  // and stores nothing then.
  Result<JobView> Submit(const std::string& spec_json);
  Result<JobView> GetJob(const std::string& job_id);
  std::vector<JobView> ListJobs();
  Result<JobView> Cancel(const std::string& job_id);
  // Starts a final-retraining round now: a running job stops proposing (its
  // leased trials finish), then its front and near neighbours (spec "final")
  // are trained from scratch with the final recipe and quantised; a finished
  // (succeeded) job runs again until the round is done. kFailedPrecondition
  // for a cancelled or failed job, or one with no completed trial;
  // kInvalidArgument for epochs outside 1..1000.
  Result<JobView> Finalize(const std::string& job_id, const FinalizeOptions& options);
  Result<TrialPage> ListTrials(const std::string& job_id, int status, const std::string& page_token, int page_size);
  // The REST listing's page: sorted and paged by the store (see
  // Store::ListTrialsSorted); *total is the number of matching trials.
  Result<std::vector<TrialRecord>> ListTrialsSorted(const std::string& job_id, int status,
                                                    const std::string& sort_key, bool descending, int64_t offset,
                                                    int page_size, int64_t* total);
  Result<TrialRecord> GetTrial(const std::string& job_id, int64_t trial_id);
  // The job's spec as parsed at submission (a copy; the coordinator keeps
  // its own): what the edges need to describe a trial, without parsing the
  // stored JSON again.
  Result<JobSpec> GetSpec(const std::string& job_id);
  Result<ParetoView> Pareto(const std::string& job_id);
  Result<std::vector<HypervolumePoint>> HypervolumeHistory(const std::string& job_id);
  // kNotFound when the trial kept no weights.
  Result<std::string> TrialWeights(const std::string& job_id, int64_t trial_id);
  // The trial's int8 model (.tflite); kNotFound when it has none.
  Result<std::string> TrialModelTflite(const std::string& job_id, int64_t trial_id);
  Result<std::shared_ptr<Subscription>> Watch(const std::string& job_id);

  // Liveness: the store accepts a write transaction (for GET /healthz).
  Status CheckStore();

  // Workers.
  std::string RegisterWorker(const std::string& name);
  // Whether RegisterWorker gave out this id (in this process's lifetime).
  bool IsRegistered(const std::string& worker_id);
  // Blocks up to wait_ms for a trial; nullopt when there is none or the
  // worker is not registered.
  std::optional<Assignment> Acquire(const std::string& worker_id, int64_t wait_ms);
  // Renews the lease; `progress` (0..1, clamped) is kept on the trial.
  HeartbeatReply Heartbeat(const std::string& worker_id, const std::string& lease_id, double progress);
  // Commits the result, then returns true; false if it was ignored. A result
  // that fails server/core/result_validation.h is refused (kInvalidArgument,
  // "result refused: ..."): nothing of it is stored, the lease ends and the
  // trial goes back to the queue, or fails after max_attempts.
  Result<bool> Complete(const std::string& worker_id, const std::string& lease_id, const TrialResult& result);

  // Expires overdue leases now (also done by a background thread).
  void ExpireLeases();
  // Stops the background thread, wakes waiting workers, releases nothing:
  // leased trials are requeued at the next Open.
  void Shutdown();

  const CoordinatorOptions& options() const { return options_; }

 private:
  struct Job;
  Coordinator(std::unique_ptr<Store> store, const Clock* clock, CoordinatorOptions options);
  Status Load();
  Result<std::unique_ptr<Job>> MakeJob(JobRecord record, JobSpec spec);
  Result<Job*> FindJob(const std::string& job_id);  // kNotFound names the job
  void MarkFailed(JobRecord& record, const std::string& error) const;
  // Fails the job, in the store first, and tells its watchers. False when
  // the store refused the write: the job is then unchanged but paused
  // (job_pause.h), and the failure is tried again by whoever next finds it.
  bool FailJobLocked(Job& job, const std::string& error);
  // A leased trial back to the front of the queue; `count_attempt` false
  // when the worker gave it back (not a failed attempt).
  Status RequeueLocked(Job& job, TrialRecord& trial, bool count_attempt);
  // MaybeFinishJobLocked, its store error logged (retried at the next call).
  void FinishJobIfDoneLocked(Job& job);
  JobView ViewOf(const Job& job) const;
  // The strategy's next proposal as a trial record, not yet stored; nullopt
  // when the strategy found no new feasible candidate.
  Result<std::optional<TrialRecord>> ProposeLocked(Job& job);
  std::optional<Assignment> TryLeaseLocked(const std::string& worker_id);
  Status FinishTrialLocked(Job& job, TrialRecord& trial, const TrialResult& result);
  Status MaybeFinishJobLocked(Job& job);
  void PublishLocked(Job& job, JobEvent::Kind kind, const TrialRecord* trial);
  void ExpireLeasesLocked();
  Assignment AssignmentLocked(Job& job, const TrialRecord& trial);

  // Multi-fidelity and final retraining (coordinator_fidelity.cc).
  // A stored search trial as Restore replays it: a proposal's Tell, or a
  // promotion's Update (a higher-rung result).
  search::CompletedTrial HistoryEntry(const Job& job, const TrialRecord& trial) const;
  // A completed trial into its rung's results and the search front (search
  // trials meeting the hard constraints); true when the front changed.
  bool RecordResultLocked(Job& job, const TrialRecord& trial);
  // Rebuilds a loaded job's state from its stored trials (restart).
  Status ReplayLocked(Job& job, const std::vector<TrialRecord>& trials);
  // ASHA: the next promotion, highest rung first, as a new trial record (not
  // stored); nullopt when none is due. `take` marks its rung result promoted.
  std::optional<TrialRecord> PromotionLocked(Job& job, int64_t now_unix_ms, bool take);
  // Starts final round record.final_round + 1 (store first): pending search
  // trials are cancelled, leased ones finish.
  Status StartFinalRoundLocked(Job& job, int epochs);
  // The round's trials, once no search trial is leased (one transaction).
  Status CreateFinalTrialsLocked(Job& job);
  // The latest round's non-dominated completed trials, best error first.
  std::vector<TrialRecord> FinalFrontLocked(const Job& job, double* hypervolume) const;

  std::unique_ptr<Store> store_;
  const Clock* clock_;
  CoordinatorOptions options_;

  mutable std::mutex mu_;  // guards everything below, and store writes
  std::condition_variable work_cv_;    // signalled when work may be available
  std::condition_variable expiry_cv_;  // wakes the lease-expiry thread (only at shutdown)
  std::map<std::string, std::unique_ptr<Job>> jobs_;
  std::vector<std::string> job_order_;  // submission order, for round-robin
  size_t round_robin_ = 0;
  std::map<std::string, std::pair<std::string, int64_t>> leases_;  // lease id -> (job, trial)
  std::map<std::string, std::string> workers_;                     // worker id -> name
  bool shutting_down_ = false;
  std::thread expiry_thread_;
};

}  // namespace unas::server
