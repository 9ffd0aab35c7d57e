#include "server/core/job_spec.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/server/example_jobs.h"
#include "tests/worker/train_config_expect.h"

namespace unas::server {
namespace {

TEST(JobSpecTest, UsersDataSetWithInputShapeAndBadFilePolicyRoundTrips) {
  auto spec = ParseJobSpecText(
      R"({"dataset":"folder:/data/pets","input_shape":[32,24,3],"bad_files":"skip"})");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->dataset.kind, data::DatasetKind::kFolder);
  EXPECT_EQ(spec->dataset.directory, "/data/pets");
  EXPECT_EQ(spec->dataset.input_shape.height, 32);
  EXPECT_EQ(spec->dataset.input_shape.width, 24);
  EXPECT_EQ(spec->dataset.input_shape.channels, 3);
  EXPECT_EQ(spec->dataset.bad_files, data::BadFilePolicy::kSkip);
  const nlohmann::json j = JobSpecToJson(*spec);
  EXPECT_EQ(j["dataset"], "folder:/data/pets");
  EXPECT_EQ(j["input_shape"], nlohmann::json::parse("[32,24,3]"));
  EXPECT_EQ(j["bad_files"], "skip");
  auto again = ParseJobSpec(j);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->dataset.Key(), spec->dataset.Key());
  EXPECT_EQ(TrialTaskFor(*again, TrialStage{}).dataset.Key(), "folder:/data/pets|shape=32x24x3|skip-bad-files");

  auto plain = ParseJobSpecText("{}");
  EXPECT_TRUE(JobSpecToJson(*plain)["input_shape"].is_null());
  EXPECT_EQ(JobSpecToJson(*plain)["bad_files"], "fail");
  EXPECT_EQ(ParseJobSpecText(R"({"input_shape":[32,32]})").status().message(),
            "input_shape: expected [height, width, channels] (three integers)");
  EXPECT_EQ(ParseJobSpecText(R"({"input_shape":[32,0,3]})").status().message(),
            "input_shape [32, 0, 3]: height must be 1..65536, width 1..4096, channels 1..256");
  EXPECT_EQ(ParseJobSpecText(R"({"bad_files":"ignore"})").status().message(),
            "bad_files: expected \"fail\" or \"skip\"");
}

TEST(JobSpecTest, AugmentIsAnObjectOrTheOldBoolean) {
  auto spec = ParseJobSpecText(R"({"training":{"augment":{"shift_px":3,"noise_sd":0.05}}})");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->training.augment.shift_px, 3);
  EXPECT_FALSE(spec->training.augment.flip);  // off unless asked for
  EXPECT_EQ(spec->training.augment.noise_sd, 0.05);
  EXPECT_EQ(JobSpecToJson(*spec)["training"]["augment"],
            nlohmann::json::parse(R"({"shift_px":3,"flip":false,"noise_sd":0.05})"));
  auto old = ParseJobSpecText(R"({"training":{"augment":true}})");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->training.augment.shift_px, 2);
  EXPECT_TRUE(old->training.augment.flip);
  EXPECT_FALSE(ParseJobSpecText("{}")->training.augment.enabled());
  EXPECT_EQ(ParseJobSpecText(R"({"training":{"augment":{"shift_px":17}}})").status().message(),
            "training.augment.shift_px: must be in 0..16");
  EXPECT_EQ(ParseJobSpecText(R"({"training":{"augment":{"rotate":1}}})").status().message(),
            "training.augment.rotate: unknown field (allowed: flip, noise_sd, shift_px)");
}

