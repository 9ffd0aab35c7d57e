// `unas analyze`'s figures on hand-built graphs, worked by hand.
#include "costmodel/model_analysis.h"

#include <gtest/gtest.h>

#include "costmodel/lowering.h"
#include "costmodel/partial_execution.h"
#include "tests/common/graph_test_util.h"
#include "tests/costmodel/test_data.h"

namespace unas {
namespace {

GraphTensor Tensor(int bytes) {
  GraphTensor t;
  t.shape = {bytes};
  return t;
}

GraphOp Op(int code, std::vector<int> inputs, std::vector<int> outputs) {
  return testing::GraphOpOf(code, std::move(inputs), std::move(outputs));
}

// Two branches from x (10): A = a1 (50) -> a2 (1), B = b1 (2) -> b2 (40),
// joined by an ADD (1). The file stores branch B first.
ModelGraph TwoBranches() {
  ModelGraph g;
  g.tensors = {Tensor(10), Tensor(50), Tensor(1), Tensor(2), Tensor(40), Tensor(1)};
  g.ops = {Op(builtin::kRelu, {0}, {3}), Op(builtin::kRelu, {3}, {4}), Op(builtin::kRelu, {0}, {1}),
           Op(builtin::kRelu, {1}, {2}), Op(builtin::kAdd, {2, 4}, {5})};
  g.inputs = {0};
  g.outputs = {5};
  return g;
}

TEST(ModelAnalysisTest, BestOrderRunsTheBigBranchFirst) {
  // File order: 10+2 = 12 | 10+2+40 = 52 | 10+40+50 = 100 | 40+50+1 = 91 |
  // 40+1+1 = 42. Best (A first): 60 | 61 | 10+1+2 = 13 | 1+2+40 = 43 | 42.
  auto m = AnalyzeModel(TwoBranches());
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->file_order.timeline_bytes, (std::vector<int64_t>{12, 52, 100, 91, 42}));
  EXPECT_EQ(m->file_order.peak_bytes, 100);
  EXPECT_EQ(m->best_order.order, (std::vector<int>{2, 3, 0, 1, 4}));
  EXPECT_EQ(m->best_order.timeline_bytes, (std::vector<int64_t>{60, 61, 13, 43, 42}));
  EXPECT_EQ(m->best_order.peak_bytes, 61);
  EXPECT_EQ(m->saving_bytes, 39);
  // TFLM, file order (16-byte buffers; x [0,3], b1 [1,2], b2 [2,5], a1 [3,4],
  // a2 [4,5], out [5,5]): a1 at 0, b2 at 64, out 0, b1 0, a2 112, x 112:
  // 128. Best order (x [0,3], a1 [1,2], a2 [2,5], b1 [3,4], b2 [4,5]): a1 0,
  // b2 0, out 48, b1 48, a2 64, x 80: 96.
  EXPECT_EQ(m->file_order.tflm_arena_bytes, 128);
  EXPECT_EQ(m->best_order.tflm_arena_bytes, 96);
  // Persistent (tflm_arena.h; tail bytes after each allocation): allocator
  // objects 116, builtin-data allocator 124, SubgraphAllocations 132, 6
  // TfLiteEvalTensors 204, 5 nodes 364; ADD options 2 -> 366; OpData at
  // alignment 16: four ReluOpData 28 -> 400, 432, 464, 496, OpDataAdd 60 ->
  // 560; input pointer array -> 576, TfLiteTensor 608; output array 624,
  // TfLiteTensor 656 (the test tensors are not quantised). The same in both
  // orders; nothing asks for scratch, so CMSIS-NN's kernels change nothing.
  EXPECT_EQ(m->file_order.tflm_persistent_bytes, 656);
  EXPECT_EQ(m->best_order.tflm_total_arena_bytes, 96 + 656);
  EXPECT_EQ(m->best_order.tflm_cmsis_nn_total_arena_bytes, 96 + 656);
  ASSERT_EQ(m->ops.size(), 5u);
  EXPECT_EQ(m->ops[2].name, "RELU");
  EXPECT_EQ(m->ops[2].file_running_peak_bytes, 100);
  EXPECT_EQ(m->ops[3].file_running_peak_bytes, 100);
  EXPECT_EQ(m->ops[2].best_step, 0);
  EXPECT_EQ(m->ops[1].best_live_bytes, 43);
  EXPECT_FALSE(m->partial_execution.applies);
  EXPECT_EQ(m->partial_execution.peak_bytes, 100);
  const nlohmann::json j = AnalysisToJson(*m);
  EXPECT_EQ(j["best_order"]["saving_bytes"], 39);
  EXPECT_EQ(j["file_order"]["tflm_arena_bytes"], 128);
  EXPECT_EQ(j["operators"][1]["best_order"]["step"], 3);
  EXPECT_EQ(j["operators"][1]["file_order"]["live_bytes"], 52);
  EXPECT_EQ(j["model"]["operators"], 5);
}

TEST(ModelAnalysisTest, NotesExtraSubgraphsAndNamesCustomOperators) {
  ModelGraph g = TwoBranches();
  g.subgraphs = 3;
  g.ops[0].builtin_code = builtin::kCustom;
  g.ops[0].custom_code = "MyOp";
  auto m = AnalyzeModel(g);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->ops[0].name, "MyOp");
  ASSERT_FALSE(m->notes.empty());
  EXPECT_EQ(m->notes[0], "the file has 3 subgraphs: only the first (the one TFLM runs first) is analysed");
}

TEST(ModelAnalysisTest, RejectsAGraphReadingATensorBeforeItIsWritten) {
  ModelGraph g = TwoBranches();
  std::swap(g.ops[0], g.ops[1]);
  auto m = AnalyzeModel(g);
  EXPECT_EQ(m.status().message(), "the operators in file order: op 0 runs before the producer of its input");
}

// A lowered μNAS network maps onto Pex's Network operators one to one, so the
// analysis's partial-execution peak is the cost model's (firmware accounting):
// the worked example's 2,384 bytes (see CliTest.CostShowsThePartialExecutionPeakAndPlan).
TEST(ModelAnalysisTest, PartialExecutionOfALoweredNetworkMatchesTheCostModel) {
  const Network net = BuildNetwork(testing::WorkedExample(), testing::FashionMnist()).value();
  auto graph = LowerNetwork(net);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  auto m = AnalyzeModel(*graph);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_TRUE(m->partial_execution.applies) << m->partial_execution.reason;
  EXPECT_EQ(m->partial_execution.peak_bytes, *PexPeakBytes(net, Accounting::kFirmware));
  EXPECT_EQ(m->partial_execution.peak_bytes, 2384);
  ASSERT_EQ(m->partial_execution.segments.size(), 1u);
  EXPECT_EQ(m->partial_execution.segments[0].ops, (std::vector<int>{2, 5}));
  EXPECT_LT(m->partial_execution.peak_bytes, m->best_order.peak_bytes);
}

TEST(ModelAnalysisTest, SvgHasThreeTimelines) {
  auto m = AnalyzeModel(TwoBranches()).value();
  const std::string svg = AnalysisSvg(m);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  size_t lines = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1)) ++lines;
  EXPECT_EQ(lines, 3u);
  EXPECT_NE(svg.find(">partial execution</text>"), std::string::npos);
  EXPECT_NE(FormatAnalysis(m).find("best order:  peak 61 bytes; TFLM arena 96 planned + 656 persistent = 752 bytes"),
            std::string::npos)
      << FormatAnalysis(m);
}

}  // namespace
}  // namespace unas
