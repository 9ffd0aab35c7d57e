// MAX_POOL_2D and AVERAGE_POOL_2D: TFLite's reference pooling.h (int8), and
// optimised kernels that run over the channels of a pixel at once (the
// inner loop the compiler vectorises) instead of one channel at a time.
#include <algorithm>

#include "quant/kernels/arithmetic.h"
#include "quant/kernels/kernel_util.h"

namespace unas::quant::kernels {
namespace {

Result<OpParams> Prepare(const ModelGraph& g, size_t index) {
  const GraphOp& op = g.ops[index];
  UNAS_ASSIGN_OR_RETURN(OpParams p, PrepareSameQuantInput(g, index));
  p.kh = op.filter_h;
  p.kw = op.filter_w;
  if (p.kh < 1 || p.kw < 1) return OpError(index, op, "filter size must be positive");
  UNAS_RETURN_IF_ERROR(PrepareWindow(g, index, &p));
  return p;
}

void EvalImage(const OpParams& p, const int8_t* in, int8_t* out) {
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

void EvalReference(const OpParams& p, const EvalContext& c) {
  ForEachImage(p, c, {p.in.elements()}, [&](const std::vector<const int8_t*>& in, int8_t* out) { EvalImage(p, in[0], out); });
}

// Calls window(out pixel, y range, x range) for every output pixel of every image.
template <typename Window>
void ForEachWindow(const OpParams& p, const EvalContext& c, Window window) {
  const int ih = p.in.d[1], iw = p.in.d[2], channels = p.in.d[3];
  for (int i = 0; i < c.images; ++i) {
    const int8_t* in = c.inputs[0] + i * p.in.elements();
    int8_t* out = c.output + i * p.out.elements();
    for (int oy = 0; oy < p.out.d[1]; ++oy) {
      for (int ox = 0; ox < p.out.d[2]; ++ox) {
        const int y0 = oy * p.stride_h - p.pad_top, x0 = ox * p.stride_w - p.pad_left;
        window(in, iw, channels, out + (static_cast<int64_t>(oy) * p.out.d[2] + ox) * channels, std::max(0, y0),
               std::min(ih, y0 + p.kh), std::max(0, x0), std::min(iw, x0 + p.kw));
      }
    }
  }
}

void EvalMaxOptimized(const OpParams& p, const EvalContext& c) {
  const int8_t lo = static_cast<int8_t>(p.act_min), hi = static_cast<int8_t>(p.act_max);
  ForEachWindow(p, c, [&](const int8_t* in, int iw, int channels, int8_t* o, int y0, int y1, int x0, int x1) {
    MaxOverWindow(in, iw, channels, y0, y1, x0, x1, lo, hi, o, c.avx2);
  });
}

void EvalAverageOptimized(const OpParams& p, const EvalContext& c) {
  std::vector<int32_t> sums(static_cast<size_t>(p.in.d[3]));
  ForEachWindow(p, c, [&](const int8_t* in, int iw, int channels, int8_t* o, int y0, int y1, int x0, int x1) {
    std::fill(sums.begin(), sums.end(), 0);
    for (int y = y0; y < y1; ++y) {
      for (int x = x0; x < x1; ++x) {
        const int8_t* v = in + (static_cast<int64_t>(y) * iw + x) * channels;
        for (int ch = 0; ch < channels; ++ch) sums[ch] += v[ch];
      }
    }
    const int32_t count = std::max(0, y1 - y0) * std::max(0, x1 - x0);
    for (int ch = 0; ch < channels; ++ch) {
      int32_t acc = sums[ch];
      if (count > 0) acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
      o[ch] = Clamp(acc, p);
    }
  });
}

}  // namespace

OpKernel RegisterMaxPool2D() { return {Prepare, EvalReference, EvalMaxOptimized}; }
OpKernel RegisterAveragePool2D() { return {Prepare, EvalReference, EvalAverageOptimized}; }

}  // namespace unas::quant::kernels
