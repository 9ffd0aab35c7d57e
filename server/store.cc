#include "server/store.h"

#include <sqlite3.h>
#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "costmodel/json_limits.h"

namespace unas::server {
namespace {

// Schema migrations, applied in order; index + 1 is the schema version.
const char* const kMigrations[] = {
    // 1: jobs and trials.
    R"sql(
    CREATE TABLE jobs (
      job_id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      status INTEGER NOT NULL,
      spec_json TEXT NOT NULL,
      infeasible_rejected INTEGER NOT NULL DEFAULT 0,
      error TEXT NOT NULL DEFAULT '',
      created_unix_ms INTEGER NOT NULL,
      finished_unix_ms INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE trials (
      job_id TEXT NOT NULL REFERENCES jobs(job_id),
      trial_id INTEGER NOT NULL,
      status INTEGER NOT NULL,
      candidate_json TEXT NOT NULL,
      candidate_hash TEXT NOT NULL,
      params INTEGER NOT NULL,
      flash_bytes INTEGER NOT NULL,
      macs INTEGER NOT NULL,
      peak_sram_bytes INTEGER NOT NULL,
      build_order_peak_sram_bytes INTEGER NOT NULL,
      latency_ms REAL NOT NULL,
      val_error REAL,
      test_error REAL,
      train_seconds REAL,
      samples_per_second REAL,
      epochs INTEGER,
      attempts INTEGER NOT NULL DEFAULT 0,
      worker_id TEXT NOT NULL DEFAULT '',
      lease_id TEXT NOT NULL DEFAULT '',
      lease_expires_unix_ms INTEGER NOT NULL DEFAULT 0,
      error TEXT NOT NULL DEFAULT '',
      reused INTEGER NOT NULL DEFAULT 0,
      rejected_before INTEGER NOT NULL DEFAULT 0,
      told_seq INTEGER NOT NULL DEFAULT 0,
      created_unix_ms INTEGER NOT NULL,
      started_unix_ms INTEGER NOT NULL DEFAULT 0,
      finished_unix_ms INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (job_id, trial_id)
    );
    CREATE INDEX trials_by_status ON trials(job_id, status, trial_id);
    )sql",
    // 2: trained weights, kept apart so listing trials never reads them.
    R"sql(
    CREATE TABLE trial_weights (
      job_id TEXT NOT NULL,
      trial_id INTEGER NOT NULL,
      weights BLOB NOT NULL,
      PRIMARY KEY (job_id, trial_id),
      FOREIGN KEY (job_id, trial_id) REFERENCES trials(job_id, trial_id)
    );
    )sql",
    // 3: the network actually trained when a job prunes, and its costs.
    R"sql(
    ALTER TABLE trials ADD COLUMN pruned_candidate_json TEXT NOT NULL DEFAULT '';
    ALTER TABLE trials ADD COLUMN pruned_costs_json TEXT NOT NULL DEFAULT '';
    )sql",
};

