#include "server/store/store.h"

#include <fcntl.h>
#include <unistd.h>

#include <optional>

#include <nlohmann/json.hpp>

#include "base/json_limits.h"
#include "server/store/sqlite_statement.h"

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
      reused INTEGER NOT NULL DEFAULT 0,  -- unused since schema 4, always 0
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
    // 4: the int8-quantised network's errors (NULL until a worker quantises).
    R"sql(
    ALTER TABLE trials ADD COLUMN int8_val_error REAL;
    ALTER TABLE trials ADD COLUMN int8_test_error REAL;
    )sql",
    // 5: the int8 model (.tflite) of a trial that was quantised, kept apart
    // like its weights; has_tflite says whether the trial has one.
    R"sql(
    CREATE TABLE trial_models (
      job_id TEXT NOT NULL,
      trial_id INTEGER NOT NULL,
      tflite BLOB NOT NULL,
      PRIMARY KEY (job_id, trial_id),
      FOREIGN KEY (job_id, trial_id) REFERENCES trials(job_id, trial_id)
    );
    ALTER TABLE trials ADD COLUMN has_tflite INTEGER NOT NULL DEFAULT 0;
    )sql",
    // 6: multi-fidelity search and final retraining. Before it every trial
    // was its own proposal, with trial id = proposal id + 1.
    R"sql(
    ALTER TABLE trials ADD COLUMN proposal_id INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE trials ADD COLUMN rung INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE trials ADD COLUMN promoted_from INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE trials ADD COLUMN final_round INTEGER NOT NULL DEFAULT 0;
    UPDATE trials SET proposal_id = trial_id - 1;
    ALTER TABLE jobs ADD COLUMN final_round INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN final_epochs INTEGER NOT NULL DEFAULT 0;
    )sql",
    // 7: the error the job's objective names, fixed at completion; older
    // trials get it from their job's stored spec (int8 unless it says float).
    R"sql(
    ALTER TABLE trials ADD COLUMN objective_error REAL;
    UPDATE trials SET objective_error = CASE
        WHEN (SELECT json_extract(spec_json, '$.quantization.error_objective') FROM jobs
              WHERE jobs.job_id = trials.job_id) = 'float' THEN val_error
        ELSE COALESCE(int8_val_error, val_error) END
      WHERE status = 3 AND val_error IS NOT NULL;
    )sql",
    // 8: registered data sets (unas data add); the files live under
    // DATA_DIR/datasets/<sha256>.
    R"sql(
    CREATE TABLE datasets (
      name TEXT PRIMARY KEY,
      sha256 TEXT NOT NULL,
      kind TEXT NOT NULL,
      entry TEXT NOT NULL,
      num_classes INTEGER NOT NULL,
      class_names_json TEXT NOT NULL,
      input_height INTEGER NOT NULL,
      input_width INTEGER NOT NULL,
      input_channels INTEGER NOT NULL,
      file_count INTEGER NOT NULL,
      content_bytes INTEGER NOT NULL,
      pack_bytes INTEGER NOT NULL,
      created_unix_ms INTEGER NOT NULL
    );
    )sql",
    // 9: the flash of the int8 model's C library as the worker measured it
    // (NULL for older trials and when it could not; the note says why).
    R"sql(
    ALTER TABLE trials ADD COLUMN c_library_flash_bytes INTEGER;
    ALTER TABLE trials ADD COLUMN c_library_flash_note TEXT;
    )sql",
};

using sql::Column;
using sql::Plain;
using sql::Statement;

// A field of the trial's Metrics; the row has none (NULLs) when the trial has none.
template <typename Field>
Column<TrialRecord> Measured(const char* name, Field field) {
  return {name,
          [field](Statement& s, int i, const TrialRecord& t) {
            if (t.metrics) s.Bind(i, field(const_cast<Metrics&>(*t.metrics)));
            else s.BindNull(i);
          },
          [field](const Statement& s, int i, TrialRecord& t) {
            if (s.IsNull(i)) return;
            if (!t.metrics) t.metrics.emplace();
            s.Read(i, &field(*t.metrics));
          }};
}