TEST(JobSpecTest, EmptyObjectGivesDocumentedDefaults) {
  auto spec = ParseJobSpecText("{}");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(data::DatasetSpecText(spec->dataset), "fashion-mnist");
  EXPECT_EQ(spec->accounting, Accounting::kTflm);
  EXPECT_EQ(spec->mcu, nullptr);
  EXPECT_EQ(spec->memory, search::MemoryModel::kWholeTensor);
  EXPECT_EQ(spec->training.optimizer, worker::Optimizer::kSgdw);
  EXPECT_EQ(spec->training.threads, 1);
  EXPECT_FALSE(spec->training.prune.enabled);
  EXPECT_TRUE(spec->training.quantization.enabled);
  EXPECT_EQ(spec->training.quantization.calibration_images, 1000);
  EXPECT_EQ(spec->error_objective, ErrorObjective::kInt8);
  EXPECT_EQ(JobSpecToJson(*spec)["quantization"],
            nlohmann::json::parse(R"({"enabled":true,"calibration_images":1000,"every_rung":false,"error_objective":"int8"})"));
  EXPECT_TRUE(spec->rungs.empty());
  EXPECT_EQ(RungCount(*spec), 1);
  EXPECT_EQ(spec->reduction_factor, 3);
  EXPECT_FALSE(spec->final.enabled);
  EXPECT_EQ(spec->final.networks, 6);
  EXPECT_EQ(spec->final.neighbours, 2);
  EXPECT_EQ(spec->final.training.epochs, 3);  // the search's own recipe, on the whole training part
  EXPECT_EQ(spec->final.training.optimizer, spec->training.optimizer);
  EXPECT_TRUE(spec->final.training.lr_schedule.empty());
  EXPECT_EQ(spec->final.training.subset, 1.0);
  EXPECT_EQ(spec->strategy, StrategyKind::kAging);
  EXPECT_EQ(spec->population, 100);
  EXPECT_EQ(spec->sample_size, 25);
  EXPECT_EQ(spec->max_trials, 100);
  EXPECT_EQ(spec->training.epochs, 3);
  EXPECT_EQ(spec->evaluator, worker::EvaluatorKind::kTrain);
  EXPECT_EQ(ObjectiveNames(*spec), (std::vector<std::string>{"error", "peak_sram", "flash", "macs"}));
}

TEST(JobSpecTest, ParsesAFullSpecAndRoundTrips) {
  const char* text = R"({"name":"fm","dataset":"synthetic","seed":7,"evaluator":"synthetic",
    "training":{"epochs":2,"batch_size":64,"optimizer":"adamw","learning_rate":0.002,
                "lr_schedule":[[1,0.001]],"subset":0.25,"augment":true,"threads":2},
    "accounting":"unas","mcu":"cortex-m4-80mhz",
    "bounds":{"val_error":0.1,"peak_sram_bytes":64000,"flash_bytes":64000,"macs":30000000,"latency_ms":50},
    "constraints":{"peak_sram_bytes":64000},
    "objectives":["error","peak_sram","latency"],
    "strategy":{"type":"bo"},"budget":{"trials":200,"wall_seconds":600}})";
  auto spec = ParseJobSpecText(text);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->training.lr_schedule.size(), 1u);
  EXPECT_EQ(*spec->constraints[search::Objective::kPeakSram], 64000);
  EXPECT_FALSE(spec->constraints[search::Objective::kFlash].has_value());
  EXPECT_EQ(*spec->bounds[search::Objective::kLatency], 50);
  EXPECT_EQ(*spec->bounds[search::Objective::kError], 0.1);
  EXPECT_EQ(spec->accounting, Accounting::kUnas);
  ASSERT_NE(spec->mcu, nullptr);
  EXPECT_EQ(spec->mcu->name, "cortex-m4-80mhz");
  EXPECT_EQ(spec->training.optimizer, worker::Optimizer::kAdamW);
  EXPECT_EQ(ObjectiveNames(*spec), (std::vector<std::string>{"error", "peak_sram", "latency"}));
  EXPECT_EQ(spec->strategy, StrategyKind::kBayesian);
  EXPECT_EQ(spec->max_trials, 200);
  auto again = ParseJobSpec(JobSpecToJson(*spec));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(JobSpecToJson(*again), JobSpecToJson(*spec));
  const nlohmann::json normalised = JobSpecToJson(*spec);
  EXPECT_EQ(normalised["training"]["optimizer"], "adamw");
  EXPECT_EQ(normalised["accounting"], "unas");
  EXPECT_EQ(normalised["mcu"], "cortex-m4-80mhz");
  EXPECT_EQ(normalised["memory"], "whole");
  EXPECT_EQ(normalised["bounds"], nlohmann::json::parse(
                                      R"({"val_error":0.1,"peak_sram_bytes":64000,"flash_bytes":64000,)"
                                      R"("macs":30000000,"latency_ms":50})"));
}

