// The coordinator against issue 23's probe: a worker that cannot run a job's
// trials, a job whose trials all fail, a start-up from a database holding
// jobs this version cannot restore (rows written with SQLite directly, as an
// older version or a damaged file would leave them), the job list's pages
// and the limit on unfinished jobs.
#include <sqlite3.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/server/coordinator_fixture.h"

namespace unas::server {
namespace {

TrialResult WorkerFailure(const std::string& why) {
  TrialResult r;
  r.error = why;
  r.failure = worker::FailureKind::kWorker;
  return r;
}

// The repro: an idx:DIR job and a worker whose DIR is missing. Its trials
// went back to the queue, it was told to stop after three, and the job was
// not burnt: a worker that has the data then ran every trial.
TEST_F(CoordinatorTest, AWorkerWithoutTheDataSetIsStoppedAndTheJobGoesOnElsewhere) {
  Open(TempDb("worker_failures"));
  const std::string job = coordinator_->Submit(Spec(5)).value().record.job_id;
  const std::string lacking = coordinator_->RegisterWorker("no-data");
  const std::string why = "dataset: /data/mnist/train-images-idx3-ubyte[.gz]: cannot open file";
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(coordinator_->CheckWorker(lacking).ok()) << i;
    auto a = coordinator_->Acquire(lacking, 0);
    ASSERT_TRUE(a.has_value()) << i;
    EXPECT_EQ(a->trial_id, 1);   // the same trial, back at the front of the queue
    EXPECT_EQ(a->attempt, 1);    // not counted against the trial
    EXPECT_TRUE(*coordinator_->Complete(lacking, a->lease_id, WorkerFailure(why)));
    const TrialRecord t = coordinator_->GetTrial(job, 1).value();
    EXPECT_EQ(t.status, TrialStatus::kPending);
    EXPECT_EQ(t.attempts, 0);
    EXPECT_EQ(t.error, "worker " + lacking + " could not run it: " + why);
  }
  // Told to stop, saying why; no more work for it.
  const Status stopped = coordinator_->CheckWorker(lacking);
  EXPECT_EQ(stopped.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(stopped.message(), "worker " + lacking +
                                   " (no-data) is told to stop: its last 3 trials failed because it cannot run them "
                                   "(the last: " + why + ")");
  EXPECT_FALSE(coordinator_->Acquire(lacking, 0).has_value());
  JobView view = coordinator_->GetJob(job).value();
  EXPECT_EQ(view.record.status, JobStatus::kRunning);
  EXPECT_EQ(view.failed, 0);
  EXPECT_EQ(view.completed, 0);
  // A worker with the data finishes the job.
  const std::string able = coordinator_->RegisterWorker("has-data");
  for (int i = 0; i < 5; ++i) {
    auto a = coordinator_->Acquire(able, 0);
    ASSERT_TRUE(a.has_value()) << i;
    EXPECT_TRUE(*coordinator_->Complete(able, a->lease_id, Success(*a)));
  }
  view = coordinator_->GetJob(job).value();
  EXPECT_EQ(view.record.status, JobStatus::kSucceeded);
  EXPECT_EQ(view.completed, 5);
  EXPECT_EQ(view.failed, 0);
  EXPECT_EQ(coordinator_->GetTrial(job, 1)->error, "");
}

TEST_F(CoordinatorTest, ASuccessBetweenWorkerFailuresResetsTheCount) {
  Open(TempDb("worker_reset"));
  coordinator_->Submit(Spec(10)).value();
  const std::string w = coordinator_->RegisterWorker("flaky");
  // fail, fail, succeed, fail, fail: never three in a row.
  for (bool fails : {true, true, false, true, true}) {
    auto a = coordinator_->Acquire(w, 0);
    ASSERT_TRUE(a.has_value());
    ASSERT_TRUE(*coordinator_->Complete(w, a->lease_id, fails ? WorkerFailure("out of memory") : Success(*a)));
  }
  EXPECT_TRUE(coordinator_->CheckWorker(w).ok());
  auto a = coordinator_->Acquire(w, 0);
  ASSERT_TRUE(*coordinator_->Complete(w, a->lease_id, WorkerFailure("out of memory")));
  EXPECT_EQ(coordinator_->CheckWorker(w).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(coordinator_->CheckWorker("w-unknown").code(), StatusCode::kNotFound);
}

// A trial no worker can run (out of memory on each) is failed once
// max_attempts different workers gave it back; the job then has nothing to
// show and ends failed with that reason.
TEST_F(CoordinatorTest, ATrialThreeWorkersCannotRunFailsAndSoDoesItsJob) {
  Open(TempDb("no_worker_can"));
  const std::string job = coordinator_->Submit(Spec(1)).value().record.job_id;
  std::string last;
  for (int i = 0; i < 3; ++i) {
    last = coordinator_->RegisterWorker("small-" + std::to_string(i));
    auto a = coordinator_->Acquire(last, 0);
    ASSERT_TRUE(a.has_value()) << i;
    EXPECT_EQ(a->trial_id, 1);
    ASSERT_TRUE(*coordinator_->Complete(last, a->lease_id, WorkerFailure("out of memory")));
  }
  const TrialRecord t = coordinator_->GetTrial(job, 1).value();
  EXPECT_EQ(t.status, TrialStatus::kFailed);
  const std::string why = "no worker could run it (3 workers tried; the last, worker " + last +
                          " could not run it: out of memory)";
  EXPECT_EQ(t.error, why);
  const JobView view = coordinator_->GetJob(job).value();
  EXPECT_EQ(view.record.status, JobStatus::kFailed);
  EXPECT_EQ(view.record.error, "all 1 trials failed; the last: " + why);
}

// Issue 23: five trials failed in 0.1 s and the job said "succeeded".
TEST_F(CoordinatorTest, AJobWhoseTrialsAllFailedEndsFailedWithTheReason) {
  const std::string db = TempDb("all_failed");
  Open(db);
  const std::string job = coordinator_->Submit(Spec(4)).value().record.job_id;
  const std::string w = coordinator_->RegisterWorker("w");
  for (int i = 1; i <= 4; ++i) {
    auto a = coordinator_->Acquire(w, 0);
    ASSERT_TRUE(a.has_value());
    TrialResult r;
    r.error = "LibTorch error: trial " + std::to_string(i);
    ASSERT_TRUE(*coordinator_->Complete(w, a->lease_id, r));
  }
  const JobView view = coordinator_->GetJob(job).value();
  EXPECT_EQ(view.record.status, JobStatus::kFailed);
  EXPECT_EQ(view.record.error, "all 4 trials failed; the last: LibTorch error: trial 4");
  EXPECT_EQ(view.failed, 4);
  EXPECT_TRUE(coordinator_->CheckWorker(w).ok());  // the trials' failures, not the worker's
  coordinator_.reset();
  Open(db);
  EXPECT_EQ(coordinator_->GetJob(job)->record.status, JobStatus::kFailed);
  // One success among failures is a result: the job succeeds.
  const std::string mixed = coordinator_->Submit(Spec(2)).value().record.job_id;
  const std::string w2 = coordinator_->RegisterWorker("w2");
  auto a = coordinator_->Acquire(w2, 0);
  TrialResult failed;
  failed.error = "NaN loss";
  ASSERT_TRUE(*coordinator_->Complete(w2, a->lease_id, failed));
  a = coordinator_->Acquire(w2, 0);
  ASSERT_TRUE(*coordinator_->Complete(w2, a->lease_id, Success(*a)));
  EXPECT_EQ(coordinator_->GetJob(mixed)->record.status, JobStatus::kSucceeded);
}

TEST_F(CoordinatorTest, ListsJobsInPagesEitherWay) {
  Open(TempDb("job_pages"));
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(coordinator_->Submit(Spec(1)).value().record.job_id);
  auto ids_of = [](const JobPage& page) {
    std::vector<std::string> out;
    for (const JobView& v : page.jobs) out.push_back(v.record.job_id);
    return out;
  };
  JobPage p = coordinator_->ListJobPage("", 2, false).value();
  EXPECT_EQ(ids_of(p), (std::vector<std::string>{ids[0], ids[1]}));
  EXPECT_EQ(p.total, 5);
  EXPECT_EQ(p.next_page_token, "2");
  p = coordinator_->ListJobPage("4", 2, false).value();
  EXPECT_EQ(ids_of(p), (std::vector<std::string>{ids[4]}));
  EXPECT_EQ(p.next_page_token, "");
  p = coordinator_->ListJobPage("", 3, true).value();
  EXPECT_EQ(ids_of(p), (std::vector<std::string>{ids[4], ids[3], ids[2]}));
  EXPECT_EQ(p.next_page_token, "3");
  p = coordinator_->ListJobPage("3", 3, true).value();
  EXPECT_EQ(ids_of(p), (std::vector<std::string>{ids[1], ids[0]}));
  EXPECT_EQ(p.next_page_token, "");
  EXPECT_EQ(coordinator_->ListJobPage("", 0, false)->jobs.size(), 5u);  // 0: the default of 100
  EXPECT_TRUE(coordinator_->ListJobPage("99", 10, false)->jobs.empty());
  EXPECT_EQ(coordinator_->ListJobPage("", 1001, false).status().message(), "page_size: 1001 is outside 1..1000");
  for (const char* bad : {"x", "-1", "1x", "+1", " 1", "99999999999999999999"}) {
    EXPECT_EQ(coordinator_->ListJobPage(bad, 10, false).status().message(),
              std::string("page_token: '") + bad + "' is not a token from this API");
  }
}

TEST_F(CoordinatorTest, RefusesAJobBeyondTheLimitOfUnfinishedOnes) {
  auto store = Store::Open(TempDb("job_limit"));
  CoordinatorOptions o;
  o.max_unfinished_jobs = 2;
  o.expiry_check_interval_ms = 3'600'000;
  o.resolve_input = [](const data::DatasetSpec&) -> Result<InputSpec> { return InputSpec{8, 8, 1, 10}; };
  coordinator_ = Coordinator::Open(std::move(store).value(), &clock_, o).value();
  const std::string first = coordinator_->Submit(Spec(1)).value().record.job_id;
  ASSERT_TRUE(coordinator_->Submit(Spec(1)).ok());
  auto third = coordinator_->Submit(Spec(1));
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(third.status().message(),
            "jobs: 2 jobs are queued or running, the limit per token (--max-running-jobs 2); "
            "wait for one to finish or cancel one");
  EXPECT_EQ(coordinator_->ListJobs().size(), 2u);
  ASSERT_TRUE(coordinator_->Cancel(first).ok());  // a finished job does not count
  EXPECT_TRUE(coordinator_->Submit(Spec(1)).ok());
}

// ---------------------------------------------------------------- start-up

// Writes SQL to the database as another program would (no Store).
void Sql(const std::string& db, const std::string& sql) {
  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &handle), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(handle);
}

std::string Quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// SQL copying `source`'s job row and its trials under a new id, with the
// spec and status given.
std::string CopyJob(const std::string& source, const std::string& id,
                    const std::string& spec_json, int status) {
  return "INSERT INTO jobs SELECT " + Quoted(id) + ", name, " + std::to_string(status) + ", " + Quoted(spec_json) +
         ", infeasible_rejected, error, created_unix_ms, finished_unix_ms, final_round, final_epochs "
         "FROM jobs WHERE job_id = " + Quoted(source) + ";"
         "CREATE TEMP TABLE IF NOT EXISTS copied AS SELECT * FROM trials WHERE 0;"
         "DELETE FROM copied;"
         "INSERT INTO copied SELECT * FROM trials WHERE job_id = " + Quoted(source) + ";"
         "UPDATE copied SET job_id = " + Quoted(id) + ";"
         "INSERT INTO trials SELECT * FROM copied;";
}

std::string Objectives(int count) {
  const char* kinds[] = {"error", "peak_sram", "flash", "macs"};
  nlohmann::json list = nlohmann::json::array();
  for (int i = 0; i < count; ++i) list.push_back(kinds[i % 4]);
  return list.dump();
}

// Issue 23: a job with 18 objectives (and one with 10,000) made every start
// replay its hypervolume for minutes; the only way out was deleting rows.
// Now the start sets them aside, failed with the reason, and serves.
TEST_F(CoordinatorTest, AStartUpIsNotHeldHostageByJobsItCannotRestore) {
  const std::string db = TempDb("hostage");
  Open(db);
  const std::string w = coordinator_->RegisterWorker("w");
  const std::string good = coordinator_->Submit(Spec(4)).value().record.job_id;
  ASSERT_NO_FATAL_FAILURE(CompleteTrials(w, 4, [this](const Assignment& a) { return Success(a); }));
  ASSERT_EQ(coordinator_->GetJob(good)->record.status, JobStatus::kSucceeded);
  nlohmann::json spec = nlohmann::json::parse(coordinator_->GetJob(good)->record.spec_json);
  coordinator_.reset();

  auto with_objectives = [&](int count) {
    nlohmann::json s = spec;
    s["objectives"] = nlohmann::json::parse(Objectives(count));
    return s.dump();
  };
  const int kRunning = static_cast<int>(JobStatus::kRunning), kSucceeded = static_cast<int>(JobStatus::kSucceeded);
  Sql(db, CopyJob(good, "job-obj18", with_objectives(18), kRunning) +
              CopyJob(good, "job-obj10000", with_objectives(10000), kRunning) +
              CopyJob(good, "job-obj18-done", with_objectives(18), kSucceeded) +
              CopyJob(good, "job-bad-replay", spec.dump(), kRunning) +
              "UPDATE trials SET candidate_json = '{\"not\":\"a candidate\"}' "
              "WHERE job_id = 'job-bad-replay' AND trial_id = 2;");

  for (int start = 0; start < 2; ++start) {
    SCOPED_TRACE(start);
    ::testing::internal::CaptureStderr();
    auto store = Store::Open(db);
    ASSERT_TRUE(store.ok());
    CoordinatorOptions o;
    o.expiry_check_interval_ms = 3'600'000;
    o.resolve_input = [](const data::DatasetSpec&) -> Result<InputSpec> { return InputSpec{8, 8, 1, 10}; };
    auto opened = Coordinator::Open(std::move(store).value(), &clock_, o);
    const std::string log = ::testing::internal::GetCapturedStderr();
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    coordinator_ = std::move(opened).value();
    const std::string too_many = "objectives: 18 names, more than the 5 distinct objectives there are "
                                 "(error, peak_sram, flash, macs, latency)";
    auto obj18 = coordinator_->GetJob("job-obj18").value();
    EXPECT_EQ(obj18.record.status, JobStatus::kFailed);
    EXPECT_EQ(obj18.record.error, "cannot resume: " + too_many);
    EXPECT_EQ(obj18.completed, 4);  // served as stored: its trials are all there
    EXPECT_EQ(coordinator_->ListTrials("job-obj18", 0, "", 100)->trials.size(), 4u);
    auto obj10000 = coordinator_->GetJob("job-obj10000").value();
    EXPECT_EQ(obj10000.record.status, JobStatus::kFailed);
    EXPECT_EQ(obj10000.record.error,
              "cannot resume: objectives: 10000 names, more than the 5 distinct objectives there are "
              "(error, peak_sram, flash, macs, latency)");
    // A finished one keeps its status; the view says why it has no front.
    auto done = coordinator_->GetJob("job-obj18-done").value();
    EXPECT_EQ(done.record.status, JobStatus::kSucceeded);
    EXPECT_EQ(done.record.error, "cannot be restored: " + too_many);
    EXPECT_EQ(coordinator_->Finalize("job-obj18-done", {}).status().code(), StatusCode::kFailedPrecondition);
    auto bad = coordinator_->GetJob("job-bad-replay").value();
    EXPECT_EQ(bad.record.status, JobStatus::kFailed);
    EXPECT_EQ(bad.record.error, "cannot resume: replaying its trials: trial 2: bad candidate");
    if (start == 0) {
      EXPECT_NE(log.find("msg=\"job cannot resume\" job_id=job-obj18 "), std::string::npos) << log;
      EXPECT_NE(log.find("msg=\"job cannot resume\" job_id=job-bad-replay "), std::string::npos) << log;
    }
    // And it serves: the good job is whole, and a new job runs.
    EXPECT_EQ(coordinator_->GetJob(good)->completed, 4);
    EXPECT_EQ(coordinator_->Pareto(good)->trials.empty(), false);
    const std::string fresh = coordinator_->Submit(Spec(1)).value().record.job_id;
    const std::string worker = coordinator_->RegisterWorker("w");
    auto a = coordinator_->Acquire(worker, 0);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->job_id, fresh);
    ASSERT_TRUE(*coordinator_->Complete(worker, a->lease_id, Success(*a)));
    EXPECT_EQ(coordinator_->GetJob(fresh)->record.status, JobStatus::kSucceeded);
    coordinator_.reset();
  }
}

}  // namespace
}  // namespace unas::server
