// Where a TFLite-level model's SRAM goes (`unas analyze`, REST
// /api/v1/analyze): per operator in file order, the file order's and the
// best order's peaks and TFLM arenas, and a partial-execution plan.
//
// Rules:
//   - live bytes follow tflite-tools' rule: a non-constant tensor is live
//     from its producer's step (graph inputs from the start) to its last
//     reader's (graph outputs to the end), unaligned, nothing in place, all
//     outputs of an operator live while it runs (LiveBytesBufferGraph);
//   - the best order is BestOrder over that graph (exact unless
//     `proven_optimal` is false, then a note says which heuristic chose it);
//   - TFLM's figures are PlanTflmArena for each order (tflm_arena.h);
//   - partial execution (partial_execution.h) applies to the longest chain
//     of operators, in file order, from the first step where exactly one
//     8-bit tensor is live (the graph input, or the output of the operators
//     before it, which run whole), that maps onto the Network operators Pex
//     slices (CONV_2D with a square kernel, DEPTHWISE_CONV_2D with
//     multiplier 1 or over a single input channel (then a convolution),
//     MAX/AVERAGE_POOL_2D, ADD of equal shapes,
//     FULLY_CONNECTED) over 8-bit activations, and whose only tensor read
//     later is its last output; the rest runs whole after it. Its figures are in the firmware accounting (unas's runtime,
//     which also writes an Add in place at its input's last use). Other
//     models get `applies` false and the reason.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "costmodel/model_graph.h"
#include "base/status.h"

namespace unas {

struct OrderAnalysis {
  std::vector<int> order;                // op indices in execution order
  std::vector<int64_t> timeline_bytes;   // live bytes per step of `order`
  int64_t peak_bytes = 0;
  int64_t tflm_arena_bytes = 0;          // TFLM's planned arena for `order` (reference kernels)
  int64_t tflm_persistent_bytes = 0;     // its persistent part (32-bit Cortex-M)
  int64_t tflm_total_arena_bytes = 0;    // their sum: arena_used_bytes() with reference kernels
  int64_t tflm_cmsis_nn_total_arena_bytes = 0;  // arena_used_bytes() with CMSIS-NN's kernels
  bool proven_optimal = true;            // best order: false when a heuristic chose it
};

struct OperatorAnalysis {
  int index = 0;
  std::string name;                 // "CONV_2D"; custom operators by their custom code
  std::vector<int> output_shape;    // of its first output
  int64_t output_bytes = 0;         // all its non-constant outputs
  int64_t file_live_bytes = 0;      // live while it runs, file order
  int64_t file_running_peak_bytes = 0;  // max of the file order's timeline up to it
  int best_step = 0;                // its position in the best order
  int64_t best_live_bytes = 0;      // live while it runs, best order
};

struct PexSegmentAnalysis {
  std::vector<int> ops;  // graph op indices, head first
  int slices = 0;
};

struct PexAnalysis {
  bool applies = false;                 // a plan with at least one segment
  std::string reason;                   // why it applies or not
  int64_t peak_bytes = 0;               // with the plan (the whole-operator peak when none applies)
  std::vector<int64_t> timeline_bytes;  // per step of the plan
  std::vector<PexSegmentAnalysis> segments;
};

struct ModelAnalysis {
  int operators = 0, tensors = 0, subgraphs = 1;
  std::vector<std::string> notes;
  std::vector<OperatorAnalysis> ops;  // file order
  OrderAnalysis file_order, best_order;
  int64_t saving_bytes = 0;           // file_order.peak_bytes - best_order.peak_bytes
  PexAnalysis partial_execution;
};

// What one analysis may cost, so that its time and memory follow the size
// of the model and not its shape (issue 23: a 10,000-operator chain took
// over 900 s, a 256-operator branching graph 20-32 s and 700 MB). The
// values, what each bounds and why, are in docs/analyze.md; every caller
// (`unas analyze`, POST /api/v1/analyze) uses these defaults.
struct AnalysisLimits {
  // Refused beyond these (kOutOfRange, the message names the limit):
  int64_t max_operators = 10'000;
  int64_t max_tensors = 40'000;
  int64_t max_activation_tensors = 20'000;  // non-constant: what the arena planners place
  int64_t max_graph_inputs = 64;            // and, separately, graph outputs
  int64_t max_operator_tensors = 256;       // inputs + outputs of one operator
  // Answered beyond these, a note or the Pex reason saying what was cut
  // short (the rest of the analysis is exact):
  //   the best-order search's states for the whole graph (BestOrder's
  //   max_states and max_total_states; past it, the beam search BestOrder
  //   documents, `proven_optimal` false);
  int64_t max_order_states = 250'000;
  //   the operators of the chain partial execution plans (the rest runs
  //   whole), and the schedule steps its planner may build (an upper bound
  //   computed before planning: the chain is shortened to fit).
  int max_pex_operators = 64;
  int64_t max_pex_work = 10'000'000;

  // No limits: the analysis as it was before them (BestOrder's default of
  // 4,000,000 states per segment, no total), for tests that compare the two.
  static AnalysisLimits None();
};

// The first limit `graph` breaks, as kOutOfRange naming it ("the model has
// 12000 operators, more than the analysis' limit of 10000"); Ok otherwise.
// O(operators + tensors + graph inputs and outputs).
Status CheckAnalysisLimits(const ModelGraph& graph, const AnalysisLimits& limits = {});

// Fails (kInvalidArgument) when the graph is not a DAG of its tensors (an
// operator reads a tensor nothing writes before it in any order, a tensor is
// written twice, a cycle), and as CheckAnalysisLimits when it is too large.
// Cost within the limits: near-linear in operators and tensors except the
// best-order search (bounded by max_order_states), partial execution's
// planner (bounded by max_pex_operators and max_pex_work) and TFLM's greedy
// arena placement (quadratic in non-constant tensors); docs/analyze.md has
// the figures.
Result<ModelAnalysis> AnalyzeModel(const ModelGraph& graph, const AnalysisLimits& limits = {});

// The "Analyze JSON" contract: {"model": {operators, tensors, subgraphs,
// notes}, "operators": [{index, name, output_shape, output_bytes,
// file_order: {live_bytes, running_peak_bytes}, best_order: {step,
// live_bytes}}], "file_order": {order, timeline_bytes, peak_bytes,
// tflm_arena_bytes, tflm_persistent_bytes, tflm_total_arena_bytes,
// tflm_cmsis_nn_total_arena_bytes},
// "best_order": {the same, saving_bytes, proven_optimal},
// "partial_execution": {applies, reason, peak_bytes, timeline_bytes,
// segments: [{ops, slices}]}}.
nlohmann::json AnalysisToJson(const ModelAnalysis& analysis);

// A readable report: the operator table, then both orders' figures and the
// partial-execution plan.
std::string FormatAnalysis(const ModelAnalysis& analysis);

// An SVG chart of the three timelines (live bytes per step): file order,
// best order and partial execution.
std::string AnalysisSvg(const ModelAnalysis& analysis);

}  // namespace unas
