#include "server/core/coordinator.h"

#include <unistd.h>

#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "costmodel/cost_model.h"
#include "costmodel/network.h"
#include "costmodel/partial_execution.h"
#include "search/synthetic.h"
#include "server/core/json_convert.h"
#include "tests/server/coordinator_fixture.h"

namespace unas::server {
namespace {

TEST_F(CoordinatorTest, RefusedJobSaysWhyAndStoresNothing) {
  const std::string db = TempDb("refused");
  Open(db);
  auto job = coordinator_->Submit(R"({"dataset":"synthetic","budget":{"trials":0}})");
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().message(), "budget.trials: 0 is outside 1..1000000");
  auto no_bound = coordinator_->Submit(R"({"dataset":"synthetic","objectives":["error","macs"],"bounds":{"val_error":0.2}})");
  ASSERT_FALSE(no_bound.ok());
  EXPECT_EQ(no_bound.status().message(), "bounds: objective 'macs' needs a bound (it sets the hypervolume's reference point)");
  EXPECT_TRUE(coordinator_->ListJobs().empty());
  coordinator_.reset();
  EXPECT_TRUE(Store::Open(db).value()->ListJobs()->empty());
}

TEST_F(CoordinatorTest, RunsAJobToItsBudget) {
  Open(TempDb("budget"));
  auto job = coordinator_->Submit(Spec(5));
  ASSERT_TRUE(job.ok()) << job.status().message();
  const std::string w = coordinator_->RegisterWorker("w");
  std::set<std::string> hashes;
  for (int i = 0; i < 5; ++i) {
    auto a = coordinator_->Acquire(w, 0);
    ASSERT_TRUE(a.has_value()) << i;
    EXPECT_EQ(a->trial_id, i + 1);
    EXPECT_EQ(a->attempt, 1);
    EXPECT_EQ(*coordinator_->Complete(w, a->lease_id, Success(*a)), true);
    hashes.insert(coordinator_->GetTrial(a->job_id, a->trial_id)->candidate_hash);
  }
  EXPECT_EQ(hashes.size(), 5u);
  EXPECT_FALSE(coordinator_->Acquire(w, 0).has_value());
  auto view = coordinator_->GetJob(job->record.job_id).value();
  EXPECT_EQ(view.record.status, JobStatus::kSucceeded);
  EXPECT_EQ(view.completed, 5);
  EXPECT_EQ(view.running, 0);
  EXPECT_GT(view.hypervolume, 0.0);
  EXPECT_EQ(coordinator_->HypervolumeHistory(job->record.job_id)->size(), 5u);
}

TEST_F(CoordinatorTest, ExpiredLeaseRequeuesThenFailsAfterThreeAttempts) {
  Open(TempDb("expiry"));
  auto job = coordinator_->Submit(Spec(1));
  const std::string w = coordinator_->RegisterWorker("w");
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto a = coordinator_->Acquire(w, 0);
    ASSERT_TRUE(a.has_value()) << attempt;
    EXPECT_EQ(a->trial_id, 1);
    EXPECT_EQ(a->attempt, attempt);
    clock_.Advance(1001);
    coordinator_->ExpireLeases();
  }
  auto t = coordinator_->GetTrial(job->record.job_id, 1).value();
  EXPECT_EQ(t.status, TrialStatus::kFailed);
  EXPECT_EQ(t.error, "lease expired 3 times (last worker " + w + ")");
  auto view = coordinator_->GetJob(job->record.job_id).value();
  EXPECT_EQ(view.failed, 1);
  // Its only trial failed: nothing to show, so the job failed too, saying why.
  EXPECT_EQ(view.record.status, JobStatus::kFailed);
  EXPECT_EQ(view.record.error, "all 1 trials failed; the last: lease expired 3 times (last worker " + w + ")");
}

