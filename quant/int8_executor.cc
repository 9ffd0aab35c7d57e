#include "quant/int8_executor.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "quant/fixed_point.h"
#include "quant/multipliers.h"

namespace unas::quant {
namespace {

// A shape extended to 4 dimensions by leading 1s (activations are at most 4-D).
struct Dims4 {
  int d[4] = {1, 1, 1, 1};
  int64_t elements() const { return int64_t{d[0]} * d[1] * d[2] * d[3]; }
  int64_t index(int a, int b, int c, int e) const {
    return ((static_cast<int64_t>(a) * d[1] + b) * d[2] + c) * d[3] + e;
  }
};

struct OpParams {
  int code = 0;
  std::vector<int> inputs;  // activation tensor ids only (constants are folded in here)
  int output = -1;
  Dims4 in, out;
  // Convolutions and fully connected.
  std::vector<int8_t> filter;
  std::vector<int32_t> bias;  // empty: no bias
  std::vector<QuantizedMultiplier> multipliers;  // per output channel (or one)
  int32_t input_offset = 0, filter_offset = 0, output_offset = 0;
  int32_t act_min = -128, act_max = 127;
  int kh = 1, kw = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0, depth_multiplier = 1;
  int64_t fc_inputs = 0;
  // Add.
  int32_t input2_offset = 0;
  QuantizedMultiplier in1_multiplier, in2_multiplier;
  // Pad (before, per dim), strided slice (begin, stride per dim).
  int before[4] = {0, 0, 0, 0};
  int stride[4] = {1, 1, 1, 1};
  // Concatenation.
  int axis = 0;
  std::vector<Dims4> in_shapes;
};

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

// Values of an int32 or int64 constant (paddings, slice bounds).
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
int PoolOrConvOut(Padding p, int in, int filter, int stride, int dilation) {
  const int eff = (filter - 1) * dilation + 1;
  return p == Padding::kSame ? (in + stride - 1) / stride : (in - eff + stride) / stride;
}
int PadBefore(Padding p, int in, int filter, int stride, int dilation, int out) {
  if (p == Padding::kValid) return 0;
  const int eff = (filter - 1) * dilation + 1;
  const int total = std::max((out - 1) * stride + eff - in, 0);
  return total / 2;
}

class Preparer {
 public:
  explicit Preparer(const ModelGraph& g) : g_(g) {}

