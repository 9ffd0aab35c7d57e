// `unas analyze` on the real models in ../shared/testdata/tflite: the
// file-order peak against tflite-tools' rule computed here independently,
// TFLM's planned arena against the figures measured on a real TFLM build
// (expected.json), and the best order against an exhaustive enumeration.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "costmodel/model_analysis.h"
#include "costmodel/order_search.h"
#include "costmodel/tflm_arena.h"
#include "tflite/reader.h"

namespace unas {
namespace {

const std::string kDir = std::string(UNAS_SHARED_DIR) + "/testdata/tflite";

std::vector<std::string> ModelFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(kDir)) {
    if (entry.path().extension() == ".tflite") files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

nlohmann::json Expected() {
  std::ifstream in(kDir + "/expected.json");
  return nlohmann::json::parse(in);
}

// tflite-tools' rule, written out on the ModelGraph: a non-constant tensor
// is live from its producer (graph inputs from step 0) to its last reader
// (graph outputs to the last step); the peak is the largest per-step sum.
int64_t TfliteToolsPeak(const ModelGraph& g, const std::vector<int>& order) {
  const int n = static_cast<int>(order.size());
  int64_t peak = 0;
  for (int step = 0; step < n; ++step) {
    int64_t live = 0;
    for (size_t t = 0; t < g.tensors.size(); ++t) {
      if (g.tensors[t].is_constant) continue;
      int first = -1, last = -1;
      if (std::find(g.inputs.begin(), g.inputs.end(), static_cast<int>(t)) != g.inputs.end()) first = last = 0;
      for (int s = 0; s < n; ++s) {
        const GraphOp& op = g.ops[order[s]];
        if (std::find(op.outputs.begin(), op.outputs.end(), static_cast<int>(t)) != op.outputs.end()) {
          first = last = s;
        }
      }
      if (first < 0) continue;  // nothing makes it: not an activation
      for (int s = 0; s < n; ++s) {
        const GraphOp& op = g.ops[order[s]];
        if (std::find(op.inputs.begin(), op.inputs.end(), static_cast<int>(t)) != op.inputs.end()) {
          last = std::max(last, s);
        }
      }
      if (std::find(g.outputs.begin(), g.outputs.end(), static_cast<int>(t)) != g.outputs.end()) last = n - 1;
      if (first <= step && step <= last) live += g.tensors[t].bytes();
    }
    peak = std::max(peak, live);
  }
  return peak;
}

// The smallest peak over every valid order, by enumerating them all.
int64_t ExhaustivePeak(const ModelGraph& g, int64_t* orders) {
  const BufferGraph b = LiveBytesBufferGraph(g);
  const int n = static_cast<int>(g.ops.size());
  std::vector<int> order;
  std::vector<char> used(n, 0);
  int64_t best = -1;
  std::function<void()> extend = [&]() {
    if (static_cast<int>(order.size()) == n) {
      ++*orders;
      auto p = PeakOfOrder(b, order);
      if (p.ok() && (best < 0 || p->peak_bytes < best)) best = p->peak_bytes;
      return;
    }
    for (int x = 0; x < n; ++x) {
      if (used[x]) continue;
      bool ready = true;
      for (int t : b.ops[x].inputs) {
        for (int y = 0; y < n && ready; ++y) {
          const auto& outs = b.ops[y].outputs;
          const bool writes = b.ops[y].output == t || std::find(outs.begin(), outs.end(), t) != outs.end();
          ready = !(writes && !used[y]);
        }
      }
      if (!ready) continue;
      used[x] = 1;
      order.push_back(x);
      extend();
      order.pop_back();
      used[x] = 0;
    }
  };
  extend();
  return best;
}

TEST(AnalyzeModelsTest, FileOrderPeakFollowsTfliteToolsRule) {
  const auto files = ModelFiles();
  ASSERT_GE(files.size(), 18u);
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    auto graph = ReadTfliteFile(kDir + "/" + file);
    ASSERT_TRUE(graph.ok()) << graph.status().message();
    auto m = AnalyzeModel(*graph);
    ASSERT_TRUE(m.ok()) << m.status().message();
    std::vector<int> file_order(graph->ops.size());
    for (size_t i = 0; i < file_order.size(); ++i) file_order[i] = static_cast<int>(i);
    EXPECT_EQ(m->file_order.peak_bytes, TfliteToolsPeak(*graph, file_order));
    EXPECT_EQ(m->best_order.peak_bytes, TfliteToolsPeak(*graph, m->best_order.order));
    EXPECT_LE(m->best_order.peak_bytes, m->file_order.peak_bytes);
    EXPECT_TRUE(m->best_order.proven_optimal);
    EXPECT_LE(m->partial_execution.peak_bytes, m->file_order.peak_bytes);
  }
}

TEST(AnalyzeModelsTest, TflmPlannedArenaEqualsTheMeasuredFigure) {
  const nlohmann::json expected = Expected();
  int checked = 0;
  for (const auto& e : expected["models"]) {
    const std::string file = e["file"];
    SCOPED_TRACE(file);
    auto graph = ReadTfliteFile(kDir + "/" + file);
    ASSERT_TRUE(graph.ok()) << graph.status().message();
    auto m = AnalyzeModel(*graph);
    ASSERT_TRUE(m.ok()) << m.status().message();
    EXPECT_EQ(m->operators, e["operators"].get<int>());
    EXPECT_EQ(m->file_order.peak_bytes, e["live_peak_file_order_bytes"].get<int64_t>());
    EXPECT_EQ(m->best_order.peak_bytes, e["best_order_live_peak_bytes"].get<int64_t>());
    EXPECT_EQ(m->file_order.tflm_arena_bytes, e["tflm_planned_arena_bytes"].get<int64_t>());
    ++checked;
  }
  EXPECT_EQ(checked, 12);
}

TEST(AnalyzeModelsTest, BestOrderEqualsExhaustiveSearchOnSmallGraphs) {
  int enumerated = 0;
  for (const std::string& file : ModelFiles()) {
    SCOPED_TRACE(file);
    auto graph = ReadTfliteFile(kDir + "/" + file);
    ASSERT_TRUE(graph.ok());
    if (graph->ops.size() > 10) continue;
    auto m = AnalyzeModel(*graph);
    ASSERT_TRUE(m.ok());
    int64_t orders = 0;
    EXPECT_EQ(m->best_order.peak_bytes, ExhaustivePeak(*graph, &orders));
    EXPECT_GE(orders, 1);
    ++enumerated;
  }
  EXPECT_GE(enumerated, 10);
}

// Person detection is a chain: reordering cannot gain, partial execution
// can. Its first operator (a depthwise conv with multiplier 8 over the one
// input channel) maps to an 8-filter convolution; the figures are the cost
// model's Pex over the mapped chain (regression values, docs/analyze.md).
TEST(AnalyzeModelsTest, PersonDetectionGainsOnlyFromPartialExecution) {
  auto graph = ReadTfliteFile(kDir + "/person_detect.tflite");
  ASSERT_TRUE(graph.ok());
  auto m = AnalyzeModel(*graph);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->saving_bytes, 0);
  const PexAnalysis& pex = m->partial_execution;
  ASSERT_TRUE(pex.applies) << pex.reason;
  EXPECT_EQ(pex.peak_bytes, 29952);
  EXPECT_EQ(pex.peak_bytes, *std::max_element(pex.timeline_bytes.begin(), pex.timeline_bytes.end()));
  ASSERT_EQ(pex.segments.size(), 4u);
  EXPECT_EQ(pex.segments[0].ops, (std::vector<int>{0, 1}));
  auto micro = AnalyzeModel(ReadTfliteFile(kDir + "/micro_speech_quantized.tflite").value()).value();
  EXPECT_FALSE(micro.partial_execution.applies);
  EXPECT_NE(micro.partial_execution.reason.find("DEPTHWISE_CONV_2D without a square 4-D filter"), std::string::npos)
      << micro.partial_execution.reason;
}

}  // namespace
}  // namespace unas