TEST_F(CoordinatorTest, LateAndDuplicateResultsAreIgnored) {
  Open(TempDb("late"));
  auto job = coordinator_->Submit(Spec(1));
  const std::string w1 = coordinator_->RegisterWorker("w1"), w2 = coordinator_->RegisterWorker("w2");
  auto first = coordinator_->Acquire(w1, 0);
  clock_.Advance(1001);
  coordinator_->ExpireLeases();
  auto second = coordinator_->Acquire(w2, 0);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->trial_id, first->trial_id);
  EXPECT_EQ(*coordinator_->Complete(w1, first->lease_id, Success(*first)), false);  // lease expired
  EXPECT_EQ(*coordinator_->Complete(w1, second->lease_id, Success(*second)), false);  // not its lease
  EXPECT_EQ(*coordinator_->Complete(w2, second->lease_id, Success(*second)), true);
  EXPECT_EQ(*coordinator_->Complete(w2, second->lease_id, Success(*second)), false);  // duplicate
  EXPECT_EQ(coordinator_->GetJob(job->record.job_id)->completed, 1);
}

TEST_F(CoordinatorTest, HeartbeatsKeepALeaseAlive) {
  Open(TempDb("heartbeat"));
  coordinator_->Submit(Spec(1)).value();
  const std::string w = coordinator_->RegisterWorker("w");
  auto a = coordinator_->Acquire(w, 0);
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(800);
    EXPECT_TRUE(coordinator_->Heartbeat(w, a->lease_id, 0.25 * i).keep_going);
    coordinator_->ExpireLeases();
    EXPECT_EQ(coordinator_->GetTrial(a->job_id, a->trial_id)->progress, std::min(1.0, 0.25 * i));
  }
  EXPECT_EQ(*coordinator_->Complete(w, a->lease_id, Success(*a)), true);
  EXPECT_FALSE(coordinator_->Heartbeat(w, "L-unknown", 0).keep_going);
}

TEST_F(CoordinatorTest, ReleasedTrialGoesBackWithoutCountingAnAttempt) {
  Open(TempDb("release"));
  coordinator_->Submit(Spec(1)).value();
  const std::string w = coordinator_->RegisterWorker("w");
  auto a = coordinator_->Acquire(w, 0);
  TrialResult released;
  released.released = true;
  EXPECT_EQ(*coordinator_->Complete(w, a->lease_id, released), true);
  auto again = coordinator_->Acquire(w, 0);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->trial_id, a->trial_id);
  EXPECT_EQ(again->attempt, 1);
}

TEST_F(CoordinatorTest, CancelStopsBusyWorkersAndHandsOutNothing) {
  Open(TempDb("cancel"));
  auto job = coordinator_->Submit(Spec(10)).value();
  const std::string w = coordinator_->RegisterWorker("w");
  auto a = coordinator_->Acquire(w, 0);
  auto view = coordinator_->Cancel(job.record.job_id);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->record.status, JobStatus::kCancelled);
  EXPECT_FALSE(coordinator_->Heartbeat(w, a->lease_id, 0.5).keep_going);
  EXPECT_EQ(*coordinator_->Complete(w, a->lease_id, Success(*a)), false);
  EXPECT_FALSE(coordinator_->Acquire(w, 0).has_value());
  EXPECT_EQ(coordinator_->GetTrial(job.record.job_id, 1)->status, TrialStatus::kCancelled);
  EXPECT_EQ(coordinator_->Cancel("job-none").status().message(), "no job 'job-none'");
}

TEST_F(CoordinatorTest, ConcurrentJobsShareWorkersFairly) {
  Open(TempDb("fair"));
  auto j1 = coordinator_->Submit(Spec(10)).value(), j2 = coordinator_->Submit(Spec(10)).value();
  std::map<std::string, int> leased;
  for (int i = 0; i < 6; ++i) {
    auto a = coordinator_->Acquire(coordinator_->RegisterWorker("w"), 0);
    ASSERT_TRUE(a.has_value());
    leased[a->job_id] += 1;
  }
  EXPECT_EQ(leased[j1.record.job_id], 3);
  EXPECT_EQ(leased[j2.record.job_id], 3);
}

