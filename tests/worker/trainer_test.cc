#include "worker/trainer.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/temp_dir.h"
#include "tests/worker/train_fixtures.h"

namespace unas::worker {
namespace {

TEST(TrainerTest, TinyCandidateLearnsSyntheticData) {
  std::vector<TrainProgress> epochs;
  int batches = 0;
  TrainHooks hooks;
  hooks.on_progress = [&](const TrainProgress& p) {
    if (p.event == TrainProgress::Event::kEpochEnd) epochs.push_back(p);
    else ++batches;
  };
  auto result = Train(TinyCandidate(), *Synthetic(), FastConfig(), hooks);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->outcome, TrialOutcome::kCompleted) << result->message;
  EXPECT_EQ(result->params, 2746);
  EXPECT_EQ(result->epochs_completed, 4);
  EXPECT_EQ(result->train_samples_per_epoch, 1800);
  EXPECT_EQ(batches, 4 * 57);  // ceil(1800 / 32) per epoch
  ASSERT_EQ(epochs.size(), 4u);
  EXPECT_EQ(epochs.back().epoch_samples, 1800);
  ASSERT_EQ(result->validation_error_per_epoch.size(), 4u);
  EXPECT_DOUBLE_EQ(result->best_validation_error,
                   *std::min_element(result->validation_error_per_epoch.begin(),
                                     result->validation_error_per_epoch.end()));
  // The blobs are easy to see through the noise: at least 95% accuracy.
  EXPECT_LE(result->best_validation_error, 0.05);
  EXPECT_LE(result->test_error, 0.05);
  EXPECT_GT(result->samples_per_second, 0);
}

TEST(TrainerTest, ProfileChargesTheStepsThatRanAndNoOthers) {
  auto result = Train(TinyCandidate(), *Synthetic(), FastConfig());
  ASSERT_TRUE(result.ok()) << result.status().message();
  const TrainProfile& p = result->profile;
  for (const StepTime* ran : {&p.setup, &p.forward, &p.backward, &p.optimiser, &p.validation, &p.test}) {
    EXPECT_GT(ran->wall_seconds, 0);
    EXPECT_GT(ran->cpu_seconds, 0);
  }
  // No kept model, no save path, no pruning: nothing charged to them.
  for (const StepTime* idle : {&p.keep_model, &p.save, &p.prune}) {
    EXPECT_EQ(idle->wall_seconds, 0);
    EXPECT_EQ(idle->cpu_seconds, 0);
  }
  const nlohmann::json j = TrainResultToJson(*result);
  EXPECT_EQ(j["profile"].size(), 11u);
  EXPECT_EQ(j["profile"]["backward"]["cpu_seconds"], p.backward.cpu_seconds);
}

TEST(TrainerTest, SameSeedSameResult) {
  auto a = Train(TinyCandidate(), *Synthetic(), FastConfig());
  auto b = Train(TinyCandidate(), *Synthetic(), FastConfig());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->validation_error_per_epoch, b->validation_error_per_epoch);
  EXPECT_EQ(a->test_error, b->test_error);
}

TEST(TrainerTest, FidelityTrainsOnAFraction) {
  TrainConfig c = FastConfig();
  c.epochs = 1;
  c.subset = 0.25;
  auto result = Train(TinyCandidate(), *Synthetic(), c);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->train_samples_per_epoch, 450);
}

TEST(TrainerTest, AbsurdLearningRateFailsTheTrial) {
  TrainConfig c = FastConfig();
  c.learning_rate = 10;  // the largest ValidateTrainConfig accepts
  c.weight_decay = 0;
  auto result = Train(TinyCandidate(), *Synthetic(), c);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->outcome, TrialOutcome::kFailed);
  EXPECT_EQ(result->message.rfind("training diverged: loss is ", 0), 0u) << result->message;
}

TEST(TrainerTest, CancelsBetweenBatches) {
  std::atomic<bool> cancel{false};
  int batches = 0;
  TrainHooks hooks;
  hooks.cancel = &cancel;
  hooks.on_progress = [&](const TrainProgress& p) {
    if (p.event == TrainProgress::Event::kBatch && ++batches == 3) cancel = true;
  };
  auto result = Train(TinyCandidate(), *Synthetic(), FastConfig(), hooks);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->outcome, TrialOutcome::kCancelled);
  EXPECT_EQ(result->message, "cancelled at epoch 1, batch 4");
  EXPECT_EQ(batches, 3);
  EXPECT_EQ(result->epochs_completed, 0);
}

