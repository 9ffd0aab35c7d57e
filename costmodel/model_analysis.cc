#include "costmodel/model_analysis.h"

#include <algorithm>
#include <limits>

#include "costmodel/model_pex.h"
#include "costmodel/order_search.h"
#include "costmodel/tflm_arena.h"

namespace unas {
namespace {

std::string OperatorName(const GraphOp& op) {
  if (op.builtin_code == builtin::kCustom) return op.custom_code.empty() ? "CUSTOM" : op.custom_code;
  return BuiltinName(op.builtin_code);
}

// Order figures: the live timeline of `peak` and TFLM's arena for its order.
Result<OrderAnalysis> Figures(const ModelGraph& graph, const OrderPeak& peak, std::vector<std::string>* notes) {
  OrderAnalysis a;
  a.order = peak.order;
  a.timeline_bytes = peak.live_bytes;
  a.peak_bytes = peak.peak_bytes;
  a.proven_optimal = peak.proven_optimal;
  UNAS_ASSIGN_OR_RETURN(TflmArena arena, PlanTflmArena(graph, peak.order));
  a.tflm_arena_bytes = arena.arena_bytes;
  a.tflm_persistent_bytes = arena.persistent_bytes;
  a.tflm_total_arena_bytes = arena.total_arena_bytes;
  UNAS_ASSIGN_OR_RETURN(TflmArena cmsis, PlanTflmArena(graph, peak.order, TflmKernels::kCmsisNn));
  a.tflm_cmsis_nn_total_arena_bytes = cmsis.total_arena_bytes;
  for (const std::vector<std::string>* list : {&arena.notes, &cmsis.notes}) {
    for (const std::string& n : *list) {
      if (std::find(notes->begin(), notes->end(), n) == notes->end()) notes->push_back(n);
    }
  }
  return a;
}

}  // namespace

// An order's figures as JSON, each key its field's name (nlohmann-json's field
// list, so a key cannot drift from its member); proven_optimal only for the
// best order, below. Outside the anonymous namespace: found by ADL.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(OrderAnalysis, order, timeline_bytes, peak_bytes, tflm_arena_bytes,
                                   tflm_persistent_bytes, tflm_total_arena_bytes, tflm_cmsis_nn_total_arena_bytes)

AnalysisLimits AnalysisLimits::None() {
  constexpr int64_t kNone = std::numeric_limits<int64_t>::max();
  AnalysisLimits l;
  l.max_operators = l.max_tensors = l.max_activation_tensors = l.max_graph_inputs = l.max_operator_tensors = kNone;
  l.max_order_states = kNone;
  l.max_pex_operators = std::numeric_limits<int>::max();
  l.max_pex_work = kNone;
  return l;
}

Status CheckAnalysisLimits(const ModelGraph& graph, const AnalysisLimits& limits) {
  auto over = [](const std::string& what, size_t count, int64_t limit) {
    return Status::OutOfRange("the model has " + std::to_string(count) + " " + what + ", more than the analysis' limit of " +
                              std::to_string(limit) + " (docs/analyze.md)");
  };
  if (static_cast<int64_t>(graph.ops.size()) > limits.max_operators) {
    return over("operators", graph.ops.size(), limits.max_operators);
  }
  if (static_cast<int64_t>(graph.tensors.size()) > limits.max_tensors) {
    return over("tensors", graph.tensors.size(), limits.max_tensors);
  }
  const size_t activations = static_cast<size_t>(std::count_if(
      graph.tensors.begin(), graph.tensors.end(), [](const GraphTensor& t) { return !t.is_constant; }));
  if (static_cast<int64_t>(activations) > limits.max_activation_tensors) {
    return over("non-constant tensors", activations, limits.max_activation_tensors);
  }
  if (static_cast<int64_t>(graph.inputs.size()) > limits.max_graph_inputs) {
    return over("graph inputs", graph.inputs.size(), limits.max_graph_inputs);
  }
  if (static_cast<int64_t>(graph.outputs.size()) > limits.max_graph_inputs) {
    return over("graph outputs", graph.outputs.size(), limits.max_graph_inputs);
  }
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    const size_t count = graph.ops[i].inputs.size() + graph.ops[i].outputs.size();
    if (static_cast<int64_t>(count) > limits.max_operator_tensors) {
      return Status::OutOfRange("operator " + std::to_string(i) + " (" + OperatorName(graph.ops[i]) + ") has " +
                                std::to_string(count) + " inputs and outputs, more than the analysis' limit of " +
                                std::to_string(limits.max_operator_tensors) + " (docs/analyze.md)");
    }
  }
  return Status::Ok();
}

