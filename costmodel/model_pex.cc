#include "costmodel/model_pex.h"

#include <algorithm>
#include <optional>
#include <string>

#include "costmodel/network.h"
#include "costmodel/partial_execution.h"
#include "costmodel/text_format.h"

namespace unas {
namespace {

// NHWC with batch 1, or a flat [1, N] / [N] vector as {1, 1, N}.
std::optional<Shape> ShapeOf(const GraphTensor& t) {
  const std::vector<int>& s = t.shape;
  for (int d : s) {
    if (d <= 0) return std::nullopt;
  }
  if (s.size() == 4 && s[0] == 1) return Shape{s[1], s[2], s[3]};
  if (s.size() == 2 && s[0] == 1) return Shape{1, 1, s[1]};
  if (s.size() == 1) return Shape{1, 1, s[0]};
  return std::nullopt;
}

bool EightBit(const GraphTensor& t) { return t.type == TensorType::kInt8 || t.type == TensorType::kUInt8; }

// Maps graph op `x` onto a Network op, its activation inputs given by
// `op_of` (tensor -> network op index, kNetworkInput for the graph input,
// -2 otherwise). Returns the reason when it does not map.
std::optional<std::string> MapOp(const ModelGraph& g, int x, const std::vector<int>& op_of, Op* out) {
  const GraphOp& op = g.ops[x];
  const std::string name = BuiltinName(op.builtin_code);
  std::vector<int> acts;
  for (int t : op.inputs) {
    if (t < 0 || g.tensors[t].is_constant) continue;
    if (op_of[t] == -2) return name + " reads a tensor from outside the mapped operators";
    acts.push_back(t);
  }
  if (op.outputs.size() != 1 || acts.empty()) return name + " does not have one output and an input";
  const GraphTensor& y = g.tensors[op.outputs[0]];
  const GraphTensor& in = g.tensors[acts[0]];
  const auto out_shape = ShapeOf(y), in_shape = ShapeOf(in);
  if (!out_shape || !in_shape) return name + " has a shape other than [1,H,W,C] or [1,N]";
  if (!EightBit(y) || !EightBit(in)) return name + " has activations of more than 8 bits";
  out->inputs.clear();
  for (int t : acts) out->inputs.push_back(op_of[t]);
  out->in = *in_shape;
  out->out = *out_shape;
  auto filter = [&]() -> const GraphTensor* {
    return op.inputs.size() > 1 && op.inputs[1] >= 0 ? &g.tensors[op.inputs[1]] : nullptr;
  };
  switch (op.builtin_code) {
    case builtin::kConv2D:
    case builtin::kDepthwiseConv2D: {
      const GraphTensor* f = filter();
      if (acts.size() != 1 || !f || f->shape.size() != 4 || f->shape[1] != f->shape[2]) {
        return name + " without a square 4-D filter";
      }
      if (op.dilation_h != 1 || op.dilation_w != 1 || op.stride_h != op.stride_w) {
        return name + " with dilation or unequal strides";
      }
      const bool dw = op.builtin_code == builtin::kDepthwiseConv2D;
      if (dw && out_shape->c != in_shape->c) return name + " with a channel multiplier";
      out->kind = dw ? OpKind::kDWConv2D : OpKind::kConv2D;
      out->kernel = f->shape[1];
      out->stride = op.stride_h;
      return std::nullopt;
    }
    case builtin::kMaxPool2D:
    case builtin::kAveragePool2D:
      if (acts.size() != 1) return name + " with more than one input";
      out->kind = op.builtin_code == builtin::kMaxPool2D ? OpKind::kMaxPool : OpKind::kAvgPool;
      out->pool_h = op.filter_h;
      out->pool_w = op.filter_w;
      return std::nullopt;
    case builtin::kAdd:
      if (acts.size() != 2) return name + " without two activation inputs";
      for (int t : acts) {
        if (ShapeOf(g.tensors[t]) != out_shape) return name + " with broadcasting";
      }
      out->kind = OpKind::kAdd;
      return std::nullopt;
    case builtin::kFullyConnected:
      if (acts.size() != 1 || out_shape->h != 1 || out_shape->w != 1) return name + " with a batch or kept dims";
      out->kind = OpKind::kDense;
      return std::nullopt;
    default:
      return name + " is not one of the operators Pex slices here (CONV_2D, DEPTHWISE_CONV_2D, pooling, ADD, "
                    "FULLY_CONNECTED)";
  }
}

}  // namespace

PexAnalysis PlanModelPex(const ModelGraph& g, const std::vector<int64_t>& file_timeline, int64_t file_peak_bytes) {
  PexAnalysis pex;
  pex.peak_bytes = file_peak_bytes;
  pex.timeline_bytes = file_timeline;
  const int n = static_cast<int>(g.ops.size());
  if (g.inputs.size() != 1) {
    pex.reason = "partial execution is planned for models with one graph input; this one has " +
                 std::to_string(g.inputs.size());
    return pex;
  }
  const int input = g.inputs[0];
  const auto input_shape = ShapeOf(g.tensors[input]);
  if (!input_shape || !EightBit(g.tensors[input])) {
    pex.reason = "the graph input is not an 8-bit [1,H,W,C] or [1,N] tensor";
    return pex;
  }
  // The longest prefix that maps, then shrunk until only its last output is
  // read after it (and nothing in it is a graph output but that one).
  std::vector<int> op_of(g.tensors.size(), -2);
  op_of[input] = kNetworkInput;
  Network net;
  net.input = InputSpec{input_shape->h, input_shape->w, input_shape->c, 2};
  std::string stop = "every operator maps";
  for (int x = 0; x < n; ++x) {
    Op op;
    if (auto why = MapOp(g, x, op_of, &op)) {
      stop = "operator " + std::to_string(x) + ": " + *why;
      break;
    }
    op_of[g.ops[x].outputs[0]] = x;
    net.ops.push_back(op);
  }
  auto closed = [&](int k) {
    for (int x = k; x < n; ++x) {
      for (int t : g.ops[x].inputs) {
        if (t < 0) continue;
        if (t == input || (op_of[t] >= 0 && op_of[t] < k - 1)) return false;
      }
    }
    for (int t : g.outputs) {
      if (t == input || (op_of[t] >= 0 && op_of[t] < k - 1)) return false;
    }
    return true;
  };
  int k = static_cast<int>(net.ops.size());
  while (k >= 2 && !closed(k)) --k;
  if (k < 2) {
    pex.reason = "no chain of at least two operators Pex can slice starts at the graph input (" + stop + ")";
    return pex;
  }
  net.ops.resize(k);
  auto plan = PlanPartialExecution(net, Accounting::kFirmware);
  if (!plan.ok()) {
    pex.reason = "planning failed: " + plan.status().message();
    return pex;
  }
  if (plan->segments.empty()) {
    pex.reason = "no segment of operators 0.." + std::to_string(k - 1) +
                 " lowers the peak: every operator runs whole (" + stop + ")";
    return pex;
  }
  pex.applies = true;
  pex.timeline_bytes = plan->timeline;
  pex.peak_bytes = plan->peak_bytes;
  for (int x = k; x < n; ++x) {
    pex.timeline_bytes.push_back(file_timeline[x]);
    pex.peak_bytes = std::max(pex.peak_bytes, file_timeline[x]);
  }
  for (const PexSegment& s : plan->segments) pex.segments.push_back({s.ops, s.slices()});
  pex.reason = std::to_string(plan->segments.size()) + " segment(s) among operators 0.." + std::to_string(k - 1) +
               " (firmware accounting: unas's runtime)";
  if (k < n) {
    pex.reason += "; operators " + std::to_string(k) + ".." + std::to_string(n - 1) + " run whole after them";
  }
  pex.reason += "; peak " + WithThousands(pex.peak_bytes) + " bytes against " + WithThousands(file_peak_bytes) +
                " in file order";
  return pex;
}

}  // namespace unas
