#include "costmodel/cost_model.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "costmodel/report.h"
#include "tests/costmodel/test_data.h"

namespace unas {
namespace {

TEST(CostModelTest, WorkedExampleInUnasAccounting) {
  auto net = BuildNetwork(testing::WorkedExample(), testing::FashionMnist());
  ASSERT_TRUE(net.ok());
  auto report = CostNetwork(*net, Accounting::kUnas);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->summary.peak_sram_bytes, 2968);
  EXPECT_EQ(report->summary.build_order_peak_bytes, 4256);
  EXPECT_EQ(report->summary.flash_bytes, 4394);
  EXPECT_EQ(report->summary.macs, 54000);
  // The branch's pre-pool (3) and conv (4) run before the depthwise conv (1).
  EXPECT_EQ(report->best_order, (std::vector<int>{0, 3, 4, 1, 2, 5, 6, 7, 8, 9}));
  // Hand-worked with 13x13x8 = 1352, 7x7x8 = 392, 2x2x16 = 64, 11x11x8 = 968,
  // 11x11x16 = 1936. Best: conv 1352 | prepool 1352+392 | conv5 1352+392+64 |
  // dw 1352+64+968 | 1x1 64+968+1936 | tie-up pool 64+1936+64 | add 64+64 in
  // place | avgpool 64+16 | dense 16+32 | dense 32+10.
  EXPECT_EQ(report->timeline_best,
            (std::vector<int64_t>{1352, 1744, 1808, 2384, 2968, 2064, 128, 80, 48, 42}));
  // Build order: the 13x13x8 tensor stays live through the main path.
  EXPECT_EQ(report->timeline_build,
            (std::vector<int64_t>{1352, 2320, 4256, 3680, 2392, 2064, 128, 80, 48, 42}));
  EXPECT_TRUE(CheckLayout(MakeBufferGraph(*net, Accounting::kUnas), report->layout).ok());
  EXPECT_GE(report->layout.arena_bytes, 2968);
}

TEST(CostModelTest, WorkedExamplePerOperatorCosts) {
  auto net = BuildNetwork(testing::WorkedExample(), testing::FashionMnist());
  auto report = CostNetwork(*net, Accounting::kUnas).value();
  // conv 3x3x1x8 + 8; dw 3x3x8 + 8; 1x1 8x16 + 16; conv 5x5x8x16 + 16;
  // dense 16x32 + 32; dense 32x10 + 10.
  const std::vector<int64_t> params = {80, 80, 144, 0, 3216, 0, 0, 0, 544, 330};
  const std::vector<int64_t> macs = {12168, 8712, 15488, 1568, 12800, 2304, 64, 64, 512, 320};
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(report.ops[i].weights + report.ops[i].biases, params[i]) << i;
    EXPECT_EQ(report.ops[i].macs, macs[i]) << i;
  }
}

// Firmware accounting (unas's C runtime), worked by hand. Input 8x8x1 (64 bytes, counted), 10 classes:
//   0 conv 3x3 x4            8x8x1 -> 6x6x4 (144)   w 36, b 4
//   1 branch 1x1 x4 (forced) 8x8x1 -> 8x8x4 (256)   w 4,  b 4
//   2 add, zero-padded       -> 8x8x4 (256): round(8/6) = 1, no tie-up pool
//   3 dense 10               256 -> 10              w 2560, b 10
//   4 classifier 10          10 -> 10               w 100, b 10
// Flash: weights 2700 + 28 biases x 4 bytes = 2812 (uNAS: 2700 + 28 = 2728).
// Memory, build order: conv: 64 + 144 = 208; 1x1: 64 + 144 + 256 = 464 (the
// input is still needed by the 1x1); add: 144 + 256, writing into the branch
// output at its last use = 400; dense: 256 + 10; classifier: 10 + 10.
// MACs: 1296 + 256 + 256 + 2560 + 100 = 4468.
Network SmallBranchedNetwork() {
  Candidate c;
  c.conv_blocks = {{false, {{LayerType::kConv2D, 3, 4, false, false, true, true}}},
                   {true, {{LayerType::kConv1x1, 3, 7, false, false, false, true}}}};
  c.dense_blocks = {{10}};
  return BuildNetwork(c, InputSpec{8, 8, 1, 10}).value();
}

TEST(CostModelTest, FirmwareAccountingHandWorked) {
  const Network network = SmallBranchedNetwork();
  const Network* net = &network;
  auto firmware = CostNetwork(*net, Accounting::kFirmware).value();
  EXPECT_EQ(firmware.summary.flash_bytes, 2812);
  EXPECT_EQ(firmware.summary.params, 2728);
  EXPECT_EQ(firmware.summary.macs, 4468);
  EXPECT_EQ(firmware.timeline_build, (std::vector<int64_t>{208, 464, 400, 266, 20}));
  EXPECT_EQ(firmware.summary.peak_sram_bytes, 464);
  EXPECT_EQ(firmware.summary.tflm_total_arena_bytes, 0);
  auto unas = CostNetwork(*net, Accounting::kUnas).value();
  EXPECT_EQ(unas.summary.flash_bytes, 2728);
  EXPECT_EQ(unas.timeline_build, (std::vector<int64_t>{144, 400, 400, 266, 20}));
  EXPECT_EQ(unas.summary.peak_sram_bytes, 400);
}