TEST(TrainerTest, AdamWWithScheduleAndAugmentationTrains) {
  TrainConfig c = FastConfig();
  c.optimizer = Optimizer::kAdamW;
  c.learning_rate = 0.01;
  c.lr_schedule = {{2, 0.003}};
  c.augment = AugmentConfig{2, true, 0.1};
  double last_lr = 0;
  TrainHooks hooks;
  hooks.on_progress = [&](const TrainProgress& p) { last_lr = p.learning_rate; };
  auto result = Train(TinyCandidate(), *Synthetic(), c, hooks);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->outcome, TrialOutcome::kCompleted) << result->message;
  EXPECT_DOUBLE_EQ(last_lr, 0.003);
  // Shifts and flips move the blobs, so this is harder than without.
  EXPECT_LE(result->test_error, 0.5);
}

TEST(TrainerTest, SavesWeights) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("unas_weights_" + std::to_string(::getpid()) + ".pt")).string();
  TrainConfig c = FastConfig();
  c.epochs = 1;
  c.save_path = path;
  auto result = Train(TinyCandidate(), *Synthetic(), c);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->outcome, TrialOutcome::kCompleted) << result->message;
  EXPECT_GT(std::filesystem::file_size(path), 2746u * 4u);
  std::filesystem::remove(path);
}

TEST(TrainerTest, UnwritableSavePathFailsTheTrial) {
  TrainConfig c = FastConfig();
  c.epochs = 1;
  c.save_path = "/nonexistent/dir/model.pt";
  auto result = Train(TinyCandidate(), *Synthetic(), c);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->outcome, TrialOutcome::kFailed);
  EXPECT_EQ(result->message.rfind("cannot save weights to /nonexistent/dir/model.pt: ", 0), 0u) << result->message;
}

TEST(TrainerTest, RejectsBadConfig) {
  TrainConfig c = FastConfig();
  c.subset = 0;
  auto result = Train(TinyCandidate(), *Synthetic(), c);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(), "subset: must be in (0, 1]");
  c = FastConfig();
  c.lr_schedule = {{3, 0.1}, {3, 0.01}};
  EXPECT_EQ(ValidateTrainConfig(c).message(), "lr_schedule[1].epoch: epochs must increase");
}

// TinyCandidate trained on the synthetic set with `config`, into *out: a
// completed trial that pruned (fatal failures otherwise).
void TrainPruned(const TrainConfig& config, TrainResult* out) {
  auto result = Train(TinyCandidate(), *Synthetic(), config);
  ASSERT_TRUE(result.ok()) << result.status().message();
  ASSERT_EQ(result->outcome, TrialOutcome::kCompleted) << result->message;
  ASSERT_TRUE(result->pruning.has_value());
  *out = std::move(result).value();
}

