#include "costmodel/cost_model.h"

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "costmodel/mcu.h"
#include "costmodel/proposal_costs.h"
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
// planned arena 768. Persistent (tail bytes after each allocation, 32-bit
// sizes, tflm_arena.h): allocator objects 116, builtin-data allocator 124,
// SubgraphAllocations 132, 16 TfLiteEvalTensors 324, 6 nodes 516; options
// CONV 28 -> 544, CONV -> 572, PAD none, ADD 2 -> 574, FC 5 -> 579, FC ->
// 584; OpData at alignment 16: CONV 56 -> 640, CONV -> 704, PAD 56 -> 768,
// ADD 60 -> 832, FC 48 -> 880, FC -> 928; per-channel multipliers and shifts
// of 4 channels (16 B each) -> 944, 960, 976, 992; input pointer array (16)
// -> 1008, its TfLiteTensor 1040, quantisation 12 + 8 -> 1060; output array
// -> 1072, TfLiteTensor 1104, quantisation -> 1124. Total 768 + 1,124 =
// 1,892 = peak SRAM.
// With CMSIS-NN: the 3x3 convolution asks 4 * round4(3 * 3 * 1) = 48 bytes
// of scratch in its scope [1,1]; it overlaps a (0..144) and the input
// (144..208) only, so it goes at 208 and the planned arena stays 768. OpData
// 60 (convolutions) and 72 (fully connected) and one 4-byte scratch handle:
// 584 -> 656, 720, 784, 848, 928, 1008; per-channel 1024 .. 1072; handle
// 1076; input 1088, 1120, 1140; output 1152, 1184, 1204. Total 1,972.
TEST(CostModelTest, TflmAccountingHandWorked) {
  const Network net = SmallBranchedNetwork();
  auto tflm = CostNetwork(net, Accounting::kTflm);
  ASSERT_TRUE(tflm.ok()) << tflm.status().message();
  EXPECT_EQ(tflm->summary.flash_bytes, 2812);
  EXPECT_EQ(tflm->timeline_build, (std::vector<int64_t>{208, 464, 768, 272, 32}));
  EXPECT_EQ(*std::max_element(tflm->timeline_best.begin(), tflm->timeline_best.end()), 768);
  EXPECT_EQ(tflm->summary.tflm_arena_bytes, 768);
  EXPECT_EQ(tflm->summary.tflm_persistent_bytes, 1124);
  EXPECT_EQ(tflm->summary.tflm_total_arena_bytes, 1892);
  EXPECT_EQ(tflm->summary.tflm_cmsis_nn_total_arena_bytes, 1972);
  EXPECT_EQ(tflm->summary.peak_sram_bytes, 1892);
  EXPECT_EQ(tflm->summary.build_order_peak_bytes, 1892);
  EXPECT_EQ(tflm->tflm_order.size(), 6u);
  EXPECT_EQ(tflm->layout.arena_bytes, 768);
  auto summary = SummariseCosts(net, Accounting::kTflm);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->peak_sram_bytes, 1892);
  EXPECT_EQ(summary->tflm_arena_bytes, 768);
  // The CMSIS-NN accounting constrains the CMSIS-NN figure; the rest is the same.
  auto cmsis = SummariseCosts(net, Accounting::kTflmCmsisNn);
  ASSERT_TRUE(cmsis.ok());
  EXPECT_EQ(cmsis->peak_sram_bytes, 1972);
  EXPECT_EQ(cmsis->build_order_peak_bytes, 1972);
  EXPECT_EQ(cmsis->tflm_total_arena_bytes, 1892);
  EXPECT_EQ(cmsis->flash_bytes, summary->flash_bytes);
}