// The pruned network's costs, as JSON text ('' when the trial was not pruned).
Column<TrialRecord> PrunedCosts() {
  return {"pruned_costs_json",
          [](Statement& s, int i, const TrialRecord& t) {
            if (!t.pruned_costs) return s.Bind(i, std::string());
            const Costs& c = *t.pruned_costs;
            s.Bind(i, nlohmann::json{{"params", c.params},
                                     {"flash_bytes", c.flash_bytes},
                                     {"macs", c.macs},
                                     {"peak_sram_bytes", c.peak_sram_bytes},
                                     {"build_order_peak_sram_bytes", c.build_order_peak_bytes}}
                          .dump());
          },
          [](const Statement& s, int i, TrialRecord& t) {
            std::string text;
            s.Read(i, &text);
            if (text.empty() || !CheckJsonLimits(text).ok()) return;
            const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
            if (!j.is_object()) return;
            Costs c;
            c.params = j.value("params", int64_t{0});
            c.flash_bytes = j.value("flash_bytes", int64_t{0});
            c.macs = j.value("macs", int64_t{0});
            c.peak_sram_bytes = j.value("peak_sram_bytes", int64_t{0});
            c.build_order_peak_bytes = j.value("build_order_peak_sram_bytes", int64_t{0});
            t.pruned_costs = c;
          }};
}

// latency_ms is NOT NULL in schema 1: 0 stands for "no estimate".
Column<TrialRecord> Latency() {
  return {"latency_ms", [](Statement& s, int i, const TrialRecord& t) { s.Bind(i, t.costs.latency_ms.value_or(0.0)); },
          [](const Statement& s, int i, TrialRecord& t) {
            double v = 0;
            s.Read(i, &v);
            if (v > 0) t.costs.latency_ms = v;
            else t.costs.latency_ms.reset();
          }};
}

// Every column of the trials table; the first two are the primary key. A
// new field is one line here and one column in a migration.
const std::vector<Column<TrialRecord>>& TrialColumns() {
  using T = TrialRecord;
  static const std::vector<Column<TrialRecord>> columns = {
      Plain<T>("job_id", [](T& t) -> auto& { return t.job_id; }),
      Plain<T>("trial_id", [](T& t) -> auto& { return t.trial_id; }),
      sql::EnumInt<T, TrialStatus>("status", [](T& t) -> auto& { return t.status; }),
      Plain<T>("candidate_json", [](T& t) -> auto& { return t.candidate_json; }),
      Plain<T>("candidate_hash", [](T& t) -> auto& { return t.candidate_hash; }),
      Plain<T>("params", [](T& t) -> auto& { return t.costs.params; }),
      Plain<T>("flash_bytes", [](T& t) -> auto& { return t.costs.flash_bytes; }),
      Plain<T>("macs", [](T& t) -> auto& { return t.costs.macs; }),
      Plain<T>("peak_sram_bytes", [](T& t) -> auto& { return t.costs.peak_sram_bytes; }),
      Plain<T>("build_order_peak_sram_bytes", [](T& t) -> auto& { return t.costs.build_order_peak_bytes; }),
      Latency(),
      Measured("val_error", [](Metrics& m) -> auto& { return m.val_error; }),
      Measured("test_error", [](Metrics& m) -> auto& { return m.test_error; }),
      Measured("train_seconds", [](Metrics& m) -> auto& { return m.train_seconds; }),
      Measured("samples_per_second", [](Metrics& m) -> auto& { return m.samples_per_second; }),
      Measured("epochs", [](Metrics& m) -> auto& { return m.epochs; }),
      Measured("int8_val_error", [](Metrics& m) -> auto& { return m.int8_val_error; }),
      Measured("int8_test_error", [](Metrics& m) -> auto& { return m.int8_test_error; }),
      Measured("c_library_flash_bytes", [](Metrics& m) -> auto& { return m.c_library_flash_bytes; }),
      Measured("c_library_flash_note", [](Metrics& m) -> auto& { return m.c_library_flash_note; }),
      Plain<T>("attempts", [](T& t) -> auto& { return t.attempts; }),
      Plain<T>("worker_id", [](T& t) -> auto& { return t.worker_id; }),
      Plain<T>("lease_id", [](T& t) -> auto& { return t.lease_id; }),
      Plain<T>("lease_expires_unix_ms", [](T& t) -> auto& { return t.lease_expires_unix_ms; }),
      Plain<T>("error", [](T& t) -> auto& { return t.error; }),
      Plain<T>("created_unix_ms", [](T& t) -> auto& { return t.created_unix_ms; }),
      Plain<T>("started_unix_ms", [](T& t) -> auto& { return t.started_unix_ms; }),
      Plain<T>("finished_unix_ms", [](T& t) -> auto& { return t.finished_unix_ms; }),
      Plain<T>("rejected_before", [](T& t) -> auto& { return t.rejected_before; }),
      Plain<T>("told_seq", [](T& t) -> auto& { return t.told_seq; }),
      Plain<T>("pruned_candidate_json", [](T& t) -> auto& { return t.pruned_candidate_json; }),
      PrunedCosts(),
      Plain<T>("has_tflite", [](T& t) -> auto& { return t.has_tflite; }),
      Plain<T>("proposal_id", [](T& t) -> auto& { return t.proposal_id; }),
      Plain<T>("rung", [](T& t) -> auto& { return t.rung; }),
      Plain<T>("promoted_from", [](T& t) -> auto& { return t.promoted_from; }),
      Plain<T>("final_round", [](T& t) -> auto& { return t.final_round; }),
      Plain<T>("objective_error", [](T& t) -> auto& { return t.objective_error; }),
  };
  return columns;
}

