#include "quant/calibration.h"

#include <string>

namespace unas::quant {

Status CheckWeights(const Network& network, const ReferenceWeights& weights) {
  if (weights.weights.size() != network.ops.size() || weights.biases.size() != network.ops.size()) {
    return Status::Invalid("weights: expected one entry per network op (" + std::to_string(network.ops.size()) + ")");
  }
  for (size_t i = 0; i < network.ops.size(); ++i) {
    const Op& op = network.ops[i];
    if (static_cast<int64_t>(weights.weights[i].size()) != op.weight_count() ||
        static_cast<int64_t>(weights.biases[i].size()) != op.bias_count()) {
      return Status::Invalid("weights: op " + std::to_string(i) + " (" + op.Describe() + ") needs " +
                             std::to_string(op.weight_count()) + " weights and " + std::to_string(op.bias_count()) +
                             " biases");
    }
  }
  return Status::Ok();
}

Result<RangeCollector> RangeCollector::Create(const Network& network, const ModelGraph& graph,
                                              const ReferenceWeights& weights) {
  UNAS_RETURN_IF_ERROR(CheckWeights(network, weights));
  if (graph.tensors.empty() || graph.inputs != std::vector<int>{0}) {
    return Status::Invalid("calibration: the graph's input must be tensor 0 (a graph from LowerNetwork)");
  }
  const int ops = static_cast<int>(network.ops.size());
  RangeCollector c;
  c.network_ = &network;
  c.weights_ = &weights;
  c.ranges_.assign(graph.tensors.size(), TensorRange{});
  c.sources_.push_back({0, -1, -1});
  std::vector<int> adds_seen(network.ops.size(), 0);
  for (size_t g = 0; g < graph.ops.size(); ++g) {
    const GraphOp& op = graph.ops[g];
    const int i = op.source_op;
    const bool computes = op.builtin_code == builtin::kConv2D || op.builtin_code == builtin::kDepthwiseConv2D ||
                          op.builtin_code == builtin::kFullyConnected || op.builtin_code == builtin::kAdd;
    if (!computes) continue;
    if (i < 0 || i >= ops || op.outputs.size() != 1) {
      return Status::Invalid("calibration: graph operator " + std::to_string(g) + " names no Network op");
    }
    const OpKind kind = network.ops[i].kind;
    if (op.builtin_code == builtin::kAdd) {
      const int k = adds_seen[i]++;
      if (kind != OpKind::kAdd || k + 2 > static_cast<int>(network.ops[i].inputs.size())) {
        return Status::Invalid("calibration: ADD " + std::to_string(g) + " does not match Network op " +
                               std::to_string(i));
      }
      c.sources_.push_back({op.outputs[0], i, k});
      continue;
    }
    const bool matches = (op.builtin_code == builtin::kConv2D && kind == OpKind::kConv2D) ||
                         (op.builtin_code == builtin::kDepthwiseConv2D && kind == OpKind::kDWConv2D) ||
                         (op.builtin_code == builtin::kFullyConnected && kind == OpKind::kDense);
    if (!matches) {
      return Status::Invalid("calibration: graph operator " + std::to_string(g) + " does not match Network op " +
                             std::to_string(i));
    }
    c.sources_.push_back({op.outputs[0], i, -1});
  }
  for (const Source& s : c.sources_) {
    if (s.tensor < 0 || s.tensor >= static_cast<int>(graph.tensors.size())) {
      return Status::Invalid("calibration: tensor id out of range");
    }
    const int64_t want = s.op < 0 ? network.input_shape().elements() : network.ops[s.op].out.elements();
    if (graph.tensors[s.tensor].elements() != want) {
      return Status::Invalid("calibration: tensor '" + graph.tensors[s.tensor].name + "' has the wrong size");
    }
  }
  return c;
}

Status RangeCollector::Add(const std::vector<float>& image) {
  RunTrace trace;
  auto run = RunWhole(*network_, *weights_, image, &trace);
  if (!run.ok()) return run.status();
  for (const Source& s : sources_) {
    const std::vector<float>& values = s.op < 0 ? image
                                       : s.partial < 0 ? trace.outputs[s.op]
                                                       : trace.add_partial_sums[s.op][s.partial];
    TensorRange& r = ranges_[s.tensor];
    for (float v : values) r.Add(v);
  }
  ++images_;
  return Status::Ok();
}

Result<std::vector<TensorRange>> CalibrateRanges(const Network& network, const ModelGraph& graph,
                                                 const ReferenceWeights& weights,
                                                 const std::vector<std::vector<float>>& images) {
  UNAS_ASSIGN_OR_RETURN(RangeCollector collector, RangeCollector::Create(network, graph, weights));
  for (const std::vector<float>& image : images) UNAS_RETURN_IF_ERROR(collector.Add(image));
  return collector.ranges();
}

}  // namespace unas::quant