  Result<OpParams> Prepare(size_t index) {
    const GraphOp& op = g_.ops[index];
    OpParams p;
    p.code = op.builtin_code;
    if (op.outputs.size() != 1) return OpError(index, op, "expected one output");
    p.output = op.outputs[0];
    const GraphTensor* out = nullptr;
    UNAS_RETURN_IF_ERROR(CheckActivation(index, op, p.output, &out));
    UNAS_ASSIGN_OR_RETURN(p.out, ToDims4(*out));
    p.output_offset = static_cast<int32_t>(out->quant.zero_point[0]);
    UNAS_RETURN_IF_ERROR(ActivationRange(op.activation, out->quant.scale[0], p.output_offset, &p.act_min, &p.act_max));
    auto input_at = [&](size_t k, const GraphTensor** t) -> Status {
      if (op.inputs.size() <= k || op.inputs[k] < 0) return OpError(index, op, "missing input " + std::to_string(k));
      UNAS_RETURN_IF_ERROR(CheckActivation(index, op, op.inputs[k], t));
      p.inputs.push_back(op.inputs[k]);
      return Status::Ok();
    };
    const GraphTensor* in = nullptr;
    switch (op.builtin_code) {
      case builtin::kConv2D:
      case builtin::kDepthwiseConv2D:
      case builtin::kFullyConnected: {
        UNAS_RETURN_IF_ERROR(input_at(0, &in));
        UNAS_ASSIGN_OR_RETURN(p.in, ToDims4(*in));
        p.input_offset = static_cast<int32_t>(-in->quant.zero_point[0]);
        UNAS_RETURN_IF_ERROR(Weights(index, op, *in, *out, &p));
        if (op.builtin_code == builtin::kFullyConnected) return p;
        UNAS_RETURN_IF_ERROR(ConvGeometry(index, op, &p));
        return p;
      }
      case builtin::kMaxPool2D:
      case builtin::kAveragePool2D: {
        UNAS_RETURN_IF_ERROR(input_at(0, &in));
        if (!SameQuant(*in, *out)) return OpError(index, op, "input and output quantisation must be equal");
        UNAS_ASSIGN_OR_RETURN(p.in, ToDims4(*in));
        p.kh = op.filter_h;
        p.kw = op.filter_w;
        if (p.kh < 1 || p.kw < 1) return OpError(index, op, "filter size must be positive");
        UNAS_RETURN_IF_ERROR(ConvGeometry(index, op, &p));
        return p;
      }
      case builtin::kAdd: {
        const GraphTensor* in2 = nullptr;
        UNAS_RETURN_IF_ERROR(input_at(0, &in));
        UNAS_RETURN_IF_ERROR(input_at(1, &in2));
        if (in->shape != out->shape || in2->shape != out->shape) {
          return OpError(index, op, "inputs must have the output's shape (no broadcasting)");
        }
        p.in = p.out;
        p.input_offset = static_cast<int32_t>(-in->quant.zero_point[0]);
        p.input2_offset = static_cast<int32_t>(-in2->quant.zero_point[0]);
        auto add = AddQuantization(in->quant.scale[0], in2->quant.scale[0], out->quant.scale[0]);
        if (!add.ok()) return OpError(index, op, add.status().message());
        p.in1_multiplier = add->input1;
        p.in2_multiplier = add->input2;
        p.multipliers = {add->output};
        return p;
      }
      case builtin::kPad:
      case builtin::kPadV2:
      case builtin::kStridedSlice:
      case builtin::kReshape: {
        UNAS_RETURN_IF_ERROR(input_at(0, &in));
        UNAS_ASSIGN_OR_RETURN(p.in, ToDims4(*in));
        if (!SameQuant(*in, *out)) return OpError(index, op, "input and output quantisation must be equal");
        if (op.builtin_code == builtin::kReshape) {
          if (p.in.elements() != p.out.elements()) return OpError(index, op, "element counts differ");
          return p;
        }
        if (op.builtin_code == builtin::kStridedSlice) return SliceGeometry(index, op, *in, &p);
        return PadGeometry(index, op, *in, &p);
      }
      case builtin::kConcatenation: {
        if (op.inputs.empty()) return OpError(index, op, "no inputs");
        const int rank = static_cast<int>(out->shape.size());
        p.axis = op.axis < 0 ? op.axis + rank : op.axis;
        if (p.axis < 0 || p.axis >= rank) return OpError(index, op, "axis out of range");
        p.axis += 4 - rank;
        int64_t along = 0;
        for (size_t k = 0; k < op.inputs.size(); ++k) {
          UNAS_RETURN_IF_ERROR(input_at(k, &in));
          if (!SameQuant(*in, *out)) return OpError(index, op, "every input's quantisation must equal the output's");
          if (in->shape.size() != out->shape.size()) return OpError(index, op, "inputs and output differ in rank");
          UNAS_ASSIGN_OR_RETURN(Dims4 d, ToDims4(*in));
          for (int a = 0; a < 4; ++a) {
            if (a != p.axis && d.d[a] != p.out.d[a]) return OpError(index, op, "input shapes differ off the axis");
          }
          along += d.d[p.axis];
          p.in_shapes.push_back(d);
        }
        if (along != p.out.d[p.axis]) return OpError(index, op, "inputs do not add up to the output along the axis");
        return p;
      }
      default: return OpError(index, op, "operator not supported by the int8 executor");
    }
  }

