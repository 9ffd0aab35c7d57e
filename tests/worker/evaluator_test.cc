// The evaluator (worker/evaluator.h) on the synthetic data set: a
// promotion's init weights reach the trainer, every figure of a trial is its
// delivered weights', and the temporary files go.
#include "worker/evaluator.h"

#include <stdlib.h>

#include <atomic>
#include <filesystem>

#include <gtest/gtest.h>

#include "tests/temp_dir.h"

namespace unas::worker {
namespace {

// conv 3x3 x8 (BN, ReLU), max-pool 2, dense 32, classifier 10, on 8x8x1.
constexpr const char* kCandidate = R"({"conv_blocks":[{"is_branch":false,"layers":[
    {"type":"Conv2D","ker_size":3,"filters":8,"2x_stride":false,"has_bn":true,"has_relu":true,"has_prepool":false}]}],
    "pooling":{"type":"max","pool_size":2},"dense_blocks":[{"units":32,"activation":"relu"}]})";

// Points TMPDIR at a fresh directory for the test, restoring it afterwards.
class EvaluatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* old = std::getenv("TMPDIR");
    if (old != nullptr) old_tmpdir_ = old;
    had_tmpdir_ = old != nullptr;
    setenv("TMPDIR", dir_.path().c_str(), 1);
  }
  void TearDown() override {
    if (had_tmpdir_) setenv("TMPDIR", old_tmpdir_.c_str(), 1);
    else unsetenv("TMPDIR");
  }
  bool TmpdirIsEmpty() const { return std::filesystem::is_empty(dir_.path()); }

  TrialResult Evaluate(const WorkAssignment& a) {
    std::atomic<bool> cancel{false};
    return MakeEvaluator()(a, cancel, [](double) {});
  }

  unas::testing::TempDir dir_{"evaluator"};
  std::string old_tmpdir_;
  bool had_tmpdir_ = false;
};

// Synthetic data, 1 epoch of SGDW at 0.05 with batches of 32, seed 5, one
// thread, not quantised.
WorkAssignment Assignment() {
  WorkAssignment a;
  a.job_id = "j";
  a.trial_id = 1;
  a.candidate_json = kCandidate;
  a.task.dataset = *data::ParseDatasetSpec("synthetic");
  a.task.training.epochs = 1;
  a.task.training.threads = 1;
  a.task.training.learning_rate = 0.05;
  a.task.training.batch_size = 32;
  a.task.training.seed = 5;
  a.task.training.quantization.enabled = false;
  return a;
}

TEST_F(EvaluatorTest, PromotionWithNoEpochsLeftMeasuresTheParentsWeights) {
  const TrialResult parent = Evaluate(Assignment());
  ASSERT_TRUE(parent.succeeded) << parent.error;
  EXPECT_EQ(parent.metrics.epochs, 1);
  ASSERT_FALSE(parent.weights.empty());
  EXPECT_TRUE(TmpdirIsEmpty());

  WorkAssignment a = Assignment();
  a.trial_id = 2;
  a.init_weights = parent.weights;
  a.init_epochs = 1;  // the spec's 1 epoch: nothing left to train
  const TrialResult promoted = Evaluate(a);
  ASSERT_TRUE(promoted.succeeded) << promoted.error;
  EXPECT_EQ(promoted.metrics.epochs, 0);
  EXPECT_EQ(promoted.metrics.val_error, parent.metrics.val_error);
  EXPECT_EQ(promoted.metrics.test_error, parent.metrics.test_error);
  EXPECT_EQ(promoted.weights.size(), parent.weights.size());
  EXPECT_TRUE(TmpdirIsEmpty());
}

// The trial's validation, test and int8 errors and its .tflite all describe
// the weights it delivers: measuring those weights again (a promotion with
// no epoch left to train) gives every figure back exactly. With a best-epoch
// validation error next to last-epoch weights it would not.
TEST_F(EvaluatorTest, EveryFigureOfATrialIsItsDeliveredWeights) {
  WorkAssignment a = Assignment();
  a.task.training.epochs = 4;
  a.task.training.learning_rate = 0.2;  // a noisy curve: the best epoch is rarely the last
  a.task.training.quantization.enabled = true;
  a.task.training.quantization.calibration_images = 64;
  const TrialResult trained = Evaluate(a);
  ASSERT_TRUE(trained.succeeded) << trained.error;
  ASSERT_TRUE(trained.metrics.int8_val_error.has_value());
  ASSERT_FALSE(trained.model_tflite.empty());

  WorkAssignment again = a;
  again.trial_id = 2;
  again.init_weights = trained.weights;
  again.init_epochs = 4;
  const TrialResult measured = Evaluate(again);
  ASSERT_TRUE(measured.succeeded) << measured.error;
  EXPECT_EQ(measured.metrics.epochs, 0);
  EXPECT_EQ(measured.metrics.val_error, trained.metrics.val_error);
  EXPECT_EQ(measured.metrics.test_error, trained.metrics.test_error);
  EXPECT_EQ(measured.metrics.int8_val_error, trained.metrics.int8_val_error);
  EXPECT_EQ(measured.metrics.int8_test_error, trained.metrics.int8_test_error);
  EXPECT_EQ(measured.model_tflite, trained.model_tflite);
  EXPECT_TRUE(TmpdirIsEmpty());
}

TEST_F(EvaluatorTest, UnreadableInitWeightsFailTheTrialAndLeaveNoFile) {
  WorkAssignment a = Assignment();
  a.init_weights = "not a zip archive";
  a.init_epochs = 0;
  const TrialResult r = Evaluate(a);
  EXPECT_FALSE(r.succeeded);
  EXPECT_EQ(r.error.rfind(dir_.path() + "/unas-init-weights-", 0), 0u) << r.error;
  EXPECT_NE(r.error.find(": not a torch::save archive ("), std::string::npos) << r.error;
  EXPECT_TRUE(TmpdirIsEmpty());

  a.init_weights = Evaluate(Assignment()).weights;
  a.init_epochs = 2;  // more than the spec's 1 epoch
  const TrialResult too_many = Evaluate(a);
  EXPECT_FALSE(too_many.succeeded);
  EXPECT_EQ(too_many.error, "start_epoch: must be in 0..epochs (1)");
  EXPECT_TRUE(TmpdirIsEmpty());
}

}  // namespace
}  // namespace unas::worker
