// CONV_2D: TFLite's reference integer_ops/conv.h, and the optimised kernel:
// the input widened once to int16 (q_in - Z_in) with the SAME padding as
// zeros (a zero term adds what skipping an out-of-bounds tap adds), im2col
// from it, and the int16 GEMM against the packed filter.
#include <algorithm>
#include <cstring>

#include "quant/kernels/arithmetic.h"
#include "quant/kernels/kernel_util.h"

namespace unas::quant::kernels {
namespace {

Result<OpParams> Prepare(const ModelGraph& g, size_t index) {
  OpParams p;
  const GraphTensor* filter = nullptr;
  UNAS_RETURN_IF_ERROR(PrepareConv(g, index, &p, &filter));
  if (filter->shape[3] != p.in.d[3]) {
    return OpError(index, g.ops[index], "filter input channels differ from the input's");
  }
  // The optimised kernel's operands: filter rows [c][ky][kx][ci] are already
  // the GEMM's B rows.
  const int channels = p.out.d[3];
  p.gemm_k = p.kh * p.kw * p.in.d[3];
  p.packed = PackGemmB(std::vector<int16_t>(p.filter.begin(), p.filter.end()), channels, p.gemm_k);
  p.requant = MakeChannelRequant(p, channels);
  return p;
}

void EvalImage(const OpParams& p, const int8_t* in, int8_t* out) {
  const int ic = p.in.d[3], ow = p.out.d[2], oc = p.out.d[3];
  for (int oy = 0; oy < p.out.d[1]; ++oy) {
    for (int ox = 0; ox < ow; ++ox) {
      for (int c = 0; c < oc; ++c) {
        int32_t acc = 0;
        ForEachTapInside(p, in, oy, ox, [&](int ky, int kx, const int8_t* pixel) {
          const int8_t* f = p.filter.data() + ((static_cast<int64_t>(c) * p.kh + ky) * p.kw + kx) * ic;
          for (int ci = 0; ci < ic; ++ci) acc += int32_t{f[ci]} * (pixel[ci] + p.input_offset);
        });
        out[(static_cast<int64_t>(oy) * ow + ox) * oc + c] = RequantizeChannel(p, c, acc);
      }
    }
  }
}

void EvalReference(const OpParams& p, const EvalContext& c) {
  ForEachImage(p, c, {p.in.elements()}, [&](const std::vector<const int8_t*>& in, int8_t* out) { EvalImage(p, in[0], out); });
}

// The image's input as int16 (q_in - Z_in) with the padding as explicit
// zeros: `height` x `width` pixels of ic values, the input at (pad_top,
// pad_left), every window inside, plus 8 values of slack for CopyRun's
// over-read.
struct Widened {
  int height = 0, width = 0;
};
Widened WidenImage(const OpParams& p, const int8_t* in, std::vector<int16_t>* buffer) {
  const int ih = p.in.d[1], iw = p.in.d[2], ic = p.in.d[3];
  Widened w;
  w.height = std::max(ih + p.pad_top, (p.out.d[1] - 1) * p.stride_h + (p.kh - 1) * p.dilation_h + 1);
  w.width = std::max(iw + p.pad_left, (p.out.d[2] - 1) * p.stride_w + (p.kw - 1) * p.dilation_w + 1);
  buffer->assign(static_cast<size_t>(w.height) * w.width * ic + 8, 0);
  for (int y = 0; y < ih; ++y) {
    WidenWithOffset(in + static_cast<int64_t>(y) * iw * ic, static_cast<int64_t>(iw) * ic, p.input_offset,
                    buffer->data() + (static_cast<int64_t>(y + p.pad_top) * w.width + p.pad_left) * ic);
  }
  return w;
}

// Copies n int16 in blocks of 8, so up to 7 values past n are written (and
// read): callers leave room and write what follows afterwards. Short runs
// (a 3x3 window of one channel copies runs of 3) would otherwise cost a
// memcpy call each.
inline void CopyRun(const int16_t* src, int n, int16_t* dst) {
  for (int i = 0; i < n; i += 8) std::memcpy(dst + i, src + i, 8 * sizeof(int16_t));
}

// Output pixels [first, first + rows) as im2col rows of `k_padded` int16
// values, tap (ky, kx) channel ci at column (ky * kw + kx) * ic + ci, from
// the widened image. `columns` has 8 values of slack after the last row.
void Im2Col(const OpParams& p, const int16_t* image, const Widened& w, int first, int rows, int k_padded,
            int16_t* columns) {
  const int ic = p.in.d[3], ow = p.out.d[2], row_taps = p.kw * ic;
  for (int r = 0; r < rows; ++r) {
    const int oy = (first + r) / ow, ox = (first + r) % ow;
    int16_t* dst = columns + static_cast<int64_t>(r) * k_padded;
    for (int ky = 0; ky < p.kh; ++ky, dst += row_taps) {
      const int16_t* src = image + (static_cast<int64_t>(oy * p.stride_h + ky * p.dilation_h) * w.width +
                                    static_cast<int64_t>(ox) * p.stride_w) * ic;
      if (p.dilation_w == 1) {
        CopyRun(src, row_taps, dst);
        continue;
      }
      for (int kx = 0; kx < p.kw; ++kx) CopyRun(src + static_cast<int64_t>(kx) * p.dilation_w * ic, ic, dst + kx * ic);
    }
    // The odd K's padding column (CopyRun may have written past K).
    if (k_padded != p.gemm_k) columns[static_cast<int64_t>(r) * k_padded + p.gemm_k] = 0;
  }
}

// Output pixels per GEMM call: bounds the im2col buffer (and keeps it in cache).
constexpr int kRowBlock = 64;

void EvalOptimized(const OpParams& p, const EvalContext& c) {
  const int oc = p.out.d[3], kp = GemmPaddedK(p.gemm_k), np = PaddedChannels(oc);
  const int pixels = p.out.d[1] * p.out.d[2];
  // A 1x1 convolution with stride 1 and an even channel count needs no
  // im2col: the widened image is the GEMM's A.
  const bool pointwise = p.kh == 1 && p.kw == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_top == 0 &&
                         p.pad_left == 0 && kp == p.gemm_k;
  Scratch& s = *c.scratch;
  s.columns.resize(static_cast<size_t>(kRowBlock) * kp + 8);
  s.accumulators.resize(static_cast<size_t>(kRowBlock) * np);
  for (int i = 0; i < c.images; ++i) {
    const Widened w = WidenImage(p, c.inputs[0] + i * p.in.elements(), &s.widened);
    int8_t* out = c.output + i * p.out.elements();
    for (int first = 0; first < pixels; first += kRowBlock) {
      const int rows = std::min(kRowBlock, pixels - first);
      const int16_t* a = s.widened.data() + static_cast<int64_t>(first) * kp;
      if (!pointwise) {
        Im2Col(p, s.widened.data(), w, first, rows, kp, s.columns.data());
        a = s.columns.data();
      }
      GemmInt16(a, kp, rows, kp, p.packed.data(), np, s.accumulators.data(), np, c.avx2);
      RequantizeRows(s.accumulators.data(), np, rows, oc, p.requant, p.output_offset, p.act_min, p.act_max,
                     out + static_cast<int64_t>(first) * oc, oc, c.avx2);
    }
  }
}

}  // namespace

OpKernel RegisterConv2D() { return {Prepare, EvalReference, EvalOptimized}; }

}  // namespace unas::quant::kernels