// The worker's task is the job's data set and recipe plus the job's seed and
// accounting; pruning defaults are the worker's own (fraction 0.3).
TEST(JobSpecTest, TrialTaskComesFromTheSpecAlone) {
  auto spec = ParseJobSpecText(R"({"seed":11,"accounting":"unas","memory":"partial_execution",
    "training":{"epochs":4,"optimizer":"adamw","dropout":0.2,"subset":0.5,"threads":3,"lr_schedule":[[2,0.001]]},
    "pruning":{"target":"flash","epoch":2,"target_bytes":9000}})");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->memory, search::MemoryModel::kPartialExecution);
  const worker::TrialTask task = TrialTaskFor(*spec, TrialStage{});
  EXPECT_EQ(data::DatasetSpecText(task.dataset), "fashion-mnist");
  EXPECT_EQ(task.evaluator, worker::EvaluatorKind::kTrain);
  EXPECT_TRUE(task.partial_execution);  // the C library whose flash the worker measures
  const worker::TrainConfig& c = task.training;
  EXPECT_EQ(c.optimizer, worker::Optimizer::kAdamW);
  EXPECT_EQ(c.epochs, 4);
  EXPECT_EQ(c.dropout, 0.2);
  EXPECT_EQ(c.subset, 0.5);
  EXPECT_EQ(c.threads, 3);
  EXPECT_EQ(c.seed, 11u);
  unas::testing::ExpectLrSchedule(c.lr_schedule, {{2, 0.001}});
  EXPECT_TRUE(c.prune.enabled);
  EXPECT_EQ(c.prune.target, worker::PruneTarget::kFlash);
  EXPECT_EQ(c.prune.max_fraction, 0.3);
  EXPECT_EQ(c.prune.max_group_fraction, 0.5);
  EXPECT_EQ(c.prune.start_epoch, 2);
  EXPECT_EQ(c.prune.target_bytes, 9000);
  EXPECT_EQ(c.prune.accounting, Accounting::kUnas);
  EXPECT_TRUE(c.quantization.enabled);
  auto q = ParseJobSpecText(R"({"quantization":{"enabled":false,"calibration_images":64,"error_objective":"float"}})");
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_FALSE(TrialTaskFor(*q, TrialStage{}).training.quantization.enabled);
  EXPECT_FALSE(TrialTaskFor(*q, TrialStage{}).partial_execution);
  EXPECT_EQ(TrialTaskFor(*q, TrialStage{}).training.quantization.calibration_images, 64);
  EXPECT_EQ(q->error_objective, ErrorObjective::kFloat);
  EXPECT_EQ(worker::PruneConfig().max_fraction, 0.3);
}

