// The analysis' limits (issue 23): the hostile-input probe's repros as
// regression tests, every limit refused naming it, and the bounded analysis
// equal to the unbounded one wherever it reached no limit.
#include <algorithm>
#include <random>

#include <gtest/gtest.h>

#include "costmodel/lowering.h"
#include "costmodel/model_analysis.h"
#include "costmodel/model_pex.h"
#include "costmodel/network.h"
#include "costmodel/order_search.h"
#include "costmodel/tflm_arena.h"
#include "tests/common/graph_test_util.h"
#include "tests/common/hostile_models.h"
#include "tests/costmodel/random_candidates.h"

namespace unas {
namespace {

using testing::BranchingModel;
using testing::ChainModel;
using testing::ManyInputsModel;

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string AllNotes(const ModelAnalysis& m) {
  std::string all;
  for (const std::string& n : m.notes) all += n + "\n";
  return all;
}

// The analysis said that a limit cut something short.
bool ReachedALimit(const ModelAnalysis& m) {
  const std::string& pex = m.partial_execution.reason;
  return Contains(AllNotes(m), "states") || Contains(pex, "analysis' limit") || Contains(pex, "work limit");
}

// 920 KB, 10,000 operators: over 900 s before (model_pex.cc's LiveBetween
// was O(operators^2 * tensors)). Every step reads one [1,4,4,8] int8 tensor
// (128 bytes) and writes one: 256 bytes live at each, in any order.
TEST(AnalysisBounds, ATenThousandOperatorChainIsAnalysed) {
  auto m = AnalyzeModel(ChainModel(10000));
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->operators, 10000);
  EXPECT_EQ(m->file_order.peak_bytes, 256);
  EXPECT_EQ(m->file_order.timeline_bytes, std::vector<int64_t>(10000, 256));
  EXPECT_EQ(m->best_order.peak_bytes, 256);
  EXPECT_FALSE(m->best_order.proven_optimal);
  EXPECT_TRUE(Contains(AllNotes(*m), "graph has more than 256 operators")) << AllNotes(*m);
  // 1x1 pools keep every tensor's size: no slice lowers the peak.
  EXPECT_FALSE(m->partial_execution.applies);
  EXPECT_EQ(m->partial_execution.reason,
            "no segment of operators 0..63 lowers the peak: every operator runs whole (partial execution plans at "
            "most 64 operators of a chain, the analysis' limit; the rest runs whole)");
}

// The probe's own chain: operators nothing maps onto Pex, so every step was
// a start tried (each an O(operators * tensors) scan before).
TEST(AnalysisBounds, ATenThousandOperatorChainOfCustomOperatorsIsAnalysed) {
  auto m = AnalyzeModel(ChainModel(10000, testing::ChainOf::kCustom));
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->file_order.peak_bytes, 256);
  EXPECT_EQ(m->best_order.peak_bytes, 256);
  EXPECT_EQ(m->partial_execution.reason.rfind(
                "no chain of at least two operators Pex can slice (from operator 0: operator 0, CUSTOM is not one of "
                "the operators Pex slices here",
                0),
            0u)
      << m->partial_execution.reason;
}

// 3 KB with 22 graph inputs: 13-15 s and 400 MB before (2^22 downsets, past
// BestOrder's 4,000,000 states). Input i and its pool's output hold
// 16 * c_i bytes, c_i = 1 + i % 3, sum 43 channels = 688 bytes. The CONCAT
// holds all 22 pool outputs (688) and its output (688) = 1,376, the most of
// any step in any order (pool i's step: 688 + 16 c_i at most 736).
TEST(AnalysisBounds, TwentyTwoGraphInputsStayWithinTheStateBudget) {
  auto m = AnalyzeModel(ManyInputsModel(22));
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->file_order.peak_bytes, 1376);
  EXPECT_EQ(m->best_order.peak_bytes, 1376);
  EXPECT_EQ(m->saving_bytes, 0);
  EXPECT_FALSE(m->best_order.proven_optimal);
  EXPECT_TRUE(Contains(AllNotes(*m), "a segment of 22 operators needs more than 250000 states: scheduled by a beam "
                                     "search over downsets (516 states per step)"))
      << AllNotes(*m);
}

