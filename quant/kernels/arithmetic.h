// The optimised kernels' integer arithmetic: a blocked int16 GEMM with exact
// int32 accumulation and TFLite's requantisation, eight channels at a time.
// Every function has two implementations that return the same bits: AVX2
// intrinsics (x86-64 with AVX2, chosen at run time by `avx2`) and portable
// C++ (any target; the compiler may vectorise it for its baseline).
//
// Why int16 and not int8 x int8: the offsets TFLite adds before multiplying,
// (q_in - Z_in) and, for FULLY_CONNECTED, (w - Z_w), span [-255, 255], so
// the operands are widened to int16 with the offset applied once (im2col,
// weight packing). Products are then at most 255 * 255 and a pair of them
// (vpmaddwd) at most 130,050: no intermediate saturates, so the int32 sums
// are exactly the reference's (integer addition is associative; the
// reference accumulates in int32 too).
//
// Requantisation: MultiplyByQuantizedMultiplier (fixed_point.h) per lane.
// SaturatingRoundingDoublingHighMul's truncating division of (a*b + nudge)
// by 2^31 equals floor((a*b + 2^30) / 2^31) for every product (for a*b < 0
// the nudge is 1 - 2^30 and truncation toward zero adds 2^31 - 1), so each
// lane is one signed 32x32->64 multiply, an add and a shift; the one
// saturating case (INT32_MIN * INT32_MIN) needs a multiplier of INT32_MIN,
// which ChannelRequant::vectorizable excludes.
//
// Thread safety: pure functions; callers own the buffers.
#pragma once

#include <cstdint>
#include <vector>

#include "quant/kernels/kernel.h"

namespace unas::quant::kernels {

// True when this process may use the AVX2 implementations (x86-64 CPU with
// AVX2 and an OS that saves its registers; checked once).
bool CpuHasAvx2();

// K rounded up to even: the GEMM multiplies pairs of K.
inline int GemmPaddedK(int k) { return (k + 1) / 2 * 2; }

// The GEMM's B operand from `n` rows of `k` int16 values (row j = output
// channel j's weights): panels of 8 channels, in each panel for every pair
// of K (k, k+1) the 8 channels' two values interleaved, [n/8][K/2][8][2];
// channels padded to a multiple of 8 and K to even with zeros.
std::vector<int16_t> PackGemmB(const std::vector<int16_t>& rows, int n, int k);

// c[m * ldc + j] = sum over k < k_padded of a[m * lda + k] * b[j][k], for
// m < rows and j < n_padded (a multiple of 8), b as PackGemmB packed it.
// a's padding column (if k is odd) must be 0.
void GemmInt16(const int16_t* a, int64_t lda, int rows, int k_padded, const int16_t* packed_b, int n_padded,
               int32_t* c, int64_t ldc, bool avx2);

// out[m * ldo + j] = clamp(MBQM(c[m * ldc + j] + bias[j], channel j) +
// output_offset, act_min, act_max) for m < rows, j < n. Reads whole blocks of
// 8: PaddedChannels(n) values from each row's start must be readable (they
// may run into the next row; the extra lanes are computed and dropped).
void RequantizeRows(const int32_t* c, int64_t ldc, int rows, int n, const ChannelRequant& requant,
                    int32_t output_offset, int32_t act_min, int32_t act_max, int8_t* out, int64_t ldo, bool avx2);

// ADD's arithmetic (int8_executor.h) on n elements of a and b.
struct AddParams {
  int32_t input1_offset = 0, input2_offset = 0, output_offset = 0;
  QuantizedMultiplier input1, input2, output;
  int32_t act_min = -128, act_max = 127;
};
void AddElementwise(const AddParams& params, const int8_t* a, const int8_t* b, int64_t n, int8_t* out, bool avx2);

// acc[j] += f[j] * (x[j] + offset) for j < n: a depthwise tap over a run of
// pixels. f in [-128, 127] and offset in [-128, 128], so each product fits
// int16 (|product| <= 128 * 255 = 32,640) and is then added in int32.
void MultiplyAccumulate(const int16_t* f, const int8_t* x, int64_t n, int32_t offset, int32_t* acc, bool avx2);

// MAX_POOL_2D's window: o[c] = clamp(max(-128, max over pixels (y, x) in
// [y0, y1) x [x0, x1) of in[(y * width + x) * channels + c]), lo, hi).
void MaxOverWindow(const int8_t* in, int width, int channels, int y0, int y1, int x0, int x1, int8_t lo, int8_t hi,
                   int8_t* o, bool avx2);

// TFLite's QUANTIZE of a float input (quantize.h's QuantizeInput):
// out[i] = clamp(round(values[i] / scale) + zero_point, -128, 127), float
// division, round half away from zero. The AVX2 path divides in float as
// well and rounds exactly: t = trunc(q), plus sign(q) when |q - t| >= 0.5
// (q - t is exact); lanes with |q| >= 2^24 or NaN, and zero points beyond
// +-2^20, go through the scalar rule.
void QuantizeFloats(const float* values, int64_t n, float scale, int64_t zero_point, int8_t* out, bool avx2);

// dst[i] = src[i] + offset as int16 (offset in [-128, 128]).
inline void WidenWithOffset(const int8_t* src, int64_t n, int32_t offset, int16_t* dst) {
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<int16_t>(src[i] + offset);
}

}  // namespace unas::quant::kernels