// The exported models of docs/cost-model.md's table: the cost model's
// figures for each architecture equal arena_used_bytes() of a Cortex-M4 TFLM
// build running the .tflite `unas train --out` wrote for it (the lowered
// graph in tflm_order, int8), reference and CMSIS-NN kernels.
TEST(CostModelTest, TflmFiguresEqualArenaUsedBytesOfTheExportedModels) {
  const std::string own[3] = {
      R"({"conv_blocks":[{"is_branch":false,"layers":[{"type":"Conv2D","ker_size":3,"filters":12,"2x_stride":true,
          "has_bn":true,"has_relu":true,"has_prepool":false}]},
        {"is_branch":false,"layers":[{"type":"DWConv2D","ker_size":5,"2x_stride":false,"has_bn":true,"has_relu":true,
          "has_prepool":false},{"type":"1x1Conv2D","filters":24,"has_bn":true,"has_relu":true,"has_prepool":false}]},
        {"is_branch":true,"layers":[{"type":"DWConv2D","ker_size":3,"2x_stride":true,"has_bn":false,"has_relu":true,
          "has_prepool":false}]},
        {"is_branch":false,"layers":[{"type":"DWConv2D","ker_size":3,"2x_stride":false,"has_bn":true,"has_relu":true,
          "has_prepool":false},{"type":"Conv2D","ker_size":3,"filters":20,"2x_stride":false,"has_bn":true,
          "has_relu":true,"has_prepool":true}]}],
        "pooling":{"type":"max","pool_size":2},"dense_blocks":[{"units":24,"activation":"relu"}]})",
      R"({"conv_blocks":[{"is_branch":false,"layers":[{"type":"Conv2D","ker_size":5,"filters":6,"2x_stride":true,
          "has_bn":true,"has_relu":true,"has_prepool":false}]}],"pooling":null,
        "dense_blocks":[{"units":200,"activation":"relu"},{"units":120,"activation":"relu"},
          {"units":64,"activation":"relu"}]})",
      R"({"conv_blocks":[{"is_branch":false,"layers":[{"type":"1x1Conv2D","filters":8,"has_bn":true,"has_relu":true,
          "has_prepool":false},{"type":"Conv2D","ker_size":5,"filters":16,"2x_stride":false,"has_bn":true,
          "has_relu":true,"has_prepool":true}]},
        {"is_branch":false,"layers":[{"type":"DWConv2D","ker_size":7,"2x_stride":true,"has_bn":true,"has_relu":true,
          "has_prepool":false},{"type":"1x1Conv2D","filters":32,"has_bn":true,"has_relu":false,"has_prepool":false}]},
        {"is_branch":true,"layers":[{"type":"Conv2D","ker_size":3,"filters":32,"2x_stride":true,"has_bn":true,
          "has_relu":true,"has_prepool":true}]},
        {"is_branch":true,"layers":[{"type":"1x1Conv2D","filters":32,"has_bn":false,"has_relu":true,
          "has_prepool":false}]}],
        "pooling":{"type":"avg","pool_size":2},"dense_blocks":[{"units":16,"activation":"relu"}]})"};
  std::vector<std::string> lines;
  {
    std::istringstream in(testing::ReadFile(std::string(UNAS_SHARED_DIR) + "/testdata/unas_reference_costs.jsonl"));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  ASSERT_GE(lines.size(), 17u);
  auto reference = [&](int k) { return nlohmann::json::parse(lines[k])["architecture"].dump(); };
  struct Model {
    std::string name, architecture;
    int64_t reference, cmsis_nn;
  };
  const Model models[] = {
      {"worked example", testing::WorkedExampleText(), 4980, 5092},
      {"fashion_mnist_larger", testing::ReadFile(std::string(UNAS_SOURCE_DIR) + "/examples/fashion_mnist_larger.json"),
       8212, 8852},
      {"reference candidate 8", reference(8), 17044, 19252},
      {"reference candidate 15", reference(15), 27924, 28132},
      {"reference candidate 16", reference(16), 9284, 9396},
      {"dw_branch_add", own[0], 6676, 6980},
      {"fc_heavy", own[1], 2628, 2868},
      {"pool_avg_pointwise", own[2], 11092, 11236},
  };
  for (const Model& m : models) {
    SCOPED_TRACE(m.name);
    auto candidate = ParseCandidate(m.architecture);
    ASSERT_TRUE(candidate.ok()) << candidate.status().message();
    auto net = BuildNetwork(*candidate, testing::FashionMnist());
    ASSERT_TRUE(net.ok());
    auto s = SummariseCosts(*net, Accounting::kTflm);
    ASSERT_TRUE(s.ok()) << s.status().message();
    EXPECT_EQ(s->tflm_total_arena_bytes, m.reference);
    EXPECT_EQ(s->tflm_cmsis_nn_total_arena_bytes, m.cmsis_nn);
  }
}

