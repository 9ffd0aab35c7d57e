// Continuing training from a lower rung's weights (TrainConfig::
// init_weights_path / start_epoch): on real Fashion-MNIST, a small fixed
// subset so each run takes a second or two.
#include <sys/stat.h>

#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "tests/temp_dir.h"
#include "tests/worker/train_fixtures.h"
#include "worker/trainer.h"

namespace unas::worker {
namespace {

std::shared_ptr<const Dataset> FashionMnist() {
  struct stat st {};
  if (::stat(data::kFashionMnistDir, &st) != 0) return nullptr;
  return LoadDataset(*data::ParseDatasetSpec("fashion-mnist")).value();
}

// 2% of the 54000 training images: 1080, 9 batches of up to 128.
TrainConfig SmallConfig() {
  TrainConfig c = FastConfig();
  c.epochs = 1;
  c.batch_size = 128;
  c.seed = 3;
  c.subset = 0.02;
  return c;
}

class TrainerResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = FashionMnist();
    if (data_ == nullptr) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    TrainConfig c = SmallConfig();
    c.save_path = weights_path_;
    auto first = Train(TinyCandidate(), *data_, c);
    ASSERT_TRUE(first.ok()) << first.status().message();
    ASSERT_EQ(first->outcome, TrialOutcome::kCompleted) << first->message;
    first_ = *first;
  }

  unas::testing::TempDir dir_{"resume"};
  const std::string weights_path_ = dir_ / "rung0.pt";
  std::shared_ptr<const Dataset> data_;
  TrainResult first_;
};

TEST_F(TrainerResumeTest, AtTheLastEpochMeasuresTheLoadedNetwork) {
  TrainConfig c = SmallConfig();
  c.init_weights_path = weights_path_;
  c.start_epoch = 1;
  c.keep_model = true;
  int progress_calls = 0;
  TrainHooks hooks;
  hooks.on_progress = [&](const TrainProgress&) { ++progress_calls; };
  auto resumed = Train(TinyCandidate(), *data_, c, hooks);
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  ASSERT_EQ(resumed->outcome, TrialOutcome::kCompleted) << resumed->message;
  EXPECT_EQ(progress_calls, 0);
  EXPECT_EQ(resumed->epochs_completed, 0);
  EXPECT_TRUE(resumed->validation_error_per_epoch.empty());
  EXPECT_EQ(resumed->train_seconds, 0);
  // The same network in eval mode on the same images: the same bits.
  ASSERT_EQ(first_.validation_error_per_epoch.size(), 1u);
  EXPECT_EQ(resumed->best_validation_error, first_.validation_error_per_epoch[0]);
  EXPECT_EQ(resumed->test_error, first_.test_error);
  EXPECT_LT(resumed->test_error, 0.5);  // it did learn something in that epoch
  EXPECT_EQ(resumed->params, first_.params);
  EXPECT_TRUE(resumed->model.has_value());
}

TEST_F(TrainerResumeTest, ContinuesAtTheAbsoluteEpochOfTheSchedule) {
  TrainConfig c = SmallConfig();
  c.epochs = 2;
  c.lr_schedule = {{1, 0.003}};  // epoch 0 trained at 0.05, epoch 1 at 0.003
  c.init_weights_path = weights_path_;
  c.start_epoch = 1;
  std::set<int> epochs_seen;
  std::set<double> rates_seen;
  int batches = 0, epoch_ends = 0;
  double first_batch_accuracy = -1;
  TrainHooks hooks;
  hooks.on_progress = [&](const TrainProgress& p) {
    if (first_batch_accuracy < 0) first_batch_accuracy = p.train_accuracy;
    epochs_seen.insert(p.epoch);
    rates_seen.insert(p.learning_rate);
    EXPECT_EQ(p.epochs, 2);
    if (p.event == TrainProgress::Event::kEpochEnd) ++epoch_ends;
    else ++batches;
  };
  auto resumed = Train(TinyCandidate(), *data_, c, hooks);
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  ASSERT_EQ(resumed->outcome, TrialOutcome::kCompleted) << resumed->message;
  EXPECT_EQ(resumed->epochs_completed, 1);
  EXPECT_EQ(epochs_seen, std::set<int>{1});
  EXPECT_EQ(rates_seen, std::set<double>{0.003});
  EXPECT_EQ(batches, 9);  // 1080 images: 8 of 128 and one of 56
  EXPECT_EQ(epoch_ends, 1);
  ASSERT_EQ(resumed->validation_error_per_epoch.size(), 1u);
  EXPECT_EQ(resumed->best_validation_error, resumed->validation_error_per_epoch[0]);
  // A second epoch from the loaded weights, not a first one from scratch:
  // an untrained network gets about 1 in 10 of its first batch right.
  EXPECT_GT(first_batch_accuracy, 0.4);
  // And a second epoch helps (0.3997 -> 0.3527 here).
  EXPECT_LT(resumed->best_validation_error, first_.validation_error_per_epoch[0]);
}

TEST_F(TrainerResumeTest, WeightsOfAnotherCandidateAreAnErrorNamingThePath) {
  TrainConfig c = SmallConfig();
  c.epochs = 2;
  c.init_weights_path = weights_path_;
  c.start_epoch = 1;
  auto wrong = Train(TinyCandidate(16), *data_, c);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(wrong.status().message(), weights_path_ +
                                          ": weights of another network: 'conv0.weight' is [8, 1, 3, 3] in the "
                                          "file, [16, 1, 3, 3] in the network");
}

TEST(TrainerResumeErrorsTest, MissingOrCorruptWeightsAreErrorsNamingThePath) {
  TrainConfig c = SmallConfig();
  c.subset = 1;
  c.init_weights_path = "/nonexistent/rung0.pt";
  auto missing = Train(TinyCandidate(), *Synthetic(), c);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "/nonexistent/rung0.pt: no such file");

  unas::testing::TempDir dir("resume_corrupt");
  c.init_weights_path = dir / "corrupt.pt";
  std::ofstream(c.init_weights_path) << "not a zip archive";
  auto corrupt = Train(TinyCandidate(), *Synthetic(), c);
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(corrupt.status().message().rfind(c.init_weights_path + ": not a torch::save archive (", 0), 0u)
      << corrupt.status().message();
}

TEST(TrainerResumeErrorsTest, ValidateTrainConfigChecksTheResumeFields) {
  TrainConfig c = SmallConfig();
  c.epochs = 3;
  c.start_epoch = 1;
  EXPECT_EQ(ValidateTrainConfig(c).message(),
            "start_epoch: 1 needs init_weights_path (the weights those epochs trained)");
  c.init_weights_path = "/tmp/w.pt";
  EXPECT_TRUE(ValidateTrainConfig(c).ok());
  c.start_epoch = 3;
  EXPECT_TRUE(ValidateTrainConfig(c).ok());
  c.start_epoch = 4;
  EXPECT_EQ(ValidateTrainConfig(c).message(), "start_epoch: must be in 0..epochs (3)");
  c.start_epoch = -1;
  EXPECT_EQ(ValidateTrainConfig(c).message(), "start_epoch: must be in 0..epochs (3)");
  c.start_epoch = 0;
  c.prune.enabled = true;
  EXPECT_EQ(ValidateTrainConfig(c).message(),
            "init_weights_path: not with one-shot pruning (it changes the network, so the weights of a pruned "
            "trial do not fit its candidate, and pruning again would change it once more); prune during training");
  c.init_weights_path.clear();
  EXPECT_TRUE(ValidateTrainConfig(c).ok());
}

}  // namespace
}  // namespace unas::worker