// Every column of the jobs table; the first is the primary key.
const std::vector<Column<JobRecord>>& JobColumns() {
  using J = JobRecord;
  static const std::vector<Column<JobRecord>> columns = {
      Plain<J>("job_id", [](J& j) -> auto& { return j.job_id; }),
      Plain<J>("name", [](J& j) -> auto& { return j.name; }),
      sql::EnumInt<J, JobStatus>("status", [](J& j) -> auto& { return j.status; }),
      Plain<J>("spec_json", [](J& j) -> auto& { return j.spec_json; }),
      Plain<J>("infeasible_rejected", [](J& j) -> auto& { return j.infeasible_rejected; }),
      Plain<J>("error", [](J& j) -> auto& { return j.error; }),
      Plain<J>("created_unix_ms", [](J& j) -> auto& { return j.created_unix_ms; }),
      Plain<J>("finished_unix_ms", [](J& j) -> auto& { return j.finished_unix_ms; }),
      Plain<J>("final_round", [](J& j) -> auto& { return j.final_round; }),
      Plain<J>("final_epochs", [](J& j) -> auto& { return j.final_epochs; }),
  };
  return columns;
}

std::string SelectTrials(const std::string& where) {
  return "SELECT " + sql::Names(TrialColumns()) + " FROM trials " + where;
}

const std::vector<Column<DatasetRecord>>& DatasetColumns() {
  using D = DatasetRecord;
  static const std::vector<Column<DatasetRecord>> columns = {
      Plain<D>("name", [](D& d) -> auto& { return d.name; }),
      Plain<D>("sha256", [](D& d) -> auto& { return d.sha256; }),
      Plain<D>("kind", [](D& d) -> auto& { return d.kind; }),
      Plain<D>("entry", [](D& d) -> auto& { return d.entry; }),
      Plain<D>("num_classes", [](D& d) -> auto& { return d.num_classes; }),
      // The class names as a JSON array of strings.
      {"class_names_json",
       [](Statement& s, int i, const DatasetRecord& d) { s.Bind(i, nlohmann::json(d.class_names).dump()); },
       [](const Statement& s, int i, DatasetRecord& d) {
         std::string text;
         s.Read(i, &text);
         auto j = nlohmann::json::parse(text, nullptr, false);
         if (j.is_array()) {
           for (const auto& v : j) {
             if (v.is_string()) d.class_names.push_back(v.get<std::string>());
           }
         }
       }},
      Plain<D>("input_height", [](D& d) -> auto& { return d.input_height; }),
      Plain<D>("input_width", [](D& d) -> auto& { return d.input_width; }),
      Plain<D>("input_channels", [](D& d) -> auto& { return d.input_channels; }),
      Plain<D>("file_count", [](D& d) -> auto& { return d.file_count; }),
      Plain<D>("content_bytes", [](D& d) -> auto& { return d.content_bytes; }),
      Plain<D>("pack_bytes", [](D& d) -> auto& { return d.pack_bytes; }),
      Plain<D>("created_unix_ms", [](D& d) -> auto& { return d.created_unix_ms; }),
  };
  return columns;
}

std::string SelectJobs(const std::string& where) { return "SELECT " + sql::Names(JobColumns()) + " FROM jobs " + where; }

}  // namespace

