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
// Failures. A trial that failed because of itself (TrialResult::failure
// kTrial: the training diverged, LibTorch refused the network) is recorded
// as failed. One that failed because the worker cannot run it (kWorker: its
// data set is missing there, it ran out of memory) goes back to the queue
// without counting as an attempt, and counts against the worker: a worker
// whose trials fail that way max_worker_failures times in a row (no success
// between) is told to stop (CheckWorker answers kPermissionDenied saying
// why). A trial that max_attempts different workers could not run is failed.
// A job that ends with failed trials and no completed one ends failed, with
// the last trial's reason.
//
// Fairness. A free worker gets work from the running job with the fewest
// trials leased, ties broken round-robin, so concurrent jobs share workers.
//
// Restart. Open() on an existing store requeues every leased trial and
// rebuilds each unfinished job's strategy from its completed trials (in the
// order their results were told) and its pending proposals: the search
// continues where it was, nothing completed is lost or repeated. A job that
// cannot be restored (its spec no longer parses, e.g. a limit this version
// added; its data set is gone; its replay fails) does not stop the start: an
// unfinished one is failed with the reason, in the store and the log; every
// one stays served, read-only, with what the store has.
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
#include "server/core/dataset_registry.h"
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
  // A worker whose trials fail this many times in a row because it cannot
  // run them (TrialResult::failure kWorker) is told to stop.
  int max_worker_failures = 3;
  // Submit refuses a job while this many are unfinished (queued or running),
  // kResourceExhausted naming the limit; 0: no limit. The service has one
  // bearer token, so this is the limit per token (`unas serve --max-running-jobs`).
  int64_t max_unfinished_jobs = 100;
  int64_t expiry_check_interval_ms = 250;
  // Input shape and classes of a data set named in a job spec ("fashion-mnist",
  // "idx:DIR", ...). Injected so the core does not depend on the worker.
  std::function<Result<InputSpec>(const data::DatasetSpec& dataset)> resolve_input;
  // Where registered data sets are kept (DATA_DIR/datasets); empty: this
  // coordinator has none (a job naming "data:NAME" is refused).
  std::string datasets_dir;
  int64_t max_dataset_bytes = int64_t{16} << 30;  // one upload's pack (unas serve --max-dataset-bytes)
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

  // Jobs. Submit refuses an invalid spec (kInvalidArgument naming the field),
  // or any job while options().max_unfinished_jobs are unfinished
  // (kResourceExhausted), and stores nothing then.
  Result<JobView> Submit(const std::string& spec_json);
  Result<JobView> GetJob(const std::string& job_id);
  // Every job, in submission order.
  std::vector<JobView> ListJobs();
  // One page of the jobs in submission order (newest first with
  // `newest_first`): page_size 1..1000 (0: 100); page_token empty for the
  // first page, else a next_page_token from the same order (the offset into
  // it: jobs are never deleted, so a page never skips one). kOutOfRange /
  // kInvalidArgument for a bad size or token.
  Result<JobPage> ListJobPage(const std::string& page_token, int page_size, bool newest_first);
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
  // Whether the worker may ask for work: kNotFound when it is not registered
  // (it should register again), kPermissionDenied saying why when it was told
  // to stop (see Failures above).
  Status CheckWorker(const std::string& worker_id);
  // Blocks up to wait_ms for a trial; nullopt when there is none, or the
  // worker is not registered or was told to stop (CheckWorker says which).
  std::optional<Assignment> Acquire(const std::string& worker_id, int64_t wait_ms);
  // Renews the lease; `progress` (0..1, clamped) is kept on the trial.
  HeartbeatReply Heartbeat(const std::string& worker_id, const std::string& lease_id, double progress);
  // Commits the result, then returns true; false if it was ignored. A result
  // that fails server/core/result_validation.h is refused (kInvalidArgument,
  // "result refused: ..."): nothing of it is stored, the lease ends and the
  // trial goes back to the queue, or fails after max_attempts. A worker
  // failure (result.failure kWorker) gives the trial back (see Failures).
  Result<bool> Complete(const std::string& worker_id, const std::string& lease_id, const TrialResult& result);

  // Expires overdue leases now (also done by a background thread).
  void ExpireLeases();
  // Stops the background thread, wakes waiting workers, releases nothing:
  // leased trials are requeued at the next Open.
  void Shutdown();

  const CoordinatorOptions& options() const { return options_; }

  // Registered data sets (dataset_registry.h; coordinator_datasets.cc):
  // nullptr when options().datasets_dir is empty.
  DatasetRegistry* datasets() const { return datasets_.get(); }
  // Removes a registered data set's name; kFailedPrecondition naming the job
  // while a queued or running job trains on its content, kNotFound for an
  // unknown name, kFailedPrecondition when there is no registry.
  Status RemoveDataset(const std::string& name);

 private:
  struct Job;
  Coordinator(std::unique_ptr<Store> store, const Clock* clock, CoordinatorOptions options);
  Status Load();
  Result<std::unique_ptr<Job>> MakeJob(JobRecord record, JobSpec spec);
  // A submitted spec, parsed; "dataset": "data:NAME" (or "data:<sha256>")
  // resolved to the registry's copy first (coordinator_datasets.cc).
  Result<JobSpec> ParseSubmission(const std::string& spec_json);
  // A stored job's registered data set at this coordinator's datasets_dir
  // (the data directory may have moved since it was submitted).
  void UseRegistryCopy(JobSpec* spec) const;
  Result<Job*> FindJob(const std::string& job_id);  // kNotFound names the job
  void MarkFailed(JobRecord& record, const std::string& error) const;
  // Fails the job, in the store first, and tells its watchers. False when
  // the store refused the write: the job is then unchanged but paused
  // (job_pause.h), and the failure is tried again by whoever next finds it.
  bool FailJobLocked(Job& job, const std::string& error);
  // A leased trial back to the front of the queue; `count_attempt` false
  // when the worker gave it back (not a failed attempt). `why`, when not
  // empty, is kept as the pending trial's error, so a user sees it.
  Status RequeueLocked(Job& job, TrialRecord& trial, bool count_attempt, const std::string& why = "");
  // A result the worker could not produce (failure kWorker): the trial back
  // to the queue (failed once max_attempts workers could not run it), and
  // one more failure in a row for the worker (told to stop at
  // max_worker_failures).
  Status WorkerFailedLocked(Job& job, TrialRecord& trial, const std::string& worker_id, const std::string& error);
  // A job loaded from the store that cannot be restored: an unfinished one
  // is failed with `reason` (store first); either way it is served read-only
  // from its stored record and trials.
  Status AddUnrestorableLocked(JobRecord record, const std::string& reason);
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
  std::unique_ptr<DatasetRegistry> datasets_;
  const Clock* clock_;
  CoordinatorOptions options_;

  mutable std::mutex mu_;  // guards everything below, and store writes
  std::condition_variable work_cv_;    // signalled when work may be available
  std::condition_variable expiry_cv_;  // wakes the lease-expiry thread (only at shutdown)
  std::map<std::string, std::unique_ptr<Job>> jobs_;
  std::vector<std::string> job_order_;  // submission order, for round-robin
  size_t round_robin_ = 0;
  std::map<std::string, std::pair<std::string, int64_t>> leases_;  // lease id -> (job, trial)
  struct WorkerState {
    std::string name;
    int failures_in_a_row = 0;  // worker failures (TrialResult::failure kWorker) since its last success
    std::string stop_reason;    // not empty: told to stop, and why
  };
  std::map<std::string, WorkerState> workers_;  // by worker id
  bool shutting_down_ = false;
  std::thread expiry_thread_;
};

}  // namespace unas::server