// A search's proposals are costed without the figures they never read: under
// kTflm only the CMSIS-NN kernels' arena is left out (0); every other field,
// and every field under the other accountings, is SummariseCosts's.
TEST(CostModelTest, ProposalCostsAreTheSummaryWithoutTheOtherKernelsArena) {
  std::istringstream in(testing::ReadFile(std::string(UNAS_SHARED_DIR) + "/testdata/unas_reference_costs.jsonl"));
  int costed = 0, cmsis_left_out = 0;
  for (std::string line; std::getline(in, line);) {
    auto candidate = ParseCandidate(nlohmann::json::parse(line)["architecture"].dump());
    ASSERT_TRUE(candidate.ok()) << candidate.status().message();
    auto net = BuildNetwork(*candidate, testing::FashionMnist());
    ASSERT_TRUE(net.ok());
    for (Accounting a : {Accounting::kUnas, Accounting::kTflm, Accounting::kFirmware, Accounting::kTflmCmsisNn}) {
      SCOPED_TRACE(std::to_string(costed) + " " + AccountingName(a));
      auto full = SummariseCosts(*net, a);
      auto proposal = SummariseProposalCosts(*net, a);
      ASSERT_TRUE(full.ok() && proposal.ok());
      EXPECT_EQ(proposal->params, full->params);
      EXPECT_EQ(proposal->flash_bytes, full->flash_bytes);
      EXPECT_EQ(proposal->macs, full->macs);
      EXPECT_EQ(proposal->peak_sram_bytes, full->peak_sram_bytes);
      EXPECT_EQ(proposal->build_order_peak_bytes, full->build_order_peak_bytes);
      EXPECT_EQ(proposal->tflm_arena_bytes, full->tflm_arena_bytes);
      EXPECT_EQ(proposal->tflm_persistent_bytes, full->tflm_persistent_bytes);
      EXPECT_EQ(proposal->tflm_total_arena_bytes, full->tflm_total_arena_bytes);
      if (a == Accounting::kTflm) {
        EXPECT_EQ(proposal->tflm_cmsis_nn_total_arena_bytes, 0);
        cmsis_left_out += full->tflm_cmsis_nn_total_arena_bytes > 0;
      } else {
        EXPECT_EQ(proposal->tflm_cmsis_nn_total_arena_bytes, full->tflm_cmsis_nn_total_arena_bytes);
      }
    }
    ++costed;
  }
  EXPECT_GE(costed, 17);
  EXPECT_EQ(cmsis_left_out, costed);
}