// Both enums number their values 1..5 (the proto's and the store's integers).
const char* JobStatusName(JobStatus s) {
  static const char* const kNames[] = {"?", "queued", "running", "succeeded", "failed", "cancelled"};
  const int i = static_cast<int>(s);
  return i >= 1 && i <= 5 ? kNames[i] : kNames[0];
}

const char* TrialStatusName(TrialStatus s) {
  static const char* const kNames[] = {"?", "pending", "leased", "completed", "failed", "cancelled"};
  const int i = static_cast<int>(s);
  return i >= 1 && i <= 5 ? kNames[i] : kNames[0];
}

bool IsFinal(JobStatus s) { return s == JobStatus::kSucceeded || s == JobStatus::kFailed || s == JobStatus::kCancelled; }
bool IsFinal(TrialStatus s) {
  return s == TrialStatus::kCompleted || s == TrialStatus::kFailed || s == TrialStatus::kCancelled;
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, StoreOptions options) {
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
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  UNAS_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
  UNAS_RETURN_IF_ERROR(store->Migrate());
  return store;
}

Store::Store(sqlite3* db) : db_(db), cache_(std::make_unique<sql::StatementCache>(db)) {}

Store::~Store() {
  cache_.reset();  // its statements are finalised before the connection closes
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

Status Store::Step(const char* sql) {
  Statement s(*cache_, sql);
  UNAS_RETURN_IF_ERROR(s.status());
  return s.Run();
}

Status Store::InTransaction(const std::function<Status()>& body) {
  UNAS_RETURN_IF_ERROR(Step("BEGIN IMMEDIATE"));
  Status s = body();
  if (s.ok()) s = Step("COMMIT");
  if (s.ok()) return s;
  // A failed COMMIT (e.g. busy) leaves the transaction open: roll back either way.
  if (Status rollback = Step("ROLLBACK"); !rollback.ok() && sqlite3_get_autocommit(db_) == 0) {
    return Status(s.code(), s.message() + " (and the rollback failed: " + rollback.message() + ")");
  }
  return s;
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
    Statement s(*cache_, "SELECT MAX(version) FROM schema_version");
    UNAS_RETURN_IF_ERROR(s.status());
    UNAS_ASSIGN_OR_RETURN(bool row, s.NextRow());
    if (row && !s.IsNull(0)) s.Read(0, &schema_version_);
  }
  const int latest = static_cast<int>(sizeof kMigrations / sizeof kMigrations[0]);
  if (schema_version_ > latest) {
    return Status::FailedPrecondition("database schema version " + std::to_string(schema_version_) +
                                      " is newer than this unas understands (" + std::to_string(latest) +
                                      "); upgrade unas");
  }
  for (int v = schema_version_; v < latest; ++v) {
    Status s = InTransaction([&] {
      UNAS_RETURN_IF_ERROR(Exec(kMigrations[v]));
      return Exec("INSERT INTO schema_version(version) VALUES (" + std::to_string(v + 1) + ")");
    });
    if (!s.ok()) return s.WithContext("migration " + std::to_string(v + 1));
    schema_version_ = v + 1;
  }
  return Status::Ok();
}

Status Store::WriteJob(const JobRecord& job, bool insert) {
  static const sql::Writer<JobRecord> writer("jobs", JobColumns(), 1);
  UNAS_RETURN_IF_ERROR(writer.Write(*cache_, job, insert));
  if (!insert && sqlite3_changes(db_) != 1) return Status::NotFound("no job '" + job.job_id + "'");
  return Status::Ok();
}