// A prepared statement, finalised on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Status status() const {
    return rc_ == SQLITE_OK ? Status::Ok() : Status::Internal(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  void Bind(int i, const std::string& v) { sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, int v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }
  void BindBlob(int i, const std::string& v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  std::string Blob(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, col)) : std::string();
  }

  // SQLITE_ROW, SQLITE_DONE, or an error code.
  int Step() { return sqlite3_step(stmt_); }
  Status Run() {
    const int rc = Step();
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::Ok();
    return Status::Internal(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Real(int col) const { return sqlite3_column_double(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, col)) : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

constexpr const char* kTrialColumns =
    "job_id, trial_id, status, candidate_json, candidate_hash, params, flash_bytes, macs, peak_sram_bytes, "
    "build_order_peak_sram_bytes, latency_ms, val_error, test_error, train_seconds, samples_per_second, epochs, "
    "attempts, worker_id, lease_id, lease_expires_unix_ms, error, reused, created_unix_ms, started_unix_ms, "
    "finished_unix_ms, rejected_before, told_seq, pruned_candidate_json, pruned_costs_json";

TrialRecord ReadTrial(const Statement& s) {
  TrialRecord t;
  t.job_id = s.Text(0);
  t.trial_id = s.Int(1);
  t.status = static_cast<TrialStatus>(s.Int(2));
  t.candidate_json = s.Text(3);
  t.candidate_hash = s.Text(4);
  t.costs = {s.Int(5), s.Int(6), s.Int(7), s.Int(8), s.Int(9), s.Real(10)};
  if (!s.IsNull(11)) {
    t.metrics = Metrics{s.Real(11), s.Real(12), s.Real(13), s.Real(14), static_cast<int>(s.Int(15))};
  }
  t.attempts = static_cast<int>(s.Int(16));
  t.worker_id = s.Text(17);
  t.lease_id = s.Text(18);
  t.lease_expires_unix_ms = s.Int(19);
  t.error = s.Text(20);
  t.reused = s.Int(21) != 0;
  t.created_unix_ms = s.Int(22);
  t.started_unix_ms = s.Int(23);
  t.finished_unix_ms = s.Int(24);
  t.rejected_before = static_cast<int>(s.Int(25));
  t.told_seq = s.Int(26);
  t.pruned_candidate_json = s.Text(27);
  const std::string pruned = s.Text(28);
  if (!pruned.empty()) {
    const auto j = CheckJsonLimits(pruned).ok() ? nlohmann::json::parse(pruned, nullptr, false) : nlohmann::json();
    if (j.is_object()) {
      t.pruned_costs = Costs{j.value("params", int64_t{0}), j.value("flash_bytes", int64_t{0}),
                             j.value("macs", int64_t{0}), j.value("peak_sram_bytes", int64_t{0}),
                             j.value("build_order_peak_sram_bytes", int64_t{0}), 0};
    }
  }
  return t;
}

JobRecord ReadJob(const Statement& s) {
  JobRecord j;
  j.job_id = s.Text(0);
  j.name = s.Text(1);
  j.status = static_cast<JobStatus>(s.Int(2));
  j.spec_json = s.Text(3);
  j.infeasible_rejected = s.Int(4);
  j.error = s.Text(5);
  j.created_unix_ms = s.Int(6);
  j.finished_unix_ms = s.Int(7);
  return j;
}

constexpr const char* kJobColumns =
    "job_id, name, status, spec_json, infeasible_rejected, error, created_unix_ms, finished_unix_ms";

}  // namespace

const char* JobStatusName(JobStatus s) {
  switch (s) {
    case JobStatus::kQueued: return "queued";
    case JobStatus::kRunning: return "running";
    case JobStatus::kSucceeded: return "succeeded";
    case JobStatus::kFailed: return "failed";
    case JobStatus::kCancelled: return "cancelled";
  }
  return "?";
}

const char* TrialStatusName(TrialStatus s) {
  switch (s) {
    case TrialStatus::kPending: return "pending";
    case TrialStatus::kLeased: return "leased";
    case TrialStatus::kCompleted: return "completed";
    case TrialStatus::kFailed: return "failed";
    case TrialStatus::kCancelled: return "cancelled";
  }
  return "?";
}

bool IsFinal(JobStatus s) { return s == JobStatus::kSucceeded || s == JobStatus::kFailed || s == JobStatus::kCancelled; }
bool IsFinal(TrialStatus s) {
  return s == TrialStatus::kCompleted || s == TrialStatus::kFailed || s == TrialStatus::kCancelled;
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  // Created owner-only (SQLite would use 0644); its -wal and -shm files
  // take the database file's mode.
  if (const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600); fd >= 0) close(fd);
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::Invalid("cannot open database " + path + ": " + message);
  }
  std::unique_ptr<Store> store(new Store(db));
  sqlite3_busy_timeout(db, 5000);
  UNAS_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
  UNAS_RETURN_IF_ERROR(store->Migrate());
  return store;
}

