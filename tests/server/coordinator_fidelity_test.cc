// Multi-fidelity rungs (ASHA promotions) and final retraining in the
// coordinator, with the test acting as the worker.
#include <algorithm>
#include <map>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "search/promotion.h"
#include "tests/server/coordinator_fixture.h"
#include "tests/worker/train_config_expect.h"

namespace unas::server {
namespace {

constexpr const char* kRungs =
    R"(,"rungs":[{"epochs":1,"subset":0.5},{"epochs":3,"subset":1}],"promotion":{"reduction_factor":3})";

// A worker that checks what it was given: a rung's recipe, and the weights
// of the trial it continues. Its error falls with training, as a network's
// does: the synthetic error plus 0.2 / epochs.
class FidelityTest : public CoordinatorTest {
 protected:
  TrialResult Train(const Assignment& a) {
    TrialResult r = Success(a);
    const int epochs = a.task.training.epochs;
    r.metrics.val_error = std::min(1.0, r.metrics.val_error + 0.2 / epochs);
    r.metrics.test_error = r.metrics.val_error;
    r.metrics.epochs = epochs - a.init_epochs;
    r.weights = "weights of trial " + std::to_string(a.trial_id);
    seen_[a.trial_id] = a;
    return r;
  }

  // Runs the job until no work is handed out; returns its trials.
  std::vector<TrialRecord> RunToEnd(const std::string& job_id) {
    const std::string w = coordinator_->RegisterWorker("w");
    for (int i = 0; i < 200; ++i) {
      auto a = coordinator_->Acquire(w, 0);
      if (!a) break;
      EXPECT_TRUE(*coordinator_->Complete(w, a->lease_id, Train(*a)));
    }
    return coordinator_->ListTrials(job_id, 0, "", 1000).value().trials;
  }

