#include "quant/kernels/arithmetic.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "quant/kernels/kernel_util.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define UNAS_QUANT_AVX2 1
#define UNAS_AVX2_FN __attribute__((target("avx2")))
#else
#define UNAS_QUANT_AVX2 0
#endif

namespace unas::quant::kernels {
namespace {

int32_t Requantize(int32_t acc, const ChannelRequant& r, int j) {
  // The scalar path rebuilds the shift TFLite stores: left - right.
  return MultiplyByQuantizedMultiplier(acc, r.multiplier[j], r.left_shift[j] - r.right_shift[j]);
}

int8_t ClampTo(int32_t v, int32_t lo, int32_t hi) { return static_cast<int8_t>(std::min(std::max(v, lo), hi)); }

// ---- portable C++ ----

// Rows [m, m + MR) x one panel of 8 channels. Each of the panel's 16 values
// per pair of K (8 channels x 2) gets its own int32 lane, multiplied by the
// row's value of the same K parity; the lane pairs are summed at the end. The
// 16-lane loops read the panel contiguously, so compilers vectorise them.
template <int MR>
void TilePortable(const int16_t* a, int64_t lda, int kp, const int16_t* panel, int32_t* c, int64_t ldc) {
  int32_t lanes[MR][16] = {};
  for (int k = 0; k < kp; k += 2) {
    const int16_t* pair = panel + k * 8;
    for (int r = 0; r < MR; ++r) {
      const int32_t a0 = a[r * lda + k], a1 = a[r * lda + k + 1];
      for (int j = 0; j < 16; j += 2) {
        lanes[r][j] += a0 * pair[j];
        lanes[r][j + 1] += a1 * pair[j + 1];
      }
    }
  }
  for (int r = 0; r < MR; ++r)
    for (int l = 0; l < 8; ++l) c[r * ldc + l] = lanes[r][2 * l] + lanes[r][2 * l + 1];
}

void GemmPortable(const int16_t* a, int64_t lda, int rows, int kp, const int16_t* b, int np, int32_t* c,
                  int64_t ldc) {
  for (int j0 = 0; j0 < np; j0 += 8) {
    const int16_t* panel = b + static_cast<int64_t>(j0) * kp;
    int m = 0;
    for (; m + 4 <= rows; m += 4) TilePortable<4>(a + m * lda, lda, kp, panel, c + m * ldc + j0, ldc);
    for (; m < rows; ++m) TilePortable<1>(a + m * lda, lda, kp, panel, c + m * ldc + j0, ldc);
  }
}

void RequantizePortable(const int32_t* c, int64_t ldc, int rows, int n, const ChannelRequant& r, int32_t output_offset,
                        int32_t act_min, int32_t act_max, int8_t* out, int64_t ldo) {
  for (int m = 0; m < rows; ++m) {
    const int32_t* row = c + m * ldc;
    int8_t* o = out + m * ldo;
    for (int j = 0; j < n; ++j) o[j] = ClampTo(Requantize(row[j] + r.bias[j], r, j) + output_offset, act_min, act_max);
  }
}

void AddPortable(const AddParams& p, const int8_t* a, const int8_t* b, int64_t begin, int64_t n, int8_t* out) {
  for (int64_t i = begin; i < n; ++i) {
    const int32_t x1 = MultiplyByQuantizedMultiplier((a[i] + p.input1_offset) * (1 << 20), p.input1);
    const int32_t x2 = MultiplyByQuantizedMultiplier((b[i] + p.input2_offset) * (1 << 20), p.input2);
    out[i] = ClampTo(MultiplyByQuantizedMultiplier(x1 + x2, p.output) + p.output_offset, p.act_min, p.act_max);
  }
}

void MultiplyAccumulatePortable(const int16_t* f, const int8_t* x, int64_t begin, int64_t n, int32_t offset,
                                int32_t* acc) {
  for (int64_t j = begin; j < n; ++j) acc[j] += f[j] * (x[j] + offset);
}

void MaxOverWindowPortable(const int8_t* in, int width, int channels, int y0, int y1, int x0, int x1, int8_t lo,
                           int8_t hi, int c0, int8_t* o) {
  for (int c = c0; c < channels; ++c) o[c] = -128;
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      const int8_t* v = in + (static_cast<int64_t>(y) * width + x) * channels;
      for (int c = c0; c < channels; ++c) o[c] = std::max(o[c], v[c]);
    }
  }
  for (int c = c0; c < channels; ++c) o[c] = std::min(std::max(o[c], lo), hi);
}

