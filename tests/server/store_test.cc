#include "server/store/store.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "tests/server/trial_records.h"
#include "tests/temp_dir.h"

namespace unas::server {
namespace {

std::string TempDb(const char* name) {
  static testing::TempDir dir("store");  // removed, with every database in it, when the tests exit
  const std::string path = dir / (std::string(name) + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) unlink((path + suffix).c_str());
  return path;
}

// Every integer field of a cost record, in CostSummary's order.
std::vector<int64_t> Figures(const Costs& c) {
  return {c.params, c.flash_bytes, c.macs, c.peak_sram_bytes, c.build_order_peak_bytes};
}

JobRecord Job(const std::string& id) {
  JobRecord j;
  j.job_id = id;
  j.name = "fashion";
  j.spec_json = "{}";
  j.created_unix_ms = 1000;
  return j;
}

TrialRecord Trial(const std::string& job, int64_t id, TrialStatus status) {
  TrialRecord t;
  t.job_id = job;
  t.trial_id = id;
  t.status = status;
  t.candidate_json = "{\"conv_blocks\":[]}";
  t.candidate_hash = "abc" + std::to_string(id);
  t.costs.params = 100;
  t.costs.flash_bytes = 200;
  t.costs.macs = 300;
  t.costs.peak_sram_bytes = 400;
  t.costs.build_order_peak_bytes = 500;
  t.costs.latency_ms = 1.5;
  t.created_unix_ms = 2000 + id;
  return t;
}

// A store in TempDb(`name`) holding job "j" and `trial` of it; null, with the
// test failed, when either cannot be inserted.
std::unique_ptr<Store> StoreWith(const char* name, const TrialRecord& trial) {
  auto store = std::move(Store::Open(TempDb(name)).value());
  const bool inserted = store->InsertJob(Job("j")).ok() && store->InsertTrial(trial).ok();
  EXPECT_TRUE(inserted) << "job j, trial " << trial.trial_id;
  if (!inserted) return nullptr;
  return store;
}

TEST(StoreTest, MigratesOnceAndReopens) {
  const std::string path = TempDb("migrate");
  {
    auto store = Store::Open(path);
    ASSERT_TRUE(store.ok()) << store.status().message();
    EXPECT_EQ((*store)->schema_version(), 9);
    ASSERT_TRUE((*store)->InsertJob(Job("j1")).ok());
  }
  auto again = Store::Open(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->schema_version(), 9);
  auto job = (*again)->GetJob("j1");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->name, "fashion");
  EXPECT_EQ(job->status, JobStatus::kQueued);
}

// A database as schema 5 left it: made by this store, then the columns of
// migration 6 dropped and its version row removed through a connection of
// the test's own (SQLite >= 3.35 drops columns).
void DowngradeToSchema5(const std::string& path) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(raw,
                              "ALTER TABLE trials DROP COLUMN proposal_id; ALTER TABLE trials DROP COLUMN rung; "
                              "ALTER TABLE trials DROP COLUMN promoted_from; ALTER TABLE trials DROP COLUMN final_round; "
                              "ALTER TABLE jobs DROP COLUMN final_round; ALTER TABLE jobs DROP COLUMN final_epochs; "
                              "ALTER TABLE trials DROP COLUMN objective_error; DROP TABLE datasets; "
                              "ALTER TABLE trials DROP COLUMN c_library_flash_bytes; "
                              "ALTER TABLE trials DROP COLUMN c_library_flash_note; "
                              "DELETE FROM schema_version WHERE version IN (6, 7, 8, 9);",
                              nullptr, nullptr, &error);
  const std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(raw);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

// Schema 7 fixes each completed trial's objective error from its job's
// stored spec: the int8 validation error unless the job asks for float, the
// float error when no int8 error was measured; unfinished trials get none.
TEST(StoreTest, SchemaSevenBackfillsTheObjectiveErrorFromTheJobsSpec) {
  const std::string path = TempDb("schema6");
  {
    auto store = std::move(Store::Open(path).value());
    JobRecord int8_job = Job("int8");
    JobRecord float_job = Job("float");
    float_job.spec_json = R"({"quantization":{"error_objective":"float"}})";
    ASSERT_TRUE(store->InsertJob(int8_job).ok());
    ASSERT_TRUE(store->InsertJob(float_job).ok());
    for (const char* job : {"int8", "float"}) {
      TrialRecord quantised = Trial(job, 1, TrialStatus::kCompleted);
      quantised.metrics = Metrics{};
      quantised.metrics->val_error = 0.25;
      quantised.metrics->int8_val_error = 0.375;
      TrialRecord float_only = Trial(job, 2, TrialStatus::kCompleted);
      float_only.metrics = Metrics{};
      float_only.metrics->val_error = 0.5;
      ASSERT_TRUE(store->InsertTrial(quantised).ok());
      ASSERT_TRUE(store->InsertTrial(float_only).ok());
      ASSERT_TRUE(store->InsertTrial(Trial(job, 3, TrialStatus::kPending)).ok());
    }
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  const int rc = sqlite3_exec(raw,
                              "ALTER TABLE trials DROP COLUMN objective_error; DROP TABLE datasets; "
                              "ALTER TABLE trials DROP COLUMN c_library_flash_bytes; "
                              "ALTER TABLE trials DROP COLUMN c_library_flash_note; "
                              "DELETE FROM schema_version WHERE version IN (7, 8, 9);",
                              nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  ASSERT_EQ(rc, SQLITE_OK);
  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_EQ((*store)->schema_version(), 9);
  const std::vector<std::optional<double>> int8_expected = {0.375, 0.5, std::nullopt};
  const std::vector<std::optional<double>> float_expected = {0.25, 0.5, std::nullopt};
  for (const auto& [job, expected] : {std::pair{"int8", int8_expected}, std::pair{"float", float_expected}}) {
    auto trials = (*store)->AllTrials(job);
    ASSERT_TRUE(trials.ok()) << trials.status().message();
    ASSERT_EQ(trials->size(), 3u);
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ((*trials)[i].objective_error, expected[i]) << job << " trial " << i + 1;
  }
}

TEST(StoreTest, SchemaFiveMigratesWithProposalIdsFromTrialIds) {
  const std::string path = TempDb("schema5");
  {
    auto store = std::move(Store::Open(path).value());
    JobRecord job = Job("old");
    job.status = JobStatus::kSucceeded;
    ASSERT_TRUE(store->InsertJob(job).ok());
    for (int64_t id : {1, 2, 7}) {
      TrialRecord t = Trial("old", id, TrialStatus::kCompleted);
      t.proposal_id = 40 + id;  // dropped with the column: migration 6 derives it again
      t.rung = 3;
      ASSERT_TRUE(store->InsertTrial(t).ok());
    }
  }
  DowngradeToSchema5(path);
  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_EQ((*store)->schema_version(), 9);
  auto trials = (*store)->AllTrials("old");
  ASSERT_TRUE(trials.ok()) << trials.status().message();
  ASSERT_EQ(trials->size(), 3u);
  std::vector<int64_t> proposals;
  for (const TrialRecord& t : *trials) {
    proposals.push_back(t.proposal_id);
    EXPECT_EQ(t.rung, 0);
    EXPECT_EQ(t.promoted_from, 0);
    EXPECT_EQ(t.final_round, 0);
    EXPECT_EQ(t.status, TrialStatus::kCompleted);
  }
  EXPECT_EQ(proposals, (std::vector<int64_t>{0, 1, 6}));
  auto job = (*store)->GetJob("old");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->final_round, 0);
  EXPECT_EQ(job->final_epochs, 0);
  EXPECT_EQ(job->status, JobStatus::kSucceeded);
}

TEST(StoreTest, MultiFidelityAndFinalRoundFieldsRoundTrip) {
  auto store = std::move(Store::Open(TempDb("fidelity")).value());
  JobRecord job = Job("j");
  ASSERT_TRUE(store->InsertJob(job).ok());
  job.final_round = 2;
  job.final_epochs = 30;
  ASSERT_TRUE(store->UpdateJob(job).ok());
  auto back_job = store->GetJob("j");
  ASSERT_TRUE(back_job.ok());
  EXPECT_EQ(back_job->final_round, 2);
  EXPECT_EQ(back_job->final_epochs, 30);

  TrialRecord promoted = Trial("j", 9, TrialStatus::kPending);
  promoted.proposal_id = 3;
  promoted.rung = 2;
  promoted.promoted_from = 4;
  ASSERT_TRUE(store->InsertTrial(promoted).ok());
  TrialRecord final_trial = Trial("j", 10, TrialStatus::kPending);
  final_trial.proposal_id = 3;
  final_trial.final_round = 2;
  ASSERT_TRUE(store->InsertTrial(final_trial).ok());
  final_trial.status = TrialStatus::kCompleted;
  final_trial.final_round = 1;  // UpdateTrial writes it too
  ASSERT_TRUE(store->UpdateTrial(final_trial).ok());

  auto a = store->GetTrial("j", 9), b = store->GetTrial("j", 10);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((std::vector<int64_t>{a->proposal_id, a->rung, a->promoted_from, a->final_round}),
            (std::vector<int64_t>{3, 2, 4, 0}));
  EXPECT_EQ((std::vector<int64_t>{b->proposal_id, b->rung, b->promoted_from, b->final_round}),
            (std::vector<int64_t>{3, 0, 0, 1}));
  EXPECT_EQ(b->status, TrialStatus::kCompleted);
}

TEST(StoreTest, DatabaseAndItsWalAreOwnerOnly) {
  const std::string path = TempDb("mode");
  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().message();
  ASSERT_TRUE((*store)->InsertJob(Job("j1")).ok());
  for (const std::string& file : {path, path + "-wal", path + "-shm"}) {
    struct stat st {};
    ASSERT_EQ(stat(file.c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
  }
}

TEST(StoreTest, TrialsRoundTripWithAndWithoutMetrics) {
  TrialRecord t = Trial("j", 1, TrialStatus::kPending);
  auto store = StoreWith("roundtrip", t);
  ASSERT_TRUE(store);
  auto back = store->GetTrial("j", 1);
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->metrics.has_value());
  EXPECT_EQ(Figures(back->costs), (std::vector<int64_t>{100, 200, 300, 400, 500}));
  ASSERT_TRUE(back->costs.latency_ms.has_value());
  EXPECT_DOUBLE_EQ(*back->costs.latency_ms, 1.5);

  t.status = TrialStatus::kCompleted;
  Metrics m = test_records::MakeMetrics(0.125, 0.13, 0.1875, std::nullopt);  // int8_test_error stays absent
  m.train_seconds = 12.5;
  m.samples_per_second = 3000.0;
  m.epochs = 3;
  m.c_library_flash_bytes = 97331;
  t.metrics = m;
  t.pruned_candidate_json = "{\"pruned\":true}";
  Costs pruned = t.costs;  // 100, 200, 300, 400, 500, then halved: distinct per column
  pruned.latency_ms.reset();  // not re-estimated for a pruned network
  for (int64_t* f : {&pruned.params, &pruned.flash_bytes, &pruned.macs, &pruned.peak_sram_bytes,
                     &pruned.build_order_peak_bytes}) {
    *f /= 2;
  }
  t.pruned_costs = pruned;
  t.attempts = 2;
  t.worker_id = "w1";
  t.finished_unix_ms = 9999;
  ASSERT_TRUE(store->UpdateTrial(t).ok());
  back = store->GetTrial("j", 1);
  ASSERT_TRUE(back->metrics.has_value());
  EXPECT_DOUBLE_EQ(back->metrics->val_error, 0.125);
  EXPECT_DOUBLE_EQ(back->metrics->test_error, 0.13);
  EXPECT_DOUBLE_EQ(back->metrics->train_seconds, 12.5);
  EXPECT_DOUBLE_EQ(back->metrics->samples_per_second, 3000.0);
  EXPECT_EQ(back->metrics->epochs, 3);
  EXPECT_EQ(back->metrics->int8_val_error, 0.1875);
  EXPECT_FALSE(back->metrics->int8_test_error.has_value());
  EXPECT_EQ(back->attempts, 2);
  EXPECT_EQ(back->worker_id, "w1");
  EXPECT_EQ(back->status, TrialStatus::kCompleted);
  EXPECT_EQ(back->pruned_candidate_json, "{\"pruned\":true}");
  ASSERT_TRUE(back->pruned_costs.has_value());
  EXPECT_EQ(Figures(*back->pruned_costs), (std::vector<int64_t>{50, 100, 150, 200, 250}));
  EXPECT_FALSE(back->pruned_costs->latency_ms.has_value());
  EXPECT_EQ(back->metrics->c_library_flash_bytes, 97331);
  EXPECT_EQ(back->metrics->c_library_flash_note, "");
  // Not measured: NULL and the reason.
  t.metrics->c_library_flash_bytes.reset();
  t.metrics->c_library_flash_note = "arm-none-eabi-gcc not found on the worker";
  ASSERT_TRUE(store->UpdateTrial(t).ok());
  back = store->GetTrial("j", 1);
  EXPECT_FALSE(back->metrics->c_library_flash_bytes.has_value());
  EXPECT_EQ(back->metrics->c_library_flash_note, "arm-none-eabi-gcc not found on the worker");
}

TEST(StoreTest, ListsTrialsByPageAndStatus) {
  auto store = std::move(Store::Open(TempDb("paging")).value());
  ASSERT_TRUE(store->InsertJob(Job("j")).ok());
  for (int i = 1; i <= 25; ++i) {
    ASSERT_TRUE(store->InsertTrial(Trial("j", i, i % 5 == 0 ? TrialStatus::kFailed : TrialStatus::kCompleted)).ok());
  }
  auto page1 = store->ListTrials("j", 0, 0, 10).value();
  ASSERT_EQ(page1.size(), 10u);
  EXPECT_EQ(page1.front().trial_id, 1);
  EXPECT_EQ(page1.back().trial_id, 10);
  auto page3 = store->ListTrials("j", 0, 20, 10).value();
  ASSERT_EQ(page3.size(), 5u);
  EXPECT_EQ(page3.back().trial_id, 25);
  auto failed = store->ListTrials("j", static_cast<int>(TrialStatus::kFailed), 0, 100).value();
  ASSERT_EQ(failed.size(), 5u);
  EXPECT_EQ(failed[1].trial_id, 10);
}

TEST(StoreTest, SortsAndPagesTrialsInSqlWithMissingValuesLast) {
  auto store = std::move(Store::Open(TempDb("sorted")).value());
  ASSERT_TRUE(store->InsertJob(Job("j")).ok());
  // Trial i: val_error from {0.3, 0.1, none, 0.1, 0.2}, latency 0 (none) for even ids.
  const double errors[] = {0.3, 0.1, -1, 0.1, 0.2};
  for (int i = 1; i <= 5; ++i) {
    TrialRecord t = Trial("j", i, errors[i - 1] < 0 ? TrialStatus::kFailed : TrialStatus::kCompleted);
    if (errors[i - 1] >= 0) t.metrics = Metrics{errors[i - 1], 0.5, 1, 1, 1};
    t.costs.latency_ms = i % 2 == 0 ? 0 : 10.0 - i;
    ASSERT_TRUE(store->InsertTrial(t).ok());
  }
  auto ids = [&](const std::string& key, bool desc, int64_t offset, int limit, int status = 0) {
    int64_t total = -1;
    std::vector<int64_t> out;
    for (const TrialRecord& t : store->ListTrialsSorted("j", status, key, desc, offset, limit, &total).value()) {
      out.push_back(t.trial_id);
    }
    out.push_back(-total);  // the count, negated, last
    return out;
  };
  EXPECT_EQ(ids("val_error", false, 0, 10), (std::vector<int64_t>{2, 4, 5, 1, 3, -5}));
  EXPECT_EQ(ids("val_error", true, 0, 10), (std::vector<int64_t>{1, 5, 2, 4, 3, -5}));  // none still last
  EXPECT_EQ(ids("val_error", false, 1, 2), (std::vector<int64_t>{4, 5, -5}));
  EXPECT_EQ(ids("latency_ms", false, 0, 10), (std::vector<int64_t>{5, 3, 1, 2, 4, -5}));  // 5, 7, 9 ms; then none
  EXPECT_EQ(ids("trial_id", true, 0, 3), (std::vector<int64_t>{5, 4, 3, -5}));
  EXPECT_EQ(ids("trial_id", false, 0, 10, static_cast<int>(TrialStatus::kFailed)), (std::vector<int64_t>{3, -1}));
  int64_t total = 0;
  EXPECT_EQ(store->ListTrialsSorted("j", 0, "name; DROP TABLE trials", false, 0, 1, &total).status().message(),
            "sort: 'name; DROP TABLE trials' is not a trial sort key");
}

TEST(StoreTest, RequeuesLeasedTrialsAfterRestart) {
  const std::string path = TempDb("requeue");
  {
    auto store = std::move(Store::Open(path).value());
    ASSERT_TRUE(store->InsertJob(Job("j")).ok());
    TrialRecord leased = Trial("j", 1, TrialStatus::kLeased);
    leased.lease_id = "L1";
    ASSERT_TRUE(store->InsertTrial(leased).ok());
    ASSERT_TRUE(store->InsertTrial(Trial("j", 2, TrialStatus::kCompleted)).ok());
  }
  auto store = std::move(Store::Open(path).value());
  EXPECT_EQ(store->RequeueLeasedTrials().value(), 1);
  EXPECT_EQ(store->GetTrial("j", 1)->status, TrialStatus::kPending);
  EXPECT_EQ(store->GetTrial("j", 1)->lease_id, "");
  EXPECT_EQ(store->GetTrial("j", 2)->status, TrialStatus::kCompleted);
}

TEST(StoreTest, ErrorsNameWhatIsMissing) {
  auto store = std::move(Store::Open(TempDb("errors")).value());
  EXPECT_EQ(store->GetJob("nope").status().message(), "no job 'nope'");
  EXPECT_EQ(store->GetTrial("nope", 3).status().message(), "no trial 3 in job 'nope'");
  EXPECT_EQ(store->UpdateTrial(Trial("nope", 3, TrialStatus::kPending)).code(), StatusCode::kNotFound);
  ASSERT_TRUE(store->InsertJob(Job("j")).ok());
  EXPECT_FALSE(store->InsertJob(Job("j")).ok());  // duplicate id
  auto bad = Store::Open("/nonexistent-dir/x.db");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("cannot open database /nonexistent-dir/x.db"), std::string::npos);
}

TEST(StoreTest, KeepsWeightsWithTheFinishedTrial) {
  TrialRecord t = Trial("j", 1, TrialStatus::kLeased);
  auto store = StoreWith("weights", t);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->GetWeights("j", 1).status().code(), StatusCode::kNotFound);
  t.status = TrialStatus::kCompleted;
  const std::string weights("\0\1binary\xff", 9);
  ASSERT_TRUE(store->FinishTrial(t, weights).ok());
  EXPECT_EQ(store->GetWeights("j", 1).value(), weights);
  EXPECT_EQ(store->GetTrial("j", 1)->status, TrialStatus::kCompleted);
  // A trial that does not exist: nothing is written, weights included.
  EXPECT_FALSE(store->FinishTrial(Trial("j", 7, TrialStatus::kCompleted), weights).ok());
  EXPECT_EQ(store->GetWeights("j", 7).status().code(), StatusCode::kNotFound);
  // No model given: none stored, has_tflite false.
  EXPECT_FALSE(store->GetTrial("j", 1)->has_tflite);
  EXPECT_EQ(store->GetModelTflite("j", 1).status().code(), StatusCode::kNotFound);
}

TEST(StoreTest, KeepsTheInt8ModelWithTheFinishedTrial) {
  TrialRecord t = Trial("j", 1, TrialStatus::kLeased);
  auto store = StoreWith("model", t);
  ASSERT_TRUE(store);
  t.status = TrialStatus::kCompleted;
  const std::string model("\x1c\0\0\0TFL3\0\xff", 10);
  ASSERT_TRUE(store->FinishTrial(t, "", model).ok());
  EXPECT_EQ(store->GetModelTflite("j", 1).value(), model);
  EXPECT_TRUE(store->GetTrial("j", 1)->has_tflite);
  EXPECT_EQ(store->GetWeights("j", 1).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store->ListTrials("j", 0, 0, 10).value().at(0).has_tflite);
  // A trial that does not exist: no model is written either.
  EXPECT_FALSE(store->FinishTrial(Trial("j", 7, TrialStatus::kCompleted), "", model).ok());
  EXPECT_EQ(store->GetModelTflite("j", 7).status().code(), StatusCode::kNotFound);
}

TEST(StoreTest, TransactionRollsBackWhenOneUpdateFails) {
  TrialRecord a = Trial("j", 1, TrialStatus::kPending);
  auto store = StoreWith("tx", a);
  ASSERT_TRUE(store);
  TrialRecord missing = Trial("j", 99, TrialStatus::kCompleted);
  a.status = TrialStatus::kCompleted;
  EXPECT_FALSE(store->UpdateTrialsAndJob({a, missing}, nullptr).ok());
  EXPECT_EQ(store->GetTrial("j", 1)->status, TrialStatus::kPending);  // nothing half-written
}

// Rows of schema_version, read through a connection of its own.
int SchemaVersionRows(const std::string& path) {
  sqlite3* raw = nullptr;
  sqlite3_stmt* rows = nullptr;
  int count = -1;
  if (sqlite3_open(path.c_str(), &raw) == SQLITE_OK &&
      sqlite3_prepare_v2(raw, "SELECT COUNT(*) FROM schema_version", -1, &rows, nullptr) == SQLITE_OK &&
      sqlite3_step(rows) == SQLITE_ROW) {
    count = sqlite3_column_int(rows, 0);
  }
  sqlite3_finalize(rows);
  sqlite3_close(raw);
  return count;
}

TEST(StoreTest, CheckWritableBesideAServingConnectionLeavesTheDataAsItWas) {
  const std::string path = TempDb("writable");
  auto serving = std::move(Store::Open(path).value());
  ASSERT_TRUE(serving->InsertJob(Job("j")).ok());
  const int versions = SchemaVersionRows(path);
  ASSERT_GE(versions, 1);
  auto checker = std::move(Store::Open(path).value());  // what `unas health --data-dir` opens
  ASSERT_TRUE(checker->CheckWritable().ok());
  EXPECT_EQ(SchemaVersionRows(path), versions);  // the probe's row is gone again
  ASSERT_TRUE(serving->InsertJob(Job("k")).ok());  // the serving connection still writes
  EXPECT_EQ(checker->ListJobs()->size(), 2u);
  EXPECT_EQ(serving->ListJobs()->size(), 2u);
}

TEST(StoreTest, CheckWritableFailsWhileAnotherWriterHoldsTheLock) {
  const std::string path = TempDb("locked");
  auto store = std::move(Store::Open(path).value());
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  const auto start = std::chrono::steady_clock::now();
  const Status s = store->CheckWritable();
  const auto waited_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "sqlite: database is locked");
  EXPECT_GE(waited_ms, 4500);  // it waited for the busy timeout (5 s) first
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_TRUE(store->CheckWritable().ok());
}

