// `unas analyze` on the real models in ../shared/testdata/tflite: the
// file-order peak against tflite-tools' rule computed here independently,
// TFLM's planned arena against the figures measured on a real TFLM build
// (expected.json), and the best order against an exhaustive enumeration.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <cstring>
#include <functional>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "costmodel/model_analysis.h"
#include "costmodel/order_search.h"
#include "costmodel/tflm_arena.h"
#include "tests/tools/armnn_runner.h"
#include "tflite/reader.h"
#include "tflite/reorder.h"

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

// arena_used_bytes() after AllocateTensors() of tflite-micro 90b983c2 built
// for Cortex-M4 (arm-none-eabi-g++ 12.2 -O2), run on qemu-system-arm -M
// mps2-an386: reference kernels, and with CMSIS-NN 4ab83cc3's kernels
// (docs/cost-model.md has the harness and the commands). The models are
// run in file order.
struct MeasuredArena {
  const char* file;
  int64_t reference, cmsis_nn;
};
constexpr MeasuredArena kCortexM4Arenas[] = {
    {"add0.tflite", 2372, 2372},           {"add1.tflite", 14276, 14276},
    {"add11.tflite", 15812, 15812},        {"add16.tflite", 4292, 4292},
    {"conv0.tflite", 10932, 11332},        {"conv1.tflite", 15988, 16276},
    {"conv20.tflite", 8180, 8244},         {"conv21.tflite", 22996, 24564},
    {"hello_world_int8.tflite", 676, 772}, {"keyword_scrambled_8bit.tflite", 8052, 8212},
    {"micro_speech_quantized.tflite", 6788, 6836}, {"person_detect.tflite", 82292, 82308},
    {"simple_add_model.tflite", 49604, 49604},     {"synth_2001.tflite", 2080, 2320},
    {"synth_2004.tflite", 1456, 1600},     {"synth_2024.tflite", 2128, 2352},
    {"synth_2034.tflite", 1008, 1088},     {"synth_2039.tflite", 1760, 1904},
};

TEST(AnalyzeModelsTest, TflmTotalArenaEqualsArenaUsedBytesOnCortexM4) {
  for (const MeasuredArena& m : kCortexM4Arenas) {
    SCOPED_TRACE(m.file);
    auto graph = ReadTfliteFile(kDir + "/" + m.file);
    ASSERT_TRUE(graph.ok()) << graph.status().message();
    auto a = AnalyzeModel(*graph);
    ASSERT_TRUE(a.ok()) << a.status().message();
    EXPECT_EQ(a->file_order.tflm_total_arena_bytes, m.reference);
    EXPECT_EQ(a->file_order.tflm_cmsis_nn_total_arena_bytes, m.cmsis_nn);
    EXPECT_EQ(a->file_order.tflm_total_arena_bytes,
              a->file_order.tflm_arena_bytes + a->file_order.tflm_persistent_bytes);
  }
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

// --reorder's file runs on a third-party runtime with the same outputs: the
// best order of each model Arm NN 20.08 runs (it refuses conv*, keyword and
// person detection: deployment.md), on random inputs.
TEST(AnalyzeModelsTest, ArmNnGivesTheSameOutputsInTheBestOrder) {
  if (std::string(UNAS_ARMNN_RUN).empty()) GTEST_SKIP() << "Arm NN is not installed";
  std::mt19937 rng(13);
  int compared = 0, reordered = 0;
  for (const std::string& file : ModelFiles()) {
    if (file.rfind("conv", 0) == 0 || file == "keyword_scrambled_8bit.tflite" || file == "person_detect.tflite") {
      continue;
    }
    SCOPED_TRACE(file);
    std::ifstream in(kDir + "/" + file, std::ios::binary);
    const std::vector<uint8_t> original((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto graph = ReadTflite(original.data(), original.size());
    ASSERT_TRUE(graph.ok());
    auto m = AnalyzeModel(*graph);
    ASSERT_TRUE(m.ok());
    auto best = ReorderOperators(original, m->best_order.order);
    ASSERT_TRUE(best.ok()) << best.status().message();
    reordered += *best != original;
    std::vector<uint8_t> input;
    for (int id : graph->inputs) {
      const GraphTensor& t = graph->tensors[id];
      for (int64_t i = 0; i < t.elements(); ++i) {
        if (t.type == TensorType::kFloat32) {
          const float v = std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng);
          uint8_t raw[4];
          std::memcpy(raw, &v, 4);
          input.insert(input.end(), raw, raw + 4);
        } else {
          for (int b = 0; b < ElementBytes(t.type); ++b) input.push_back(static_cast<uint8_t>(rng() & 0xff));
        }
      }
    }
    auto a = testing::RunArmNn(UNAS_ARMNN_RUN, original, input, /*all_outputs=*/true);
    auto b = testing::RunArmNn(UNAS_ARMNN_RUN, *best, input, /*all_outputs=*/true);
    ASSERT_TRUE(a.ok()) << a.status().message();
    ASSERT_TRUE(b.ok()) << b.status().message();
    EXPECT_EQ(*a, *b);
    ++compared;
  }
  EXPECT_EQ(compared, 12);   // add x4, hello world, micro speech, simple add, synth x5
  EXPECT_GE(reordered, 3);   // the synth graphs whose best order is not the file's
}

}  // namespace
}  // namespace unas