Status Store::WriteTrial(const TrialRecord& t, bool insert) {
  static const sql::Writer<TrialRecord> writer("trials", TrialColumns(), 2);
  UNAS_RETURN_IF_ERROR(writer.Write(*cache_, t, insert));
  if (!insert && sqlite3_changes(db_) != 1) {
    return Status::NotFound("no trial " + std::to_string(t.trial_id) + " in job " + t.job_id);
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
  Statement s(*cache_, SelectJobs("WHERE job_id = ?1"));
  s.Bind(1, job_id);
  return sql::ReadOne(s, JobColumns(), Status::NotFound("no job '" + job_id + "'"));
}

Result<std::vector<JobRecord>> Store::ListJobs() {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(*cache_, SelectJobs("ORDER BY created_unix_ms, job_id"));
  return sql::ReadRows(s, JobColumns());
}

Status Store::InsertDataset(const DatasetRecord& dataset) {
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction([&]() -> Status {
    Statement exists(*cache_, "SELECT 1 FROM datasets WHERE name = ?1");
    exists.Bind(1, dataset.name);
    UNAS_RETURN_IF_ERROR(exists.status());
    UNAS_ASSIGN_OR_RETURN(bool taken, exists.NextRow());
    if (taken) return Status::FailedPrecondition("data set '" + dataset.name + "' exists; remove it first");
    static const sql::Writer<DatasetRecord> writer("datasets", DatasetColumns(), 1);
    return writer.Write(*cache_, dataset, true);
  });
}

Result<DatasetRecord> Store::GetDataset(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(*cache_, "SELECT " + sql::Names(DatasetColumns()) + " FROM datasets WHERE name = ?1");
  s.Bind(1, name);
  return sql::ReadOne(s, DatasetColumns(), Status::NotFound("no data set named '" + name + "'"));
}

Result<std::vector<DatasetRecord>> Store::ListDatasets() {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(*cache_, "SELECT " + sql::Names(DatasetColumns()) + " FROM datasets ORDER BY name");
  return sql::ReadRows(s, DatasetColumns());
}

Status Store::DeleteDataset(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(*cache_, "DELETE FROM datasets WHERE name = ?1");
  s.Bind(1, name);
  UNAS_RETURN_IF_ERROR(s.Run());
  if (sqlite3_changes(db_) != 1) return Status::NotFound("no data set named '" + name + "'");
  return Status::Ok();
}

Status Store::InsertTrial(const TrialRecord& trial) {
  std::lock_guard<std::mutex> lock(mu_);
  return WriteTrial(trial, true);
}

Status Store::InsertTrialAndUpdateJob(const TrialRecord& trial, const JobRecord* job) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!job) return WriteTrial(trial, true);  // one statement is its own transaction
  return InTransaction([&] {
    UNAS_RETURN_IF_ERROR(WriteTrial(trial, true));
    return WriteJob(*job, false);
  });
}

Status Store::InsertTrialsAndUpdateJob(const std::vector<TrialRecord>& trials, const JobRecord* job) {
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction([&] {
    for (const TrialRecord& t : trials) UNAS_RETURN_IF_ERROR(WriteTrial(t, true));
    return job ? WriteJob(*job, false) : Status::Ok();
  });
}

Status Store::UpdateTrial(const TrialRecord& trial) {
  std::lock_guard<std::mutex> lock(mu_);
  return WriteTrial(trial, false);
}

Status Store::UpdateTrialsAndJob(const std::vector<TrialRecord>& trials, const JobRecord* job) {
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction([&] {
    for (const TrialRecord& t : trials) UNAS_RETURN_IF_ERROR(WriteTrial(t, false));
    return job ? WriteJob(*job, false) : Status::Ok();
  });
}

Status Store::FinishTrial(const TrialRecord& trial, const std::string& weights, const std::string& model_tflite) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool has_tflite = !model_tflite.empty();
  std::optional<TrialRecord> corrected;
  if (trial.has_tflite != has_tflite) {
    corrected = trial;
    corrected->has_tflite = has_tflite;
  }
  const TrialRecord& row = corrected ? *corrected : trial;
  // Without blobs the one UPDATE is its own transaction: BEGIN and COMMIT
  // would only add two statements to the commit it makes anyway.
  if (weights.empty() && !has_tflite) return WriteTrial(row, false);
  return InTransaction([&] {
    UNAS_RETURN_IF_ERROR(WriteTrial(row, false));
    auto put = [&](const char* sql, const std::string& blob) {
      Statement w(*cache_, sql);
      UNAS_RETURN_IF_ERROR(w.status());
      w.Bind(1, trial.job_id);
      w.Bind(2, trial.trial_id);
      w.BindBlob(3, blob);
      return w.Run();
    };
    if (!weights.empty()) {
      UNAS_RETURN_IF_ERROR(put("INSERT OR REPLACE INTO trial_weights(job_id, trial_id, weights) VALUES (?1, ?2, ?3)",
                               weights));
    }
    if (model_tflite.empty()) return Status::Ok();
    return put("INSERT OR REPLACE INTO trial_models(job_id, trial_id, tflite) VALUES (?1, ?2, ?3)", model_tflite);
  });
}

Status Store::CheckWritable() {
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction([&] {
    UNAS_RETURN_IF_ERROR(Exec("INSERT INTO schema_version(version) VALUES (-1)"));
    return Exec("DELETE FROM schema_version WHERE rowid = last_insert_rowid()");
  });
}