TEST_F(CoordinatorTest, PagesTrialsAndFiltersByStatus) {
  Open(TempDb("pages"));
  auto job = coordinator_->Submit(Spec(7)).value();
  const std::string w = coordinator_->RegisterWorker("w");
  for (int i = 0; i < 7; ++i) {
    auto a = coordinator_->Acquire(w, 0);
    TrialResult r = Success(*a);
    if (i % 3 == 0) {
      r = TrialResult();
      r.error = "NaN loss";
    }
    ASSERT_TRUE(coordinator_->Complete(w, a->lease_id, r).ok());
  }
  auto p1 = coordinator_->ListTrials(job.record.job_id, 0, "", 3).value();
  ASSERT_EQ(p1.trials.size(), 3u);
  EXPECT_EQ(p1.next_page_token, "3");
  auto p3 = coordinator_->ListTrials(job.record.job_id, 0, "6", 3).value();
  ASSERT_EQ(p3.trials.size(), 1u);
  EXPECT_EQ(p3.next_page_token, "");
  auto failed = coordinator_->ListTrials(job.record.job_id, static_cast<int>(TrialStatus::kFailed), "", 100).value();
  ASSERT_EQ(failed.trials.size(), 3u);  // trials 1, 4, 7
  EXPECT_EQ(failed.trials[1].trial_id, 4);
  EXPECT_EQ(failed.trials[1].error, "NaN loss");
  EXPECT_EQ(coordinator_->ListTrials(job.record.job_id, 0, "x", 3).status().message(),
            "page_token: 'x' is not a token from this API");
  EXPECT_EQ(coordinator_->ListTrials(job.record.job_id, 0, "", 5000).status().message(),
            "page_size: 5000 is outside 1..1000");
}

TEST_F(CoordinatorTest, WatchersSeeTrialsAndTheEnd) {
  Open(TempDb("watch"));
  auto job = coordinator_->Submit(Spec(2)).value();
  auto sub = coordinator_->Watch(job.record.job_id).value();
  const std::string w = coordinator_->RegisterWorker("w");
  for (int i = 0; i < 2; ++i) {
    auto a = coordinator_->Acquire(w, 0);
    ASSERT_TRUE(coordinator_->Complete(w, a->lease_id, Success(*a)).ok());
  }
  std::vector<JobEvent::Kind> kinds;
  JobEvent e;
  while (sub->Next(&e, 10)) kinds.push_back(e.kind);
  ASSERT_FALSE(kinds.empty());
  EXPECT_EQ(kinds.front(), JobEvent::Kind::kTrialStarted);
  EXPECT_EQ(kinds.back(), JobEvent::Kind::kJobDone);
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), JobEvent::Kind::kTrialFinished), 2);
  EXPECT_GE(std::count(kinds.begin(), kinds.end(), JobEvent::Kind::kParetoPoint), 1);
  EXPECT_TRUE(sub->closed());
}

// A Pex job: the constraint applies to the partial-execution peak, so it
// trains networks whose whole-tensor peak alone would not fit.
TEST_F(CoordinatorTest, PartialExecutionJobAdmitsNetworksThatOnlyFitWithPex) {
  Open(TempDb("pex"));
  const std::string spec = R"({"name":"pex","dataset":"synthetic","evaluator":"synthetic","seed":4,
      "memory":"partial_execution","accounting":"firmware","strategy":"random","budget":{"trials":40},
      "bounds":{"val_error":0.5,"peak_sram_bytes":600,"flash_bytes":64000,"macs":30000000},
      "constraints":{"peak_sram_bytes":600}})";
  auto job = coordinator_->Submit(spec);
  ASSERT_TRUE(job.ok()) << job.status().message();
  const std::string w = coordinator_->RegisterWorker("w");
  int only_with_pex = 0;
  for (int i = 0; i < 40; ++i) {
    auto a = coordinator_->Acquire(w, 0);
    ASSERT_TRUE(a.has_value());
    const TrialRecord t = coordinator_->GetTrial(a->job_id, a->trial_id).value();
    auto net = BuildNetwork(ParseCandidate(t.candidate_json).value(), InputSpec{8, 8, 1, 10}).value();
    const int64_t whole = SummariseCosts(net, Accounting::kFirmware)->peak_sram_bytes;
    EXPECT_LE(t.costs.peak_sram_bytes, 600);
    EXPECT_EQ(t.costs.peak_sram_bytes, *PexPeakBytes(net, Accounting::kFirmware));
    only_with_pex += whole > 600;
    ASSERT_TRUE(coordinator_->Complete(w, a->lease_id, Success(*a)).ok());
  }
  EXPECT_GT(only_with_pex, 0);
  EXPECT_EQ(coordinator_->Submit(R"({"dataset":"synthetic","memory":"tiled"})").status().message(),
            "memory: 'tiled' is not one of whole, partial_execution");
}