TEST(JobSpecTest, RefusalsNameTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[]", "job: expected a JSON object"},
      {"{", "job: not valid JSON"},
      {R"({"datset":"x"})", "datset: unknown field"},
      {R"({"dataset":"imagenet"})", "dataset: 'imagenet' is not one of fashion-mnist"},
      {R"({"training":{"epochs":0}})", "training.epochs: must be in 1..1000"},
      // The trainer's own rules (ValidateTrainConfig), refused at submission:
      // a batch norm needs two samples, weight decay 1 zeroes every weight.
      {R"({"training":{"batch_size":1}})", "training.batch_size: must be in 2..65536"},
      {R"({"training":{"weight_decay":1.0}})", "training.weight_decay: must be in [0, 1)"},
      {R"({"training":{"dropout":0.96}})", "training.dropout: must be in [0, 0.95]"},
      {R"({"training":{"learning_rate":0}})", "training.learning_rate: must be in (0, 10]"},
      {R"({"training":{"threads":257}})", "training.threads: must be in 0..256"},
      {R"({"budget":{"trials":18446744073709551615}})", "budget.trials: 18446744073709551615 is outside 1..1000000"},
      // 1 + 64 levels: the 65th opens at byte 77; the message names the limit, not the text.
      {"{\"objectives\":" + std::string(64, '[') + "1" + std::string(64, ']') + "}",
       "job: JSON nests deeper than 64 levels (at byte 77)"},
      {R"({"training":{"epochs":"3"}})", "training.epochs: expected an integer"},
      {R"({"training":{"subset":1.5}})", "training.subset: must be in (0, 1]"},
      {R"({"training":{"optimizer":"sgd"}})", "training.optimizer: 'sgd' is not one of sgdw, adamw"},
      {R"({"training":{"lr_schedule":[[5,0.1],[3,0.01]]}})", "training.lr_schedule[1].epoch: epochs must increase"},
      {R"({"accounting":"tf"})", "accounting: 'tf' is not one of tflm, unas, firmware"},
      {R"({"memory":"partial_execution"})", "memory: partial_execution needs accounting 'firmware' (or 'unas')"},
      {R"({"constraints":{"peak_sram_bytes":-5}})", "constraints.peak_sram_bytes: -5"},
      {R"({"constraints":{"sram":5}})", "constraints.sram: unknown field"},
      {R"({"constraints":{"val_error":0.1}})", "constraints.val_error: error is only known after training"},
      {R"({"bounds":{"latency_ms":10}})", "mcu: a latency bound or constraint needs an MCU profile"},
      {R"({"objectives":["error","size"]})", "objectives: \"size\" is not one of"},
      {R"({"strategy":"genetic"})", "strategy.type: 'genetic' is not one of aging, bo, random"},
      {R"({"budget":{"trials":0}})", "budget.trials: 0 is outside 1..1000000"},
      {R"({"seed":-1})", "seed: expected a non-negative integer"},
      {R"({"evaluator":"magic"})", "evaluator: 'magic' is not one of train, synthetic"},
      {R"({"pruning":{"target":"latency"}})", "pruning.target: 'latency' is not one of peak_sram, flash"},
      {R"({"training":{"epochs":1},"pruning":{}})", "pruning: needs epochs >= 2"},
      {R"({"training":{"epochs":3},"pruning":{"epoch":3}})",
       "pruning.epoch: must leave at least one epoch before pruning and one after (1..2)"},
      {R"({"pruning":{"fraction":1.5}})", "pruning.fraction: must be in (0, 1)"},
      {R"({"mcu":"z80"})", "mcu: unknown MCU profile 'z80' (known: "},
      {R"({"quantization":{"error_objective":"int4"}})", "quantization.error_objective: 'int4' is not one of int8, float"},
      {R"({"quantization":{"calibration_images":0}})", "quantization.calibration_images: must be in 1..1000000"},
      {R"({"quantization":{"bits":8}})", "quantization.bits: unknown field"},
      {R"({"memory":"paged"})", "memory: 'paged' is not one of whole, partial_execution"},
  };
  for (const auto& [text, expected] : cases) {
    auto spec = ParseJobSpecText(text);
    ASSERT_FALSE(spec.ok()) << text;
    EXPECT_NE(spec.status().message().find(expected), std::string::npos)
        << text << " -> " << spec.status().message();
  }
}

// Issue 23: 18 objectives made the hypervolume run for minutes under the
// coordinator's lock (and again at every restart); 10,000 were accepted.
TEST(JobSpecTest, RefusesRepeatedObjectivesAndMoreThanThereAreKinds) {
  auto list = [](int count) {
    const char* kinds[] = {"error", "peak_sram", "flash", "macs"};
    std::string text = R"({"objectives":[)";
    for (int i = 0; i < count; ++i) text += std::string(i ? "," : "") + "\"" + kinds[i % 4] + "\"";
    return text + "]}";
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {list(18), "objectives: 18 names, more than the 5 distinct objectives there are"},
      {list(10000), "objectives: 10000 names, more than the 5 distinct objectives there are"},
      {list(6), "objectives: 6 names, more than the 5"},
      {list(5), "objectives: \"error\" is listed twice"},
      {R"({"objectives":["flash","macs","flash"]})", "objectives: \"flash\" is listed twice"},
  };
  for (const auto& [text, expected] : cases) {
    auto spec = ParseJobSpecText(text);
    ASSERT_FALSE(spec.ok()) << text.substr(0, 80);
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(spec.status().message().find(expected), std::string::npos) << spec.status().message();
  }
  auto four = ParseJobSpecText(list(4));
  ASSERT_TRUE(four.ok()) << four.status().message();
  EXPECT_EQ(four->objectives.size(), 4u);
}

