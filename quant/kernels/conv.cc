// CONV_2D: TFLite's reference integer_ops/conv.h, and the optimised kernel:
// im2col of (q_in - Z_in) as int16 (out-of-bounds taps as 0, which is what
// skipping them adds) and the int16 GEMM against the packed filter.
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
  if (filter->shape[3] != p.in.d[3]) return OpError(index, op, "filter input channels differ from the input's");
  p.dilation_h = op.dilation_h;
  p.dilation_w = op.dilation_w;
  UNAS_RETURN_IF_ERROR(PrepareWindow(g, index, &p));
  // The optimised kernel's operands: filter rows [c][ky][kx][ci] are already
  // the GEMM's B rows.
  const int channels = p.out.d[3];
  p.gemm_k = p.kh * p.kw * p.in.d[3];
  p.packed = PackGemmB(std::vector<int16_t>(p.filter.begin(), p.filter.end()), channels, p.gemm_k);
  p.requant = MakeChannelRequant(p, channels);
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
            const int8_t* f = p.filter.data() + ((static_cast<int64_t>(c) * p.kh + ky) * p.kw + kx) * ic;
            for (int ci = 0; ci < ic; ++ci) acc += int32_t{f[ci]} * (pixel[ci] + p.input_offset);
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

// Output pixels [first, first + rows) of one image as im2col rows of
// `k_padded` int16 values: tap (ky, kx) channel ci at column (ky * kw + kx) *
// ic + ci.
void Im2Col(const OpParams& p, const int8_t* in, int first, int rows, int k_padded, int16_t* columns) {
  const int ih = p.in.d[1], iw = p.in.d[2], ic = p.in.d[3], ow = p.out.d[2];
  const int row_taps = p.kw * ic;
  for (int r = 0; r < rows; ++r) {
    const int oy = (first + r) / ow, ox = (first + r) % ow;
    int16_t* dst = columns + static_cast<int64_t>(r) * k_padded;
    const int x0 = ox * p.stride_w - p.pad_left;
    const bool whole_row = p.dilation_w == 1 && x0 >= 0 && x0 + p.kw <= iw;
    for (int ky = 0; ky < p.kh; ++ky, dst += row_taps) {
      const int y = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
      if (y < 0 || y >= ih) {
        std::fill(dst, dst + row_taps, int16_t{0});
        continue;
      }
      const int8_t* line = in + static_cast<int64_t>(y) * iw * ic;
      if (whole_row) {
        WidenWithOffset(line + static_cast<int64_t>(x0) * ic, row_taps, p.input_offset, dst);
        continue;
      }
      for (int kx = 0; kx < p.kw; ++kx) {
        const int x = x0 + kx * p.dilation_w;
        if (x < 0 || x >= iw) std::fill(dst + kx * ic, dst + (kx + 1) * ic, int16_t{0});
        else WidenWithOffset(line + static_cast<int64_t>(x) * ic, ic, p.input_offset, dst + kx * ic);
      }
    }
    std::fill(dst, columns + static_cast<int64_t>(r + 1) * k_padded, int16_t{0});
  }
}

// Output pixels per GEMM call: bounds the im2col buffer (and keeps it in cache).
constexpr int kRowBlock = 64;

void EvalOptimized(const OpParams& p, const EvalContext& c) {
  const int oc = p.out.d[3], kp = GemmPaddedK(p.gemm_k), np = PaddedChannels(oc);
  const int pixels = p.out.d[1] * p.out.d[2];
  Scratch& s = *c.scratch;
  s.columns.resize(static_cast<size_t>(kRowBlock) * kp);
  s.accumulators.resize(static_cast<size_t>(kRowBlock) * np);
  for (int i = 0; i < c.images; ++i) {
    const int8_t* in = c.inputs[0] + i * p.in.elements();
    int8_t* out = c.output + i * p.out.elements();
    for (int first = 0; first < pixels; first += kRowBlock) {
      const int rows = std::min(kRowBlock, pixels - first);
      Im2Col(p, in, first, rows, kp, s.columns.data());
      GemmInt16(s.columns.data(), kp, rows, kp, p.packed.data(), np, s.accumulators.data(), np, c.avx2);
      RequantizeRows(s.accumulators.data(), np, rows, oc, p.requant, p.output_offset, p.act_min, p.act_max,
                     out + static_cast<int64_t>(first) * oc, oc, c.avx2);
    }
  }
}

}  // namespace

OpKernel RegisterConv2D() { return {Prepare, EvalReference, EvalOptimized}; }

}  // namespace unas::quant::kernels