void QuantizeFloatsPortable(const float* values, int64_t begin, int64_t n, float scale, int64_t zero_point,
                            int8_t* out) {
  for (int64_t i = begin; i < n; ++i) {
    const auto v = static_cast<int64_t>(std::round(values[i] / scale)) + zero_point;
    out[i] = static_cast<int8_t>(std::clamp<int64_t>(v, -128, 127));
  }
}

// ---- AVX2 ----
#if UNAS_QUANT_AVX2

// What MbqmAvx2 reproduces exactly (ChannelRequant::vectorizable's rule).
bool Vectorizable(const QuantizedMultiplier& m) {
  return m.multiplier != std::numeric_limits<int32_t>::min() && m.shift <= 31 && m.shift >= -31;
}

// An MR x (8 * NV) tile of the GEMM: per pair of K, each row's two values
// broadcast as one int32 and multiplied with the panels' 8 channels x 2
// values by vpmaddwd (exact int32 sums of two int16 products).
template <int MR, int NV>
UNAS_AVX2_FN void TileAvx2(const int16_t* a, int64_t lda, int kp, const int16_t* b, int64_t panel_stride, int32_t* c,
                           int64_t ldc) {
  __m256i acc[MR][NV];
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_setzero_si256();
  for (int k = 0; k < kp; k += 2) {
    __m256i bv[NV];
    for (int v = 0; v < NV; ++v) {
      bv[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + v * panel_stride + k * 8));
    }
    for (int r = 0; r < MR; ++r) {
      int32_t pair;
      std::memcpy(&pair, a + r * lda + k, sizeof pair);
      const __m256i av = _mm256_set1_epi32(pair);
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_add_epi32(acc[r][v], _mm256_madd_epi16(av, bv[v]));
    }
  }
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < NV; ++v) _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * ldc + v * 8), acc[r][v]);
}

template <int NV>
UNAS_AVX2_FN void PanelsAvx2(const int16_t* a, int64_t lda, int rows, int kp, const int16_t* b, int32_t* c,
                             int64_t ldc) {
  const int64_t stride = static_cast<int64_t>(kp) * 8;
  int m = 0;
  for (; m + 4 <= rows; m += 4) TileAvx2<4, NV>(a + m * lda, lda, kp, b, stride, c + m * ldc, ldc);
  switch (rows - m) {
    case 3: TileAvx2<3, NV>(a + m * lda, lda, kp, b, stride, c + m * ldc, ldc); break;
    case 2: TileAvx2<2, NV>(a + m * lda, lda, kp, b, stride, c + m * ldc, ldc); break;
    case 1: TileAvx2<1, NV>(a + m * lda, lda, kp, b, stride, c + m * ldc, ldc); break;
    default: break;
  }
}

UNAS_AVX2_FN void GemmAvx2(const int16_t* a, int64_t lda, int rows, int kp, const int16_t* b, int np, int32_t* c,
                           int64_t ldc) {
  int j0 = 0;
  for (; j0 + 16 <= np; j0 += 16) PanelsAvx2<2>(a, lda, rows, kp, b + static_cast<int64_t>(j0) * kp, c + j0, ldc);
  if (j0 < np) PanelsAvx2<1>(a, lda, rows, kp, b + static_cast<int64_t>(j0) * kp, c + j0, ldc);
}