Result<ModelAnalysis> AnalyzeModel(const ModelGraph& graph, const AnalysisLimits& limits) {
  UNAS_RETURN_IF_ERROR(CheckAnalysisLimits(graph, limits));
  ModelAnalysis m;
  m.operators = static_cast<int>(graph.ops.size());
  m.tensors = static_cast<int>(graph.tensors.size());
  m.subgraphs = graph.subgraphs;
  if (graph.subgraphs > 1) {
    m.notes.push_back("the file has " + std::to_string(graph.subgraphs) +
                      " subgraphs: only the first (the one TFLM runs first) is analysed");
  }
  const BufferGraph live = LiveBytesBufferGraph(graph);
  std::vector<int> file(graph.ops.size());
  for (size_t i = 0; i < file.size(); ++i) file[i] = static_cast<int>(i);
  auto file_peak = PeakOfOrder(live, file);
  if (!file_peak.ok()) return Status::Invalid("the operators in file order: " + file_peak.status().message());
  UNAS_ASSIGN_OR_RETURN(OrderPeak best_peak, BestOrder(live, std::min<int64_t>(limits.max_order_states, 4'000'000), limits.max_order_states));
  if (!best_peak.proven_optimal) m.notes.push_back("best order: " + best_peak.note);
  UNAS_ASSIGN_OR_RETURN(m.file_order, Figures(graph, *file_peak, &m.notes));
  if (best_peak.order == file_peak->order) {
    // The same order has the same figures: TFLM's placement (quadratic in
    // tensors) runs once.
    m.best_order = m.file_order;
    m.best_order.proven_optimal = best_peak.proven_optimal;
  } else {
    UNAS_ASSIGN_OR_RETURN(m.best_order, Figures(graph, best_peak, &m.notes));
  }
  m.saving_bytes = m.file_order.peak_bytes - m.best_order.peak_bytes;
  if (m.best_order.tflm_arena_bytes > m.file_order.tflm_arena_bytes) {
    m.notes.push_back("TFLM's greedy layout of the best order is larger than the file order's, although "
                      "its peak of live bytes is not");
  }
  std::vector<int> best_step(graph.ops.size(), 0);
  for (size_t s = 0; s < best_peak.order.size(); ++s) best_step[best_peak.order[s]] = static_cast<int>(s);
  int64_t running = 0;
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    const GraphOp& op = graph.ops[i];
    OperatorAnalysis row;
    row.index = static_cast<int>(i);
    row.name = OperatorName(op);
    for (int t : op.outputs) {
      if (t < 0 || t >= m.tensors) continue;
      if (row.output_shape.empty()) row.output_shape = graph.tensors[t].shape;
      if (!graph.tensors[t].is_constant) row.output_bytes += graph.tensors[t].bytes();
    }
    row.file_live_bytes = m.file_order.timeline_bytes[i];
    running = std::max(running, row.file_live_bytes);
    row.file_running_peak_bytes = running;
    row.best_step = best_step[i];
    row.best_live_bytes = m.best_order.timeline_bytes[best_step[i]];
    m.ops.push_back(std::move(row));
  }
  m.partial_execution = PlanModelPex(graph, m.file_order.timeline_bytes, m.file_order.peak_bytes, limits);
  return m;
}

nlohmann::json AnalysisToJson(const ModelAnalysis& m) {
  using nlohmann::json;
  json ops = json::array();
  for (const OperatorAnalysis& op : m.ops) {
    ops.push_back({{"index", op.index},
                   {"name", op.name},
                   {"output_shape", op.output_shape},
                   {"output_bytes", op.output_bytes},
                   {"file_order", {{"live_bytes", op.file_live_bytes}, {"running_peak_bytes", op.file_running_peak_bytes}}},
                   {"best_order", {{"step", op.best_step}, {"live_bytes", op.best_live_bytes}}}});
  }
  json best = m.best_order;
  best["saving_bytes"] = m.saving_bytes;
  best["proven_optimal"] = m.best_order.proven_optimal;
  json segments = json::array();
  for (const PexSegmentAnalysis& s : m.partial_execution.segments) {
    segments.push_back({{"ops", s.ops}, {"slices", s.slices}});
  }
  const PexAnalysis& pex = m.partial_execution;
  return {{"model", {{"operators", m.operators}, {"tensors", m.tensors}, {"subgraphs", m.subgraphs}, {"notes", m.notes}}},
          {"operators", std::move(ops)},
          {"file_order", m.file_order},
          {"best_order", std::move(best)},
          {"partial_execution",
           {{"applies", pex.applies},
            {"reason", pex.reason},
            {"peak_bytes", pex.peak_bytes},
            {"timeline_bytes", pex.timeline_bytes},
            {"segments", std::move(segments)}}}};
}

}  // namespace unas
