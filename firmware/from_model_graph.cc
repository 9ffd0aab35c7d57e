// FromModelGraph: the quantised Network-level view of a quantised graph
// lowered from that Network (costmodel/lowering.h's contract).
#include <cstring>
#include <string>

#include "costmodel/lowering.h"
#include "firmware/quantized_network.h"

namespace unas::firmware {
namespace {

std::string Where(int op, const Op& o) { return "op " + std::to_string(op) + " (" + o.Describe() + ")"; }

Result<QuantParams> TensorQuant(const GraphTensor& t, const std::string& where) {
  if (t.type != TensorType::kInt8) return Status::Invalid(where + ": tensor '" + t.name + "' is not int8");
  if (t.quant.scale.size() != 1 || t.quant.zero_point.size() != 1) {
    return Status::Invalid(where + ": tensor '" + t.name + "' is not quantised per tensor");
  }
  return QuantParams{t.quant.scale[0], static_cast<int32_t>(t.quant.zero_point[0])};
}

bool SameQuant(const QuantParams& a, const QuantParams& b) {
  return a.scale == b.scale && a.zero_point == b.zero_point;
}

// Weights, bias and weight scales of a CONV_2D, DEPTHWISE_CONV_2D or
// FULLY_CONNECTED implementing `o`.
Status ExtractWeights(const ModelGraph& graph, const GraphOp& g, const Op& o, const std::string& where,
                      QuantizedOp* qo) {
  if (g.inputs.size() != 3 || g.inputs[1] < 0 || g.inputs[2] < 0) {
    return Status::Invalid(where + ": expected input, weights and bias");
  }
  const GraphTensor& w = graph.tensors[g.inputs[1]];
  const GraphTensor& b = graph.tensors[g.inputs[2]];
  if (w.type != TensorType::kInt8 || static_cast<int64_t>(w.data.size()) != o.weight_count()) {
    return Status::Invalid(where + ": weights '" + w.name + "' need " + std::to_string(o.weight_count()) +
                           " int8 values (data missing or wrong shape)");
  }
  if (b.type != TensorType::kInt32 || static_cast<int64_t>(b.data.size()) != 4 * o.bias_count()) {
    return Status::Invalid(where + ": bias '" + b.name + "' needs " + std::to_string(o.bias_count()) +
                           " int32 values");
  }
  qo->weights.assign(w.data.begin(), w.data.end());
  qo->bias.resize(o.bias_count());
  for (size_t i = 0; i < qo->bias.size(); ++i) {
    const uint8_t* p = b.data.data() + 4 * i;  // little-endian, as in a TFLite buffer
    qo->bias[i] = static_cast<int32_t>(uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 |
                                       uint32_t{p[3]} << 24);
  }
  for (int64_t zp : w.quant.zero_point) {
    if (zp != 0) return Status::Invalid(where + ": weights must be symmetric (zero point 0)");
  }
  const size_t channels = o.kind == OpKind::kDense ? 1 : static_cast<size_t>(o.out.c);
  if (w.quant.scale.size() == 1) {
    qo->weight_scales.assign(channels, w.quant.scale[0]);
  } else if (w.quant.scale.size() == channels && o.kind != OpKind::kDense) {
    qo->weight_scales = w.quant.scale;
  } else {
    return Status::Invalid(where + ": weights '" + w.name + "' have " + std::to_string(w.quant.scale.size()) +
                           " scales");
  }
  const bool relu = g.activation == Activation::kRelu;
  if (relu != o.has_relu || (g.activation != Activation::kNone && !relu)) {
    return Status::Invalid(where + ": fused activation does not match the network's ReLU");
  }
  if (o.kind != OpKind::kDense &&
      (g.padding != Padding::kValid || g.stride_h != o.stride || g.stride_w != o.stride)) {
    return Status::Invalid(where + ": expected VALID padding and stride " + std::to_string(o.stride));
  }
  return Status::Ok();
}

}  // namespace

Result<QuantizedNetwork> FromModelGraph(const Network& network, const ModelGraph& graph) {
  const int n = static_cast<int>(network.ops.size());
  if (graph.inputs.size() != 1 || graph.outputs.size() != 1) {
    return Status::Invalid("graph: expected one input and one output");
  }
  for (const GraphOp& g : graph.ops) {
    for (int t : g.inputs) {
      if (t >= static_cast<int>(graph.tensors.size())) return Status::Invalid("graph: tensor id out of range");
    }
    if (g.outputs.size() != 1 || g.outputs[0] < 0 || g.outputs[0] >= static_cast<int>(graph.tensors.size())) {
      return Status::Invalid("graph: every operator must write one tensor");
    }
    if (g.source_op < 0 || g.source_op >= n) {
      return Status::Invalid("graph: operator " + BuiltinName(g.builtin_code) + " names no op of the network");
    }
  }
  const std::vector<int> out_tensor = OutputTensors(graph, n);
  QuantizedNetwork q;
  q.network = network;
  q.ops.resize(n);
  UNAS_ASSIGN_OR_RETURN(q.input, TensorQuant(graph.tensors[graph.inputs[0]], "graph input"));
  if (graph.tensors[graph.inputs[0]].elements() != network.input_shape().elements()) {
    return Status::Invalid("graph input: shape does not match the network's input");
  }
  std::vector<std::vector<const GraphOp*>> by_op(n);
  for (const GraphOp& g : graph.ops) by_op[g.source_op].push_back(&g);
  auto tensor_of = [&](int producer) { return producer == kNetworkInput ? graph.inputs[0] : out_tensor[producer]; };
  for (int i = 0; i < n; ++i) {
    const Op& o = network.ops[i];
    const std::string where = Where(i, o);
    if (by_op[i].empty()) return Status::Invalid(where + ": no graph operator implements it");
    QuantizedOp& qo = q.ops[i];
    const GraphTensor& out = graph.tensors[out_tensor[i]];
    if (out.elements() != o.out.elements()) return Status::Invalid(where + ": output shape does not match");
    UNAS_ASSIGN_OR_RETURN(qo.output, TensorQuant(out, where + " output"));
    const int expected_code = o.kind == OpKind::kConv2D     ? builtin::kConv2D
                              : o.kind == OpKind::kDWConv2D ? builtin::kDepthwiseConv2D
                              : o.kind == OpKind::kDense    ? builtin::kFullyConnected
                              : o.kind == OpKind::kMaxPool  ? builtin::kMaxPool2D
                              : o.kind == OpKind::kAvgPool  ? builtin::kAveragePool2D
                                                            : builtin::kAdd;
    std::vector<const GraphOp*> main_ops;
    for (const GraphOp* g : by_op[i]) {
      if (g->builtin_code == expected_code) main_ops.push_back(g);
    }
    if (main_ops.empty()) return Status::Invalid(where + ": no " + BuiltinName(expected_code) + " implements it");
    switch (o.kind) {
      case OpKind::kConv2D:
      case OpKind::kDWConv2D:
      case OpKind::kDense: {
        if (main_ops.size() != 1 || by_op[i].size() != 1) return Status::Invalid(where + ": expected one operator");
        const GraphOp& g = *main_ops[0];
        if (g.inputs.empty() || g.inputs[0] != tensor_of(o.inputs[0])) {
          return Status::Invalid(where + ": reads a tensor other than its network input");
        }
        UNAS_RETURN_IF_ERROR(ExtractWeights(graph, g, o, where, &qo));
        break;
      }
      case OpKind::kMaxPool:
      case OpKind::kAvgPool: {
        UNAS_ASSIGN_OR_RETURN(QuantParams in, TensorQuant(graph.tensors[tensor_of(o.inputs[0])], where + " input"));
        for (const GraphOp* g : by_op[i]) {
          UNAS_ASSIGN_OR_RETURN(QuantParams piece, TensorQuant(graph.tensors[g->outputs[0]], where + " piece"));
          if (!SameQuant(piece, in) || g->activation != Activation::kNone) {
            return Status::Invalid(where + ": every piece must keep the input's quantisation, no activation");
          }
        }
        break;
      }
      case OpKind::kAdd: {
        if (main_ops.size() != o.inputs.size() - 1) {
          return Status::Invalid(where + ": expected " + std::to_string(o.inputs.size() - 1) + " chained ADDs");
        }
        for (const GraphOp* g : by_op[i]) {
          if (g->activation != Activation::kNone) return Status::Invalid(where + ": ADD with an activation");
          if (g->builtin_code == builtin::kPad) {
            // The padded value is the PAD's output zero point: the term's own.
            UNAS_ASSIGN_OR_RETURN(QuantParams a, TensorQuant(graph.tensors[g->inputs[0]], where + " pad input"));
            UNAS_ASSIGN_OR_RETURN(QuantParams b, TensorQuant(graph.tensors[g->outputs[0]], where + " pad output"));
            if (!SameQuant(a, b)) return Status::Invalid(where + ": PAD changes the quantisation");
          } else if (g->builtin_code != builtin::kAdd) {
            return Status::Invalid(where + ": unexpected " + BuiltinName(g->builtin_code));
          }
        }
        for (const GraphOp* g : main_ops) {
          UNAS_ASSIGN_OR_RETURN(QuantParams s, TensorQuant(graph.tensors[g->outputs[0]], where + " stage"));
          qo.add_stages.push_back(s);
        }
        break;
      }
    }
  }
  if (graph.outputs[0] != out_tensor[n - 1]) return Status::Invalid("graph output: not the last op's output");
  UNAS_RETURN_IF_ERROR(Validate(q));
  return q;
}

}  // namespace unas::firmware