TEST(JobSpecTest, TheErrorObjectiveFallsBackToFloatWithoutAnInt8Figure) {
  JobSpec spec;
  worker::Metrics m;
  m.val_error = 0.25;
  EXPECT_EQ(ObjectiveError(spec, m), 0.25);  // int8 asked for, none measured
  m.int8_val_error = 0.28;
  EXPECT_EQ(ObjectiveError(spec, m), 0.28);
  spec.error_objective = ErrorObjective::kFloat;
  EXPECT_EQ(ObjectiveError(spec, m), 0.25);
}

TEST(JobSpecTest, ChanceLevelFollowsTheClassCount) {
  // 10 classes: 0.85 and above; 4 classes: 0.70; 2 classes: 0.45.
  EXPECT_TRUE(AtChanceLevel(0.85, 10));
  EXPECT_FALSE(AtChanceLevel(0.849, 10));
  EXPECT_TRUE(AtChanceLevel(0.70, 4));
  EXPECT_FALSE(AtChanceLevel(0.667, 4));
  EXPECT_TRUE(AtChanceLevel(0.45, 2));
  EXPECT_FALSE(AtChanceLevel(0.30, 2));
  EXPECT_FALSE(AtChanceLevel(1.0, 1));
}

TEST(JobSpecTest, RungsAndTheFinalRecipeParseRoundTripAndGiveEachTrialItsRecipe) {
  const char* text = R"({"training":{"epochs":2,"optimizer":"adamw","augment":true},
    "rungs":[{"epochs":1,"subset":0.4},{"epochs":4}],"promotion":{"reduction_factor":4},
    "quantization":{"enabled":true},
    "final":{"enabled":true,"networks":3,"neighbours":0,"training":{"epochs":20,"lr_schedule":[[10,0.002]]}}})";
  auto spec = ParseJobSpecText(text);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  ASSERT_EQ(spec->rungs.size(), 2u);
  EXPECT_EQ(spec->rungs[1].epochs, 4);
  EXPECT_EQ(spec->rungs[1].subset, 1.0);
  EXPECT_EQ(spec->reduction_factor, 4);
  EXPECT_TRUE(spec->final.enabled);
  EXPECT_EQ(spec->final.training.lr_schedule.size(), 1u);  // replaces the default steps
  auto again = ParseJobSpec(JobSpecToJson(*spec));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(JobSpecToJson(*again), JobSpecToJson(*spec));

  const worker::TrainConfig low = RecipeFor(*spec, TrialStage{0, 0, 0});
  EXPECT_EQ(low.epochs, 1);
  EXPECT_EQ(low.subset, 0.4);
  EXPECT_EQ(low.optimizer, worker::Optimizer::kAdamW);  // the rest is the search's recipe
  EXPECT_FALSE(low.quantization.enabled);              // low rungs are not quantised
  const worker::TrainConfig top = RecipeFor(*spec, TrialStage{1, 0, 0});
  EXPECT_EQ(top.epochs, 4);
  EXPECT_EQ(top.subset, 1.0);
  EXPECT_TRUE(top.quantization.enabled);
  const worker::TrainConfig final = RecipeFor(*spec, TrialStage{0, 1, 0});
  EXPECT_EQ(final.epochs, 20);
  EXPECT_EQ(final.optimizer, worker::Optimizer::kAdamW);  // what final.training leaves out is the search's
  EXPECT_TRUE(final.augment.enabled());
  EXPECT_EQ(final.subset, 1.0);
  EXPECT_TRUE(final.quantization.enabled);
  const worker::TrainConfig shorter = RecipeFor(*spec, TrialStage{0, 1, 5});
  EXPECT_EQ(shorter.epochs, 5);
  ASSERT_EQ(shorter.lr_schedule.size(), 1u);
  EXPECT_EQ(shorter.lr_schedule[0].epoch, 3);  // 10 of 20 -> 2.5 of 5, rounded

  const worker::TrialTask trial = TrialTaskFor(*spec, TrialStage{0, 0, 0});
  EXPECT_EQ(trial.training.epochs, 1);
  EXPECT_EQ(trial.training.subset, 0.4);
  EXPECT_FALSE(trial.training.quantization.enabled);

  auto every = ParseJobSpecText(R"({"rungs":[{"epochs":1},{"epochs":2}],"quantization":{"every_rung":true}})");
  ASSERT_TRUE(every.ok());
  EXPECT_TRUE(RecipeFor(*every, TrialStage{0, 0, 0}).quantization.enabled);
}