// MultiplyByQuantizedMultiplier on 8 lanes (see arithmetic.h for why this
// is exact): x << left, floor((x * m + 2^30) / 2^31), then
// RoundingDivideByPOT by right.
UNAS_AVX2_FN inline __m256i MbqmAvx2(__m256i x, __m256i multiplier, __m256i left, __m256i right) {
  x = _mm256_sllv_epi32(x, left);
  const __m256i nudge = _mm256_set1_epi64x(int64_t{1} << 30);
  // 64-bit products of the even lanes, then of the odd lanes moved down.
  __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, multiplier), nudge);
  __m256i odd = _mm256_add_epi64(
      _mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(multiplier, 32)), nudge);
  // Bits 31..62 of each product: a logical shift leaves the same low 32 bits
  // as the arithmetic shift AVX2 lacks for 64-bit lanes.
  even = _mm256_srli_epi64(even, 31);
  odd = _mm256_slli_epi64(_mm256_srli_epi64(odd, 31), 32);
  const __m256i high = _mm256_blend_epi32(even, odd, 0xAA);
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
  const __m256i remainder = _mm256_and_si256(high, mask);
  // cmpgt gives -1 for true: subtracting it adds 1.
  const __m256i threshold =
      _mm256_sub_epi32(_mm256_srai_epi32(mask, 1), _mm256_cmpgt_epi32(_mm256_setzero_si256(), high));
  return _mm256_sub_epi32(_mm256_srav_epi32(high, right), _mm256_cmpgt_epi32(remainder, threshold));
}

// Clamped int32 lanes (within int8) to 8 bytes.
UNAS_AVX2_FN inline __m128i PackInt8Avx2(__m256i v) {
  const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  return _mm_packs_epi16(w, w);
}

UNAS_AVX2_FN inline __m256i Load8(const int32_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

UNAS_AVX2_FN void RequantizeAvx2(const int32_t* c, int64_t ldc, int rows, int n, const ChannelRequant& r,
                                 int32_t output_offset, int32_t act_min, int32_t act_max, int8_t* out, int64_t ldo) {
  const __m256i offset = _mm256_set1_epi32(output_offset);
  const __m256i lo = _mm256_set1_epi32(act_min), hi = _mm256_set1_epi32(act_max);
  for (int m = 0; m < rows; ++m) {
    const int32_t* row = c + m * ldc;
    int8_t* o = out + m * ldo;
    for (int j = 0; j < n; j += 8) {
      const __m256i acc = _mm256_add_epi32(Load8(row + j), Load8(r.bias.data() + j));
      __m256i v = MbqmAvx2(acc, Load8(r.multiplier.data() + j), Load8(r.left_shift.data() + j),
                           Load8(r.right_shift.data() + j));
      v = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(v, offset), lo), hi);
      const __m128i bytes = PackInt8Avx2(v);
      if (j + 8 <= n) {
        _mm_storel_epi64(reinterpret_cast<__m128i*>(o + j), bytes);
      } else {
        alignas(16) int8_t tail[16];
        _mm_store_si128(reinterpret_cast<__m128i*>(tail), bytes);
        std::memcpy(o + j, tail, static_cast<size_t>(n - j));
      }
    }
  }
}

UNAS_AVX2_FN inline __m256i Set1(int32_t v) { return _mm256_set1_epi32(v); }

UNAS_AVX2_FN void AddAvx2(const AddParams& p, const int8_t* a, const int8_t* b, int64_t n, int8_t* out) {
  const __m256i off1 = Set1(p.input1_offset), off2 = Set1(p.input2_offset), off_out = Set1(p.output_offset);
  const __m256i m1 = Set1(p.input1.multiplier), l1 = Set1(std::max(p.input1.shift, 0)), r1 = Set1(std::max(-p.input1.shift, 0));
  const __m256i m2 = Set1(p.input2.multiplier), l2 = Set1(std::max(p.input2.shift, 0)), r2 = Set1(std::max(-p.input2.shift, 0));
  const __m256i mo = Set1(p.output.multiplier), lo_s = Set1(std::max(p.output.shift, 0)), ro = Set1(std::max(-p.output.shift, 0));
  const __m256i lo = Set1(p.act_min), hi = Set1(p.act_max);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i x = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(a + i)));
    const __m256i y = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b + i)));
    const __m256i x1 = MbqmAvx2(_mm256_slli_epi32(_mm256_add_epi32(x, off1), 20), m1, l1, r1);
    const __m256i x2 = MbqmAvx2(_mm256_slli_epi32(_mm256_add_epi32(y, off2), 20), m2, l2, r2);
    __m256i v = _mm256_add_epi32(MbqmAvx2(_mm256_add_epi32(x1, x2), mo, lo_s, ro), off_out);
    v = _mm256_min_epi32(_mm256_max_epi32(v, lo), hi);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), PackInt8Avx2(v));
  }
  AddPortable(p, a, b, i, n, out);
}