Store::~Store() {
  if (db_) sqlite3_close(db_);
}

Status Store::Exec(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    return Status::Internal("sqlite: " + message);
  }
  return Status::Ok();
}

Status Store::BackupTo(const std::string& path) {
  if (access(path.c_str(), F_OK) == 0) return Status::Invalid("backup: " + path + " already exists");
  sqlite3* dest = nullptr;
  if (sqlite3_open_v2(path.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    std::string message = dest ? sqlite3_errmsg(dest) : "out of memory";
    sqlite3_close(dest);
    return Status::Invalid("backup: cannot create " + path + ": " + message);
  }
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_backup* backup = sqlite3_backup_init(dest, "main", db_, "main");
  if (backup == nullptr) {
    std::string message = sqlite3_errmsg(dest);
    sqlite3_close(dest);
    return Status::Internal("sqlite backup: " + message);
  }
  // Every page in one step, so the copy is one snapshot; retried while
  // another connection holds a lock that a reader must wait for.
  int rc = SQLITE_OK;
  for (int tries = 0; tries < 50; ++tries) {
    rc = sqlite3_backup_step(backup, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    sqlite3_sleep(100);
  }
  sqlite3_backup_finish(backup);
  sqlite3_close(dest);
  if (rc != SQLITE_DONE) {
    unlink(path.c_str());
    return Status::Internal(std::string("sqlite backup: ") + sqlite3_errstr(rc));
  }
  return Status::Ok();
}

Status Store::Migrate() {
  std::lock_guard<std::mutex> lock(mu_);
  UNAS_RETURN_IF_ERROR(Exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
  {
    Statement s(db_, "SELECT MAX(version) FROM schema_version");
    UNAS_RETURN_IF_ERROR(s.status());
    if (s.Step() == SQLITE_ROW && !s.IsNull(0)) schema_version_ = static_cast<int>(s.Int(0));
  }
  const int latest = static_cast<int>(sizeof kMigrations / sizeof kMigrations[0]);
  if (schema_version_ > latest) {
    return Status(StatusCode::kFailedPrecondition,
                  "database schema version " + std::to_string(schema_version_) +
                      " is newer than this unas understands (" + std::to_string(latest) + "); upgrade unas");
  }
  for (int v = schema_version_; v < latest; ++v) {
    UNAS_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status s = Exec(kMigrations[v]);
    if (s.ok()) s = Exec("INSERT INTO schema_version(version) VALUES (" + std::to_string(v + 1) + ")");
    if (!s.ok()) {
      (void)Exec("ROLLBACK");
      return s.WithContext("migration " + std::to_string(v + 1));
    }
    UNAS_RETURN_IF_ERROR(Exec("COMMIT"));
    schema_version_ = v + 1;
  }
  return Status::Ok();
}

Status Store::WriteJob(const JobRecord& j, bool insert) {
  Statement s(db_, insert ? "INSERT INTO jobs(job_id, name, status, spec_json, infeasible_rejected, error, "
                            "created_unix_ms, finished_unix_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                          : "UPDATE jobs SET name = ?2, status = ?3, spec_json = ?4, infeasible_rejected = ?5, "
                            "error = ?6, created_unix_ms = ?7, finished_unix_ms = ?8 WHERE job_id = ?1");
  UNAS_RETURN_IF_ERROR(s.status());
  s.Bind(1, j.job_id);
  s.Bind(2, j.name);
  s.Bind(3, static_cast<int>(j.status));
  s.Bind(4, j.spec_json);
  s.Bind(5, j.infeasible_rejected);
  s.Bind(6, j.error);
  s.Bind(7, j.created_unix_ms);
  s.Bind(8, j.finished_unix_ms);
  return s.Run();
}

Status Store::WriteTrial(const TrialRecord& t, bool insert) {
  const std::string sql =
      insert ? std::string("INSERT INTO trials(") + kTrialColumns +
                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
                   "?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29)"
             : "UPDATE trials SET status = ?3, candidate_json = ?4, candidate_hash = ?5, params = ?6, "
               "flash_bytes = ?7, macs = ?8, peak_sram_bytes = ?9, build_order_peak_sram_bytes = ?10, "
               "latency_ms = ?11, val_error = ?12, test_error = ?13, train_seconds = ?14, "
               "samples_per_second = ?15, epochs = ?16, attempts = ?17, worker_id = ?18, lease_id = ?19, "
               "lease_expires_unix_ms = ?20, error = ?21, reused = ?22, created_unix_ms = ?23, "
               "started_unix_ms = ?24, finished_unix_ms = ?25, rejected_before = ?26, told_seq = ?27, "
               "pruned_candidate_json = ?28, pruned_costs_json = ?29 "
               "WHERE job_id = ?1 AND trial_id = ?2";
  Statement s(db_, sql.c_str());
  UNAS_RETURN_IF_ERROR(s.status());
  s.Bind(1, t.job_id);
  s.Bind(2, t.trial_id);
  s.Bind(3, static_cast<int>(t.status));
  s.Bind(4, t.candidate_json);
  s.Bind(5, t.candidate_hash);
  s.Bind(6, t.costs.params);
  s.Bind(7, t.costs.flash_bytes);
  s.Bind(8, t.costs.macs);
  s.Bind(9, t.costs.peak_sram_bytes);
  s.Bind(10, t.costs.build_order_peak_sram_bytes);
  s.Bind(11, t.costs.latency_ms);
  if (t.metrics) {
    s.Bind(12, t.metrics->val_error);
    s.Bind(13, t.metrics->test_error);
    s.Bind(14, t.metrics->train_seconds);
    s.Bind(15, t.metrics->samples_per_second);
    s.Bind(16, t.metrics->epochs);
  } else {
    for (int i = 12; i <= 16; ++i) s.BindNull(i);
  }
  s.Bind(17, t.attempts);
  s.Bind(18, t.worker_id);
  s.Bind(19, t.lease_id);
  s.Bind(20, t.lease_expires_unix_ms);
  s.Bind(21, t.error);
  s.Bind(22, t.reused ? 1 : 0);
  s.Bind(23, t.created_unix_ms);
  s.Bind(24, t.started_unix_ms);
  s.Bind(25, t.finished_unix_ms);
  s.Bind(26, t.rejected_before);
  s.Bind(27, t.told_seq);
  s.Bind(28, t.pruned_candidate_json);
  s.Bind(29, t.pruned_costs ? nlohmann::json{{"params", t.pruned_costs->params},
                                             {"flash_bytes", t.pruned_costs->flash_bytes},
                                             {"macs", t.pruned_costs->macs},
                                             {"peak_sram_bytes", t.pruned_costs->peak_sram_bytes},
                                             {"build_order_peak_sram_bytes",
                                              t.pruned_costs->build_order_peak_sram_bytes}}
                                           .dump()
                            : std::string());
  UNAS_RETURN_IF_ERROR(s.Run());
  if (!insert && sqlite3_changes(db_) != 1) {
    return Status(StatusCode::kNotFound, "no trial " + std::to_string(t.trial_id) + " in job " + t.job_id);
  }
  return Status::Ok();
}

Status Store::InsertJob(const JobRecord& job) {
  std::lock_guard<std::mutex> lock(mu_);
  return WriteJob(job, true);
}

Status Store::UpdateJob(const JobRecord& job) {
  std::lock_guard<std::mutex> lock(mu_);
  return WriteJob(job, false);
}

Result<JobRecord> Store::GetJob(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(db_, (std::string("SELECT ") + kJobColumns + " FROM jobs WHERE job_id = ?1").c_str());
  UNAS_RETURN_IF_ERROR(s.status());
  s.Bind(1, job_id);
  if (s.Step() != SQLITE_ROW) return Status(StatusCode::kNotFound, "no job '" + job_id + "'");
  return ReadJob(s);
}

Result<std::vector<JobRecord>> Store::ListJobs() {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(db_, (std::string("SELECT ") + kJobColumns + " FROM jobs ORDER BY created_unix_ms, job_id").c_str());
  UNAS_RETURN_IF_ERROR(s.status());
  std::vector<JobRecord> jobs;
  while (s.Step() == SQLITE_ROW) jobs.push_back(ReadJob(s));
  return jobs;
}

Status Store::InsertTrial(const TrialRecord& trial) {
  std::lock_guard<std::mutex> lock(mu_);
  return WriteTrial(trial, true);
}

Status Store::InsertTrialAndUpdateJob(const TrialRecord& trial, const JobRecord* job) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!job) return WriteTrial(trial, true);  // one statement is its own transaction
  UNAS_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Status s = WriteTrial(trial, true);
  if (s.ok()) s = WriteJob(*job, false);
  if (!s.ok()) {
    (void)Exec("ROLLBACK");
    return s;
  }
  return Exec("COMMIT");
}

Status Store::UpdateTrial(const TrialRecord& trial) {
  std::lock_guard<std::mutex> lock(mu_);
  return WriteTrial(trial, false);
}

Status Store::UpdateTrialsAndJob(const std::vector<TrialRecord>& trials, const JobRecord* job) {
  std::lock_guard<std::mutex> lock(mu_);
  UNAS_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Status s;
  for (const TrialRecord& t : trials) {
    s = WriteTrial(t, false);
    if (!s.ok()) break;
  }
  if (s.ok() && job) s = WriteJob(*job, false);
  if (!s.ok()) {
    (void)Exec("ROLLBACK");
    return s;
  }
  return Exec("COMMIT");
}

Status Store::FinishTrial(const TrialRecord& trial, const std::string& weights) {
  std::lock_guard<std::mutex> lock(mu_);
  UNAS_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Status s = WriteTrial(trial, false);
  if (s.ok() && !weights.empty()) {
    Statement w(db_, "INSERT OR REPLACE INTO trial_weights(job_id, trial_id, weights) VALUES (?1, ?2, ?3)");
    s = w.status();
    if (s.ok()) {
      w.Bind(1, trial.job_id);
      w.Bind(2, trial.trial_id);
      w.BindBlob(3, weights);
      s = w.Run();
    }
  }
  if (!s.ok()) {
    (void)Exec("ROLLBACK");
    return s;
  }
  return Exec("COMMIT");
}

Status Store::CheckWritable() {
  std::lock_guard<std::mutex> lock(mu_);
  UNAS_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Status s = Exec("INSERT INTO schema_version(version) VALUES (-1)");
  if (s.ok()) s = Exec("DELETE FROM schema_version WHERE rowid = last_insert_rowid()");
  if (!s.ok()) {
    (void)Exec("ROLLBACK");
    return s;
  }
  return Exec("COMMIT");
}

Result<std::string> Store::GetWeights(const std::string& job_id, int64_t trial_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(db_, "SELECT weights FROM trial_weights WHERE job_id = ?1 AND trial_id = ?2");
  UNAS_RETURN_IF_ERROR(s.status());
  s.Bind(1, job_id);
  s.Bind(2, trial_id);
  if (s.Step() != SQLITE_ROW) {
    return Status(StatusCode::kNotFound, "trial " + std::to_string(trial_id) + " of job '" + job_id +
                                             "' kept no weights (synthetic, failed, or too large to keep)");
  }
  return s.Blob(0);
}

Result<TrialRecord> Store::GetTrial(const std::string& job_id, int64_t trial_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(db_, (std::string("SELECT ") + kTrialColumns + " FROM trials WHERE job_id = ?1 AND trial_id = ?2").c_str());
  UNAS_RETURN_IF_ERROR(s.status());
  s.Bind(1, job_id);
  s.Bind(2, trial_id);
  if (s.Step() != SQLITE_ROW) {
    return Status(StatusCode::kNotFound, "no trial " + std::to_string(trial_id) + " in job '" + job_id + "'");
  }
  return ReadTrial(s);
}

Result<std::vector<TrialRecord>> Store::ListTrials(const std::string& job_id, int status, int64_t after_trial_id,
                                                   int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(db_, (std::string("SELECT ") + kTrialColumns +
                    " FROM trials WHERE job_id = ?1 AND trial_id > ?2 AND (?3 = 0 OR status = ?3) "
                    "ORDER BY trial_id LIMIT ?4")
                       .c_str());
  UNAS_RETURN_IF_ERROR(s.status());
  s.Bind(1, job_id);
  s.Bind(2, after_trial_id);
  s.Bind(3, status);
  s.Bind(4, limit);
  std::vector<TrialRecord> trials;
  while (s.Step() == SQLITE_ROW) trials.push_back(ReadTrial(s));
  return trials;
}

Result<std::vector<TrialRecord>> Store::AllTrials(const std::string& job_id) {
  return ListTrials(job_id, 0, 0, 1 << 30);
}

Result<std::vector<TrialRecord>> Store::ListTrialsSorted(const std::string& job_id, int status,
                                                         const std::string& sort_key, bool descending,
                                                         int64_t offset, int limit, int64_t* total) {
  // Only these expressions ever reach the SQL text; the values are bound.
  static const std::vector<std::pair<std::string, std::string>> kSortExpressions = {
      {"trial_id", "trial_id"},   {"val_error", "val_error"}, {"peak_sram_bytes", "peak_sram_bytes"},
      {"flash_bytes", "flash_bytes"}, {"macs", "macs"},       {"latency_ms", "NULLIF(latency_ms, 0)"}};
  std::string expr;
  for (const auto& [key, e] : kSortExpressions) {
    if (key == sort_key) expr = e;
  }
  if (expr.empty()) return Status::Invalid("sort: '" + sort_key + "' is not a trial sort key");
  std::lock_guard<std::mutex> lock(mu_);
  {
    Statement count(db_, "SELECT COUNT(*) FROM trials WHERE job_id = ?1 AND (?2 = 0 OR status = ?2)");
    UNAS_RETURN_IF_ERROR(count.status());
    count.Bind(1, job_id);
    count.Bind(2, status);
    if (count.Step() != SQLITE_ROW) return Status::Internal(std::string("sqlite: ") + sqlite3_errmsg(db_));
    *total = count.Int(0);
  }
  const std::string sql = std::string("SELECT ") + kTrialColumns +
                          " FROM trials WHERE job_id = ?1 AND (?2 = 0 OR status = ?2) ORDER BY (" + expr +
                          ") IS NULL, " + expr + (descending ? " DESC" : " ASC") +
                          ", trial_id LIMIT ?3 OFFSET ?4";
  Statement s(db_, sql.c_str());
  UNAS_RETURN_IF_ERROR(s.status());
  s.Bind(1, job_id);
  s.Bind(2, status);
  s.Bind(3, limit);
  s.Bind(4, offset);
  std::vector<TrialRecord> trials;
  while (s.Step() == SQLITE_ROW) trials.push_back(ReadTrial(s));
  return trials;
}

Result<int> Store::RequeueLeasedTrials() {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(db_, "UPDATE trials SET status = ?1, lease_id = '', lease_expires_unix_ms = 0 WHERE status = ?2");
  UNAS_RETURN_IF_ERROR(s.status());
  s.Bind(1, static_cast<int>(TrialStatus::kPending));
  s.Bind(2, static_cast<int>(TrialStatus::kLeased));
  UNAS_RETURN_IF_ERROR(s.Run());
  return sqlite3_changes(db_);
}

}  // namespace unas::server