TEST(JobSpecTest, RungAndFinalRefusalsNameTheField) {
  auto refused = [](const std::string& text) { return ParseJobSpecText(text).status().message(); };
  EXPECT_EQ(refused(R"({"rungs":[{"epochs":2},{"epochs":2}]})"),
            "rungs[1].epochs: must be more than the rung below's (2): a rung's epochs are the training a candidate "
            "has had when it ends");
  EXPECT_EQ(refused(R"({"rungs":[{"subset":0.5}]})"), "rungs[0].epochs: required");
  EXPECT_EQ(refused(R"({"rungs":[{"epochs":1,"subset":0}]})"), "rungs[0].subset: must be in (0, 1]");
  EXPECT_EQ(refused(R"({"rungs":[{"epochs":1},{"epochs":1001}]})"), "rungs[1].epochs: must be in 1..1000");
  EXPECT_EQ(refused(R"({"rungs":[{"epochs":1,"fidelity":1}]})"),
            "rungs[0].fidelity: unknown field (allowed: epochs, subset)");
  EXPECT_EQ(refused(R"({"rungs":{"epochs":1}})"),
            "rungs: expected an array of at most 10 {\"epochs\": n, \"subset\": f}");
  EXPECT_EQ(refused(R"({"promotion":{"reduction_factor":1}})"), "promotion.reduction_factor: 1 is outside 2..100");
  EXPECT_EQ(refused(R"({"final":{"networks":0}})"), "final.networks: 0 is outside 1..100");
  EXPECT_EQ(refused(R"({"final":{"training":{"epochs":0}}})"), "final.training.epochs: must be in 1..1000");
  EXPECT_EQ(refused(R"({"final":{"training":{"lr_schedule":[[3,0.1],[2,0.1]]}}})"),
            "final.training.lr_schedule[1].epoch: epochs must increase");
  EXPECT_EQ(refused(R"({"final":{"training":{"batch_size":1}}})"), "final.training.batch_size: must be in 2..65536 "
                                                                     "(batch norm needs two samples)");
  EXPECT_EQ(refused(R"({"rungs":[{"epochs":2},{"epochs":4}],"pruning":{}})"),
            "pruning: one-shot pruning is not with rungs (a promotion continues from its rung's weights, which "
            "pruning would change); use mode 'during_training' or one rung");
  EXPECT_EQ(refused(R"({"pruning":{"mode":"during_training"}})"),
            "pruning: during training needs target_bytes or target_ratio (what the schedule reaches)");
  EXPECT_EQ(refused(R"({"pruning":{"mode":"dpf","target_ratio":0.5}})"),
            "pruning.mode: 'dpf' is not one of one_shot, during_training");
  EXPECT_EQ(refused(R"({"pruning":{"mode":"during_training","target_ratio":1.5}})"),
            "pruning.target_ratio: must be in (0, 1)");
  EXPECT_EQ(refused(R"({"pruning":{"mode":"during_training","target_ratio":0.5,"update_steps":0}})"),
            "pruning.update_steps: must be in 1..1000000");
  EXPECT_EQ(refused(R"({"training":{"epochs":4},"pruning":{"mode":"during_training","target_ratio":0.5,)"
                    R"("epoch":2,"end_epoch":2}})"),
            "pruning.end_epoch: must be after the epoch the schedule starts at");
}