UNAS_AVX2_FN void MultiplyAccumulateAvx2(const int16_t* f, const int8_t* x, int64_t n, int32_t offset, int32_t* acc) {
  const __m256i off = _mm256_set1_epi16(static_cast<int16_t>(offset));
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m256i xs = _mm256_add_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + j))), off);
    // Exact in int16 (see arithmetic.h), then widened.
    const __m256i product = _mm256_mullo_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(f + j)), xs);
    __m256i* a = reinterpret_cast<__m256i*>(acc + j);
    _mm256_storeu_si256(a, _mm256_add_epi32(_mm256_loadu_si256(a), _mm256_cvtepi16_epi32(_mm256_castsi256_si128(product))));
    _mm256_storeu_si256(a + 1, _mm256_add_epi32(_mm256_loadu_si256(a + 1),
                                                _mm256_cvtepi16_epi32(_mm256_extracti128_si256(product, 1))));
  }
  MultiplyAccumulatePortable(f, x, j, n, offset, acc);
}

// 16 channels at a time (then 8), one vpmaxsb per pixel of the window.
UNAS_AVX2_FN void MaxOverWindowAvx2(const int8_t* in, int width, int channels, int y0, int y1, int x0, int x1,
                                    int8_t lo, int8_t hi, int8_t* o) {
  const __m128i low = _mm_set1_epi8(lo), high = _mm_set1_epi8(hi);
  int c = 0;
  for (; c + 8 <= channels; c += c + 16 <= channels ? 16 : 8) {
    const bool wide = c + 16 <= channels;
    __m128i m = _mm_set1_epi8(-128);
    for (int y = y0; y < y1; ++y) {
      const int8_t* row = in + (static_cast<int64_t>(y) * width) * channels + c;
      for (int x = x0; x < x1; ++x) {
        const auto* v = reinterpret_cast<const __m128i*>(row + static_cast<int64_t>(x) * channels);
        m = _mm_max_epi8(m, wide ? _mm_loadu_si128(v) : _mm_loadl_epi64(v));
      }
    }
    m = _mm_min_epi8(_mm_max_epi8(m, low), high);
    if (wide) _mm_storeu_si128(reinterpret_cast<__m128i*>(o + c), m);
    else _mm_storel_epi64(reinterpret_cast<__m128i*>(o + c), m);
  }
  if (c < channels) MaxOverWindowPortable(in, width, channels, y0, y1, x0, x1, lo, hi, c, o);
}

UNAS_AVX2_FN void QuantizeFloatsAvx2(const float* values, int64_t n, float scale, int64_t zero_point, int8_t* out) {
  const __m256 divisor = _mm256_set1_ps(scale), half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
  const __m256 sign_bit = _mm256_set1_ps(-0.0f), limit = _mm256_set1_ps(16777216.0f);  // 2^24
  const __m256i zp = _mm256_set1_epi32(static_cast<int32_t>(zero_point)), lo = _mm256_set1_epi32(-128), hi = _mm256_set1_epi32(127);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 q = _mm256_div_ps(_mm256_loadu_ps(values + i), divisor);
    const __m256 magnitude = _mm256_andnot_ps(sign_bit, q);
    // Ordered compare: false for NaN, so NaN lanes take the scalar rule too.
    if (_mm256_movemask_ps(_mm256_cmp_ps(magnitude, limit, _CMP_LT_OQ)) != 0xFF) {
      QuantizeFloatsPortable(values, i, i + 8, scale, zero_point, out);
      continue;
    }
    const __m256 t = _mm256_round_ps(q, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 away = _mm256_and_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign_bit, _mm256_sub_ps(q, t)), half, _CMP_GE_OQ),
                                      _mm256_or_ps(one, _mm256_and_ps(sign_bit, q)));  // +-1 where |q - t| >= 0.5
    __m256i v = _mm256_add_epi32(_mm256_cvttps_epi32(_mm256_add_ps(t, away)), zp);
    v = _mm256_min_epi32(_mm256_max_epi32(v, lo), hi);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), PackInt8Avx2(v));
  }
  QuantizeFloatsPortable(values, i, n, scale, zero_point, out);
}

