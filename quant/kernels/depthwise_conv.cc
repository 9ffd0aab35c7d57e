// DEPTHWISE_CONV_2D: TFLite's reference integer_ops/depthwise_conv.h, and the
// optimised kernel: per output row, int32 accumulators for every pixel and
// channel, one pass per in-bounds tap (with stride 1 one contiguous run over
// all the row's pixels and channels), then vectorised requantisation.
#include <algorithm>

#include "quant/kernels/arithmetic.h"
#include "quant/kernels/kernel_util.h"

namespace unas::quant::kernels {
namespace {

Result<OpParams> Prepare(const ModelGraph& g, size_t index) {
  OpParams p;
  UNAS_RETURN_IF_ERROR(PrepareConv(g, index, &p, nullptr));
  const GraphOp& op = g.ops[index];
  p.depth_multiplier = op.depth_multiplier;
  if (p.depth_multiplier < 1 || p.in.d[3] * p.depth_multiplier != p.out.d[3]) {
    return OpError(index, op, "output channels are not input channels x depth_multiplier");
  }
  // The optimised kernel's filter as int16: with stride 1 and depth
  // multiplier 1, each tap's channels repeated once per output pixel
  // ([ky][kx][ow][c], see AccumulateRow); otherwise [ky][kx][c].
  const int oc = p.out.d[3], copies = p.stride_w == 1 && p.depth_multiplier == 1 ? p.out.d[2] : 1;
  for (int tap = 0; tap < p.kh * p.kw; ++tap) {
    for (int k = 0; k < copies; ++k) {
      p.packed.insert(p.packed.end(), p.filter.begin() + static_cast<int64_t>(tap) * oc,
                      p.filter.begin() + static_cast<int64_t>(tap + 1) * oc);
    }
  }
  p.requant = MakeChannelRequant(p, p.out.d[3]);
  return p;
}

void EvalImage(const OpParams& p, const int8_t* in, int8_t* out) {
  const int ow = p.out.d[2], oc = p.out.d[3];
  for (int oy = 0; oy < p.out.d[1]; ++oy) {
    for (int ox = 0; ox < ow; ++ox) {
      for (int c = 0; c < oc; ++c) {
        int32_t acc = 0;
        ForEachTapInside(p, in, oy, ox, [&](int ky, int kx, const int8_t* pixel) {
          const int32_t f = p.filter[(static_cast<int64_t>(ky) * p.kw + kx) * oc + c];
          acc += f * (pixel[c / p.depth_multiplier] + p.input_offset);
        });
        out[(static_cast<int64_t>(oy) * ow + ox) * oc + c] = RequantizeChannel(p, c, acc);
      }
    }
  }
}

void EvalReference(const OpParams& p, const EvalContext& c) {
  ForEachImage(p, c, {p.in.elements()}, [&](const std::vector<const int8_t*>& in, int8_t* out) { EvalImage(p, in[0], out); });
}

// acc[c] += f[c] * (x[c / dm] + offset) for c < channels: one pixel, one tap.
void AccumulatePixel(const int16_t* f, const int8_t* x, int channels, int dm, int32_t offset, int32_t* acc) {
  if (dm == 1) {
    for (int c = 0; c < channels; ++c) acc[c] += f[c] * (x[c] + offset);
    return;
  }
  for (int c = 0; c < channels; ++c) acc[c] += f[c] * (x[c / dm] + offset);
}

// One output row of one image into acc ([ow][oc], unpadded). With stride 1
// and depth multiplier 1, one tap over a run of output pixels reads a
// contiguous run of input pixels, so the channel loop becomes one long
// MultiplyAccumulate against the tap's filter repeated once per pixel.
void AccumulateRow(const OpParams& p, const int8_t* in, int oy, bool avx2, int32_t* acc) {
  const int ih = p.in.d[1], iw = p.in.d[2], ic = p.in.d[3], ow = p.out.d[2], oc = p.out.d[3];
  const bool runs = p.stride_w == 1 && p.depth_multiplier == 1;
  for (int ky = 0; ky < p.kh; ++ky) {
    const int y = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
    if (y < 0 || y >= ih) continue;
    const int8_t* line = in + static_cast<int64_t>(y) * iw * ic;
    for (int kx = 0; kx < p.kw; ++kx) {
      const int shift = kx * p.dilation_w - p.pad_left;  // x = ox * stride + shift
      if (runs) {
        const int first = std::max(0, -shift), last = std::min(ow, iw - shift);
        if (first >= last) continue;
        const int16_t* tiled = p.packed.data() + (static_cast<int64_t>(ky) * p.kw + kx) * ow * oc;
        MultiplyAccumulate(tiled, line + static_cast<int64_t>(first + shift) * ic,
                           static_cast<int64_t>(last - first) * oc, p.input_offset, acc + static_cast<int64_t>(first) * oc,
                           avx2);
        continue;
      }
      const int16_t* f = p.packed.data() + (static_cast<int64_t>(ky) * p.kw + kx) * oc;
      for (int ox = 0; ox < ow; ++ox) {
        const int x = ox * p.stride_w + shift;
        if (x < 0 || x >= iw) continue;
        AccumulatePixel(f, line + static_cast<int64_t>(x) * ic, oc, p.depth_multiplier, p.input_offset,
                        acc + static_cast<int64_t>(ox) * oc);
      }
    }
  }
}

void EvalOptimized(const OpParams& p, const EvalContext& c) {
  const int oh = p.out.d[1], ow = p.out.d[2], oc = p.out.d[3];
  Scratch& s = *c.scratch;
  // RequantizeRows reads whole 8-channel blocks: slack after the last pixel.
  s.accumulators.resize(static_cast<size_t>(ow) * oc + 8);
  for (int i = 0; i < c.images; ++i) {
    const int8_t* in = c.inputs[0] + i * p.in.elements();
    int8_t* out = c.output + i * p.out.elements();
    for (int oy = 0; oy < oh; ++oy) {
      std::fill(s.accumulators.begin(), s.accumulators.end(), 0);
      AccumulateRow(p, in, oy, c.avx2, s.accumulators.data());
      RequantizeRows(s.accumulators.data(), oc, ow, oc, p.requant, p.output_offset, p.act_min, p.act_max,
                     out + static_cast<int64_t>(oy) * ow * oc, oc, c.avx2);
    }
  }
}

}  // namespace

OpKernel RegisterDepthwiseConv2D() { return {Prepare, EvalReference, EvalOptimized}; }

}  // namespace unas::quant::kernels