 private:
  // An int8 non-constant tensor with per-tensor quantisation.
  Status CheckActivation(size_t index, const GraphOp& op, int id, const GraphTensor** t) {
    if (id < 0 || id >= static_cast<int>(g_.tensors.size())) return OpError(index, op, "tensor id out of range");
    *t = &g_.tensors[id];
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

  Status Weights(size_t index, const GraphOp& op, const GraphTensor& in, const GraphTensor& out, OpParams* p) {
    if (op.inputs.size() < 2 || op.inputs[1] < 0 || op.inputs[1] >= static_cast<int>(g_.tensors.size())) {
      return OpError(index, op, "missing filter");
    }
    const GraphTensor& w = g_.tensors[op.inputs[1]];
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
    p->multipliers = fc ? std::vector<QuantizedMultiplier>{FullyConnectedMultiplier(
                              in.quant.scale[0], w.quant.scale[0], out.quant.scale[0])}
                        : ConvMultipliers(in.quant.scale[0], w.quant.scale, out.quant.scale[0]);
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
      if (op.inputs[2] >= static_cast<int>(g_.tensors.size())) return OpError(index, op, "bias id out of range");
      const GraphTensor& b = g_.tensors[op.inputs[2]];
      if (b.type != TensorType::kInt32 || !b.is_constant || b.elements() != channels ||
          static_cast<int64_t>(b.data.size()) != 4 * b.elements()) {
        return OpError(index, op, "bias '" + b.name + "' must be an int32 constant of one value per output channel");
      }
      p->bias = ReadInt32(b);
    }
    return Status::Ok();
  }

  Status ConvGeometry(size_t index, const GraphOp& op, OpParams* p) {
    if (op.builtin_code == builtin::kConv2D || op.builtin_code == builtin::kDepthwiseConv2D) {
      const GraphTensor& w = g_.tensors[op.inputs[1]];
      p->kh = w.shape[1];
      p->kw = w.shape[2];
      if (op.builtin_code == builtin::kConv2D && w.shape[3] != p->in.d[3]) {
        return OpError(index, op, "filter input channels differ from the input's");
      }
      if (op.builtin_code == builtin::kDepthwiseConv2D) {
        p->depth_multiplier = op.depth_multiplier;
        if (p->depth_multiplier < 1 || p->in.d[3] * p->depth_multiplier != p->out.d[3]) {
          return OpError(index, op, "output channels are not input channels x depth_multiplier");
        }
      }
      p->dilation_h = op.dilation_h;
      p->dilation_w = op.dilation_w;
    }
    p->stride_h = op.stride_h;
    p->stride_w = op.stride_w;
    if (p->stride_h < 1 || p->stride_w < 1 || p->dilation_h < 1 || p->dilation_w < 1) {
      return OpError(index, op, "strides and dilations must be positive");
    }
    const int oh = PoolOrConvOut(op.padding, p->in.d[1], p->kh, p->stride_h, p->dilation_h);
    const int ow = PoolOrConvOut(op.padding, p->in.d[2], p->kw, p->stride_w, p->dilation_w);
    const bool pool = op.builtin_code == builtin::kMaxPool2D || op.builtin_code == builtin::kAveragePool2D;
    if (p->in.d[0] != 1 || p->out.d[0] != 1 || oh != p->out.d[1] || ow != p->out.d[2] ||
        (pool && p->in.d[3] != p->out.d[3])) {
      return OpError(index, op, "output shape disagrees with the operator's padding, filter and strides");
    }
    p->pad_top = PadBefore(op.padding, p->in.d[1], p->kh, p->stride_h, p->dilation_h, oh);
    p->pad_left = PadBefore(op.padding, p->in.d[2], p->kw, p->stride_w, p->dilation_w, ow);
    return Status::Ok();
  }

