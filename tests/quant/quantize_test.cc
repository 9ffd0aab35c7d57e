// Post-training quantisation: hand-worked parameters on tiny networks, and
// the int8 model against the float reference on random candidates.
#include "quant/quantize.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "costmodel/lowering.h"
#include "quant/calibration.h"
#include "quant/int8_executor.h"
#include "tests/costmodel/random_candidates.h"
#include "tests/costmodel/random_images.h"
#include "tests/quant/calibrated_networks.h"

namespace unas::quant {
namespace {

// One dense classifier, 2 inputs -> 2 logits.
Network TinyDense() {
  Network net;
  net.input = InputSpec{1, 1, 2, 2};
  Op dense;
  dense.kind = OpKind::kDense;
  dense.role = OpRole::kClassifier;
  dense.inputs = {kNetworkInput};
  dense.in = {1, 1, 2};
  dense.out = {1, 1, 2};
  net.ops.push_back(dense);
  return net;
}

TEST(QuantizeTest, ActivationQuantizationIncludesZero) {
  TensorRange r;
  r.Add(-0.5f);
  r.Add(2.0f);
  Quantization q = ActivationQuantization(r);
  EXPECT_FLOAT_EQ(q.scale[0], 2.5f / 255);
  EXPECT_EQ(q.zero_point[0], -77);  // -128 + 0.5 / (2.5 / 255) = -77
  TensorRange relu;  // a ReLU'd range that never saw 0 still starts there
  relu.Add(0.5f);
  relu.Add(3.0f);
  q = ActivationQuantization(relu);
  EXPECT_FLOAT_EQ(q.scale[0], 3.0f / 255);
  EXPECT_EQ(q.zero_point[0], -128);
  TensorRange dead;
  dead.Add(0.0f);
  q = ActivationQuantization(dead);
  EXPECT_FLOAT_EQ(q.scale[0], 1.0f / 255);
  EXPECT_EQ(q.zero_point[0], -128);
}

TEST(QuantizeTest, DenseLayerByHand) {
  const Network net = TinyDense();
  ReferenceWeights w;
  w.weights = {{0.5f, -1.0f, 0.25f, 0.5f}};  // [i][o]
  w.biases = {{0.1f, -0.2f}};
  ModelGraph lowered = LowerNetwork(net).value();
  std::vector<TensorRange> ranges(lowered.tensors.size());
  ranges[0].Add(-0.5f);
  ranges[0].Add(2.0f);
  const int out = lowered.outputs[0];
  ranges[out].Add(-3.0f);
  ranges[out].Add(1.0f);
  auto g = QuantizeNetwork(net, w, ranges);
  ASSERT_TRUE(g.ok()) << g.status().message();
  const GraphOp& fc = g->ops.at(0);
  const GraphTensor& weights = g->tensors[fc.inputs[1]];
  // One scale, max|w| / 127 = 1/127; [o][i]: 0.5*127 = 63.5 -> 64, 31.75 -> 32, -127, 64.
  ASSERT_EQ(weights.quant.scale.size(), 1u);
  EXPECT_FLOAT_EQ(weights.quant.scale[0], 1.0f / 127);
  EXPECT_EQ(weights.data, (std::vector<uint8_t>{64, 32, 129, 64}));  // -127 as a byte is 129
  const GraphTensor& bias = g->tensors[fc.inputs[2]];
  // Bias scale (2.5/255) / 127 = 7.7196e-5: 0.1 -> 1295.4 -> 1295, -0.2 -> -2591.
  EXPECT_EQ(bias.data, (std::vector<uint8_t>{0x0f, 0x05, 0, 0, 0xe1, 0xf5, 0xff, 0xff}));
  EXPECT_EQ(g->tensors[out].quant.zero_point[0], 63);  // -128 + 3 / (4/255) = 63.25
  // x = {1, -0.5} -> q {25, -128}. acc0 = 64*102 + 32*(-51) + 1295 = 6191,
  // x 2.5/508 = 30.47 -> 30, + 63 = 93. acc1 = -127*102 + 64*(-51) - 2591 =
  // -18809 -> -92.56 -> -93, + 63 = -30.
  const std::vector<int8_t> input = QuantizeInput(*g, {1.0f, -0.5f});
  EXPECT_EQ(input, (std::vector<int8_t>{25, -128}));
  auto y = RunInt8(*g, input);
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_EQ(*y, (std::vector<int8_t>{93, -30}));
}

TEST(QuantizeTest, EachAddOfAChainHasItsOwnRange) {
  // x + x + x: the chain ADD(x, x) -> 2x, ADD(2x, x) -> 3x.
  Network net;
  net.input = InputSpec{1, 2, 1, 2};
  Op add;
  add.kind = OpKind::kAdd;
  add.inputs = {kNetworkInput, kNetworkInput, kNetworkInput};
  add.in = add.out = {1, 2, 1};
  net.ops.push_back(add);
  const ModelGraph g = LowerNetwork(net).value();
  ASSERT_EQ(g.ops.size(), 2u);
  ReferenceWeights none;
  none.weights.resize(1);
  none.biases.resize(1);
  auto ranges = CalibrateRanges(net, g, none, {{-1.0f, 0.5f}, {2.0f, 0.25f}});
  ASSERT_TRUE(ranges.ok()) << ranges.status().message();
  const TensorRange& partial = (*ranges)[g.ops[0].outputs[0]];
  const TensorRange& sum = (*ranges)[g.ops[1].outputs[0]];
  EXPECT_EQ(partial.min, -2.0f);
  EXPECT_EQ(partial.max, 4.0f);
  EXPECT_EQ(sum.min, -3.0f);
  EXPECT_EQ(sum.max, 6.0f);
  EXPECT_EQ((*ranges)[0].min, -1.0f);
  EXPECT_EQ((*ranges)[0].max, 2.0f);
}

TEST(QuantizeTest, RejectsMissingRangesAndWrongWeights) {
  const Network net = TinyDense();
  ReferenceWeights w;
  w.weights = {{0.5f, -1.0f, 0.25f}};
  w.biases = {{0.1f, -0.2f}};
  const ModelGraph lowered = LowerNetwork(net).value();
  std::vector<TensorRange> ranges(lowered.tensors.size());
  auto bad = QuantizeNetwork(net, w, ranges);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "weights: op 0 (" + net.ops[0].Describe() + ") needs 4 weights and 2 biases");
  w.weights[0].push_back(0.5f);
  auto unranged = QuantizeNetwork(net, w, ranges);
  ASSERT_FALSE(unranged.ok());
  EXPECT_EQ(unranged.status().message(), "quantise: tensor 'input' has no calibrated range");
}

// Random candidates with random weights, calibrated on 64 random inputs and
// evaluated on 64 others: the int8 logits, dequantised, against the float
// reference's. Error is measured relative to the output's calibrated range
// (255 steps of its scale).
TEST(QuantizeTest, Int8TracksTheFloatReferenceOnRandomCandidates) {
  std::mt19937_64 rng(12);
  const testing::RandomCandidateLimits limits = testing::ExecutableLimits(4, 16);
  int agree = 0, total = 0;
  double relative_error_sum = 0, worst_model_error = 0;
  for (int i = 0; i < 40; ++i) {
    const testing::CalibratedNetwork n =
        testing::DrawCalibratedNetwork(rng, limits, /*max_side=*/16, 100 + i, /*images=*/64, 1000 * i);
    const Network& net = n.net;
    const ReferenceWeights& w = n.weights;
    const Result<ModelGraph>& g = n.graph;
    ASSERT_TRUE(g.ok()) << "candidate " << i << ": " << g.status().message();
    auto executor = Int8Executor::Create(*g);
    ASSERT_TRUE(executor.ok()) << "candidate " << i << ": " << executor.status().message();
    const GraphTensor& out = g->tensors[g->outputs[0]];
    const double range = 255.0 * out.quant.scale[0];
    double model_error = 0;
    for (int k = 0; k < 64; ++k) {
      const std::vector<float> x = RandomInput(net, 1000 * i + 500 + k);
      const std::vector<float> ref = RunWhole(net, w, x).value().output;
      auto q = executor->Run(QuantizeInput(*g, x));
      ASSERT_TRUE(q.ok());
      const std::vector<float> deq = DequantizeOutput(*g, *q);
      double err = 0;
      for (size_t j = 0; j < ref.size(); ++j) err += std::fabs(deq[j] - ref[j]);
      err /= static_cast<double>(ref.size()) * range;
      model_error += err / 64;
      agree += ArgMax(deq) == ArgMax(ref);
      ++total;
    }
    relative_error_sum += model_error;
    worst_model_error = std::max(worst_model_error, model_error);
  }
  const double agreement = static_cast<double>(agree) / total;
  const double mean_error = relative_error_sum / 40;
  std::printf("arg-max agreement %.4f (%d of %d), mean |error| %.5f of the output range, worst model %.5f\n",
              agreement, agree, total, mean_error, worst_model_error);
  // Measured (seed 12): agreement 0.9984 (2556 of 2560), mean error 0.0018
  // of the range (0.46 of a step), worst model 0.0064 (1.6 steps). Each
  // requantisation rounds by at most half a step of its own scale and up to
  // ~12 layers compound it, so about half a step at the output is expected;
  // the bounds leave 2-3x margin and fail on any systematic error (a wrong
  // zero point or multiplier costs tens of steps).
  EXPECT_GE(agreement, 0.99);
  EXPECT_LE(mean_error, 1.0 / 255);
  EXPECT_LE(worst_model_error, 0.02);
}

}  // namespace
}  // namespace unas::quant