  std::map<int64_t, Assignment> seen_;
};

TEST_F(FidelityTest, TheTopThirdOfARungIsPromotedAndContinuesFromItsWeights) {
  Open(TempDb("rungs"));
  const std::string job = coordinator_->Submit(Spec(9, kRungs)).value().record.job_id;
  const std::vector<TrialRecord> trials = RunToEnd(job);
  // 9 proposals at rung 0; ASHA promotes, as results arrive, the best of the
  // top third of the rung so far not yet promoted, never more than that
  // third: floor(9 / 3) in all.
  ASSERT_EQ(trials.size(), 12u);
  const search::FrontSpec front_spec = [] {
    search::FrontSpec f;
    f.objectives = {search::Objective::kError, search::Objective::kPeakSram, search::Objective::kFlash,
                    search::Objective::kMacs};
    f.bounds[search::Objective::kError] = 0.5;
    f.bounds[search::Objective::kPeakSram] = 64000;
    f.bounds[search::Objective::kFlash] = 64000;
    f.bounds[search::Objective::kMacs] = 30000000;
    return f;
  }();
  std::set<int64_t> promoted_from;
  std::set<int64_t> proposals;
  for (const TrialRecord& t : trials) {
    EXPECT_EQ(t.status, TrialStatus::kCompleted) << t.trial_id;
    const worker::TrainConfig& training = seen_.at(t.trial_id).task.training;
    if (t.rung == 0) {
      EXPECT_EQ(t.promoted_from, 0);
      EXPECT_EQ(training.epochs, 1);
      EXPECT_EQ(training.subset, 0.5);
      EXPECT_TRUE(seen_.at(t.trial_id).init_weights.empty());
      proposals.insert(t.proposal_id);
      continue;
    }
    ASSERT_EQ(t.rung, 1) << t.trial_id;
    const TrialRecord& parent = trials.at(t.promoted_from - 1);
    EXPECT_EQ(parent.rung, 0);
    EXPECT_EQ(t.proposal_id, parent.proposal_id);
    EXPECT_EQ(t.candidate_hash, parent.candidate_hash);
    EXPECT_LT(parent.trial_id, t.trial_id);
    EXPECT_EQ(training.epochs, 3);
    EXPECT_EQ(training.subset, 1.0);
    EXPECT_EQ(seen_.at(t.trial_id).init_weights, "weights of trial " + std::to_string(parent.trial_id));
    EXPECT_EQ(seen_.at(t.trial_id).init_epochs, 1);
    EXPECT_TRUE(promoted_from.insert(t.promoted_from).second) << "promoted twice: " << t.promoted_from;
    // The parent was in the top third of the rung-0 results there were when
    // the promotion was made (trials run one at a time here: every earlier
    // trial had finished).
    std::vector<search::RungResult> rung0;
    for (const TrialRecord& earlier : trials) {
      if (earlier.trial_id >= t.trial_id || earlier.rung != 0) continue;
      search::RungResult r;
      r.id = earlier.trial_id;
      r.objectives = search::MakeObjectives(earlier.metrics->val_error, earlier.costs);
      rung0.push_back(r);
    }
    const std::vector<int64_t> top = search::Promotable(rung0, front_spec, 3);
    EXPECT_NE(std::find(top.begin(), top.end(), parent.trial_id), top.end()) << "trial " << t.trial_id;
    // With this one, no more promotions than a third of those results.
    EXPECT_LE(static_cast<size_t>(promoted_from.size()), rung0.size() / 3) << "trial " << t.trial_id;
  }
  EXPECT_EQ(proposals.size(), 9u);
  EXPECT_EQ(promoted_from.size(), trials.size() - 9);
  // After the first three results the first promotion comes before the
  // fourth proposal: ASHA promotes as soon as one is due.
  EXPECT_EQ(trials[3].rung, 1);
  EXPECT_LE(trials[3].promoted_from, 3);
  auto view = coordinator_->GetJob(job).value();
  EXPECT_EQ(view.record.status, JobStatus::kSucceeded);
  EXPECT_EQ(view.completed, static_cast<int64_t>(trials.size()));
  // A promoted trial's better result is on the front; its rung-0 trial is not.
  const ParetoView front = coordinator_->Pareto(job).value();
  for (const TrialRecord& t : front.trials) EXPECT_EQ(promoted_from.count(t.trial_id), 0u) << t.trial_id;
}

TEST_F(FidelityTest, ARestartedRungJobMakesTheSameTrials) {
  auto run = [&](const std::string& db, int crash_after) {
    Open(db);
    const std::string job = coordinator_->Submit(Spec(12, kRungs)).value().record.job_id;
    std::string w = coordinator_->RegisterWorker("w");
    int completed = 0;
    for (int i = 0; i < 100; ++i) {
      auto a = coordinator_->Acquire(w, 0);
      if (!a) break;
      if (completed == crash_after) {
        coordinator_.reset();
        Open(db);
        w = coordinator_->RegisterWorker("w");
        crash_after = -1;
        continue;
      }
      EXPECT_TRUE(*coordinator_->Complete(w, a->lease_id, Train(*a)));
      ++completed;
    }
    std::vector<std::string> made;
    const TrialPage page = coordinator_->ListTrials(job, 0, "", 1000).value();
    for (const TrialRecord& t : page.trials) {
      made.push_back(t.candidate_hash + " r" + std::to_string(t.rung) + " <" + std::to_string(t.promoted_from));
    }
    coordinator_.reset();
    return made;
  };
  const auto uninterrupted = run(TempDb("rung_restart_a"), -1);
  const auto restarted = run(TempDb("rung_restart_b"), 7);
  ASSERT_GE(uninterrupted.size(), 16u);  // 12 proposals, at least 4 promotions
  EXPECT_EQ(restarted, uninterrupted);
}

TEST_F(FidelityTest, TheFinalRoundRetrainsTheFrontFromScratchWithTheFinalRecipe) {
  Open(TempDb("final"));
  const std::string job =
      coordinator_
          ->Submit(Spec(8, std::string(kRungs) +
                               R"(,"final":{"enabled":true,"networks":3,"neighbours":1,"training":{"epochs":5}})"))
          .value()
          .record.job_id;
  const std::vector<TrialRecord> trials = RunToEnd(job);
  std::vector<TrialRecord> finals;
  for (const TrialRecord& t : trials) {
    if (t.final_round > 0) finals.push_back(t);
  }
  ASSERT_GE(finals.size(), 1u);
  ASSERT_LE(finals.size(), 3u);
  std::set<int64_t> candidates;
  for (const TrialRecord& t : finals) {
    EXPECT_EQ(t.final_round, 1);
    EXPECT_EQ(t.status, TrialStatus::kCompleted);
    const Assignment& a = seen_.at(t.trial_id);
    EXPECT_TRUE(a.init_weights.empty()) << "final retraining starts from scratch";
    EXPECT_EQ(a.task.training.epochs, 5);
    EXPECT_EQ(a.task.training.subset, 1.0);
    // It retrains a search trial of the same candidate, the candidate's highest rung.
    const TrialRecord& source = trials.at(t.promoted_from - 1);
    EXPECT_EQ(source.final_round, 0);
    EXPECT_EQ(source.proposal_id, t.proposal_id);
    for (const TrialRecord& other : trials) {
      if (other.final_round == 0 && other.proposal_id == t.proposal_id) {
        EXPECT_LE(other.rung, source.rung);
      }
    }
    EXPECT_TRUE(candidates.insert(t.proposal_id).second);
    // Final trials come after every search trial.
    for (const TrialRecord& s : trials) {
      if (s.final_round == 0) {
        EXPECT_LT(s.trial_id, t.trial_id);
      }
    }
  }
  const auto view = coordinator_->GetJob(job).value();
  EXPECT_EQ(view.record.status, JobStatus::kSucceeded);
  EXPECT_EQ(view.record.final_round, 1);
  EXPECT_FALSE(view.finalizing);
  const ParetoView front = coordinator_->Pareto(job).value();
  EXPECT_EQ(front.final_round, 1);
  ASSERT_FALSE(front.final_front.empty());
  EXPECT_GT(front.final_hypervolume, 0.0);
  for (size_t i = 0; i < front.final_front.size(); ++i) {
    EXPECT_EQ(front.final_front[i].final_round, 1);
    if (i > 0) {
      EXPECT_LE(front.final_front[i - 1].metrics->val_error, front.final_front[i].metrics->val_error);
    }
  }
  // Final trials teach the search nothing and are not on its front.
  for (const TrialRecord& t : front.trials) EXPECT_EQ(t.final_round, 0);
}

// final.max_train_seconds: half the candidates measure 30 s per pass over
// the whole training part, so 5 final epochs project to 150 s, over the
// limit of 100 s; the others 10 s a pass, 50 s. The slow ones are neither
// promoted nor retrained; the fast ones still are.
TEST_F(FidelityTest, ANetworkTooSlowForTheFinalRoundIsNeitherPromotedNorRetrained) {
  Open(TempDb("final_too_slow"));
  const std::string job =
      coordinator_
          ->Submit(Spec(12, std::string(kRungs) + R"(,"final":{"enabled":true,"networks":3,"neighbours":1,)"
                                                  R"("max_train_seconds":100,"training":{"epochs":5}})"))
          .value()
          .record.job_id;
  std::map<std::string, bool> slow;  // candidate JSON -> measures 30 s a pass
  const std::string w = coordinator_->RegisterWorker("w");
  for (int i = 0; i < 200; ++i) {
    auto a = coordinator_->Acquire(w, 0);
    if (!a) break;
    TrialResult r = Train(*a);
    const bool is_slow = slow.emplace(a->candidate_json, a->trial_id % 2 == 0).first->second;
    const double passes = r.metrics.epochs * a->task.training.subset;
    r.metrics.train_seconds = (is_slow ? 30.0 : 10.0) * passes;
    r.metrics.samples_per_second = 1000;
    EXPECT_TRUE(*coordinator_->Complete(w, a->lease_id, r));
  }
  const std::vector<TrialRecord> trials = coordinator_->ListTrials(job, 0, "", 1000).value().trials;
  int promoted = 0;
  int finals = 0;
  for (const TrialRecord& t : trials) {
    EXPECT_EQ(t.status, TrialStatus::kCompleted) << t.trial_id;
    if (t.rung == 0 && t.final_round == 0) continue;
    EXPECT_FALSE(slow.at(t.candidate_json)) << "trial " << t.trial_id << " trains a slow candidate further";
    (t.final_round > 0 ? finals : promoted) += 1;
  }
  EXPECT_GT(promoted, 0);
  EXPECT_GT(finals, 0);
  EXPECT_EQ(coordinator_->GetJob(job)->record.status, JobStatus::kSucceeded);
  // The projection itself: trial 1 (slow, rung 0: 1 epoch on half the data,
  // 15 s) projects to 30 s a pass times 5 epochs on all of it.
  const JobSpec spec = ParseJobSpec(nlohmann::json::parse(coordinator_->GetJob(job)->record.spec_json)).value();
  worker::Metrics m;
  m.epochs = 1;
  m.train_seconds = 15;
  EXPECT_DOUBLE_EQ(ProjectedFinalSeconds(spec, 0, m, 0), 150.0);
  EXPECT_TRUE(TooSlowForFinal(spec, 0, m, 0));
  EXPECT_DOUBLE_EQ(ProjectedFinalSeconds(spec, 0, m, 2), 60.0);  // finalize --epochs 2
  EXPECT_FALSE(TooSlowForFinal(spec, 0, m, 2));
  m.epochs = 2;  // a rung-1 trial continued 2 epochs on all of it in 60 s
  m.train_seconds = 60;
  EXPECT_DOUBLE_EQ(ProjectedFinalSeconds(spec, 1, m, 0), 150.0);
  m.train_seconds = 0;  // nothing measured: never ruled out
  EXPECT_DOUBLE_EQ(ProjectedFinalSeconds(spec, 1, m, 0), 0.0);
  EXPECT_FALSE(TooSlowForFinal(spec, 1, m, 0));
}

TEST_F(FidelityTest, FinalizeOnDemandRunsARoundWithTheEpochsAsked) {
  Open(TempDb("finalize"));
  const std::string job =
      coordinator_->Submit(Spec(4, R"(,"final":{"training":{"epochs":45,"lr_schedule":[[25,0.005],[35,0.001]]}})"))
          .value()
          .record.job_id;
  EXPECT_EQ(coordinator_->Finalize(job, {}).status().code(), StatusCode::kFailedPrecondition);  // nothing completed
  ASSERT_EQ(RunToEnd(job).size(), 4u);
  ASSERT_EQ(coordinator_->GetJob(job)->record.status, JobStatus::kSucceeded);
  EXPECT_EQ(coordinator_->Finalize("job-none", {}).status().code(), StatusCode::kNotFound);
  FinalizeOptions too_long;
  too_long.epochs = 1001;
  EXPECT_EQ(coordinator_->Finalize(job, too_long).status().message(), "epochs: 1001 is outside 1..1000");
  FinalizeOptions twenty;
  twenty.epochs = 20;
  auto started = coordinator_->Finalize(job, twenty);
  ASSERT_TRUE(started.ok()) << started.status().message();
  EXPECT_EQ(started->record.status, JobStatus::kRunning);
  EXPECT_TRUE(started->finalizing);
  EXPECT_EQ(started->record.final_round, 1);
  EXPECT_EQ(started->record.final_epochs, 20);
  EXPECT_EQ(coordinator_->Finalize(job, {}).status().code(), StatusCode::kFailedPrecondition);  // still running
  const std::vector<TrialRecord> trials = RunToEnd(job);
  ASSERT_GT(trials.size(), 4u);
  for (size_t i = 4; i < trials.size(); ++i) {
    const worker::TrainConfig& training = seen_.at(trials[i].trial_id).task.training;
    EXPECT_EQ(training.epochs, 20);
    // The recipe's steps at 25 and 35 of 45 epochs, moved to 11 and 16 of 20.
    unas::testing::ExpectLrSchedule(training.lr_schedule, {{11, 0.005}, {16, 0.001}});
  }
  EXPECT_EQ(coordinator_->GetJob(job)->record.status, JobStatus::kSucceeded);
  // A second round: the front shown is the latest round's.
  ASSERT_TRUE(coordinator_->Finalize(job, {}).ok());
  const std::vector<TrialRecord> again = RunToEnd(job);
  EXPECT_EQ(again.size(), trials.size() + (trials.size() - 4));
  EXPECT_EQ(seen_.at(again.back().trial_id).task.training.epochs, 45);
  const ParetoView front = coordinator_->Pareto(job).value();
  EXPECT_EQ(front.final_round, 2);
  for (const TrialRecord& t : front.final_front) EXPECT_EQ(t.final_round, 2);
  ASSERT_TRUE(coordinator_->Cancel(job).ok());  // a finished job stays as it was
  EXPECT_EQ(coordinator_->GetJob(job)->record.status, JobStatus::kSucceeded);
}

// The same rule at submission: a spec whose final.training.epochs is below
// the top rung's is refused with finalize's wording, naming the field; the
// top rung's own epochs are accepted, and nothing is stored for the refusal.
TEST_F(FidelityTest, AFinalRecipeShorterThanTheTopRungIsRefusedAtSubmission) {
  Open(TempDb("final_short"));
  auto refused = coordinator_->Submit(Spec(6, std::string(kRungs) + R"(,"final":{"training":{"epochs":2}})"));
  EXPECT_EQ(refused.status().message(),
            "final.training.epochs: 2 is fewer than the 3 the search trained its candidates for; a final round "
            "trains from scratch, so it would retrain them worse (use at least 3, or leave it out for the search's 3)");
  EXPECT_TRUE(coordinator_->ListJobs().empty());
  auto equal = coordinator_->Submit(Spec(6, std::string(kRungs) + R"(,"final":{"training":{"epochs":3}})"));
  ASSERT_TRUE(equal.ok()) << equal.status().message();
  // Without rungs the search's recipe is the bound: training.epochs 4.
  auto flat = coordinator_->Submit(Spec(6, R"(,"training":{"epochs":4},"final":{"training":{"epochs":3}})"));
  EXPECT_EQ(flat.status().message().substr(0, 71),
            "final.training.epochs: 3 is fewer than the 4 the search trained its can");
}

// Without final.training the final round trains as the search's top rung
// did (optimiser, learning rate) on the whole training part; fewer epochs
// than the search trained with are refused, since retraining from scratch
// with less would make the network worse than the one it retrains.
TEST_F(FidelityTest, TheDefaultFinalRecipeIsTheSearchsTopRungAndFewerEpochsAreRefused) {
  Open(TempDb("final_default"));
  const std::string job =
      coordinator_
          ->Submit(Spec(6, std::string(kRungs) + R"(,"training":{"optimizer":"adamw","learning_rate":0.003})"))
          .value()
          .record.job_id;
  const size_t search = RunToEnd(job).size();
  FinalizeOptions two;
  two.epochs = 2;
  EXPECT_EQ(coordinator_->Finalize(job, two).status().message(),
            "epochs: 2 is fewer than the 3 the search trained its candidates for; a final round trains from scratch, "
            "so it would retrain them worse (use at least 3, or leave it out for the job's final recipe)");
  ASSERT_TRUE(coordinator_->Finalize(job, {}).ok());
  const std::vector<TrialRecord> trials = RunToEnd(job);
  ASSERT_GT(trials.size(), search);
  for (size_t i = search; i < trials.size(); ++i) {
    const worker::TrainConfig& training = seen_.at(trials[i].trial_id).task.training;
    EXPECT_EQ(training.optimizer, worker::Optimizer::kAdamW);
    EXPECT_EQ(training.learning_rate, 0.003);
    EXPECT_EQ(training.epochs, 3);
    EXPECT_EQ(training.subset, 1.0);
  }
  const JobView view = coordinator_->GetJob(job).value();
  EXPECT_EQ(view.proposed, 6);  // the budget counts proposals, not promotions or retraining
  EXPECT_GT(view.completed, 6);
}

// Stopping early keeps the search: a cancelled job's front can still be
// retrained. A network at chance level (validation error 0.85 or more for 10
// classes) is never retrained, however small.
TEST_F(FidelityTest, ACancelledJobIsFinalizedWithoutItsChanceLevelNetworks) {
  Open(TempDb("final_cancelled"));
  const std::string job = coordinator_->Submit(Spec(50)).value().record.job_id;
  const std::string w = coordinator_->RegisterWorker("w");
  std::set<int64_t> chance;
  for (int i = 0; i < 8; ++i) {
    auto a = coordinator_->Acquire(w, 0);
    ASSERT_TRUE(a);
    TrialResult r = Train(*a);
    if (a->trial_id % 2 == 1) {
      r.metrics.val_error = 0.9;
      chance.insert(a->trial_id);
    }
    EXPECT_TRUE(*coordinator_->Complete(w, a->lease_id, r));
  }
  ASSERT_TRUE(coordinator_->Cancel(job).ok());
  ASSERT_EQ(coordinator_->GetJob(job)->record.status, JobStatus::kCancelled);
  auto started = coordinator_->Finalize(job, {});
  ASSERT_TRUE(started.ok()) << started.status().message();
  EXPECT_TRUE(started->finalizing);
  const std::vector<TrialRecord> trials = RunToEnd(job);
  int finals = 0;
  for (const TrialRecord& t : trials) {
    if (t.final_round == 0) continue;
    ++finals;
    EXPECT_EQ(t.status, TrialStatus::kCompleted);
    EXPECT_EQ(chance.count(t.promoted_from), 0u) << "trial " << t.trial_id << " retrains chance-level trial "
                                                 << t.promoted_from;
  }
  EXPECT_GT(finals, 0);
  EXPECT_EQ(coordinator_->GetJob(job)->record.status, JobStatus::kSucceeded);
}

TEST_F(FidelityTest, FinalizingARunningJobCancelsItsPendingSearchAndSurvivesARestart) {
  const std::string db = TempDb("finalize_running");
  Open(db);
  const std::string job = coordinator_->Submit(Spec(50)).value().record.job_id;
  const std::string w = coordinator_->RegisterWorker("w");
  ASSERT_NO_FATAL_FAILURE(CompleteTrials(w, 3, [this](const Assignment& a) { return Train(a); }));
  auto leased = coordinator_->Acquire(w, 0);  // trial 4, in flight during Finalize
  ASSERT_TRUE(leased);
  ASSERT_TRUE(coordinator_->Finalize(job, {}).ok());
  // No final trial before the leased search trial is back.
  const std::string w2 = coordinator_->RegisterWorker("w2");
  EXPECT_FALSE(coordinator_->Acquire(w2, 0).has_value());
  EXPECT_TRUE(*coordinator_->Complete(w, leased->lease_id, Train(*leased)));
  auto first_final = coordinator_->Acquire(w2, 0);
  ASSERT_TRUE(first_final);
  EXPECT_EQ(coordinator_->GetTrial(job, first_final->trial_id)->final_round, 1);
  coordinator_.reset();  // the final round goes on after a restart
  Open(db);
  auto view = coordinator_->GetJob(job).value();
  EXPECT_TRUE(view.finalizing);
  EXPECT_EQ(view.record.status, JobStatus::kRunning);
  const std::vector<TrialRecord> trials = RunToEnd(job);
  EXPECT_EQ(coordinator_->GetJob(job)->record.status, JobStatus::kSucceeded);
  int search = 0;
  for (const TrialRecord& t : trials) {
    if (t.final_round == 0) ++search;
    else EXPECT_EQ(t.status, TrialStatus::kCompleted);
  }
  EXPECT_EQ(search, 4);  // no proposal after Finalize
}

// Issue 23: a job cancelled during its final round said `cancelled` with
// `finalizing: true`, and kept saying so after a restart.
TEST_F(FidelityTest, CancellingDuringAFinalRoundEndsTheRoundToo) {
  const std::string db = TempDb("cancel_final");
  Open(db);
  const std::string job = coordinator_->Submit(Spec(3)).value().record.job_id;
  ASSERT_EQ(RunToEnd(job).size(), 3u);
  ASSERT_TRUE(coordinator_->Finalize(job, {})->finalizing);
  const std::string w = coordinator_->RegisterWorker("w");
  ASSERT_TRUE(coordinator_->Acquire(w, 0).has_value());  // a final-round trial in flight
  auto cancelled = coordinator_->Cancel(job);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().message();
  EXPECT_EQ(cancelled->record.status, JobStatus::kCancelled);
  EXPECT_FALSE(cancelled->finalizing);
  EXPECT_FALSE(coordinator_->GetJob(job)->finalizing);
  coordinator_.reset();
  Open(db);
  EXPECT_EQ(coordinator_->GetJob(job)->record.status, JobStatus::kCancelled);
  EXPECT_FALSE(coordinator_->GetJob(job)->finalizing);
  // A cancelled job's front may still be retrained: the cancelled round does
  // not hold the next one back.
  auto again = coordinator_->Finalize(job, {});
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_TRUE(again->finalizing);
}

}  // namespace
}  // namespace unas::server