  Result<OpParams> SliceGeometry(size_t index, const GraphOp& op, const GraphTensor& in, OpParams* p) {
    if (op.inputs.size() != 4) return OpError(index, op, "expected input, begin, end and strides");
    std::vector<int64_t> v[3];
    for (int k = 0; k < 3; ++k) {
      if (op.inputs[k + 1] < 0 || op.inputs[k + 1] >= static_cast<int>(g_.tensors.size())) {
        return OpError(index, op, "missing begin, end or strides");
      }
      auto values = ReadIndexConstant(g_.tensors[op.inputs[k + 1]]);
      if (!values.ok()) return OpError(index, op, values.status().message());
      v[k] = *values;
      if (v[k].size() != in.shape.size()) return OpError(index, op, "begin/end/strides rank differs from the input's");
    }
    const size_t lead = 4 - in.shape.size();
    for (size_t i = 0; i < in.shape.size(); ++i) {
      const int64_t dim = in.shape[i];
      int64_t b = v[0][i], e = v[1][i];
      const int64_t s = v[2][i];
      if (s <= 0) return OpError(index, op, "only positive strides are supported");
      if (b < 0) b += dim;
      if (e < 0) e += dim;
      b = std::clamp<int64_t>(b, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      const int64_t n = e > b ? (e - b + s - 1) / s : 0;
      if (n != p->out.d[lead + i]) return OpError(index, op, "output shape disagrees with begin/end/strides");
      p->before[lead + i] = static_cast<int>(b);
      p->stride[lead + i] = static_cast<int>(s);
    }
    return *p;
  }

  Result<OpParams> PadGeometry(size_t index, const GraphOp& op, const GraphTensor& in, OpParams* p) {
    if (op.inputs.size() < 2 || op.inputs[1] < 0 || op.inputs[1] >= static_cast<int>(g_.tensors.size())) {
      return OpError(index, op, "missing paddings");
    }
    if (op.inputs.size() > 2 && op.inputs[2] >= 0) return OpError(index, op, "a constant pad value is not supported");
    auto pads = ReadIndexConstant(g_.tensors[op.inputs[1]]);
    if (!pads.ok()) return OpError(index, op, pads.status().message());
    if (pads->size() != 2 * in.shape.size()) return OpError(index, op, "paddings must be [rank, 2]");
    const size_t lead = 4 - in.shape.size();
    for (size_t i = 0; i < in.shape.size(); ++i) {
      const int64_t before = (*pads)[2 * i], after = (*pads)[2 * i + 1];
      if (before < 0 || after < 0) return OpError(index, op, "negative padding");
      if (in.shape[i] + before + after != p->out.d[lead + i]) return OpError(index, op, "output shape disagrees with paddings");
      p->before[lead + i] = static_cast<int>(before);
    }
    return *p;
  }

  const ModelGraph& g_;
};

inline int8_t Clamp(int32_t v, const OpParams& p) {
  return static_cast<int8_t>(std::min(std::max(v, p.act_min), p.act_max));
}

// CONV_2D and DEPTHWISE_CONV_2D.
void Conv(const OpParams& p, const int8_t* in, int8_t* out) {
  const bool dw = p.code == builtin::kDepthwiseConv2D;
  const int ih = p.in.d[1], iw = p.in.d[2], ic = p.in.d[3], oh = p.out.d[1], ow = p.out.d[2], oc = p.out.d[3];
  for (int oy = 0; oy < oh; ++oy) {
    for (int ox = 0; ox < ow; ++ox) {
      for (int c = 0; c < oc; ++c) {
        int32_t acc = 0;
        for (int ky = 0; ky < p.kh; ++ky) {
          const int y = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
          if (y < 0 || y >= ih) continue;
          for (int kx = 0; kx < p.kw; ++kx) {
            const int x = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
            if (x < 0 || x >= iw) continue;
            const int8_t* pixel = in + (static_cast<int64_t>(y) * iw + x) * ic;
            if (dw) {
              const int32_t f = p.filter[(static_cast<int64_t>(ky) * p.kw + kx) * oc + c];
              acc += f * (pixel[c / p.depth_multiplier] + p.input_offset);
            } else {
              const int8_t* f = p.filter.data() + ((static_cast<int64_t>(c) * p.kh + ky) * p.kw + kx) * ic;
              for (int ci = 0; ci < ic; ++ci) acc += int32_t{f[ci]} * (pixel[ci] + p.input_offset);
            }
          }
        }
        if (!p.bias.empty()) acc += p.bias[c];
        const QuantizedMultiplier& m = p.multipliers[p.multipliers.size() == 1 ? 0 : c];
        out[(static_cast<int64_t>(oy) * ow + ox) * oc + c] = Clamp(MultiplyByQuantizedMultiplier(acc, m) + p.output_offset, p);
      }
    }
  }
}

void FullyConnected(const OpParams& p, const int8_t* in, int8_t* out) {
  const int64_t batches = p.in.elements() / p.fc_inputs, units = p.out.elements() / batches;
  for (int64_t b = 0; b < batches; ++b) {
    const int8_t* x = in + b * p.fc_inputs;
    for (int64_t u = 0; u < units; ++u) {
      const int8_t* w = p.filter.data() + u * p.fc_inputs;
      int32_t acc = 0;
      for (int64_t i = 0; i < p.fc_inputs; ++i) acc += (w[i] + p.filter_offset) * (x[i] + p.input_offset);
      if (!p.bias.empty()) acc += p.bias[u];
      out[b * units + u] = Clamp(MultiplyByQuantizedMultiplier(acc, p.multipliers[0]) + p.output_offset, p);
    }
  }
}

void Pool(const OpParams& p, const int8_t* in, int8_t* out) {
  const int ih = p.in.d[1], iw = p.in.d[2], c_count = p.in.d[3];
  for (int oy = 0; oy < p.out.d[1]; ++oy) {
    for (int ox = 0; ox < p.out.d[2]; ++ox) {
      const int y0 = oy * p.stride_h - p.pad_top, x0 = ox * p.stride_w - p.pad_left;
      const int y_begin = std::max(0, y0), y_end = std::min(ih, y0 + p.kh);
      const int x_begin = std::max(0, x0), x_end = std::min(iw, x0 + p.kw);
      for (int c = 0; c < c_count; ++c) {
        int32_t acc = p.code == builtin::kMaxPool2D ? -128 : 0;
        int32_t count = 0;
        for (int y = y_begin; y < y_end; ++y) {
          for (int x = x_begin; x < x_end; ++x, ++count) {
            const int32_t v = in[(static_cast<int64_t>(y) * iw + x) * c_count + c];
            acc = p.code == builtin::kMaxPool2D ? std::max(acc, v) : acc + v;
          }
        }
        if (p.code == builtin::kAveragePool2D && count > 0) {
          acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
        }
        out[(static_cast<int64_t>(oy) * p.out.d[2] + ox) * c_count + c] = Clamp(acc, p);
      }
    }
  }
}

void Add(const OpParams& p, const int8_t* a, const int8_t* b, int8_t* out) {
  const int64_t n = p.out.elements();
  for (int64_t i = 0; i < n; ++i) {
    const int32_t x1 = MultiplyByQuantizedMultiplier((a[i] + p.input_offset) * (1 << 20), p.in1_multiplier);
    const int32_t x2 = MultiplyByQuantizedMultiplier((b[i] + p.input2_offset) * (1 << 20), p.in2_multiplier);
    out[i] = Clamp(MultiplyByQuantizedMultiplier(x1 + x2, p.multipliers[0]) + p.output_offset, p);
  }
}

// PAD (before offsets, stride 1) and STRIDED_SLICE (begin, stride): out[o] =
// in[before + o * stride] (slice) or out[before + i] = in[i] (pad).
void PadOrSlice(const OpParams& p, const int8_t* in, int8_t* out) {
  const bool pad = p.code != builtin::kStridedSlice;
  if (pad) std::fill(out, out + p.out.elements(), static_cast<int8_t>(p.output_offset));
  const Dims4& src = p.in;
  const Dims4& loop = pad ? p.in : p.out;
  for (int a = 0; a < loop.d[0]; ++a)
    for (int b = 0; b < loop.d[1]; ++b)
      for (int c = 0; c < loop.d[2]; ++c)
        for (int e = 0; e < loop.d[3]; ++e) {
          if (pad) {
            out[p.out.index(a + p.before[0], b + p.before[1], c + p.before[2], e + p.before[3])] = in[src.index(a, b, c, e)];
          } else {
            out[p.out.index(a, b, c, e)] = in[src.index(p.before[0] + a * p.stride[0], p.before[1] + b * p.stride[1],
                                                        p.before[2] + c * p.stride[2], p.before[3] + e * p.stride[3])];
          }
        }
}

void Concatenate(const OpParams& p, const std::vector<const int8_t*>& ins, int8_t* out) {
  int64_t outer = 1, inner = 1;
  for (int a = 0; a < p.axis; ++a) outer *= p.out.d[a];
  for (int a = p.axis + 1; a < 4; ++a) inner *= p.out.d[a];
  int8_t* o = out;
  for (int64_t k = 0; k < outer; ++k) {
    for (size_t i = 0; i < ins.size(); ++i) {
      const int64_t chunk = p.in_shapes[i].d[p.axis] * inner;
      std::memcpy(o, ins[i] + k * chunk, static_cast<size_t>(chunk));
      o += chunk;
    }
  }
}

}  // namespace

struct Int8Executor::Prepared {
  std::vector<OpParams> ops;
  std::vector<int64_t> tensor_elements;  // 0 for constants
  int input = -1, output = -1;
};

Int8Executor::Int8Executor() = default;
Int8Executor::Int8Executor(Int8Executor&&) noexcept = default;
Int8Executor& Int8Executor::operator=(Int8Executor&&) noexcept = default;
Int8Executor::~Int8Executor() = default;

Result<Int8Executor> Int8Executor::Create(const ModelGraph& graph) {
  if (graph.inputs.size() != 1 || graph.outputs.size() != 1) {
    return Status::Invalid("the int8 executor needs exactly one graph input and one graph output");
  }
  auto prepared = std::make_unique<Prepared>();
  prepared->input = graph.inputs[0];
  prepared->output = graph.outputs[0];
  const int count = static_cast<int>(graph.tensors.size());
  for (int id : {prepared->input, prepared->output}) {
    if (id < 0 || id >= count) return Status::Invalid("graph input or output id out of range");
    if (graph.tensors[id].type != TensorType::kInt8) return Status::Invalid("graph input and output must be int8");
  }
  std::vector<bool> written(count, false);
  written[prepared->input] = true;
  Preparer preparer(graph);
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    UNAS_ASSIGN_OR_RETURN(OpParams p, preparer.Prepare(i));
    for (int t : p.inputs) {
      if (!written[t]) return OpError(i, graph.ops[i], "reads tensor " + std::to_string(t) + " before it is written");
    }
    written[p.output] = true;
    prepared->ops.push_back(std::move(p));
  }
  if (!written[prepared->output]) return Status::Invalid("no operator writes the graph output");
  for (const GraphTensor& t : graph.tensors) prepared->tensor_elements.push_back(t.is_constant ? 0 : t.elements());
  Int8Executor e;
  e.prepared_ = std::move(prepared);
  return e;
}

Result<std::vector<std::vector<int8_t>>> Int8Executor::RunAll(const std::vector<int8_t>& input) const {
  const Prepared& pr = *prepared_;
  if (static_cast<int64_t>(input.size()) != pr.tensor_elements[pr.input]) {
    return Status::Invalid("input has " + std::to_string(input.size()) + " values, the graph input needs " +
                           std::to_string(pr.tensor_elements[pr.input]));
  }
  std::vector<std::vector<int8_t>> values(pr.tensor_elements.size());
  values[pr.input] = input;
  for (const OpParams& p : pr.ops) {
    std::vector<int8_t>& out = values[p.output];
    out.assign(static_cast<size_t>(pr.tensor_elements[p.output]), 0);
    const int8_t* in = values[p.inputs[0]].data();
    switch (p.code) {
      case builtin::kConv2D:
      case builtin::kDepthwiseConv2D: Conv(p, in, out.data()); break;
      case builtin::kFullyConnected: FullyConnected(p, in, out.data()); break;
      case builtin::kMaxPool2D:
      case builtin::kAveragePool2D: Pool(p, in, out.data()); break;
      case builtin::kAdd: Add(p, in, values[p.inputs[1]].data(), out.data()); break;
      case builtin::kPad:
      case builtin::kPadV2:
      case builtin::kStridedSlice: PadOrSlice(p, in, out.data()); break;
      case builtin::kReshape: std::copy(values[p.inputs[0]].begin(), values[p.inputs[0]].end(), out.begin()); break;
      case builtin::kConcatenation: {
        std::vector<const int8_t*> ins;
        for (int t : p.inputs) ins.push_back(values[t].data());
        Concatenate(p, ins, out.data());
        break;
      }
      default: return Status::Internal("unprepared operator");
    }
  }
  return values;
}

Result<std::vector<int8_t>> Int8Executor::Run(const std::vector<int8_t>& input) const {
  UNAS_ASSIGN_OR_RETURN(std::vector<std::vector<int8_t>> values, RunAll(input));
  return std::move(values[prepared_->output]);
}

Result<std::vector<int8_t>> RunInt8(const ModelGraph& graph, const std::vector<int8_t>& input) {
  UNAS_ASSIGN_OR_RETURN(Int8Executor executor, Int8Executor::Create(graph));
  return executor.Run(input);
}

}  // namespace unas::quant
