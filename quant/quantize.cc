#include "quant/quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "costmodel/lowering.h"
#include "quant/kernels/arithmetic.h"

namespace unas::quant {
namespace {

int8_t QuantizeWeight(float w, float scale) {
  const float q = std::round(w / scale);
  return static_cast<int8_t>(std::clamp(q, -127.0f, 127.0f));
}

int32_t QuantizeBias(float b, double scale) {
  const double q = std::round(static_cast<double>(b) / scale);
  const double lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
  return static_cast<int32_t>(std::clamp(q, lo, hi));
}

// Fills filter and bias of a conv, depthwise or dense graph op from the
// Network op's float weights (ReferenceWeights layout), given the input scale.
void FillParameters(const Op& op, const std::vector<float>& w, const std::vector<float>& b, float input_scale,
                    GraphTensor* filter, GraphTensor* bias) {
  const int k = op.kernel, cin = op.in.c, cout = op.out.c;
  // The float weight of (output channel o, element e of that channel in
  // TFLite's order), and the channel count / elements per channel.
  const bool dense = op.kind == OpKind::kDense, depthwise = op.kind == OpKind::kDWConv2D;
  const int64_t per_channel = dense ? op.in.elements() : depthwise ? int64_t{k} * k : int64_t{k} * k * cin;
  auto weight = [&](int o, int64_t e) -> float {
    if (dense) return w[e * cout + o];                    // [i][o]
    if (depthwise) return w[e * cin + o];                 // [ky][kx][c], e = ky*k + kx
    return w[e * cout + o];                               // [ky][kx][ci][co], e = (ky*k + kx)*cin + ci
  };
  std::vector<float> scales(dense ? 1 : cout);
  for (int o = 0; o < cout; ++o) {
    float max_abs = 0;
    for (int64_t e = 0; e < per_channel; ++e) max_abs = std::max(max_abs, std::fabs(weight(o, e)));
    float& s = scales[dense ? 0 : o];
    s = std::max(s, max_abs);
  }
  for (float& s : scales) s = s > 0 ? s / 127.0f : 1.0f;
  filter->data.assign(static_cast<size_t>(per_channel) * cout, 0);
  for (int o = 0; o < cout; ++o) {
    const float s = scales[dense ? 0 : o];
    for (int64_t e = 0; e < per_channel; ++e) {
      // TFLite order: dense [o][i]; conv [o][ky][kx][ci] (same e); depthwise [1][ky][kx][c].
      const int64_t at = depthwise ? e * cout + o : int64_t{o} * per_channel + e;
      filter->data[at] = static_cast<uint8_t>(QuantizeWeight(weight(o, e), s));
    }
  }
  filter->quant.scale = scales;
  filter->quant.zero_point.assign(scales.size(), 0);
  filter->quant.axis = depthwise ? 3 : 0;
  std::vector<int32_t> q(cout);
  bias->quant.scale.clear();
  for (int o = 0; o < cout; ++o) {
    const double s = static_cast<double>(input_scale) * scales[dense ? 0 : o];
    q[o] = QuantizeBias(b[o], s);
    if (!dense || o == 0) bias->quant.scale.push_back(static_cast<float>(s));
  }
  bias->quant.zero_point.assign(bias->quant.scale.size(), 0);
  bias->quant.axis = 0;
  bias->data = Int32LeBytes(q);
}

}  // namespace

Quantization ActivationQuantization(const TensorRange& range) {
  float lo = std::min(range.min, 0.0f), hi = std::max(range.max, 0.0f);
  if (!(hi > lo)) {
    lo = 0;
    hi = 1;
  }
  const float scale = (hi - lo) / 255.0f;
  const double zp = std::round(-128.0 - static_cast<double>(lo) / scale);
  Quantization q;
  q.scale = {scale};
  q.zero_point = {static_cast<int64_t>(std::clamp(zp, -128.0, 127.0))};
  return q;
}

Result<ModelGraph> QuantizeNetwork(const Network& network, const ReferenceWeights& folded_weights,
                                   const std::vector<TensorRange>& ranges) {
  UNAS_RETURN_IF_ERROR(CheckWeights(network, folded_weights));
  UNAS_ASSIGN_OR_RETURN(ModelGraph g, LowerNetwork(network));
  if (ranges.size() != g.tensors.size()) {
    return Status::Invalid("quantise: " + std::to_string(ranges.size()) + " ranges for a graph of " +
                           std::to_string(g.tensors.size()) + " tensors");
  }
  auto own_range = [&](int t) -> Status {
    if (!ranges[t].seen) return Status::Invalid("quantise: tensor '" + g.tensors[t].name + "' has no calibrated range");
    g.tensors[t].quant = ActivationQuantization(ranges[t]);
    return Status::Ok();
  };
  UNAS_RETURN_IF_ERROR(own_range(g.inputs[0]));
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const GraphOp& op = g.ops[i];
    const int out = op.outputs[0];
    switch (op.builtin_code) {
      case builtin::kConv2D:
      case builtin::kDepthwiseConv2D:
      case builtin::kFullyConnected: {
        UNAS_RETURN_IF_ERROR(own_range(out));
        const int s = op.source_op;
        FillParameters(network.ops[s], folded_weights.weights[s], folded_weights.biases[s],
                       g.tensors[op.inputs[0]].quant.scale[0], &g.tensors[op.inputs[1]], &g.tensors[op.inputs[2]]);
        break;
      }
      case builtin::kAdd: UNAS_RETURN_IF_ERROR(own_range(out)); break;
      case builtin::kMaxPool2D:
      case builtin::kAveragePool2D:
      case builtin::kPad:
      case builtin::kStridedSlice:
      case builtin::kConcatenation: {
        // Concatenation's pieces all come from one pool of one input: equal already.
        g.tensors[out].quant = g.tensors[op.inputs[0]].quant;
        break;
      }
      default:
        return Status::Invalid("quantise: graph operator " + std::to_string(i) + " (" + BuiltinName(op.builtin_code) +
                               ") is not one the lowering emits");
    }
  }
  g.description = "unas int8";
  return g;
}