// TinyCandidate under the firmware accounting (the old tflm rules; the tflm
// accounting now adds 16-byte rounding and TFLM's persistent part, which do
// not change this choice): conv step 64 + 288, pool step
// 288 + 72 = 360 bytes (the peak), both set by the conv's 8 channels. A 10%
// budget of its 8 + 32 prunable channels (4) goes to the conv: 8 -> 4 filters,
// conv step 64 + 144 = 208 the new peak; params 3*3*4+4 + 36*32+32 + 32*10+10.
TEST(TrainerTest, PruningAimedAtPeakSramTrainsASmallerCandidate) {
  TrainConfig c = FastConfig();
  c.epochs = 3;
  c.prune.enabled = true;
  c.prune.target = PruneTarget::kPeakSram;
  c.prune.max_fraction = 0.1;
  c.prune.accounting = Accounting::kFirmware;
  TrainResult result;
  ASSERT_NO_FATAL_FAILURE(TrainPruned(c, &result));
  const PruningResult& p = *result.pruning;
  EXPECT_EQ(p.epoch, 2);
  EXPECT_EQ(p.channels_removed, 4);
  EXPECT_EQ(p.candidate.conv_blocks[0].layers[0].filters, 4);
  EXPECT_EQ(p.candidate.dense_blocks[0].units, 32);
  EXPECT_TRUE(ValidateCandidate(p.candidate).ok());
  EXPECT_EQ(p.proposed_params, 2746);
  EXPECT_EQ(p.proposed_costs.peak_sram_bytes, 360);
  EXPECT_EQ(p.pruned_costs.peak_sram_bytes, 208);
  EXPECT_EQ(p.initial_target_bytes, 360);
  EXPECT_EQ(p.pruned_target_bytes, 208);
  EXPECT_EQ(p.final_target_bytes, 0);  // none: the channel budget stops it
  // The LibTorch network that was fine-tuned is the costed pruned candidate.
  EXPECT_EQ(result.params, 1554);
  EXPECT_EQ(result.params, p.pruned_costs.params);
  EXPECT_EQ(result.validation_error_per_epoch.size(), 3u);
  EXPECT_EQ(p.validation_error_before, result.validation_error_per_epoch[1]);
  EXPECT_LE(result.test_error, 0.2);  // still learns the blobs after pruning
  const nlohmann::json j = TrainResultToJson(result);
  EXPECT_EQ(j["pruning"]["pruned_candidate"]["conv_blocks"][0]["layers"][0]["filters"], 4);
  EXPECT_EQ(j["pruning"]["pruned_costs"]["peak_sram_bytes"], 208);
}

TEST(TrainerTest, PruningNeedsAnEpochBeforeAndAfter) {
  TrainConfig c = FastConfig();
  c.prune.enabled = true;
  c.epochs = 1;
  EXPECT_FALSE(ValidateTrainConfig(c).ok());
  c.epochs = 4;
  c.prune.start_epoch = 0;
  EXPECT_FALSE(ValidateTrainConfig(c).ok());
  c.prune.start_epoch = 3;
  EXPECT_TRUE(ValidateTrainConfig(c).ok());
  c.prune.max_fraction = 1;
  EXPECT_FALSE(ValidateTrainConfig(c).ok());
}

// Pruning during training on TinyCandidate under the firmware accounting:
// peak = max(conv step 64 + 36c, pool step 45c) for c conv filters, 360 at
// c = 8. A target ratio of 0.6 aims at floor(0.6 * 360) = 216, which c = 5
// (244) misses and c = 4 (208, also the layer cap of one half) meets, so
// the delivered candidate has 4 filters and the one-shot test's 1554
// parameters. 8 x 8 synthetic images, 1800 training ones: 57 batches of 32
// (the last of 8) an epoch, 171 steps; masks every 16 steps (11 updates,
// steps 0..160) and once more after the last batch.
TrainConfig DuringTrainingConfig() {
  TrainConfig c = FastConfig();
  c.epochs = 3;
  c.prune.enabled = true;
  c.prune.mode = PruneMode::kDuringTraining;
  c.prune.target = PruneTarget::kPeakSram;
  c.prune.target_ratio = 0.6;
  c.prune.end_epoch = 2;
  c.prune.accounting = Accounting::kFirmware;
  return c;
}

