#include "firmware/trial_library.h"

#include <cstdint>
#include <vector>

#include "costmodel/cost_model.h"
#include "costmodel/lowering.h"
#include "tflite/metadata.h"
#include "tflite/reader.h"

namespace unas::firmware {
namespace {

// True when file op k is lowered op order[k] for every k (same operator,
// same output tensor).
bool Matches(const ModelGraph& lowered, const ModelGraph& graph, const std::vector<int>& order) {
  if (order.size() != graph.ops.size() || lowered.ops.size() != graph.ops.size()) return false;
  for (size_t k = 0; k < order.size(); ++k) {
    const int b = order[k];
    if (b < 0 || b >= static_cast<int>(lowered.ops.size())) return false;
    if (graph.ops[k].builtin_code != lowered.ops[b].builtin_code || graph.ops[k].outputs != lowered.ops[b].outputs) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<ModelGraph> MatchLoweredNetwork(const Network& network, const ModelGraph& graph) {
  UNAS_ASSIGN_OR_RETURN(ModelGraph lowered, LowerNetwork(network));
  UNAS_ASSIGN_OR_RETURN(CostReport report, CostNetwork(network, Accounting::kTflm));
  std::vector<int> order = report.tflm_order;
  if (!Matches(lowered, graph, order)) {
    order.resize(lowered.ops.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    if (!Matches(lowered, graph, order)) {
      return Status::Invalid("the model's " + std::to_string(graph.ops.size()) +
                             " operators do not match the trial's network (" + std::to_string(lowered.ops.size()) +
                             " operators once lowered) in its planned or build order");
    }
  }
  ModelGraph out = graph;
  for (size_t k = 0; k < order.size(); ++k) {
    GraphOp op = graph.ops[k];
    op.source_op = lowered.ops[order[k]].source_op;
    out.ops[order[k]] = std::move(op);
  }
  return out;
}

Result<TrialLibrary> TrialLibraryFromTflite(const std::string& tflite, const Network& network,
                                            bool partial_execution) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(tflite.data());
  UNAS_ASSIGN_OR_RETURN(ModelGraph graph, ReadTflite(bytes, tflite.size()));
  UNAS_ASSIGN_OR_RETURN(ModelGraph matched, MatchLoweredNetwork(network, graph));
  TrialLibrary out;
  UNAS_ASSIGN_OR_RETURN(out.contract, ReadInputContract(bytes, tflite.size()));
  FirmwareOptions options;
  options.partial_execution = partial_execution;
  options.contract = out.contract;
  UNAS_ASSIGN_OR_RETURN(QuantizedNetwork q, FromModelGraph(network, matched));
  UNAS_ASSIGN_OR_RETURN(out.library, GenerateCLibrary(q, options));
  return out;
}

}  // namespace unas::firmware