// 256 operators (15 branches of 17 with cross-links, then a CONCAT): 20-32 s
// and ~700 MB before. Every tensor but the CONCAT's output is [1,4,4,4]
// (64 bytes); the CONCAT holds 15 of them and its 960-byte output = 1,920,
// and no other step holds more than 30 tensors of 64 bytes.
TEST(AnalysisBounds, ABranchingGraphOf256OperatorsStaysWithinTheStateBudget) {
  auto m = AnalyzeModel(BranchingModel(15, 17));
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->operators, 256);
  EXPECT_EQ(m->file_order.peak_bytes, 1920);
  EXPECT_EQ(m->best_order.peak_bytes, 1920);
  EXPECT_FALSE(m->best_order.proven_optimal);
  EXPECT_TRUE(Contains(AllNotes(*m), "a segment of 255 operators needs more than 250000 states")) << AllNotes(*m);
}

TEST(AnalysisBounds, EachLimitIsRefusedNamingIt) {
  auto refused = [](const ModelGraph& g, const AnalysisLimits& limits, const std::string& message) {
    auto m = AnalyzeModel(g, limits);
    ASSERT_FALSE(m.ok()) << message;
    EXPECT_EQ(m.status().code(), StatusCode::kOutOfRange);
    EXPECT_EQ(m.status().message(), message);
  };
  refused(ChainModel(10001), {},
          "the model has 10001 operators, more than the analysis' limit of 10000 (docs/analyze.md)");
  AnalysisLimits small;
  small.max_tensors = 100;  // a conv chain has a filter, a bias and an output per operator
  refused(ChainModel(40, testing::ChainOf::kConvs), small,
          "the model has 121 tensors, more than the analysis' limit of 100 (docs/analyze.md)");
  small = {};
  small.max_activation_tensors = 40;
  refused(ChainModel(40, testing::ChainOf::kConvs), small,
          "the model has 41 non-constant tensors, more than the analysis' limit of 40 (docs/analyze.md)");
  refused(ManyInputsModel(65), {},
          "the model has 65 graph inputs, more than the analysis' limit of 64 (docs/analyze.md)");
  ModelGraph outputs = ChainModel(3);
  outputs.outputs.assign(65, 1);
  refused(outputs, {}, "the model has 65 graph outputs, more than the analysis' limit of 64 (docs/analyze.md)");
  small = {};
  small.max_graph_inputs = 1000;
  refused(ManyInputsModel(256), small,
          "operator 256 (CONCATENATION) has 257 inputs and outputs, more than the analysis' limit of 256 "
          "(docs/analyze.md)");
  // At the limits exactly: accepted.
  EXPECT_TRUE(CheckAnalysisLimits(ManyInputsModel(64)).ok());
  EXPECT_TRUE(CheckAnalysisLimits(ChainModel(10000)).ok());
  EXPECT_TRUE(CheckAnalysisLimits(ManyInputsModel(255), small).ok());
}

TEST(AnalysisBounds, PartialExecutionPlansAtMostTheChainLimit) {
  // Person-detection-like chain of 3x3 depthwise convolutions would need a
  // filter; 1x1 pools give the cap's wording without one.
  AnalysisLimits limits;
  limits.max_pex_operators = 5;
  auto m = AnalyzeModel(ChainModel(12), limits);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(Contains(m->partial_execution.reason, "among operators 0..4") ||
              Contains(m->partial_execution.reason, "of operators 0..4"))
      << m->partial_execution.reason;
  EXPECT_TRUE(Contains(m->partial_execution.reason, "at most 5 operators of a chain")) << m->partial_execution.reason;
  // A work limit below even two operators' planning: not planned, and why.
  limits = {};
  limits.max_pex_work = 10;
  m = AnalyzeModel(ChainModel(12), limits);
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->partial_execution.applies);
  EXPECT_TRUE(Contains(m->partial_execution.reason, "not planned: planning partial execution from operator 0 would "
                                                    "build about"))
      << m->partial_execution.reason;
  EXPECT_TRUE(Contains(m->partial_execution.reason, "more than the analysis' limit of 10"));
}