TEST(TrainerTest, PruningDuringTrainingDeliversTheMaskedCandidateAtItsExactCost) {
  TrainResult result;
  ASSERT_NO_FATAL_FAILURE(TrainPruned(DuringTrainingConfig(), &result));
  const PruningResult& p = *result.pruning;
  EXPECT_EQ(p.mode, PruneMode::kDuringTraining);
  EXPECT_EQ(result.train_samples_per_epoch, 1800);
  EXPECT_EQ(p.mask_updates, 12);
  EXPECT_EQ(p.initial_target_bytes, 360);
  EXPECT_EQ(p.final_target_bytes, 216);
  EXPECT_EQ(p.pruned_target_bytes, 208);
  EXPECT_EQ(p.epoch, 2);
  EXPECT_EQ(p.candidate.conv_blocks[0].layers[0].filters, 4);
  EXPECT_EQ(p.candidate.dense_blocks[0].units, 32);
  EXPECT_EQ(p.channels_removed, 4);
  EXPECT_EQ(p.proposed_params, 2746);
  // The stored costs are the cost model's for the stored candidate.
  auto network = BuildNetwork(p.candidate, Synthetic()->info().input);
  ASSERT_TRUE(network.ok());
  auto costs = SummariseCosts(*network, Accounting::kFirmware);
  ASSERT_TRUE(costs.ok());
  EXPECT_EQ(p.pruned_costs.peak_sram_bytes, 208);
  EXPECT_EQ(p.pruned_costs.peak_sram_bytes, costs->peak_sram_bytes);
  EXPECT_EQ(p.pruned_costs.flash_bytes, costs->flash_bytes);
  EXPECT_EQ(p.pruned_costs.macs, costs->macs);
  EXPECT_EQ(result.params, 1554);
  EXPECT_EQ(result.params, p.pruned_costs.params);
  // The delivered network computes what the masked one did in the last
  // epoch: the same validation error.
  ASSERT_EQ(result.validation_error_per_epoch.size(), 3u);
  EXPECT_EQ(p.validation_error_pruned, result.validation_error_per_epoch.back());
  EXPECT_EQ(result.validation_error, p.validation_error_pruned);
  EXPECT_LE(result.test_error, 0.2);
  const nlohmann::json j = TrainResultToJson(result);
  EXPECT_EQ(j["pruning"]["mode"], "during_training");
  EXPECT_EQ(j["pruning"]["mask_updates"], 12);
  EXPECT_EQ(j["pruning"]["pruned_candidate"]["conv_blocks"][0]["layers"][0]["filters"], 4);
}

// A promotion of `lower` (2 epochs, saved): DuringTrainingConfig for
// `epochs` in all, starting at epoch 2 from the lower rung's weights.
TrainConfig ContinuedFrom(const TrainConfig& lower, int epochs) {
  TrainConfig c = DuringTrainingConfig();
  c.epochs = epochs;
  c.start_epoch = 2;
  c.init_weights_path = lower.save_path;
  return c;
}

// A promotion loads the dense weights a lower rung saved and recomputes the
// masks from them at the final target: with nothing left to train it
// delivers the lower rung's pruned candidate and validation error.
TEST(TrainerTest, PruningDuringTrainingContinuesAcrossAPromotion) {
  unas::testing::TempDir dir("dpf_promotion");
  TrainConfig lower = DuringTrainingConfig();
  lower.epochs = 2;
  lower.prune.end_epoch = 1;
  lower.save_path = dir / "rung0.pt";
  TrainResult first, same, next;
  ASSERT_NO_FATAL_FAILURE(TrainPruned(lower, &first));

  // end_epoch 2: cut to the lower rung's 2 epochs
  ASSERT_NO_FATAL_FAILURE(TrainPruned(ContinuedFrom(lower, 2), &same));
  EXPECT_EQ(CandidateToJson(same.pruning->candidate), CandidateToJson(first.pruning->candidate));
  EXPECT_EQ(same.validation_error, first.validation_error);
  EXPECT_EQ(same.pruning->mask_updates, 1);

  ASSERT_NO_FATAL_FAILURE(TrainPruned(ContinuedFrom(lower, 4), &next));
  EXPECT_EQ(next.epochs_completed, 2);
  EXPECT_EQ(next.pruning->final_target_bytes, 216);
  EXPECT_EQ(next.pruning->pruned_costs.peak_sram_bytes, 208);
  EXPECT_EQ(next.params, next.pruning->pruned_costs.params);
}

TEST(TrainerTest, PruningDuringTrainingNeedsATarget) {
  TrainConfig c = DuringTrainingConfig();
  c.prune.target_ratio.reset();
  EXPECT_EQ(ValidateTrainConfig(c).message(),
            "prune: during training needs target_bytes or target_ratio (what the schedule reaches)");
  c.prune.target_bytes = 200;
  EXPECT_TRUE(ValidateTrainConfig(c).ok());
  c.prune.start_epoch = 0;  // one-shot needs an epoch before; the schedule may start at once
  EXPECT_TRUE(ValidateTrainConfig(c).ok());
  c.prune.update_steps = 0;
  EXPECT_EQ(ValidateTrainConfig(c).message(), "prune.update_steps: must be in 1..1000000");
}

}  // namespace
}  // namespace unas::worker
