#include "server/job_spec.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace unas::server {
namespace {

TEST(JobSpecTest, EmptyObjectGivesDocumentedDefaults) {
  auto spec = ParseJobSpecText("{}");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->dataset, "fashion-mnist");
  EXPECT_EQ(spec->accounting, "tflm");
  EXPECT_EQ(spec->strategy, StrategyKind::kAging);
  EXPECT_EQ(spec->population, 100);
  EXPECT_EQ(spec->sample_size, 25);
  EXPECT_EQ(spec->max_trials, 100);
  EXPECT_EQ(spec->training.epochs, 3);
  EXPECT_EQ(spec->evaluator, EvaluatorKind::kTrain);
  EXPECT_EQ(spec->objectives, (std::vector<std::string>{"error", "peak_sram", "flash", "macs"}));
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
  EXPECT_EQ(*spec->constraints.peak_sram_bytes, 64000);
  EXPECT_FALSE(spec->constraints.flash_bytes.has_value());
  EXPECT_EQ(spec->strategy, StrategyKind::kBayesian);
  EXPECT_EQ(spec->max_trials, 200);
  auto again = ParseJobSpec(JobSpecToJson(*spec));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(JobSpecToJson(*again), JobSpecToJson(*spec));
}

TEST(JobSpecTest, RefusalsNameTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[]", "job: expected a JSON object"},
      {"{", "job: not valid JSON"},
      {R"({"datset":"x"})", "datset: unknown field"},
      {R"({"dataset":"imagenet"})", "dataset: 'imagenet' is not one of fashion-mnist"},
      {R"({"training":{"epochs":0}})", "training.epochs: 0 is outside 1..1000"},
      {R"({"training":{"epochs":"3"}})", "training.epochs: expected an integer"},
      {R"({"training":{"subset":1.5}})", "training.subset: 1.5 is outside"},
      {R"({"training":{"optimizer":"sgd"}})", "training.optimizer: 'sgd' is not one of sgdw, adamw"},
      {R"({"training":{"lr_schedule":[[5,0.1],[3,0.01]]}})", "training.lr_schedule[1]: epochs must increase"},
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
      {R"({"training":{"epochs":1},"pruning":{}})", "pruning: needs training.epochs >= 2"},
      {R"({"training":{"epochs":3},"pruning":{"epoch":3}})", "pruning.epoch: must leave at least one epoch before and one after (1..2)"},
      {R"({"pruning":{"fraction":1.5}})", "pruning.fraction: 1.5 is outside"},
  };
  for (const auto& [text, expected] : cases) {
    auto spec = ParseJobSpecText(text);
    ASSERT_FALSE(spec.ok()) << text;
    EXPECT_NE(spec.status().message().find(expected), std::string::npos)
        << text << " -> " << spec.status().message();
  }
}

}  // namespace
}  // namespace unas::server