Result<ModelGraph> QuantizeWithImages(const Network& network, const ReferenceWeights& folded_weights,
                                      const std::vector<std::vector<float>>& images) {
  if (images.empty()) return Status::Invalid("quantise: no calibration images");
  UNAS_RETURN_IF_ERROR(CheckWeights(network, folded_weights));
  UNAS_ASSIGN_OR_RETURN(ModelGraph lowered, LowerNetwork(network));
  UNAS_ASSIGN_OR_RETURN(std::vector<TensorRange> ranges, CalibrateRanges(network, lowered, folded_weights, images));
  return QuantizeNetwork(network, folded_weights, ranges);
}

void QuantizeInputs(const ModelGraph& graph, const float* values, int64_t count, int8_t* out) {
  const Quantization& q = graph.tensors[graph.inputs[0]].quant;
  kernels::QuantizeFloats(values, count, q.scale[0], q.zero_point[0], out, kernels::CpuHasAvx2());
}

std::vector<int8_t> QuantizeInput(const ModelGraph& graph, const std::vector<float>& image) {
  std::vector<int8_t> out(image.size());
  QuantizeInputs(graph, image.data(), static_cast<int64_t>(image.size()), out.data());
  return out;
}

std::vector<float> DequantizeOutput(const ModelGraph& graph, const std::vector<int8_t>& output) {
  const Quantization& q = graph.tensors[graph.outputs[0]].quant;
  std::vector<float> out(output.size());
  for (size_t i = 0; i < output.size(); ++i) out[i] = q.scale[0] * static_cast<float>(output[i] - q.zero_point[0]);
  return out;
}

int ArgMax(const std::vector<int8_t>& values) { return ArgMax(values.data(), static_cast<int64_t>(values.size())); }
int ArgMax(const int8_t* values, int64_t count) {
  return static_cast<int>(std::max_element(values, values + count) - values);
}
int ArgMax(const std::vector<float>& values) {
  return static_cast<int>(std::max_element(values.begin(), values.end()) - values.begin());
}

}  // namespace unas::quant