// model_pex.cc's old definition, one step at a time: O(tensors * operators).
std::vector<int> LiveBetween(const ModelGraph& g, int s) {
  std::vector<int> live;
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const GraphTensor& tensor = g.tensors[t];
    if (tensor.is_constant || tensor.is_variable || tensor.bytes() <= 0) continue;
    const int id = static_cast<int>(t);
    bool made = std::find(g.inputs.begin(), g.inputs.end(), id) != g.inputs.end();
    for (int x = 0; x < s && !made; ++x) {
      made = std::find(g.ops[x].outputs.begin(), g.ops[x].outputs.end(), id) != g.ops[x].outputs.end();
    }
    if (!made) continue;
    bool needed = std::find(g.outputs.begin(), g.outputs.end(), id) != g.outputs.end();
    for (int x = s; x < static_cast<int>(g.ops.size()) && !needed; ++x) {
      needed = std::find(g.ops[x].inputs.begin(), g.ops[x].inputs.end(), id) != g.ops[x].inputs.end();
    }
    if (needed) live.push_back(id);
  }
  return live;
}

// A random DAG of tensors: some constant, some variable, some of size 0,
// operators reading earlier tensors (or -1) and writing one to three new
// ones, random graph inputs and outputs (repeats included).
ModelGraph RandomGraph(std::mt19937_64& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  ModelGraph g;
  auto tensor = [&] {
    GraphTensor t;
    t.shape = {1, 1 + pick(3), 2, pick(6) == 0 ? 0 : 1 + pick(4)};
    t.is_constant = pick(5) == 0;
    t.is_variable = !t.is_constant && pick(12) == 0;
    g.tensors.push_back(t);
    return static_cast<int>(g.tensors.size()) - 1;
  };
  const int inputs = 1 + pick(3);
  for (int i = 0; i < inputs; ++i) g.inputs.push_back(tensor());
  const int ops = 1 + pick(14);
  for (int x = 0; x < ops; ++x) {
    GraphOp op;
    const int reads = 1 + pick(3);
    for (int r = 0; r < reads; ++r) op.inputs.push_back(pick(8) == 0 ? -1 : pick(static_cast<int>(g.tensors.size())));
    const int writes = 1 + pick(3);
    for (int w = 0; w < writes; ++w) op.outputs.push_back(tensor());
    g.ops.push_back(op);
  }
  const int outputs = 1 + pick(3);
  for (int o = 0; o < outputs; ++o) g.outputs.push_back(pick(static_cast<int>(g.tensors.size())));
  return g;
}

TEST(AnalysisBounds, SoleLiveTensorsEqualTheDefinitionOnRandomGraphs) {
  std::mt19937_64 rng(23);
  int sole = 0, several = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const ModelGraph g = RandomGraph(rng);
    const std::vector<int> fast = SoleLiveTensors(g);
    ASSERT_EQ(fast.size(), g.ops.size());
    for (size_t s = 0; s < g.ops.size(); ++s) {
      const std::vector<int> live = LiveBetween(g, static_cast<int>(s));
      const int expected = live.empty() ? -1 : live.size() == 1 ? live[0] : -2;
      ASSERT_EQ(fast[s], expected) << "trial " << trial << " step " << s;
      sole += expected >= 0;
      several += expected == -2;
    }
  }
  // Both cases occur often enough to mean something.
  EXPECT_GT(sole, 100);
  EXPECT_GT(several, 100);
}