// With pruning, the trial keeps both networks, and the Pareto front ranks the
// one that was trained and measured: as pruned.
TEST_F(CoordinatorTest, PrunedTrialsKeepBothCandidatesAndRankThePrunedOne) {
  Open(TempDb("pruned"));
  auto job = coordinator_->Submit(Spec(1, R"(,"training":{"epochs":3},"pruning":{"target":"peak_sram","epoch":1})"))
                 .value();
  const std::string w = coordinator_->RegisterWorker("w");
  auto a = coordinator_->Acquire(w, 0);
  TrialResult r = Success(*a);
  // What the worker trained: the candidate with its first layer's filters
  // halved, with the exact costs the coordinator checks it against.
  Candidate pruned = ParseCandidate(a->candidate_json).value();
  Layer& first = pruned.conv_blocks[0].layers[0];
  if (first.HasFilters()) first.filters = std::max(1, first.filters / 2);
  r.pruned_candidate_json = CandidateToJson(pruned).dump();
  const CostSummary c = SummariseCosts(BuildNetwork(pruned, InputSpec{8, 8, 1, 10}).value(), Accounting::kTflm).value();
  r.pruned_costs = MakeCosts(c);
  ASSERT_EQ(*coordinator_->Complete(w, a->lease_id, r), true);
  const TrialRecord t = coordinator_->GetTrial(a->job_id, a->trial_id).value();
  ASSERT_TRUE(t.pruned_costs.has_value());
  EXPECT_EQ(t.pruned_costs->peak_sram_bytes, c.peak_sram_bytes);
  EXPECT_EQ(t.pruned_candidate_json, r.pruned_candidate_json);
  EXPECT_EQ(t.candidate_json, a->candidate_json);  // as proposed, unchanged
  // Hypervolume of the single point against the bounds (0.5, 64000, 64000,
  // 3e7), normalised: the pruned costs are the ones used.
  const double e = t.metrics->val_error;
  const double expected = (1 - e / 0.5) * (1 - c.peak_sram_bytes / 64000.0) * (1 - c.flash_bytes / 64000.0) *
                          (1 - c.macs / 3e7);
  EXPECT_NEAR(coordinator_->Pareto(job.record.job_id)->hypervolume, expected, 1e-12);
}

// The `error` objective is the int8 error when the worker measured one and
// the job asks for it (the default), else the float error.
TEST_F(CoordinatorTest, ParetoRanksTheInt8ErrorWhenMeasured) {
  for (const bool float_objective : {false, true}) {
    const std::string db = TempDb(float_objective ? "int8_float" : "int8");
    Open(db);
    const std::string extra = float_objective ? R"(,"quantization":{"error_objective":"float"})" : "";
    auto job = coordinator_->Submit(Spec(1, extra)).value();
    const std::string w = coordinator_->RegisterWorker("w");
    auto a = coordinator_->Acquire(w, 0);
    ASSERT_TRUE(a.has_value());
    TrialResult r;
    r.succeeded = true;
    r.metrics.val_error = 0.25;
    r.metrics.int8_val_error = 0.3;
    ASSERT_EQ(*coordinator_->Complete(w, a->lease_id, r), true);
    const TrialRecord t = coordinator_->GetTrial(a->job_id, a->trial_id).value();
    ASSERT_TRUE(t.metrics.has_value());
    EXPECT_EQ(t.metrics->int8_val_error, 0.3);
    const double e = float_objective ? 0.25 : 0.3;
    const double expected = (1 - e / 0.5) * (1 - t.costs.peak_sram_bytes / 64000.0) *
                            (1 - t.costs.flash_bytes / 64000.0) * (1 - t.costs.macs / 3e7);
    EXPECT_NEAR(coordinator_->Pareto(job.record.job_id)->hypervolume, expected, 1e-12) << float_objective;
    coordinator_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) unlink((db + suffix).c_str());
  }
}

