// A trained network as an int8 model: weight extraction (batch norm folded,
// NCHW -> NHWC) checked against LibTorch, and quantisation of a trained
// trial with its int8 errors.
#include "worker/int8_export.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "costmodel/lowering.h"
#include "quant/int8_executor.h"
#include "quant/quantize.h"
#include "tests/quant/armnn_variant.h"
#include "tests/tools/armnn_runner.h"
#include "tflite/reader.h"
#include "tflite/writer.h"
#include "tests/costmodel/random_candidates.h"
#include "tests/worker/train_fixtures.h"
#include "worker/trainer.h"

namespace unas::worker {
namespace {

TEST(Int8ExportTest, FoldedWeightsReproduceLibTorchOnRandomCandidates) {
  std::mt19937_64 rng(5);
  int with_bn = 0;
  for (int i = 0; i < 8; ++i) {
    const testing::RandomNetwork drawn =
        testing::DrawRandomNetwork(rng, testing::ExecutableLimits(3, 12), 5, 14, 6).value();
    const Network& net = drawn.network;
    for (const Op& op : net.ops) with_bn += op.has_bn;
    auto worst = CheckWeightExtraction(net, 40 + i, 3);
    ASSERT_TRUE(worst.ok()) << worst.status().message();
    std::printf("candidate %d: max |difference| %.3g\n", i, *worst);
    EXPECT_LE(*worst, 1e-4) << "candidate " << i << ": " << CandidateToJson(drawn.candidate).dump();
  }
  EXPECT_GT(with_bn, 3);  // the folding was exercised
}

TEST(Int8ExportTest, QuantisedTrialKeepsItsAccuracy) {
  const auto data = Synthetic();
  TrainConfig config = FastConfig();
  config.epochs = 3;
  config.keep_model = true;
  auto trained = Train(TinyCandidate(), *data, config);
  ASSERT_TRUE(trained.ok()) << trained.status().message();
  ASSERT_EQ(trained->outcome, TrialOutcome::kCompleted) << trained->message;
  ASSERT_TRUE(trained->model.has_value());
  auto outcome = QuantizeTrained(*trained->model, *data);
  ASSERT_TRUE(outcome.ok()) << outcome.status().message();
  EXPECT_EQ(outcome->calibration_images, 1000);
  std::printf("float val %.4f test %.4f, int8 val %.4f test %.4f\n", trained->validation_error_per_epoch.back(),
              trained->test_error, outcome->int8_val_error, outcome->int8_test_error);
  EXPECT_LE(std::fabs(outcome->int8_test_error - trained->test_error), 0.01);
  EXPECT_LE(std::fabs(outcome->int8_val_error - trained->validation_error_per_epoch.back()), 0.01);
  Int8Options two_threads;
  two_threads.threads = 2;
  auto threaded = QuantizeTrained(*trained->model, *data, two_threads);
  ASSERT_TRUE(threaded.ok()) << threaded.status().message();
  EXPECT_EQ(threaded->int8_val_error, outcome->int8_val_error);
  EXPECT_EQ(threaded->int8_test_error, outcome->int8_test_error);
  EXPECT_EQ(threaded->tflite, outcome->tflite);
  // The quantised graph is the lowered network with data everywhere.
  const ModelGraph lowered = LowerNetwork(trained->model->network).value();
  ASSERT_EQ(outcome->graph.ops.size(), lowered.ops.size());
  for (const GraphTensor& t : outcome->graph.tensors) {
    EXPECT_EQ(t.is_constant, !t.data.empty()) << t.name;
    if (!t.is_constant) {
      EXPECT_EQ(t.quant.scale.size(), 1u) << t.name;
    }
  }
  // The .tflite reads back as the same model, and Arm NN runs it with our
  // executor's outputs (no ADD here, so no PAD: see armnn_equivalence_test.cc).
  auto read = ReadTflite(outcome->tflite.data(), outcome->tflite.size());
  ASSERT_TRUE(read.ok()) << read.status().message();
  const quant::Int8Executor ours = quant::Int8Executor::Create(outcome->graph).value();
  const quant::Int8Executor reread = quant::Int8Executor::Create(*read).value();
  std::mt19937_64 image_rng(3);
  std::normal_distribution<float> pixel(0.0f, 1.0f);
  int one_step = 0;
  for (int k = 0; k < 5; ++k) {
    std::vector<float> image(64);
    for (float& v : image) v = pixel(image_rng);
    const std::vector<int8_t> input = quant::QuantizeInput(outcome->graph, image);
    const std::vector<int8_t> expected = ours.Run(input).value();
    EXPECT_EQ(reread.Run(input).value(), expected);
    if (std::string(UNAS_ARMNN_RUN).empty()) continue;
    auto armnn = testing::RunArmNn(UNAS_ARMNN_RUN, outcome->tflite, std::vector<uint8_t>(input.begin(), input.end()));
    ASSERT_TRUE(armnn.ok()) << armnn.status().message();
    ASSERT_EQ(armnn->size(), expected.size());
    for (size_t j = 0; j < expected.size(); ++j) {
      const int d = std::abs(int{expected[j]} - int{static_cast<int8_t>((*armnn)[j])});
      EXPECT_LE(d, 1);
      one_step += d == 1;
    }
  }
  std::printf("trained model in Arm NN: %d of 50 logits differ by one step\n", one_step);
  // A caller's order is applied; one that reads a tensor early is refused.
  Int8Options reversed;
  for (int i = static_cast<int>(lowered.ops.size()) - 1; i >= 0; --i) reversed.op_order.push_back(i);
  auto bad = QuantizeTrained(*trained->model, *data, reversed);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("before it is written"), std::string::npos) << bad.status().message();
}

// A trained network whose Add zero-pads a branch (main conv 5x5 on 8x8 ->
// 4x4, branch conv 3x3/2 -> 3x3, padded to 4x4): its int8 model in Arm NN, with the
// zero point 0 at the PAD that Arm NN 20.08 needs (tests/quant/armnn_variant.h).
TEST(Int8ExportTest, TrainedBranchWithPadRunsInArmNn) {
  if (std::string(UNAS_ARMNN_RUN).empty()) GTEST_SKIP() << "Arm NN is not installed";
  const Candidate candidate = ParseCandidate(R"({"conv_blocks":[
      {"is_branch":false,"layers":[{"type":"Conv2D","ker_size":5,"filters":8,"2x_stride":false,"has_bn":true,"has_relu":true,"has_prepool":false}]},
      {"is_branch":true,"layers":[{"type":"Conv2D","ker_size":3,"filters":4,"2x_stride":true,"has_bn":true,"has_relu":true,"has_prepool":false}]}],
      "pooling":null,"dense_blocks":[{"units":16,"activation":"relu"}]})")
                                  .value();
  const auto data = Synthetic();
  TrainConfig config = FastConfig();
  config.epochs = 2;
  config.seed = 2;
  config.keep_model = true;
  auto trained = Train(candidate, *data, config);
  ASSERT_TRUE(trained.ok() && trained->model) << trained.status().message();
  auto outcome = QuantizeTrained(*trained->model, *data);
  ASSERT_TRUE(outcome.ok()) << outcome.status().message();
  int pads = 0;
  for (const GraphOp& op : outcome->graph.ops) pads += op.builtin_code == builtin::kPad;
  ASSERT_EQ(pads, 1);
  EXPECT_LE(std::fabs(outcome->int8_test_error - trained->test_error), 0.02);
  const ModelGraph variant = testing::WithZeroPointZeroAtPads(outcome->graph);
  const std::vector<uint8_t> file = WriteTflite(variant).value();
  const quant::Int8Executor ours = quant::Int8Executor::Create(variant).value();
  std::mt19937_64 image_rng(4);
  std::normal_distribution<float> pixel(0.0f, 1.0f);
  for (int k = 0; k < 5; ++k) {
    std::vector<float> image(64);
    for (float& v : image) v = pixel(image_rng);
    const std::vector<int8_t> input = quant::QuantizeInput(variant, image);
    const std::vector<int8_t> expected = ours.Run(input).value();
    auto armnn = testing::RunArmNn(UNAS_ARMNN_RUN, file, std::vector<uint8_t>(input.begin(), input.end()));
    ASSERT_TRUE(armnn.ok()) << armnn.status().message();
    ASSERT_EQ(armnn->size(), expected.size());
    const std::vector<int8_t> theirs(armnn->begin(), armnn->end());
    for (size_t j = 0; j < expected.size(); ++j) EXPECT_LE(std::abs(int{expected[j]} - int{theirs[j]}), 1) << j;
    EXPECT_EQ(quant::ArgMax(expected), quant::ArgMax(theirs));
  }
}

}  // namespace
}  // namespace unas::worker