// Pruning during training keeps the dense network, so it works with rungs:
// every rung's recipe carries the schedule, and the job's JSON says so.
TEST(JobSpecTest, PruningDuringTrainingGoesWithRungs) {
  auto spec = ParseJobSpecText(R"({"rungs":[{"epochs":1,"subset":0.5},{"epochs":4}],
      "pruning":{"mode":"during_training","target_ratio":0.5,"end_epoch":3,"update_steps":8}})");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  for (int rung : {0, 1}) {
    const worker::PruneConfig& p = TrialTaskFor(*spec, TrialStage{rung, 0, 0}).training.prune;
    EXPECT_TRUE(p.enabled);
    EXPECT_EQ(p.mode, worker::PruneMode::kDuringTraining);
    EXPECT_EQ(p.target_ratio, 0.5);
    EXPECT_EQ(p.end_epoch, 3);
    EXPECT_EQ(p.update_steps, 8);
  }
  const auto j = JobSpecToJson(*spec);
  EXPECT_EQ(j["pruning"]["mode"], "during_training");
  EXPECT_EQ(j["pruning"]["target_ratio"], 0.5);
  EXPECT_EQ(j["pruning"]["update_steps"], 8);
  auto again = ParseJobSpecText(j.dump());
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->training.prune.end_epoch, 3);
  EXPECT_EQ(again->training.prune.target_ratio, 0.5);
}

// A board's memory less the runtime's reserve (costmodel/boards.h) becomes a
// hard constraint, the tighter of it and any given; its core and clock pick
// the latency profile unless "mcu" names one.
TEST(JobSpecTest, ABoardGivesItsConstraintsAndProfile) {
  auto spec = ParseJobSpecText(R"({"board":"stm32l4r5","accounting":"tflm_cmsis_nn",
                                   "constraints":{"flash_bytes":"1MiB"},"objectives":["error","latency"]})");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->accounting, Accounting::kTflmCmsisNn);
  EXPECT_EQ(*spec->constraints[search::Objective::kPeakSram], (640 - 8) * 1024);  // less TFLM's 8 KiB
  EXPECT_EQ(*spec->constraints[search::Objective::kFlash], 1024 * 1024);  // tighter than 2 MiB - 128 KiB
  ASSERT_NE(spec->mcu, nullptr);
  EXPECT_EQ(spec->mcu->name, "tflm-cmsis-nn-cortex-m4@120mhz");
  const nlohmann::json normalised = JobSpecToJson(*spec);
  EXPECT_EQ(normalised["board"], "stm32l4r5");
  auto again = ParseJobSpec(normalised);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(JobSpecToJson(*again), normalised);
  // An explicit profile wins; unas's runtime reserves 4 KiB of SRAM.
  auto firmware = ParseJobSpecText(R"({"board":"nrf52840","accounting":"firmware","mcu":"cortex-m4-80mhz"})");
  ASSERT_TRUE(firmware.ok()) << firmware.status().message();
  EXPECT_EQ(firmware->mcu->name, "cortex-m4-80mhz");
  EXPECT_EQ(*firmware->constraints[search::Objective::kPeakSram], (256 - 4) * 1024);
  EXPECT_EQ(*firmware->constraints[search::Objective::kFlash], (1024 - 16) * 1024);
}