// A job's spec is parsed once per submission and once per coordinator
// start: trials carry a typed task, and the views (trial detail, export)
// use the parsed spec.
TEST_F(CoordinatorTest, AJobSpecIsParsedOncePerSubmissionAndPerStart) {
  const std::string db = TempDb("parse_once");
  Open(db);
  const int64_t before = JobSpecsParsed();
  const std::string job_id = coordinator_->Submit(Spec(6)).value().record.job_id;
  EXPECT_EQ(JobSpecsParsed(), before + 1);
  const std::string w = coordinator_->RegisterWorker("w");
  for (int i = 0; i < 6; ++i) {
    auto a = coordinator_->Acquire(w, 0);
    ASSERT_TRUE(a.has_value()) << i;
    EXPECT_EQ(a->task.dataset.kind, data::DatasetKind::kSynthetic);
    EXPECT_EQ(a->task.evaluator, worker::EvaluatorKind::kSynthetic);
    EXPECT_EQ(a->task.training.seed, 3u);
    ASSERT_EQ(*coordinator_->Complete(w, a->lease_id, Success(*a)), true);
    const JobSpec spec = coordinator_->GetSpec(job_id).value();
    const TrialRecord trial = coordinator_->GetTrial(job_id, a->trial_id).value();
    ASSERT_TRUE(TrialDetailJson(spec, trial, coordinator_->options()).ok());
    ASSERT_TRUE(TrialExportJson(coordinator_->GetJob(job_id).value(), spec, trial, coordinator_->options(), "").ok());
  }
  EXPECT_EQ(JobSpecsParsed(), before + 1);
  coordinator_.reset();
  Open(db);
  EXPECT_EQ(JobSpecsParsed(), before + 2);
  EXPECT_EQ(coordinator_->GetJob(job_id)->record.status, JobStatus::kSucceeded);
  coordinator_.reset();
}

// kill -9 leaves the store as it was after the last committed call: a
// coordinator dropped without ceremony and reopened on the same file must
// finish with exactly the trials, in the same proposal order, that an
// uninterrupted run makes.
TEST_F(CoordinatorTest, RestartContinuesExactlyWhereItWas) {
  auto run = [&](const std::string& db, int crash_after) {
    Open(db);
    const std::string job_id = coordinator_->Submit(Spec(20)).value().record.job_id;
    std::string w = coordinator_->RegisterWorker("w");
    int completed = 0;
    while (true) {
      auto a = coordinator_->Acquire(w, 0);
      if (!a) break;
      if (completed == crash_after) {
        coordinator_.reset();  // leased trial a is in the store as leased
        Open(db);
        w = coordinator_->RegisterWorker("w");
        crash_after = -1;
        continue;
      }
      EXPECT_EQ(*coordinator_->Complete(w, a->lease_id, Success(*a)), true);
      ++completed;
    }
    auto trials = coordinator_->ListTrials(job_id, 0, "", 1000).value().trials;
    std::vector<std::string> hashes;
    for (const TrialRecord& t : trials) {
      EXPECT_EQ(t.status, TrialStatus::kCompleted) << t.trial_id;
      hashes.push_back(t.candidate_hash);
    }
    EXPECT_EQ(coordinator_->GetJob(job_id)->record.status, JobStatus::kSucceeded);
    coordinator_.reset();
    return hashes;
  };
  const auto uninterrupted = run(TempDb("restart_a"), -1);
  const auto restarted = run(TempDb("restart_b"), 7);
  ASSERT_EQ(uninterrupted.size(), 20u);
  EXPECT_EQ(restarted, uninterrupted);
  EXPECT_EQ(std::set<std::string>(restarted.begin(), restarted.end()).size(), 20u);
}

}  // namespace
}  // namespace unas::server
