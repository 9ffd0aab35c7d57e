// The coordinator's SQLite store: jobs and trials in one file, write-ahead
// log, schema versioned with migrations, prepared statements only (each
// prepared once per connection and kept). Only the
// coordinator process writes it.
//
// Durability: every mutating call is one transaction, committed before it
// returns, so a result acknowledged to a worker survives kill -9 of the
// coordinator (synchronous=NORMAL in WAL mode: durable across process
// crashes; a power cut may lose the last transactions).
//
// Errors. Every SQLite error is returned as kInternal with SQLite's message,
// a busy database included: a listing is complete or an error, never cut
// short. A lock held by another connection is waited for up to
// StoreOptions::busy_timeout_ms first.
//
// Thread safety: one Store may be used from several threads; one mutex
// serialises every statement (SQLite connections are not safe to share).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "server/store/records.h"

struct sqlite3;

namespace unas::server {
namespace sql {
class StatementCache;
}

// The keys a trial listing sorts by (Store::ListTrialsSorted, the REST
// listing's `sort`), each with the column expression it stands for. "error"
// is the job's objective error (TrialRecord::objective_error), what the
// front ranks by; "val_error" the float validation error.
inline constexpr std::pair<const char*, const char*> kTrialSortKeys[] = {
    {"trial_id", "trial_id"},       {"error", "objective_error"}, {"val_error", "val_error"},
    {"peak_sram_bytes", "peak_sram_bytes"}, {"flash_bytes", "flash_bytes"}, {"macs", "macs"},
    {"latency_ms", "NULLIF(latency_ms, 0)"}};

struct StoreOptions {
  int busy_timeout_ms = 5000;  // how long a statement waits for another connection's lock
};

class Store {
 public:
  // Opens (creating if needed, mode 0600) and migrates the database at `path`.
  static Result<std::unique_ptr<Store>> Open(const std::string& path, StoreOptions options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  int schema_version() const { return schema_version_; }

  Status InsertJob(const JobRecord& job);
  Status UpdateJob(const JobRecord& job);  // every field but the id, keyed by job_id
  Result<JobRecord> GetJob(const std::string& job_id);
  Result<std::vector<JobRecord>> ListJobs();

  Status InsertTrial(const TrialRecord& trial);
  // A new trial and, if given, its job's row, in one transaction.
  Status InsertTrialAndUpdateJob(const TrialRecord& trial, const JobRecord* job);
  // New trials and, if given, their job's row, in one transaction.
  Status InsertTrialsAndUpdateJob(const std::vector<TrialRecord>& trials, const JobRecord* job);
  Status UpdateTrial(const TrialRecord& trial);  // every mutable field, keyed by (job, trial)
  // Several trial updates and a job update in one transaction.
  Status UpdateTrialsAndJob(const std::vector<TrialRecord>& trials, const JobRecord* job);
  Result<TrialRecord> GetTrial(const std::string& job_id, int64_t trial_id);
  // The trial's final state and, if not empty, its trained weights and its
  // int8 model (.tflite), in one transaction; has_tflite is stored as
  // !model_tflite.empty() whatever trial.has_tflite says.
  Status FinishTrial(const TrialRecord& trial, const std::string& weights, const std::string& model_tflite = "");
  // kNotFound when none were kept.
  Result<std::string> GetWeights(const std::string& job_id, int64_t trial_id);
  // The trial's .tflite; kNotFound when it has none.
  Result<std::string> GetModelTflite(const std::string& job_id, int64_t trial_id);
  // Trials of a job with trial_id > after_trial_id, ascending, at most
  // `limit`; status 0 means any.
  Result<std::vector<TrialRecord>> ListTrials(const std::string& job_id, int status, int64_t after_trial_id,
                                              int limit);
  Result<std::vector<TrialRecord>> AllTrials(const std::string& job_id);
  // One page of a job's trials in the REST listing's order, sorted and paged
  // by SQLite (a request reads one page, not the whole job): by `sort_key`,
  // one of kTrialSortKeys; trials without the value (no metrics, latency 0)
  // last in either order; ties by trial id. Status 0 means any. *total is
  // the number of matching trials. kInvalidArgument for another sort key.
  Result<std::vector<TrialRecord>> ListTrialsSorted(const std::string& job_id, int status,
                                                    const std::string& sort_key, bool descending, int64_t offset,
                                                    int limit, int64_t* total);

  // Registered data sets (records.h DatasetRecord). Insert refuses a name
  // already taken (kFailedPrecondition naming it).
  Status InsertDataset(const DatasetRecord& dataset);
  Result<DatasetRecord> GetDataset(const std::string& name);  // kNotFound names it
  Result<std::vector<DatasetRecord>> ListDatasets();          // by name
  Status DeleteDataset(const std::string& name);              // kNotFound names it

  // Copies the whole database into a new file at `path` with SQLite's online
  // backup API: one consistent snapshot, taken while this and other
  // connections keep writing (WAL readers do not block writers). Refuses an
  // existing `path`. For `unas backup`.
  Status BackupTo(const std::string& path);

  // Every trial leased at the time of a crash goes back to pending (used at
  // start-up: no lease survives a coordinator restart). Returns how many.
  Result<int> RequeueLeasedTrials();

  // Health probe: one committed write transaction (a row inserted into and
  // deleted from schema_version), so a read-only file, a full disk or a
  // stuck lock shows as an error. Cheap: a few pages in the WAL.
  Status CheckWritable();

 private:
  explicit Store(sqlite3* db);
  Status Migrate();
  Status Exec(const std::string& sql);
  // One statement without rows, prepared once (BEGIN, COMMIT, ROLLBACK).
  Status Step(const char* sql);
  // BEGIN IMMEDIATE, `body`, then COMMIT; ROLLBACK when either fails. The
  // caller holds mu_.
  Status InTransaction(const std::function<Status()>& body);
  Status WriteTrial(const TrialRecord& trial, bool insert);
  Status WriteJob(const JobRecord& job, bool insert);
  // One trial's blob from `sql` (?1 job, ?2 trial); kNotFound "trial N of
  // job 'J' <missing>" when there is no row.
  Result<std::string> TrialBlob(const char* sql, const std::string& job_id, int64_t trial_id, const char* missing);

  std::mutex mu_;  // guards db_, cache_ and every statement on them
  sqlite3* db_ = nullptr;
  std::unique_ptr<sql::StatementCache> cache_;  // prepared once, finalised before db_ closes
  int schema_version_ = 0;
};

}  // namespace unas::server
