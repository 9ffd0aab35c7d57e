// DEPTHWISE_CONV_2D: TFLite's reference integer_ops/depthwise_conv.h, and the
// optimised kernel: per output row, int32 accumulators for every pixel and
// channel, one pass per in-bounds tap over the channels (contiguous in both
// the input and the [kh][kw][channels] filter), then vectorised requantisation.
#include <algorithm>

#include "quant/kernels/arithmetic.h"
#include "quant/kernels/kernel_util.h"

namespace unas::quant::kernels {
namespace {

Result<OpParams> Prepare(const ModelGraph& g, size_t index) {
  const GraphOp& op = g.ops[index];
  OpParams p;
  const GraphTensor *out = nullptr, *in = nullptr, *filter = nullptr;
  UNAS_RETURN_IF_ERROR(PrepareOutput(g, index, &p, &out));
  UNAS_RETURN_IF_ERROR(PrepareInput(g, index, 0, &p, &in));
  UNAS_ASSIGN_OR_RETURN(p.in, ToDims4(*in));
  p.input_offset = static_cast<int32_t>(-in->quant.zero_point[0]);
  UNAS_RETURN_IF_ERROR(PrepareWeights(g, index, *in, &p, &filter));
  p.multipliers = ChannelMultipliers(*in, *filter, *out);
  p.kh = filter->shape[1];
  p.kw = filter->shape[2];
  p.depth_multiplier = op.depth_multiplier;
  if (p.depth_multiplier < 1 || p.in.d[3] * p.depth_multiplier != p.out.d[3]) {
    return OpError(index, op, "output channels are not input channels x depth_multiplier");
  }
  p.dilation_h = op.dilation_h;
  p.dilation_w = op.dilation_w;
  UNAS_RETURN_IF_ERROR(PrepareWindow(g, index, &p));
  p.packed.assign(p.filter.begin(), p.filter.end());  // [ky][kx][c] as int16
  p.requant = MakeChannelRequant(p, p.out.d[3]);
  return p;
}

void EvalImage(const OpParams& p, const int8_t* in, int8_t* out) {
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
            const int32_t f = p.filter[(static_cast<int64_t>(ky) * p.kw + kx) * oc + c];
            acc += f * (pixel[c / p.depth_multiplier] + p.input_offset);
          }
        }
        if (!p.bias.empty()) acc += p.bias[c];
        const QuantizedMultiplier& m = p.multipliers[p.multipliers.size() == 1 ? 0 : c];
        out[(static_cast<int64_t>(oy) * ow + ox) * oc + c] = Clamp(MultiplyByQuantizedMultiplier(acc, m) + p.output_offset, p);
      }
    }
  }
}

void EvalReference(const OpParams& p, const EvalContext& c) {
  ForEachImage(p, c, {p.in.elements()}, [&](const std::vector<const int8_t*>& in, int8_t* out) { EvalImage(p, in[0], out); });
}

// acc[c] += f[c] * (x[c / dm] + offset) for c < channels.
void AccumulateTap(const int16_t* f, const int8_t* x, int channels, int dm, int32_t offset, int32_t* acc) {
  if (dm == 1) {
    for (int c = 0; c < channels; ++c) acc[c] += f[c] * (x[c] + offset);
    return;
  }
  for (int c = 0; c < channels; ++c) acc[c] += f[c] * (x[c / dm] + offset);
}

void EvalOptimized(const OpParams& p, const EvalContext& c) {
  const int ih = p.in.d[1], iw = p.in.d[2], ic = p.in.d[3], oh = p.out.d[1], ow = p.out.d[2], oc = p.out.d[3];
  const int np = PaddedChannels(oc);
  Scratch& s = *c.scratch;
  s.accumulators.resize(static_cast<size_t>(ow) * np);
  for (int i = 0; i < c.images; ++i) {
    const int8_t* in = c.inputs[0] + i * p.in.elements();
    int8_t* out = c.output + i * p.out.elements();
    for (int oy = 0; oy < oh; ++oy) {
      std::fill(s.accumulators.begin(), s.accumulators.end(), 0);
      for (int ky = 0; ky < p.kh; ++ky) {
        const int y = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
        if (y < 0 || y >= ih) continue;
        const int8_t* line = in + static_cast<int64_t>(y) * iw * ic;
        for (int kx = 0; kx < p.kw; ++kx) {
          const int16_t* f = p.packed.data() + (static_cast<int64_t>(ky) * p.kw + kx) * oc;
          for (int ox = 0; ox < ow; ++ox) {
            const int x = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
            if (x < 0 || x >= iw) continue;
            AccumulateTap(f, line + static_cast<int64_t>(x) * ic, oc, p.depth_multiplier, p.input_offset,
                          s.accumulators.data() + static_cast<int64_t>(ox) * np);
          }
        }
      }
      RequantizeRows(s.accumulators.data(), np, ow, oc, p.requant, p.output_offset, p.act_min, p.act_max,
                     out + static_cast<int64_t>(oy) * ow * oc, oc, c.avx2);
    }
  }
}

}  // namespace

OpKernel RegisterDepthwiseConv2D() { return {Prepare, EvalReference, EvalOptimized}; }

}  // namespace unas::quant::kernels
