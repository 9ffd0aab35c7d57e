#include "quant/kernels/kernel_util.h"

#include <cmath>
#include <limits>

namespace unas::quant::kernels {
namespace {

// An int8 non-constant tensor with per-tensor quantisation.
Status CheckActivation(const ModelGraph& g, size_t index, int id, const GraphTensor** t) {
  const GraphOp& op = g.ops[index];
  if (id < 0 || id >= static_cast<int>(g.tensors.size())) return OpError(index, op, "tensor id out of range");
  *t = &g.tensors[id];
  const GraphTensor& x = **t;
  if (x.type != TensorType::kInt8) return OpError(index, op, "tensor '" + x.name + "' is not int8");
  if (x.is_constant) return OpError(index, op, "tensor '" + x.name + "' is constant, expected an activation");
  if (x.quant.scale.size() != 1 || x.quant.zero_point.size() != 1 || !(x.quant.scale[0] > 0)) {
    return OpError(index, op, "tensor '" + x.name + "' needs one positive scale and one zero point");
  }
  if (x.quant.zero_point[0] < -128 || x.quant.zero_point[0] > 127) {
    return OpError(index, op, "tensor '" + x.name + "' zero point outside int8");
  }
  return Status::Ok();
}

// TFLite's CalculateActivationRangeQuantized for int8.
Status ActivationRange(Activation act, float scale, int32_t zp, int32_t* lo, int32_t* hi) {
  auto quant = [&](float f) { return zp + static_cast<int32_t>(std::round(f / scale)); };
  *lo = -128;
  *hi = 127;
  switch (act) {
    case Activation::kNone: break;
    case Activation::kRelu: *lo = std::max(*lo, quant(0.0f)); break;
    case Activation::kRelu6:
      *lo = std::max(*lo, quant(0.0f));
      *hi = std::min(*hi, quant(6.0f));
      break;
    case Activation::kReluN1To1:
      *lo = std::max(*lo, quant(-1.0f));
      *hi = std::min(*hi, quant(1.0f));
      break;
    default: return Status::Invalid("unknown fused activation");
  }
  return Status::Ok();
}

// TFLite's ComputePaddingWithOffset (top/left part) and output size.
int WindowOut(Padding p, int in, int filter, int stride, int dilation) {
  const int eff = (filter - 1) * dilation + 1;
  return p == Padding::kSame ? (in + stride - 1) / stride : (in - eff + stride) / stride;
}
int PadBefore(Padding p, int in, int filter, int stride, int dilation, int out) {
  if (p == Padding::kValid) return 0;
  const int eff = (filter - 1) * dilation + 1;
  const int total = std::max((out - 1) * stride + eff - in, 0);
  return total / 2;
}

}  // namespace

Status OpError(size_t index, const GraphOp& op, const std::string& what) {
  return Status::Invalid("operator " + std::to_string(index) + " (" + BuiltinName(op.builtin_code) + "): " + what);
}

Result<Dims4> ToDims4(const GraphTensor& t) {
  if (t.shape.size() > 4) return Status::Invalid("tensor '" + t.name + "' has more than 4 dimensions");
  Dims4 d;
  const size_t lead = 4 - t.shape.size();
  for (size_t i = 0; i < t.shape.size(); ++i) {
    if (t.shape[i] <= 0) return Status::Invalid("tensor '" + t.name + "' has an unknown or zero dimension");
    d.d[lead + i] = t.shape[i];
  }
  return d;
}

std::vector<int32_t> ReadInt32(const GraphTensor& t) {
  std::vector<int32_t> v(t.data.size() / 4);
  for (size_t i = 0; i < v.size(); ++i) {
    const uint32_t u = uint32_t{t.data[4 * i]} | uint32_t{t.data[4 * i + 1]} << 8 |
                       uint32_t{t.data[4 * i + 2]} << 16 | uint32_t{t.data[4 * i + 3]} << 24;
    v[i] = static_cast<int32_t>(u);
  }
  return v;
}

Result<std::vector<int64_t>> ReadIndexConstant(const GraphTensor& t) {
  if (!t.is_constant || t.data.empty()) return Status::Invalid("'" + t.name + "' is not a constant with data");
  std::vector<int64_t> v;
  if (t.type == TensorType::kInt32) {
    for (int32_t x : ReadInt32(t)) v.push_back(x);
  } else if (t.type == TensorType::kInt64) {
    for (size_t i = 0; i + 8 <= t.data.size(); i += 8) {
      uint64_t u = 0;
      for (int b = 7; b >= 0; --b) u = u << 8 | t.data[i + b];
      v.push_back(static_cast<int64_t>(u));
    }
  } else {
    return Status::Invalid("'" + t.name + "' must be int32 or int64");
  }
  if (static_cast<int64_t>(v.size()) != t.elements()) return Status::Invalid("'" + t.name + "' has the wrong data size");
  return v;
}

bool SameQuant(const GraphTensor& a, const GraphTensor& b) {
  return a.quant.scale.size() == 1 && b.quant.scale.size() == 1 && a.quant.scale[0] == b.quant.scale[0] &&
         a.quant.zero_point == b.quant.zero_point;
}

Status PrepareOutput(const ModelGraph& g, size_t index, OpParams* p, const GraphTensor** out) {
  const GraphOp& op = g.ops[index];
  p->code = op.builtin_code;
  if (op.outputs.size() != 1) return OpError(index, op, "expected one output");
  p->output = op.outputs[0];
  UNAS_RETURN_IF_ERROR(CheckActivation(g, index, p->output, out));
  UNAS_ASSIGN_OR_RETURN(p->out, ToDims4(**out));
  p->output_offset = static_cast<int32_t>((*out)->quant.zero_point[0]);
  return ActivationRange(op.activation, (*out)->quant.scale[0], p->output_offset, &p->act_min, &p->act_max);
}

Status PrepareInput(const ModelGraph& g, size_t index, size_t k, OpParams* p, const GraphTensor** t) {
  const GraphOp& op = g.ops[index];
  if (op.inputs.size() <= k || op.inputs[k] < 0) return OpError(index, op, "missing input " + std::to_string(k));
  UNAS_RETURN_IF_ERROR(CheckActivation(g, index, op.inputs[k], t));
  p->inputs.push_back(op.inputs[k]);
  return Status::Ok();
}

Result<OpParams> PrepareSameQuantInput(const ModelGraph& g, size_t index) {
  OpParams p;
  const GraphTensor *out = nullptr, *in = nullptr;
  UNAS_RETURN_IF_ERROR(PrepareOutput(g, index, &p, &out));
  UNAS_RETURN_IF_ERROR(PrepareInput(g, index, 0, &p, &in));
  UNAS_ASSIGN_OR_RETURN(p.in, ToDims4(*in));
  if (!SameQuant(*in, *out)) return OpError(index, g.ops[index], "input and output quantisation must be equal");
  return p;
}

Status PrepareWeightedOp(const ModelGraph& g, size_t index, OpParams* p, const GraphTensor** in,
                         const GraphTensor** out, const GraphTensor** filter) {
  UNAS_RETURN_IF_ERROR(PrepareOutput(g, index, p, out));
  UNAS_RETURN_IF_ERROR(PrepareInput(g, index, 0, p, in));
  UNAS_ASSIGN_OR_RETURN(p->in, ToDims4(**in));
  p->input_offset = static_cast<int32_t>(-(*in)->quant.zero_point[0]);
  return PrepareWeights(g, index, **in, p, filter);
}

Status PrepareWeights(const ModelGraph& g, size_t index, const GraphTensor& in, OpParams* p,
                      const GraphTensor** filter) {
  const GraphOp& op = g.ops[index];
  if (op.inputs.size() < 2 || op.inputs[1] < 0 || op.inputs[1] >= static_cast<int>(g.tensors.size())) {
    return OpError(index, op, "missing filter");
  }
  const GraphTensor& w = g.tensors[op.inputs[1]];
  *filter = &w;
  if (w.type != TensorType::kInt8 || !w.is_constant || static_cast<int64_t>(w.data.size()) != w.elements() ||
      w.data.empty()) {
    return OpError(index, op, "filter '" + w.name + "' must be an int8 constant with data");
  }
  p->filter.assign(w.data.begin(), w.data.end());
  const bool fc = op.builtin_code == builtin::kFullyConnected;
  const bool dw = op.builtin_code == builtin::kDepthwiseConv2D;
  if (w.shape.size() != (fc ? 2u : 4u)) return OpError(index, op, "filter has the wrong rank");
  const int channels = fc ? w.shape[0] : dw ? w.shape[3] : w.shape[0];
  const int out_channels = p->out.d[3];
  if (channels != out_channels) return OpError(index, op, "filter and output channel counts differ");
  const size_t scales = w.quant.scale.size();
  if (scales == 0 || w.quant.zero_point.size() != scales) return OpError(index, op, "filter is not quantised");
  if (fc && scales != 1) return OpError(index, op, "per-channel fully connected weights are not supported");
  if (scales != 1 && (static_cast<int>(scales) != channels || w.quant.axis != (dw ? 3 : 0))) {
    return OpError(index, op, "per-channel filter scales must run along the output channel axis");
  }
  for (int64_t zp : w.quant.zero_point) {
    if (!fc && zp != 0) return OpError(index, op, "convolution filters must have zero point 0");
  }
  p->filter_offset = fc ? static_cast<int32_t>(-w.quant.zero_point[0]) : 0;
  if (fc) {
    p->fc_inputs = w.shape[1];
    if (p->fc_inputs <= 0 || p->in.elements() % p->fc_inputs != 0) {
      return OpError(index, op, "input elements are not a multiple of the weights' inputs");
    }
    if (p->out.elements() != p->in.elements() / p->fc_inputs * channels) {
      return OpError(index, op, "output shape is not [batches, units]");
    }
  }
  if (op.inputs.size() >= 3 && op.inputs[2] >= 0) {
    if (op.inputs[2] >= static_cast<int>(g.tensors.size())) return OpError(index, op, "bias id out of range");
    const GraphTensor& b = g.tensors[op.inputs[2]];
    if (b.type != TensorType::kInt32 || !b.is_constant || b.elements() != channels ||
        static_cast<int64_t>(b.data.size()) != 4 * b.elements()) {
      return OpError(index, op, "bias '" + b.name + "' must be an int32 constant of one value per output channel");
    }
    p->bias = ReadInt32(b);
  }
  return Status::Ok();
}

Status PrepareWindow(const ModelGraph& g, size_t index, OpParams* p) {
  const GraphOp& op = g.ops[index];
  p->stride_h = op.stride_h;
  p->stride_w = op.stride_w;
  if (p->stride_h < 1 || p->stride_w < 1 || p->dilation_h < 1 || p->dilation_w < 1) {
    return OpError(index, op, "strides and dilations must be positive");
  }
  const int oh = WindowOut(op.padding, p->in.d[1], p->kh, p->stride_h, p->dilation_h);
  const int ow = WindowOut(op.padding, p->in.d[2], p->kw, p->stride_w, p->dilation_w);
  const bool pool = op.builtin_code == builtin::kMaxPool2D || op.builtin_code == builtin::kAveragePool2D;
  if (p->in.d[0] != 1 || p->out.d[0] != 1 || oh != p->out.d[1] || ow != p->out.d[2] ||
      (pool && p->in.d[3] != p->out.d[3])) {
    return OpError(index, op, "output shape disagrees with the operator's padding, filter and strides");
  }
  p->pad_top = PadBefore(op.padding, p->in.d[1], p->kh, p->stride_h, p->dilation_h, oh);
  p->pad_left = PadBefore(op.padding, p->in.d[2], p->kw, p->stride_w, p->dilation_w, ow);
  return Status::Ok();
}

Status PrepareConv(const ModelGraph& g, size_t index, OpParams* p, const GraphTensor** filter) {
  const GraphOp& op = g.ops[index];
  const GraphTensor *out = nullptr, *in = nullptr, *w = nullptr;
  UNAS_RETURN_IF_ERROR(PrepareWeightedOp(g, index, p, &in, &out, &w));
  if (filter != nullptr) *filter = w;
  p->multipliers = ConvMultipliers(in->quant.scale[0], w->quant.scale, out->quant.scale[0]);
  p->kh = w->shape[1];
  p->kw = w->shape[2];
  p->dilation_h = op.dilation_h;
  p->dilation_w = op.dilation_w;
  return PrepareWindow(g, index, p);
}

int8_t RequantizeChannel(const OpParams& p, int c, int32_t acc) {
  if (!p.bias.empty()) acc += p.bias[c];
  const QuantizedMultiplier& m = p.multipliers[p.multipliers.size() == 1 ? 0 : c];
  return Clamp(MultiplyByQuantizedMultiplier(acc, m) + p.output_offset, p);
}

ChannelRequant MakeChannelRequant(const OpParams& p, int channels) {
  const size_t padded = static_cast<size_t>(PaddedChannels(channels));
  ChannelRequant r;
  r.bias.assign(padded, 0);
  r.multiplier.assign(padded, 0);
  r.left_shift.assign(padded, 0);
  r.right_shift.assign(padded, 0);
  for (int c = 0; c < channels; ++c) {
    const QuantizedMultiplier& m = p.multipliers[p.multipliers.size() == 1 ? 0 : c];
    if (!p.bias.empty()) r.bias[c] = p.bias[c];
    r.multiplier[c] = m.multiplier;
    r.left_shift[c] = std::max(m.shift, 0);
    r.right_shift[c] = std::max(-m.shift, 0);
    if (m.multiplier == std::numeric_limits<int32_t>::min() || r.left_shift[c] > 31 || r.right_shift[c] > 31) {
      r.vectorizable = false;
    }
  }
  return r;
}

}  // namespace unas::quant::kernels