// Random μNAS networks lowered to TFLite operators (branches, PADs, ADD
// chains) and analysed twice: with the limits and without any (the analysis
// as it was before them). Where the bounded analysis reached no limit the two
// are identical; where tight limits cut it short it says so and is still a
// valid answer (an order no better than the exact one, a Pex plan no worse
// than running whole).
TEST(AnalysisBounds, BoundedEqualsUnboundedWhereNoLimitIsReached) {
  std::mt19937_64 rng(2023);
  const InputSpec input{12, 12, 2, 4};
  AnalysisLimits tight;
  tight.max_order_states = 40;
  tight.max_pex_operators = 3;
  int equal = 0, cut = 0;
  for (int trial = 0; trial < 30; ++trial) {
    const Candidate candidate = testing::RandomCandidate(rng, testing::ExecutableLimits(4, 8));
    auto net = BuildNetwork(candidate, input);
    if (!net.ok()) continue;
    auto graph = LowerNetwork(*net);
    ASSERT_TRUE(graph.ok()) << graph.status().message();
    auto unbounded = AnalyzeModel(*graph, AnalysisLimits::None());
    ASSERT_TRUE(unbounded.ok()) << unbounded.status().message();
    for (const AnalysisLimits& limits : {AnalysisLimits{}, tight}) {
      auto bounded = AnalyzeModel(*graph, limits);
      ASSERT_TRUE(bounded.ok()) << bounded.status().message();
      if (!ReachedALimit(*bounded)) {
        EXPECT_EQ(AnalysisToJson(*bounded), AnalysisToJson(*unbounded)) << "trial " << trial;
        ++equal;
        continue;
      }
      ++cut;
      EXPECT_EQ(AnalysisToJson(*bounded)["file_order"], AnalysisToJson(*unbounded)["file_order"]);
      EXPECT_LE(bounded->best_order.peak_bytes, bounded->file_order.peak_bytes);
      if (unbounded->best_order.proven_optimal) {
        EXPECT_GE(bounded->best_order.peak_bytes, unbounded->best_order.peak_bytes);
      }
      const auto check = PeakOfOrder(LiveBytesBufferGraph(*graph), bounded->best_order.order);
      ASSERT_TRUE(check.ok());
      EXPECT_EQ(check->peak_bytes, bounded->best_order.peak_bytes);
      EXPECT_LE(bounded->partial_execution.peak_bytes, bounded->file_order.peak_bytes);
    }
  }
  EXPECT_GT(equal, 20);
  EXPECT_GT(cut, 5);
}

// With a budget for the whole graph, a second hard segment gets what the
// first left (BestOrder's max_total_states); without one, each its own.
TEST(AnalysisBounds, TheOrderSearchBudgetCoversTheWholeGraph) {
  // Twelve pools of twelve graph inputs into a CONCAT, then twelve pools of
  // that CONCAT's output into a second one. The first CONCAT is a cut:
  // segments of 12 independent operators (2^12 = 4,096 downsets) and of 12
  // one-operator chains from one source (4,096 chain states).
  ModelGraph g;
  auto tensor = [&](int channels) {
    g.tensors.push_back(testing::Int8Activation("t", 4, 4, channels));
    return static_cast<int>(g.tensors.size()) - 1;
  };
  GraphOp first = testing::GraphOpOf(builtin::kConcatenation, {}, {});
  for (int i = 0; i < 12; ++i) {
    g.inputs.push_back(tensor(1));
    first.inputs.push_back(tensor(1 + i % 3));
    g.ops.push_back(testing::GraphOpOf(builtin::kMaxPool2D, {g.inputs.back()}, {first.inputs.back()}));
  }
  const int middle = tensor(24);
  first.outputs = {middle};
  g.ops.push_back(first);
  GraphOp second = testing::GraphOpOf(builtin::kConcatenation, {}, {});
  for (int i = 0; i < 12; ++i) {
    second.inputs.push_back(tensor(24));
    g.ops.push_back(testing::GraphOpOf(builtin::kMaxPool2D, {middle}, {second.inputs.back()}));
  }
  second.outputs = {tensor(24 * 12)};
  g.ops.push_back(second);
  g.outputs = second.outputs;
  const BufferGraph live = LiveBytesBufferGraph(g);
  auto each = BestOrder(live, 5000);  // 5,000 states for each segment
  ASSERT_TRUE(each.ok()) << each.status().message();
  EXPECT_TRUE(each->proven_optimal) << each->note;
  auto shared = BestOrder(live, 5000, 5000);  // 5,000 for both: 904 (so 1,024) left for the second
  ASSERT_TRUE(shared.ok());
  EXPECT_FALSE(shared->proven_optimal);
  EXPECT_EQ(shared->note,
            "a segment of 12 operators needs more than 1024 states (what was left of the graph's 5000): scheduled by a "
            "beam search over downsets (8 states per step), not proven optimal");
  EXPECT_GE(shared->peak_bytes, each->peak_bytes);
}

}  // namespace
}  // namespace unas