#endif  // UNAS_QUANT_AVX2

}  // namespace

bool CpuHasAvx2() {
#if UNAS_QUANT_AVX2
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return has;
#else
  return false;
#endif
}

std::vector<int16_t> PackGemmB(const std::vector<int16_t>& rows, int n, int k) {
  const int kp = GemmPaddedK(k), np = PaddedChannels(n);
  std::vector<int16_t> packed(static_cast<size_t>(np) * kp, 0);
  for (int j = 0; j < n; ++j) {
    int16_t* panel = packed.data() + static_cast<int64_t>(j / 8) * 8 * kp;
    for (int i = 0; i < k; ++i) panel[(i / 2) * 16 + (j % 8) * 2 + i % 2] = rows[static_cast<size_t>(j) * k + i];
  }
  return packed;
}

void GemmInt16(const int16_t* a, int64_t lda, int rows, int k_padded, const int16_t* packed_b, int n_padded,
               int32_t* c, int64_t ldc, bool avx2) {
#if UNAS_QUANT_AVX2
  if (avx2) return GemmAvx2(a, lda, rows, k_padded, packed_b, n_padded, c, ldc);
#endif
  GemmPortable(a, lda, rows, k_padded, packed_b, n_padded, c, ldc);
}

void RequantizeRows(const int32_t* c, int64_t ldc, int rows, int n, const ChannelRequant& requant,
                    int32_t output_offset, int32_t act_min, int32_t act_max, int8_t* out, int64_t ldo, bool avx2) {
#if UNAS_QUANT_AVX2
  if (avx2 && requant.vectorizable) {
    return RequantizeAvx2(c, ldc, rows, n, requant, output_offset, act_min, act_max, out, ldo);
  }
#endif
  RequantizePortable(c, ldc, rows, n, requant, output_offset, act_min, act_max, out, ldo);
}

void MultiplyAccumulate(const int16_t* f, const int8_t* x, int64_t n, int32_t offset, int32_t* acc, bool avx2) {
#if UNAS_QUANT_AVX2
  if (avx2) return MultiplyAccumulateAvx2(f, x, n, offset, acc);
#endif
  MultiplyAccumulatePortable(f, x, 0, n, offset, acc);
}

void MaxOverWindow(const int8_t* in, int width, int channels, int y0, int y1, int x0, int x1, int8_t lo, int8_t hi,
                   int8_t* o, bool avx2) {
#if UNAS_QUANT_AVX2
  if (avx2) return MaxOverWindowAvx2(in, width, channels, y0, y1, x0, x1, lo, hi, o);
#endif
  MaxOverWindowPortable(in, width, channels, y0, y1, x0, x1, lo, hi, 0, o);
}

void QuantizeFloats(const float* values, int64_t n, float scale, int64_t zero_point, int8_t* out, bool avx2) {
#if UNAS_QUANT_AVX2
  if (avx2 && zero_point >= -(1 << 20) && zero_point <= (1 << 20)) return QuantizeFloatsAvx2(values, n, scale, zero_point, out);
#endif
  QuantizeFloatsPortable(values, 0, n, scale, zero_point, out);
}

void AddElementwise(const AddParams& params, const int8_t* a, const int8_t* b, int64_t n, int8_t* out, bool avx2) {
#if UNAS_QUANT_AVX2
  if (avx2 && Vectorizable(params.input1) && Vectorizable(params.input2) && Vectorizable(params.output)) {
    return AddAvx2(params, a, b, n, out);
  }
#endif
  AddPortable(params, a, b, 0, n, out);
}

}  // namespace unas::quant::kernels