TEST(JobSpecTest, ACustomBoardAndByteUnits) {
  auto spec = ParseJobSpecText(R"({"board":{"name":"my-l4","core":"cortex-m4","clock_mhz":80,"sram":"96KiB",
                                            "flash":"512kB"},
                                   "bounds":{"peak_sram_bytes":"32kB","flash_bytes":65536},
                                   "training":{"epochs":3},"pruning":{"target":"peak_sram","target_bytes":"20KiB"}})");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(*spec->bounds[search::Objective::kPeakSram], 32000);
  EXPECT_EQ(*spec->bounds[search::Objective::kFlash], 65536);
  EXPECT_EQ(*spec->training.prune.target_bytes, 20480);
  EXPECT_EQ(*spec->constraints[search::Objective::kPeakSram], (96 - 8) * 1024);
  EXPECT_EQ(*spec->constraints[search::Objective::kFlash], 512000 - 128 * 1024);
  ASSERT_NE(spec->mcu, nullptr);
  EXPECT_EQ(spec->mcu->clock_hz, 80e6);
  const nlohmann::json normalised = JobSpecToJson(*spec);
  EXPECT_EQ(normalised["board"], nlohmann::json::parse(
                                     R"({"name":"my-l4","core":"cortex-m4","clock_mhz":80.0,"sram":98304,"flash":512000})"));
  EXPECT_EQ(JobSpecToJson(ParseJobSpec(normalised).value()), normalised);
  const std::vector<std::pair<std::string, std::string>> refusals = {
      {R"({"board":"esp32"})", "board: unknown board 'esp32' (known: stm32f746, stm32l4r5, nrf52840, rp2040)"},
      {R"({"board":{"core":"cortex-m4","clock_mhz":80,"sram":"96KiB"}})", "board.flash: missing"},
      {R"({"board":{"core":"z80","clock_mhz":4,"sram":1024,"flash":1024}})", "board.core: 'z80' is not a known core"},
      {R"({"board":{"core":"cortex-m4","clock_mhz":80,"sram":"96KB","flash":"1MiB"}})",
       "board.sram: '96KB' is not a byte size ('KB' is ambiguous: kB is 1000 bytes, KiB is 1024"},
      {R"({"board":{"core":"cortex-m4","clock_mhz":80,"sram":"4KiB","flash":"1MiB"}})",
       "board: board 'custom' (4 KiB SRAM, 1 MiB flash) is smaller than the tflm runtime's reserve"},
      {R"({"constraints":{"peak_sram_bytes":"lots"}})", "constraints.peak_sram_bytes: 'lots' is not a byte size"},
      {R"({"constraints":{"flash_bytes":"2TB"}})", "constraints.flash_bytes: '2TB' is not a byte size (unknown unit 'TB'"},
      {R"({"pruning":{"target_bytes":"0kB"}})", "pruning.target_bytes: must be at least 1"},
  };
  for (const auto& [text, expected] : refusals) {
    auto bad = ParseJobSpecText(text);
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_NE(bad.status().message().find(expected), std::string::npos) << text << " -> " << bad.status().message();
  }
}

// The README's main job is a spec users copy: it must parse, with its rungs
// and final round. Its final round must not retrain worse than the search
// trained (issue 30): the search's optimiser, more epochs than its top rung's
// 4, on the whole training part, its learning rate stepped down 5x twice.
TEST(JobSpecTest, TheMainJobParsesWithRungsAndAFinalRoundNoWeakerThanItsSearch) {
  auto spec = unas::testing::ParseExampleJob("fashion-mnist.json");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(RungCount(*spec), 2);
  EXPECT_TRUE(spec->final.enabled);
  EXPECT_EQ(spec->final.networks, 3);
  const worker::TrainConfig final_recipe = RecipeFor(*spec, TrialStage{0, 1, 0});
  EXPECT_EQ(final_recipe.epochs, 15);
  EXPECT_EQ(SearchEpochs(*spec), 4);
  EXPECT_DOUBLE_EQ(spec->final.max_train_seconds, 330);
  EXPECT_EQ(final_recipe.optimizer, spec->training.optimizer);
  EXPECT_EQ(final_recipe.subset, 1.0);
  unas::testing::ExpectLrSchedule(final_recipe.lr_schedule, {{9, 0.002}, {12, 0.0004}});
}

// The README's first job: one rung (1 epoch on 10 %), a 60-second search,
// then two networks retrained for 2 epochs on half the training set.
TEST(JobSpecTest, TheFirstJobParsesWithOneRungAndAShortFinalRound) {
  auto spec = unas::testing::ParseExampleJob("first-job.json");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(RungCount(*spec), 1);
  EXPECT_EQ(RecipeFor(*spec, TrialStage{0, 0, 0}).epochs, 1);
  EXPECT_DOUBLE_EQ(RecipeFor(*spec, TrialStage{0, 0, 0}).subset, 0.1);
  EXPECT_DOUBLE_EQ(spec->max_wall_seconds, 60);
  EXPECT_TRUE(spec->final.enabled);
  EXPECT_EQ(spec->final.networks, 2);
  EXPECT_EQ(RecipeFor(*spec, TrialStage{0, 1, 0}).epochs, 2);
  EXPECT_DOUBLE_EQ(RecipeFor(*spec, TrialStage{0, 1, 0}).subset, 0.5);
}

}  // namespace
}  // namespace unas::server