Result<std::string> Store::TrialBlob(const char* sql, const std::string& job_id, int64_t trial_id,
                                     const char* missing) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(*cache_, sql);
  UNAS_RETURN_IF_ERROR(s.status());
  s.Bind(1, job_id);
  s.Bind(2, trial_id);
  UNAS_ASSIGN_OR_RETURN(bool row, s.NextRow());
  if (!row) return Status::NotFound("trial " + std::to_string(trial_id) + " of job '" + job_id + "' " + missing);
  return s.Blob(0);
}

Result<std::string> Store::GetWeights(const std::string& job_id, int64_t trial_id) {
  return TrialBlob("SELECT weights FROM trial_weights WHERE job_id = ?1 AND trial_id = ?2", job_id, trial_id,
                   "kept no weights (synthetic, failed, or too large to keep)");
}

Result<std::string> Store::GetModelTflite(const std::string& job_id, int64_t trial_id) {
  return TrialBlob("SELECT tflite FROM trial_models WHERE job_id = ?1 AND trial_id = ?2", job_id, trial_id,
                   "has no int8 model (not quantised, synthetic, failed, or quantisation failed)");
}

Result<TrialRecord> Store::GetTrial(const std::string& job_id, int64_t trial_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(*cache_, SelectTrials("WHERE job_id = ?1 AND trial_id = ?2"));
  s.Bind(1, job_id);
  s.Bind(2, trial_id);
  return sql::ReadOne(s, TrialColumns(),
                 Status::NotFound("no trial " + std::to_string(trial_id) + " in job '" + job_id + "'"));
}

Result<std::vector<TrialRecord>> Store::ListTrials(const std::string& job_id, int status, int64_t after_trial_id,
                                                   int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(*cache_, SelectTrials("WHERE job_id = ?1 AND trial_id > ?2 AND (?3 = 0 OR status = ?3) "
                                "ORDER BY trial_id LIMIT ?4"));
  s.Bind(1, job_id);
  s.Bind(2, after_trial_id);
  s.Bind(3, status);
  s.Bind(4, limit);
  return sql::ReadRows(s, TrialColumns());
}

Result<std::vector<TrialRecord>> Store::AllTrials(const std::string& job_id) {
  return ListTrials(job_id, 0, 0, 1 << 30);
}

Result<std::vector<TrialRecord>> Store::ListTrialsSorted(const std::string& job_id, int status,
                                                         const std::string& sort_key, bool descending,
                                                         int64_t offset, int limit, int64_t* total) {
  // Only these expressions ever reach the SQL text; the values are bound.
  std::string expr;
  for (const auto& [key, e] : kTrialSortKeys) {
    if (key == sort_key) expr = e;
  }
  if (expr.empty()) return Status::Invalid("sort: '" + sort_key + "' is not a trial sort key");
  std::lock_guard<std::mutex> lock(mu_);
  {
    Statement count(*cache_, "SELECT COUNT(*) FROM trials WHERE job_id = ?1 AND (?2 = 0 OR status = ?2)");
    UNAS_RETURN_IF_ERROR(count.status());
    count.Bind(1, job_id);
    count.Bind(2, status);
    UNAS_ASSIGN_OR_RETURN(bool row, count.NextRow());
    if (!row) return Status::Internal("sqlite: COUNT(*) returned no row");
    count.Read(0, total);
  }
  Statement s(*cache_, SelectTrials("WHERE job_id = ?1 AND (?2 = 0 OR status = ?2) ORDER BY (" + expr + ") IS NULL, " +
                                expr + (descending ? " DESC" : " ASC") + ", trial_id LIMIT ?3 OFFSET ?4"));
  s.Bind(1, job_id);
  s.Bind(2, status);
  s.Bind(3, limit);
  s.Bind(4, offset);
  return sql::ReadRows(s, TrialColumns());
}

Result<int> Store::RequeueLeasedTrials() {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(*cache_, "UPDATE trials SET status = ?1, lease_id = '', lease_expires_unix_ms = 0 WHERE status = ?2");
  UNAS_RETURN_IF_ERROR(s.status());
  s.Bind(1, static_cast<int>(TrialStatus::kPending));
  s.Bind(2, static_cast<int>(TrialStatus::kLeased));
  UNAS_RETURN_IF_ERROR(s.Run());
  return sqlite3_changes(db_);
}

}  // namespace unas::server