TEST(StoreTest, BackupWhileAnotherConnectionWritesIsAConsistentCopy) {
  const std::string path = TempDb("backup_src");
  const std::string copy = TempDb("backup_copy");
  auto serving = std::move(Store::Open(path).value());
  ASSERT_TRUE(serving->InsertJob(Job("j")).ok());
  for (int64_t id = 1; id <= 3; ++id) ASSERT_TRUE(serving->InsertTrial(Trial("j", id, TrialStatus::kPending)).ok());
  auto backup_side = std::move(Store::Open(path).value());  // what `unas backup` opens
  ASSERT_TRUE(backup_side->BackupTo(copy).ok());
  ASSERT_TRUE(serving->InsertTrial(Trial("j", 4, TrialStatus::kPending)).ok());  // after the snapshot
  EXPECT_EQ(backup_side->BackupTo(copy).message(), "backup: " + copy + " already exists");
  auto restored = std::move(Store::Open(copy).value());
  EXPECT_EQ(restored->GetJob("j")->name, "fashion");
  EXPECT_EQ(restored->AllTrials("j")->size(), 3u);
  EXPECT_EQ(serving->AllTrials("j")->size(), 4u);
}

TEST(StoreTest, RegisteredDataSetsRoundTripAndANameIsTakenOnce) {
  const std::string path = TempDb("datasets");
  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok());
  DatasetRecord d;
  d.name = "walk";
  d.sha256 = std::string(64, 'c');
  d.kind = "csv";
  d.entry = "walk.csv";
  d.num_classes = 2;
  d.class_names = {"run", "walk"};
  d.input_height = 3;
  d.input_width = 1;
  d.input_channels = 1;
  d.file_count = 1;
  d.content_bytes = 100;
  d.pack_bytes = 125;
  d.created_unix_ms = 42;
  ASSERT_TRUE((*store)->InsertDataset(d).ok());
  EXPECT_EQ((*store)->InsertDataset(d).code(), StatusCode::kFailedPrecondition);
  DatasetRecord other = d;
  other.name = "alpha";
  ASSERT_TRUE((*store)->InsertDataset(other).ok());
  auto got = (*store)->GetDataset("walk");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->sha256, d.sha256);
  EXPECT_EQ(got->entry, "walk.csv");
  EXPECT_EQ(got->class_names, d.class_names);
  EXPECT_EQ(got->input_height, 3);
  EXPECT_EQ(got->pack_bytes, 125);
  EXPECT_EQ(got->created_unix_ms, 42);
  auto all = (*store)->ListDatasets();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "alpha");  // by name
  ASSERT_TRUE((*store)->DeleteDataset("walk").ok());
  EXPECT_EQ((*store)->DeleteDataset("walk").code(), StatusCode::kNotFound);
  EXPECT_EQ((*store)->GetDataset("walk").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace unas::server