TEST(CostModelTest, TflmCmsisNnProfileCostsEachKernelPath) {
  auto m4 = FindMcu("tflm-cmsis-nn-cortex-m4");
  ASSERT_TRUE(m4.ok());
  ASSERT_NE((*m4)->paths, nullptr);
  // A 3x3 convolution 5x5x2 -> 3x3x4: 9 pixels, 9 taps, im2col column 18;
  // 648 MACs, 36 outputs; an even channel count; one pixel left over from
  // the 2-pixel kernel (4 channels x 18 = 72 MACs).
  Op conv;
  conv.kind = OpKind::kConv2D;
  conv.kernel = 3;
  conv.in = {5, 5, 2};
  conv.out = {3, 3, 4};
  // unas's DSP path multiplies ceil(3 x 2 / 4) = 2 weight words per kernel
  // row against 4 channel rows: 9 pixels x 3 rows x 2 x 4 = 216, in 9 x 1
  // group x 3 kernel rows = 27 group rows; 9 x 4 weight rows x 3 kernel rows
  // = 108 computed rows (the TFLM tables carry 0 for the three).
  const Network none;
  EXPECT_EQ(KernelPathOf(conv), KernelPath::kConv);
  EXPECT_EQ(PathTerms(conv, none), (std::array<double, kPathTerms>{1, 648, 36, 81, 162, 0, 72, 0, 216, 27, 108, 0}));
  EXPECT_DOUBLE_EQ(EstimateOpCycles(**m4, conv, none),
                   1525 + 1.614 * 648 + 50.03 * 36 + 40.71 * 81 + 3.373 * 162 + 1.073 * 72);
  // A 1x1 convolution is another kernel: 9 pixels leave 1 over the 4-row kernel;
  // 9 pixels x 1 word x 4 rows = 36 weight words, 9 group rows, 36 computed rows.
  Op pointwise = conv;
  pointwise.kernel = 1;
  pointwise.in = {3, 3, 2};
  EXPECT_EQ(KernelPathOf(pointwise), KernelPath::kPointwise);
  EXPECT_EQ(PathTerms(pointwise, none), (std::array<double, kPathTerms>{1, 72, 36, 0, 18, 0, 8, 0, 36, 9, 36, 0}));
  pointwise.stride = 2;
  EXPECT_EQ(KernelPathOf(pointwise), KernelPath::kPointwiseStrided);
  // A 3-term Add is two ADDs.
  Op term;
  term.out = {2, 2, 8};
  Network terms;
  terms.ops = {term, term, term};
  Op add;
  add.kind = OpKind::kAdd;
  add.inputs = {0, 1, 2};
  add.out = {2, 2, 8};
  EXPECT_EQ(PathTerms(add, terms), (std::array<double, kPathTerms>{2, 64, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_DOUBLE_EQ(EstimateOpCycles(**m4, add, terms), 826.8 * 2 + 81.82 * 64);
  // conv's window as a depthwise 5x5x6 -> 3x3x6: 486 MACs, 54 outputs, 81 window steps;
  // 6 % 4 = 2 channels after the last word of four: 9 x 9 x 2 = 162 MACs.
  Op dw = conv;
  dw.kind = OpKind::kDWConv2D;
  dw.in = {5, 5, 6};
  dw.out = {3, 3, 6};
  EXPECT_EQ(KernelPathOf(dw), KernelPath::kDepthwise3x3);
  EXPECT_EQ(PathTerms(dw, none), (std::array<double, kPathTerms>{1, 486, 54, 81, 0, 162, 0, 0, 0, 0, 0, 0}));
  // The network's latency is the sum over its operators at the clock.
  auto net = BuildNetwork(testing::WorkedExample(), testing::FashionMnist()).value();
  auto report = CostNetwork(net, Accounting::kTflm, *m4).value();
  double cycles = 0;
  for (const Op& op : net.ops) cycles += EstimateOpCycles(**m4, op, net);
  EXPECT_DOUBLE_EQ(*report.latency_ms, cycles / 80e6 * 1e3);
  EXPECT_EQ(FindMcu("esp32").status().message(),
            "unknown MCU profile 'esp32' (known: tflm-cmsis-nn-cortex-m4, tflm-cmsis-nn-cortex-m7, "
            "unas-c-cortex-m4, unas-c-cortex-m7, unas-c-cortex-m0plus; any of them at another clock as NAME@<N>mhz)");
}

// What unas's generated C does outside the loops its shapes fold
// (firmware/c/unas_kernels_impl.h): ceil-mode pools with clipped windows and
// Adds of unequal terms count their MACs once more (per_general_mac); a
// convolution counts the weight words it multiplies, masked tails and the
// repeated row of a 3-channel group included (per_weight_word), its
// groups of four output channels per kernel row (per_group_row) and the
// weight rows it computes per kernel row (per_computed_row: 4 for a group
// of 3); a clipped pool counts the channel windows of its element-wise loop
// (per_general_channel_window).
TEST(CostModelTest, UnasCTermsCountClippedPoolsPaddedAddsWeightWordsAndRows) {
  const Network none;
  // 15x15x3 -> 8x8x3 by 2x2 windows: the last row and column are clipped.
  Op pool;
  pool.kind = OpKind::kMaxPool;
  pool.pool_h = pool.pool_w = 2;
  pool.in = {15, 15, 3};
  pool.out = {8, 8, 3};
  // 192 outputs x 4 taps = 768 MACs; 64 pixels x 4 taps = 256 steps, each
  // with 3 channels past the last word of four, which the general loop
  // walks one by one: 64 x 3 = 192 channel windows.
  EXPECT_EQ(PathTerms(pool, none), (std::array<double, kPathTerms>{1, 768, 192, 256, 0, 768, 0, 768, 0, 0, 0, 192}));
  pool.in = {16, 16, 3};  // every window whole
  EXPECT_EQ(PathTerms(pool, none)[7], 0);
  EXPECT_EQ(PathTerms(pool, none)[11], 0);
  // A 2-term Add of 7x7x3 and 8x8x3 into 8x8x3: the smaller term is padded.
  Network net;
  net.input = {8, 8, 3, 10};
  Op small;
  small.out = {7, 7, 3};
  net.ops = {small};
  Op add;
  add.kind = OpKind::kAdd;
  add.inputs = {0, kNetworkInput};
  add.in = small.out;
  add.out = {8, 8, 3};
  EXPECT_EQ(PathTerms(add, net), (std::array<double, kPathTerms>{1, 192, 192, 0, 0, 0, 0, 192, 0, 0, 0, 0}));
  net.ops[0].out = {8, 8, 3};
  EXPECT_EQ(PathTerms(add, net)[7], 0);
  // A 3x3 convolution 7x7x3 -> 5x5x3: a kernel row is 9 bytes, 3 words
  // (the third masked); 3 channels compute 4 rows: 25 x 3 x 3 x 4 = 900.
  Op conv;
  conv.kind = OpKind::kConv2D;
  conv.kernel = 3;
  conv.in = {7, 7, 3};
  conv.out = {5, 5, 3};
  EXPECT_EQ(PathTerms(conv, none)[8], 900);
  EXPECT_EQ(PathTerms(conv, none)[9], 25 * 1 * 3);   // one group, 3 kernel rows
  EXPECT_EQ(PathTerms(conv, none)[10], 25 * 4 * 3);  // 4 weight rows computed
  conv.out.c = 6;  // a group of 4 and one of 2: 6 rows
  EXPECT_EQ(PathTerms(conv, none)[8], 25 * 3 * 3 * 6);
  EXPECT_EQ(PathTerms(conv, none)[9], 25 * 2 * 3);
  EXPECT_EQ(PathTerms(conv, none)[10], 25 * 6 * 3);
}

// The profiles' estimates, pinned: a changed constant or term shows here.
// Cycles (one per instruction) of three networks on Fashion-MNIST's input.
// Measured on QEMU (docs/firmware.md), for comparison: the worked example
// took 231,600 instructions as unas C on the M4, 434,253 with TFLM +
// CMSIS-NN; reference candidate 8 969,480 and 1,628,773.
TEST(CostModelTest, LatencyProfilesEstimatePinnedCycles) {
  std::vector<std::string> lines;
  {
    std::istringstream in(testing::ReadFile(std::string(UNAS_SHARED_DIR) + "/testdata/unas_reference_costs.jsonl"));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  ASSERT_GE(lines.size(), 9u);
  const std::string architectures[] = {
      testing::WorkedExampleText(),
      testing::ReadFile(std::string(UNAS_SOURCE_DIR) + "/examples/fashion_mnist_larger.json"),
      nlohmann::json::parse(lines[8])["architecture"].dump()};
  struct Pinned {
    const char* profile;
    double cycles[3];  // worked example, fashion_mnist_larger, reference candidate 8
  };
  const Pinned pinned[] = {
      {"tflm-cmsis-nn-cortex-m4", {444231.7, 2005518.8, 1663715.7}},
      {"tflm-cmsis-nn-cortex-m7", {448549.1, 2015252.6, 1662284.5}},
      {"unas-c-cortex-m4", {231799.6, 1628223.9, 950728.5}},
      {"unas-c-cortex-m7", {225934.5, 1616731.6, 970229.4}},
      {"unas-c-cortex-m0plus", {867124.6, 7128223.6, 3427122.3}},
  };
  for (const Pinned& p : pinned) {
    auto profile = FindMcu(p.profile);
    ASSERT_TRUE(profile.ok()) << p.profile;
    for (int k = 0; k < 3; ++k) {
      auto net = BuildNetwork(ParseCandidate(architectures[k]).value(), testing::FashionMnist());
      ASSERT_TRUE(net.ok());
      EXPECT_NEAR(EstimateLatency(**profile, *net).cycles, p.cycles[k], 0.5) << p.profile << " network " << k;
    }
  }
  // The old name of unas's M4 profile is that profile at 80 MHz.
  auto old = FindMcu("unas-c-cortex-m4-80mhz");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ((*old)->paths, FindMcu("unas-c-cortex-m4").value()->paths);
  EXPECT_EQ((*old)->clock_hz, 80e6);
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