// TFLM accounting of the same network, worked by hand. Lowered: 0 CONV_2D
// (input 64 -> a 144), 1 CONV_2D 1x1 (input -> b 256), 2 PAD (a -> p 256,
// the smaller Add term padded), 3 ADD (p, b -> s 256), 4 FULLY_CONNECTED
// (-> 10, planned 16), 5 FULLY_CONNECTED (-> 10, planned 16).
// Build order, closed lifetimes, nothing in place: 64+144 = 208 | 64+144+256
// = 464 | 144+256+256 = 656 | 256+256+256 = 768 | 256+16 = 272 | 16+16 = 32;
// by Network op (the Add is PAD and ADD): 208, 464, 768, 272, 32. Every order
// has the ADD step at 768. Greedy layout: s at 0, p at 256, b at 512, a at 0
// (dead when s is made), input at 144; the 16-byte outputs at 0 and 256:
// planned arena 768. Persistent: 16 tensors x 12 = 192, input and output
// 2 x 32 = 64, 6 operators x 32 = 192, two convolutions 2 x (56 + 4 x 8) =
// 176, two fully connected 2 x 48 = 96: 720. Total 1,488 = peak SRAM.
TEST(CostModelTest, TflmAccountingHandWorked) {
  const Network net = SmallBranchedNetwork();
  auto tflm = CostNetwork(net, Accounting::kTflm);
  ASSERT_TRUE(tflm.ok()) << tflm.status().message();
  EXPECT_EQ(tflm->summary.flash_bytes, 2812);
  EXPECT_EQ(tflm->timeline_build, (std::vector<int64_t>{208, 464, 768, 272, 32}));
  EXPECT_EQ(*std::max_element(tflm->timeline_best.begin(), tflm->timeline_best.end()), 768);
  EXPECT_EQ(tflm->summary.tflm_arena_bytes, 768);
  EXPECT_EQ(tflm->summary.tflm_persistent_bytes, 720);
  EXPECT_EQ(tflm->summary.tflm_total_arena_bytes, 1488);
  EXPECT_EQ(tflm->summary.peak_sram_bytes, 1488);
  EXPECT_EQ(tflm->summary.build_order_peak_bytes, 1488);
  EXPECT_EQ(tflm->tflm_order.size(), 6u);
  EXPECT_EQ(tflm->layout.arena_bytes, 768);
  auto summary = SummariseCosts(net, Accounting::kTflm);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->peak_sram_bytes, 1488);
  EXPECT_EQ(summary->tflm_arena_bytes, 768);
}

TEST(CostModelTest, LatencyEstimateUsesProfileConstants) {
  auto net = BuildNetwork(testing::WorkedExample(), testing::FashionMnist()).value();
  auto m4 = FindMcu("cortex-m4-80mhz");
  ASSERT_TRUE(m4.ok());
  auto report = CostNetwork(net, Accounting::kTflm, *m4).value();
  // Sum of MACs x cycles/MAC by kind + 10 ops x 3000 cycles overhead:
  // conv 3x3 12168 + conv 5x5 12800 -> 24968 x 2.0; 1x1 15488 x 1.6;
  // dw 8712 x 4.0; pools 1568 + 2304 + 64 -> 3936 x 1.2; add 64 x 3.0;
  // dense 832 x 2.2.
  const double cycles = 24968 * 2.0 + 15488 * 1.6 + 8712 * 4.0 + 3936 * 1.2 + 64 * 3.0 + 832 * 2.2 + 30000;
  EXPECT_DOUBLE_EQ(*report.latency_ms, cycles / 80e6 * 1e3);
  EXPECT_EQ(FindMcu("esp32").status().message(),
            "unknown MCU profile 'esp32' (known: cortex-m4-80mhz, cortex-m7-216mhz)");
}

TEST(CostModelTest, BatchLineAnswersOrExplains) {
  const std::string good = "{\"input_shape\":[28,28,1],\"num_classes\":10,\"architecture\":" +
                           testing::WorkedExampleText() + "}";
  std::string one_line = good;
  std::replace(one_line.begin(), one_line.end(), '\n', ' ');
  auto out = CostBatchLine(one_line, Accounting::kUnas);
  EXPECT_EQ(out["peak_memory"], 2968);
  EXPECT_EQ(out["model_size"], 4394);
  EXPECT_EQ(out["macs"], 54000);
  EXPECT_EQ(CostBatchLine("nonsense", Accounting::kUnas)["error"], "line is not valid JSON");
  EXPECT_EQ(CostBatchLine("{\"input_shape\":[28,28,1]}", Accounting::kUnas)["error"],
            "missing key 'num_classes'");
  EXPECT_EQ(CostBatchLine("{\"input_shape\":[28,28],\"num_classes\":10,\"architecture\":{}}",
                          Accounting::kUnas)["error"],
            "input_shape: expected 3 values [H, W, C], got 2");
  EXPECT_EQ(CostBatchLine("{\"input_shape\":[28,28,1],\"num_classes\":10,\"architecture\":{}}",
                          Accounting::kUnas)["error"],
            "architecture: missing key 'conv_blocks'");
}

}  // namespace
}  // namespace unas
