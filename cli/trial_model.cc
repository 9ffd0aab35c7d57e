#include "cli/trial_model.h"

#include <cstdint>
#include <vector>

#include "cli/write_file.h"
#include "costmodel/cost_model.h"
#include "costmodel/lowering.h"
#include "firmware/generator.h"
#include "tflite/metadata.h"
#include "tflite/reader.h"

namespace unas::cli {
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

Result<std::optional<data::InputContract>> WriteTrialModel(const std::string& dir, const std::string& tflite,
                                                           const Network& network, bool partial_execution) {
  const std::string path = dir + "/model.tflite";
  UNAS_RETURN_IF_ERROR(WriteFile(path, "model", tflite));
  auto graph = ReadTflite(reinterpret_cast<const uint8_t*>(tflite.data()), tflite.size());
  if (!graph.ok()) return graph.status().WithContext(path);
  auto matched = MatchLoweredNetwork(network, *graph);
  if (!matched.ok()) return matched.status().WithContext(path);
  firmware::FirmwareOptions options;
  options.partial_execution = partial_execution;
  auto contract = ReadInputContract(reinterpret_cast<const uint8_t*>(tflite.data()), tflite.size());
  if (!contract.ok()) return contract.status().WithContext(path);
  options.contract = *contract;
  UNAS_RETURN_IF_ERROR(firmware::WriteCLibrary(dir, network, *matched, options));
  return *contract;
}

}  // namespace unas::cli
