#include "firmware/quantized_network.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "quant/fixed_point.h"
#include "quant/multipliers.h"

namespace unas::firmware {
namespace {

int OutputChannels(const Op& op) { return op.out.c; }

Status CheckQuant(const QuantParams& q, const std::string& where) {
  if (!(q.scale > 0.0f) || !std::isfinite(q.scale)) return Status::Invalid(where + ": scale must be positive");
  if (q.zero_point < -128 || q.zero_point > 127) return Status::Invalid(where + ": zero point outside int8");
  return Status::Ok();
}

}  // namespace

Status Validate(const QuantizedNetwork& q) {
  const Network& net = q.network;
  if (q.ops.size() != net.ops.size()) {
    return Status::Invalid("quantized network: " + std::to_string(q.ops.size()) + " ops for a network of " +
                           std::to_string(net.ops.size()));
  }
  UNAS_RETURN_IF_ERROR(CheckQuant(q.input, "input"));
  for (size_t i = 0; i < net.ops.size(); ++i) {
    const Op& op = net.ops[i];
    const QuantizedOp& qo = q.ops[i];
    const std::string where = "op " + std::to_string(i) + " (" + op.Describe() + ")";
    UNAS_RETURN_IF_ERROR(CheckQuant(qo.output, where + ".output"));
    const bool weighted = op.kind == OpKind::kConv2D || op.kind == OpKind::kDWConv2D || op.kind == OpKind::kDense;
    if (weighted) {
      if (static_cast<int64_t>(qo.weights.size()) != op.weight_count()) {
        return Status::Invalid(where + ".weights: " + std::to_string(qo.weights.size()) + " values, expected " +
                               std::to_string(op.weight_count()));
      }
      if (static_cast<int64_t>(qo.bias.size()) != op.bias_count()) {
        return Status::Invalid(where + ".bias: wrong size");
      }
      const size_t scales = op.kind == OpKind::kDense ? 1 : static_cast<size_t>(OutputChannels(op));
      if (qo.weight_scales.size() != scales) return Status::Invalid(where + ".weight_scales: wrong size");
      for (float s : qo.weight_scales) {
        if (!(s > 0.0f) || !std::isfinite(s)) return Status::Invalid(where + ".weight_scales: must be positive");
      }
    } else if (!qo.weights.empty() || !qo.bias.empty()) {
      return Status::Invalid(where + ": only conv, depthwise and dense ops have weights");
    }
    if (op.kind == OpKind::kMaxPool || op.kind == OpKind::kAvgPool) {
      const QuantParams& in = q.quant_of(op.inputs[0]);
      if (in.scale != qo.output.scale || in.zero_point != qo.output.zero_point) {
        return Status::Invalid(where + ".output: a pool keeps its input's quantisation");
      }
    }
    if (op.kind == OpKind::kAdd) {
      if (op.inputs.size() < 2 || qo.add_stages.size() != op.inputs.size() - 1) {
        return Status::Invalid(where + ".add_stages: expected one per term after the first");
      }
      for (const QuantParams& s : qo.add_stages) UNAS_RETURN_IF_ERROR(CheckQuant(s, where + ".add_stages"));
      if (qo.add_stages.back().scale != qo.output.scale || qo.add_stages.back().zero_point != qo.output.zero_point) {
        return Status::Invalid(where + ".add_stages: the last stage is the op's output");
      }
      for (size_t stage = 1; stage < op.inputs.size(); ++stage) {
        const QuantParams& in1 = stage == 1 ? q.quant_of(op.inputs[0]) : qo.add_stages[stage - 2];
        auto add =
            quant::AddQuantization(in1.scale, q.quant_of(op.inputs[stage]).scale, qo.add_stages[stage - 1].scale);
        if (!add.ok()) {
          return Status::Invalid(where + ".add_stages[" + std::to_string(stage - 1) + "]: " + add.status().message());
        }
      }
    }
  }
  return Status::Ok();
}

static Requant ToRequant(const quant::QuantizedMultiplier& m) { return Requant{m.multiplier, m.shift}; }

Requant OpRequant(const QuantizedNetwork& q, int op, int channel) {
  const Op& o = q.network.ops[op];
  const QuantizedOp& qo = q.ops[op];
  const float input_scale = q.quant_of(o.inputs[0]).scale;
  if (o.kind == OpKind::kDense) {
    return ToRequant(quant::FullyConnectedMultiplier(input_scale, qo.weight_scales[0], qo.output.scale));
  }
  return ToRequant(quant::ConvMultipliers(input_scale, {qo.weight_scales[channel]}, qo.output.scale)[0]);
}

AddStageRequant AddStage(const QuantizedNetwork& q, int op, int stage) {
  const Op& o = q.network.ops[op];
  const QuantizedOp& qo = q.ops[op];
  AddStageRequant a;
  a.input1 = stage == 1 ? q.quant_of(o.inputs[0]) : qo.add_stages[stage - 2];
  a.input2 = q.quant_of(o.inputs[stage]);
  a.output = qo.add_stages[stage - 1];
  // TFLite's ADD Prepare for int8; Validate has checked that it succeeds.
  const quant::AddMultipliers m = quant::AddQuantization(a.input1.scale, a.input2.scale, a.output.scale).value();
  a.r1 = ToRequant(m.input1);
  a.r2 = ToRequant(m.input2);
  a.out = ToRequant(m.output);
  return a;
}

void ActivationRange(const QuantizedNetwork& q, int op, int32_t* act_min, int32_t* act_max) {
  const Op& o = q.network.ops[op];
  *act_min = -128;
  *act_max = 127;
  const bool relu = o.has_relu && (o.kind == OpKind::kConv2D || o.kind == OpKind::kDWConv2D || o.kind == OpKind::kDense);
  if (relu) *act_min = std::max<int32_t>(-128, q.ops[op].output.zero_point);
}

}  // namespace unas::firmware
