/* unas int8 kernels: the bodies, as always-inline functions. Internal to
 * the generated library: unas_kernels.c instantiates them with run-time
 * parameters (the functions of unas_kernels.h), and model.c instantiates
 * them once per operator with its parameter struct, a `static const` whose
 * fields the compiler folds into the loops (shape-specialised code: loop
 * bounds, strides and weight offsets become immediates, freeing the
 * registers the inner loops need, and branches for shapes the operator
 * does not have disappear).
 *
 * Two implementations of every body, chosen at compile time:
 *
 * - Portable C (any C99 compiler: hosts, Cortex-M0+/M3): output element
 *   outermost, then the reduction, so each kernel reads as its definition.
 *   This is the reference the fast path is tested against.
 * - The DSP path (UNAS_DSP: Cortex-M4/M7/M33, i.e. __ARM_FEATURE_DSP,
 *   through the ACLE intrinsics of arm_acle.h): four int8 values are loaded
 *   in one 32-bit word, sign-extended in pairs to 16 bits by SXTB16 (bytes
 *   0 and 2; with ROR #8 bytes 1 and 3) and multiplied and summed two at a
 *   time by SMLAD. Inputs and weights are split the same way, so the
 *   weights need no reordering. Convolutions compute two output pixels by
 *   two output channels at a time (four accumulators in registers: each
 *   expanded input word serves two channels, each expanded weight word two
 *   pixels); dense layers four units at a time; depthwise convolutions,
 *   pooling four channels at a time. A row whose length is not a multiple
 *   of four ends with one more word whose extra bytes are masked to zero in
 *   one operand, when that word lies inside the tensor (checked per pixel;
 *   the generator pads every weight array with 4 bytes so that weight words
 *   never leave theirs).
 *
 * Both produce the same int8 outputs for every input: the integer sums are
 * exact (SMLAD's 32-bit accumulate of int8 x int8 products is the C sum),
 * and both requantise with the same function.
 *
 * -DUNAS_PORTABLE forces the portable path on a DSP core; -DUNAS_DSP_EMULATE
 * runs the DSP path on a host with the instructions defined in C (the tests
 * do, under AddressSanitizer and UBSan). */
#ifndef UNAS_KERNELS_IMPL_H
#define UNAS_KERNELS_IMPL_H

#include <stdint.h>
#include <string.h>

#include "unas_kernels.h"

#if defined(UNAS_DSP_EMULATE) || (defined(__ARM_FEATURE_DSP) && !defined(UNAS_PORTABLE))
#define UNAS_DSP 1
#else
#define UNAS_DSP 0
#endif

#if UNAS_DSP && !defined(UNAS_DSP_EMULATE)
#include <arm_acle.h>
#endif

/* Always inlined, so that a specialised instance folds its constants; the
 * host emulation leaves inlining to the compiler (it builds much faster). */
#if defined(__GNUC__) && !defined(UNAS_DSP_EMULATE)
#define UNAS_INLINE static inline __attribute__((always_inline))
#else
#define UNAS_INLINE static inline
#endif

/* ------------------------------------------------------------------------
 * Requantisation (both paths)
 * ------------------------------------------------------------------------ */

/* x * 2^left_shift in 32-bit two's complement, as TFLite's `x * (1 <<
 * left_shift)` behaves on every real target and quant/fixed_point.cc
 * computes it; done on uint32 so that it is defined where it wraps (the
 * conversion back is implementation-defined, two's complement on every
 * compiler here), where int32 multiplication would be undefined. */
UNAS_INLINE int32_t unas_shift_left(int32_t x, int32_t left_shift) {
  return (int32_t)((uint32_t)x << left_shift);
}

/* gemmlowp's RoundingDivideByPOT: x / 2^exponent, rounded half away from
 * 0, exponent in [0, 31]: (x >> e) + (remainder > threshold), threshold =
 * (mask >> 1) + (x < 0), written as remainder - (x < 0) > mask >> 1 (x >> 31
 * is -1 for a negative x). Assumes >> of a negative value is arithmetic (as
 * on every target here). */
UNAS_INLINE int32_t unas_rounding_divide_by_pot(int32_t x, int32_t exponent) {
  const int32_t mask = (int32_t)((UINT32_C(1) << exponent) - 1u);
  return (x >> exponent) + (((x & mask) + (x >> 31)) > (mask >> 1) ? 1 : 0);
}

/* MultiplyByQuantizedMultiplier for multiplier >= 0. gemmlowp's
 * SaturatingRoundingDoublingHighMul adds 2^30 to a non-negative product t
 * and 1 - 2^30 to a negative one, then truncates the quotient by 2^31
 * toward zero; for a negative t that is ceil((t + 1 - 2^30) / 2^31) =
 * floor((t + 2^30) / 2^31), so both cases are one multiply-accumulate
 * (SMLAL on Cortex-M) and an arithmetic shift. Its one saturating case
 * (both operands INT32_MIN) needs a negative multiplier. */
UNAS_INLINE int32_t unas_multiply(int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t left = shift > 0 ? shift : 0, right = left - shift;
  const int64_t t = (int64_t)unas_shift_left(x, left) * multiplier + ((int64_t)1 << 30);
  return unas_rounding_divide_by_pot((int32_t)(t >> 31), right);
}

/* Clamps to [act_min, act_max], a sub-range of int8 (the bounds tests fold
 * away when the range is all of int8). */
UNAS_INLINE int8_t unas_clamp8(int32_t v, int32_t act_min, int32_t act_max) {
#if UNAS_DSP && !defined(UNAS_DSP_EMULATE)
  v = __ssat(v, 8);
#else
  v = v < -128 ? -128 : v > 127 ? 127 : v;
#endif
  if (act_min > -128 && v < act_min) v = act_min;
  if (act_max < 127 && v > act_max) v = act_max;
  return (int8_t)v;
}

UNAS_INLINE int8_t unas_requantize(int32_t acc, int32_t multiplier, int32_t shift, int32_t output_offset,
                                   int32_t act_min, int32_t act_max) {
  return unas_clamp8(unas_multiply(acc, multiplier, shift) + output_offset, act_min, act_max);
}

/* MultiplyByQuantizedMultiplier with a prepared multiplier (unas_kernels.h:
 * unas_requant): gemmlowp's h = floor((x m + 2^30) / 2^31), then
 * RoundingDivideByPOT(h, R) = floor((h + 2^(R-1) - [h < 0]) / 2^R) for
 * R >= 1; nested floors by powers of two are one floor, so the result is
 * floor((x m + 2^30 + 2^(30+R) - [x m + 2^30 < 0] 2^31) / 2^(31+R)), the
 * high word of a 64-bit multiply-accumulate shifted by R - 1. */
UNAS_INLINE int32_t unas_multiply_prepared(int32_t x, const unas_requant *r) {
  uint32_t lo = r->k_lo;
  int32_t hi = r->k_hi;
  int64_t sum;
  if (x < r->neg_below) {
    lo ^= UINT32_C(0x80000000);
    hi = r->k_hi_neg;
  }
  sum = (int64_t)(((uint64_t)(uint32_t)hi << 32) | lo) + (int64_t)x * r->multiplier;
  return (int32_t)(sum >> 32) >> r->shift;
}

/* Requantisation of output channel c: the prepared multiplier when the
 * generator made one (a constant in a specialised kernel), else the
 * multiplier and shift arrays. */
UNAS_INLINE int8_t unas_requantize_channel(int32_t acc, const unas_requant *requant, const int32_t *multiplier,
                                           const int32_t *shift, int32_t c, int32_t output_offset, int32_t act_min,
                                           int32_t act_max) {
  const int32_t v = requant ? unas_multiply_prepared(acc, &requant[c]) : unas_multiply(acc, multiplier[c], shift[c]);
  return unas_clamp8(v + output_offset, act_min, act_max);
}

UNAS_INLINE int32_t unas_pixel(int32_t y, int32_t x, int32_t w) { return y * w + x; }

/* sum over i < n of x[i] * w[i]: the portable inner loop (and the DSP
 * path's tails). On Thumb-1 (Cortex-M0+: eight low registers) a call of its
 * own keeps the loop in registers, where inlined into a convolution's loops
 * the sum was spilled on every element. */
#if defined(__GNUC__) && defined(__thumb__) && !defined(__thumb2__)
static __attribute__((noinline, unused)) int32_t unas_dot_s8(const int8_t *x, const int8_t *w, int32_t n) {
#else
UNAS_INLINE int32_t unas_dot_s8(const int8_t *x, const int8_t *w, int32_t n) {
#endif
  int32_t acc = 0;
  while (n-- > 0) acc += *x++ * *w++;
  return acc;
}

#if defined(__GNUC__) && !defined(__clang__)
#define UNAS_UNROLL(n) _Pragma("GCC unroll 8")
#else
#define UNAS_UNROLL(n)
#endif

#if UNAS_DSP
/* ------------------------------------------------------------------------
 * The DSP extension's instructions
 * ------------------------------------------------------------------------ */
#if !defined(UNAS_DSP_EMULATE)
UNAS_INLINE int32_t unas_sxtb16(int32_t x) { return __sxtb16(x); }
/* ACLE has no rotate operand for SXTB16; the instruction has one. */
UNAS_INLINE int32_t unas_sxtb16_ror8(int32_t x) {
  int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}
UNAS_INLINE int32_t unas_smlad(int32_t a, int32_t b, int32_t acc) { return __smlad(a, b, acc); }
UNAS_INLINE int32_t unas_smlabb(int32_t a, int32_t b, int32_t acc) { return __smlabb(a, b, acc); }
UNAS_INLINE int32_t unas_smlatt(int32_t a, int32_t b, int32_t acc) { return __smlatt(a, b, acc); }
UNAS_INLINE int32_t unas_sadd16(int32_t a, int32_t b) { return __sadd16(a, b); }
/* Lane-wise maximum of four int8: SSUB8 sets a GE flag per byte where
 * a >= b and SEL picks by them (one asm statement, so nothing can clobber
 * the flags in between). */
UNAS_INLINE int32_t unas_max8x4(int32_t a, int32_t b) {
  int32_t r;
  __asm__("ssub8 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(r) : "r"(a), "r"(b) : "cc");
  return r;
}
#else
/* The same instructions defined in C after the Arm Architecture Reference
 * Manual; sums wrap as the hardware's do. */
UNAS_INLINE int32_t unas_lane16(int32_t x, int hi) { return (int16_t)(uint16_t)((uint32_t)x >> (hi ? 16 : 0)); }
UNAS_INLINE int32_t unas_byte(int32_t x, int i) { return (int8_t)(uint8_t)((uint32_t)x >> (8 * i)); }
UNAS_INLINE int32_t unas_pack16(int32_t lo, int32_t hi) {
  return (int32_t)(((uint32_t)hi << 16) | ((uint32_t)lo & 0xFFFFu));
}
UNAS_INLINE int32_t unas_wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
UNAS_INLINE int32_t unas_sxtb16(int32_t x) { return unas_pack16(unas_byte(x, 0), unas_byte(x, 2)); }
UNAS_INLINE int32_t unas_sxtb16_ror8(int32_t x) { return unas_pack16(unas_byte(x, 1), unas_byte(x, 3)); }
UNAS_INLINE int32_t unas_smlad(int32_t a, int32_t b, int32_t acc) {
  return unas_wrap_add(acc, unas_lane16(a, 0) * unas_lane16(b, 0) + unas_lane16(a, 1) * unas_lane16(b, 1));
}
UNAS_INLINE int32_t unas_smlabb(int32_t a, int32_t b, int32_t acc) {
  return unas_wrap_add(acc, unas_lane16(a, 0) * unas_lane16(b, 0));
}
UNAS_INLINE int32_t unas_smlatt(int32_t a, int32_t b, int32_t acc) {
  return unas_wrap_add(acc, unas_lane16(a, 1) * unas_lane16(b, 1));
}
UNAS_INLINE int32_t unas_sadd16(int32_t a, int32_t b) {
  return unas_pack16(unas_lane16(a, 0) + unas_lane16(b, 0), unas_lane16(a, 1) + unas_lane16(b, 1));
}
UNAS_INLINE int32_t unas_max8x4(int32_t a, int32_t b) {
  uint32_t r = 0;
  int i;
  for (i = 0; i < 4; ++i) {
    const int32_t x = unas_byte(a, i), y = unas_byte(b, i);
    r |= (uint32_t)(uint8_t)(x >= y ? x : y) << (8 * i);
  }
  return (int32_t)r;
}
#endif

/* Four int8 values at any alignment (one LDR on Cortex-M4/M7). */
UNAS_INLINE int32_t unas_load4(const int8_t *p) {
  int32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

/* The low n & 3 bytes of a word (n & 3 in 1..3): the tail of a row. */
UNAS_INLINE int32_t unas_tail_mask(int32_t n) { return (int32_t)(UINT32_C(0xFFFFFFFF) >> (8 * (4 - (n & 3)))); }

/* acc + sum over i < n of x[i] * w[i] (the generic slice kernels' loop). */
UNAS_INLINE int32_t unas_dot_dsp(const int8_t *x, const int8_t *w, int32_t n, int32_t acc) {
  int32_t i;
  for (i = n >> 2; i > 0; --i) {
    const int32_t xv = unas_load4(x), wv = unas_load4(w);
    acc = unas_smlad(unas_sxtb16(xv), unas_sxtb16(wv), acc);
    acc = unas_smlad(unas_sxtb16_ror8(xv), unas_sxtb16_ror8(wv), acc);
    x += 4;
    w += 4;
  }
  for (i = n & 3; i > 0; --i) acc += *x++ * *w++;
  return acc;
}

/* The inner loops of convolution and dense layers: one input row against
 * `rows` (4, 2 or 1) weight rows, at wa, wa + dw, wb, wb + dw (4), wa,
 * wa + dw (2) or wa (1): s[j] += x . row j.
 *
 * unas_mac_words: `words` (>= 1) words of four; advances x, wa, wb.
 * Per word: one load and two SXTB16 for the input, then per row one load,
 * two SXTB16 and two SMLAD: 25 instructions for 16 multiply-accumulates
 * with four rows. Written as asm loops on Cortex-M: as C, GCC hoists the
 * four weight loads and runs out of registers (spilling in the inner loop).
 *
 * unas_mac_tail: the last n & 3 (1..3) elements as one word, the input
 * word masked to them (so that the weights' extra bytes multiply zeros);
 * reads four bytes at x and at each row. */
#if !defined(UNAS_DSP_EMULATE)
#define UNAS_MAC_ROW(acc, addr)                      \
  "ldr %[t], " addr "\n\t"                          \
  "sxtb16 %[v], %[t]\n\t"                           \
  "smlad %[" acc "], %[xl], %[v], %[" acc "]\n\t"   \
  "sxtb16 %[v], %[t], ror #8\n\t"                   \
  "smlad %[" acc "], %[xh], %[v], %[" acc "]\n\t"
#define UNAS_MAC_ROW_LOW(acc, addr)                  \
  "ldr %[t], " addr "\n\t"                          \
  "sxtb16 %[v], %[t]\n\t"                           \
  "smlad %[" acc "], %[xl], %[v], %[" acc "]\n\t"
#define UNAS_MAC_LOAD_X                             \
  "ldr %[t], [%[x]], #4\n\t"                        \
  "sxtb16 %[xl], %[t]\n\t"                          \
  "sxtb16 %[xh], %[t], ror #8\n\t"
#define UNAS_MAC_LOAD_TAIL                          \
  "ldr %[t], [%[x]]\n\t"                            \
  "and %[t], %[t], %[keep]\n\t"                     \
  "sxtb16 %[xl], %[t]\n\t"                          \
  "sxtb16 %[xh], %[t], ror #8\n\t"
#define UNAS_MAC_LOAD_TAIL1                         \
  "ldr %[t], [%[x]]\n\t"                            \
  "and %[t], %[t], #255\n\t"                        \
  "sxtb16 %[xl], %[t]\n\t"

UNAS_INLINE void unas_mac_words(int rows, const int8_t **x, const int8_t **wa, const int8_t **wb, int32_t dw,
                                int32_t words, int32_t *s) {
  const int8_t *xp = *x, *ap = *wa, *bp = *wb, *const end = *x + 4 * words;
  int32_t s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3], t, v, xl, xh;
  if (rows == 4) {
    __asm__("1:\n\t" UNAS_MAC_LOAD_X
            UNAS_MAC_ROW("s1", "[%[a], %[dw]]")
            UNAS_MAC_ROW("s0", "[%[a]], #4")
            UNAS_MAC_ROW("s3", "[%[b], %[dw]]")
            UNAS_MAC_ROW("s2", "[%[b]], #4")
            "cmp %[x], %[end]\n\t"
            "bne 1b"
            : [x] "+r"(xp), [a] "+r"(ap), [b] "+r"(bp), [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2),
              [s3] "+r"(s3), [t] "=&r"(t), [v] "=&r"(v), [xl] "=&r"(xl), [xh] "=&r"(xh)
            : [dw] "r"(dw), [end] "r"(end)
            : "cc", "memory");
  } else if (rows == 2) {
    __asm__("1:\n\t" UNAS_MAC_LOAD_X
            UNAS_MAC_ROW("s1", "[%[a], %[dw]]")
            UNAS_MAC_ROW("s0", "[%[a]], #4")
            "cmp %[x], %[end]\n\t"
            "bne 1b"
            : [x] "+r"(xp), [a] "+r"(ap), [s0] "+r"(s0), [s1] "+r"(s1), [t] "=&r"(t), [v] "=&r"(v),
              [xl] "=&r"(xl), [xh] "=&r"(xh)
            : [dw] "r"(dw), [end] "r"(end)
            : "cc", "memory");
  } else {
    __asm__("1:\n\t" UNAS_MAC_LOAD_X
            UNAS_MAC_ROW("s0", "[%[a]], #4")
            "cmp %[x], %[end]\n\t"
            "bne 1b"
            : [x] "+r"(xp), [a] "+r"(ap), [s0] "+r"(s0), [t] "=&r"(t), [v] "=&r"(v), [xl] "=&r"(xl),
              [xh] "=&r"(xh)
            : [end] "r"(end)
            : "cc", "memory");
  }
  *x = xp;
  *wa = ap;
  *wb = bp;
  s[0] = s0;
  s[1] = s1;
  s[2] = s2;
  s[3] = s3;
}

UNAS_INLINE void unas_mac_tail(int rows, const int8_t *x, const int8_t *wa, const int8_t *wb, int32_t dw,
                               int32_t n, int32_t *s) {
  int32_t s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3], t, v, xl, xh;
  const int32_t keep = unas_tail_mask(n);
  if ((n & 3) == 1) {
    /* one element: the low pair (x0, 0) only */
    if (rows == 4) {
      __asm__(UNAS_MAC_LOAD_TAIL1
              UNAS_MAC_ROW_LOW("s1", "[%[a], %[dw]]")
              UNAS_MAC_ROW_LOW("s0", "[%[a]]")
              UNAS_MAC_ROW_LOW("s3", "[%[b], %[dw]]")
              UNAS_MAC_ROW_LOW("s2", "[%[b]]")
              : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), [t] "=&r"(t), [v] "=&r"(v),
                [xl] "=&r"(xl)
              : [x] "r"(x), [a] "r"(wa), [b] "r"(wb), [dw] "r"(dw)
              : "memory");
    } else if (rows == 2) {
      __asm__(UNAS_MAC_LOAD_TAIL1
              UNAS_MAC_ROW_LOW("s1", "[%[a], %[dw]]")
              UNAS_MAC_ROW_LOW("s0", "[%[a]]")
              : [s0] "+r"(s0), [s1] "+r"(s1), [t] "=&r"(t), [v] "=&r"(v), [xl] "=&r"(xl)
              : [x] "r"(x), [a] "r"(wa), [dw] "r"(dw)
              : "memory");
    } else {
      __asm__(UNAS_MAC_LOAD_TAIL1
              UNAS_MAC_ROW_LOW("s0", "[%[a]]")
              : [s0] "+r"(s0), [t] "=&r"(t), [v] "=&r"(v), [xl] "=&r"(xl)
              : [x] "r"(x), [a] "r"(wa)
              : "memory");
    }
    (void)xh;
  } else if (rows == 4) {
    __asm__(UNAS_MAC_LOAD_TAIL
            UNAS_MAC_ROW("s1", "[%[a], %[dw]]")
            UNAS_MAC_ROW("s0", "[%[a]]")
            UNAS_MAC_ROW("s3", "[%[b], %[dw]]")
            UNAS_MAC_ROW("s2", "[%[b]]")
            : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), [t] "=&r"(t), [v] "=&r"(v),
              [xl] "=&r"(xl), [xh] "=&r"(xh)
            : [x] "r"(x), [a] "r"(wa), [b] "r"(wb), [dw] "r"(dw), [keep] "r"(keep)
            : "memory");
  } else if (rows == 2) {
    __asm__(UNAS_MAC_LOAD_TAIL
            UNAS_MAC_ROW("s1", "[%[a], %[dw]]")
            UNAS_MAC_ROW("s0", "[%[a]]")
            : [s0] "+r"(s0), [s1] "+r"(s1), [t] "=&r"(t), [v] "=&r"(v), [xl] "=&r"(xl), [xh] "=&r"(xh)
            : [x] "r"(x), [a] "r"(wa), [dw] "r"(dw), [keep] "r"(keep)
            : "memory");
  } else {
    __asm__(UNAS_MAC_LOAD_TAIL
            UNAS_MAC_ROW("s0", "[%[a]]")
            : [s0] "+r"(s0), [t] "=&r"(t), [v] "=&r"(v), [xl] "=&r"(xl), [xh] "=&r"(xh)
            : [x] "r"(x), [a] "r"(wa), [keep] "r"(keep)
            : "memory");
  }
  s[0] = s0;
  s[1] = s1;
  s[2] = s2;
  s[3] = s3;
}

/* One tap of a depthwise convolution for four channels: the input word at
 * x and the weight word at w, a[j] += x[j] * w[j] (SMLABB / SMLATT keep the
 * products apart). Memory operands, so that the compiler folds a
 * specialised kernel's tap offsets into the loads. */
typedef struct {
  int8_t b[4];
} unas_word;

UNAS_INLINE void unas_dw_tap(const int8_t *x, const int8_t *w, int32_t *a) {
  int32_t t, u, v, z;
  __asm__("ldr %[t], %[xm]\n\t"
          "ldr %[u], %[wm]\n\t"
          "sxtb16 %[v], %[t]\n\t"
          "sxtb16 %[t], %[t], ror #8\n\t"
          "sxtb16 %[z], %[u]\n\t"
          "sxtb16 %[u], %[u], ror #8\n\t"
          "smlabb %[a0], %[v], %[z], %[a0]\n\t"
          "smlatt %[a2], %[v], %[z], %[a2]\n\t"
          "smlabb %[a1], %[t], %[u], %[a1]\n\t"
          "smlatt %[a3], %[t], %[u], %[a3]"
          : [a0] "+r"(a[0]), [a1] "+r"(a[1]), [a2] "+r"(a[2]), [a3] "+r"(a[3]), [t] "=&r"(t), [u] "=&r"(u),
            [v] "=&r"(v), [z] "=&r"(z)
          : [xm] "m"(*(const unas_word *)x), [wm] "m"(*(const unas_word *)w));
}
#else
/* The same loops in C, for the host emulation. */
UNAS_INLINE void unas_mac_word(int rows, int32_t xv, const int8_t *wa, const int8_t *wb, int32_t dw, int32_t *s) {
  const int32_t xl = unas_sxtb16(xv), xh = unas_sxtb16_ror8(xv);
  const int8_t *const row[4] = {wa, wa + dw, wb, wb + dw};
  int j;
  for (j = 0; j < rows; ++j) {
    const int32_t v = unas_load4(row[j]);
    s[j] = unas_smlad(xl, unas_sxtb16(v), s[j]);
    s[j] = unas_smlad(xh, unas_sxtb16_ror8(v), s[j]);
  }
}

UNAS_INLINE void unas_mac_words(int rows, const int8_t **x, const int8_t **wa, const int8_t **wb, int32_t dw,
                                int32_t words, int32_t *s) {
  for (; words > 0; --words) {
    unas_mac_word(rows, unas_load4(*x), *wa, *wb, dw, s);
    *x += 4;
    *wa += 4;
    *wb += 4;
  }
}

UNAS_INLINE void unas_mac_tail(int rows, const int8_t *x, const int8_t *wa, const int8_t *wb, int32_t dw,
                               int32_t n, int32_t *s) {
  unas_mac_word(rows, unas_load4(x) & unas_tail_mask(n), wa, wb, dw, s);
}

UNAS_INLINE void unas_dw_tap(const int8_t *x, const int8_t *w, int32_t *a) {
  const int32_t xv = unas_load4(x), wv = unas_load4(w);
  const int32_t xl = unas_sxtb16(xv), wl = unas_sxtb16(wv), xh = unas_sxtb16_ror8(xv), wh = unas_sxtb16_ror8(wv);
  a[0] = unas_smlabb(xl, wl, a[0]);
  a[2] = unas_smlatt(xl, wl, a[2]);
  a[1] = unas_smlabb(xh, wh, a[1]);
  a[3] = unas_smlatt(xh, wh, a[3]);
}
#endif

/* A convolution window (or a dense layer's whole input: k = 1) against
 * output channels [co, co + r), r in 1..4, of weights [channel][filter]:
 * s[j] for channel co + j, except with r = 3 (four rows, the second
 * repeated: channels co, co + 1, co + 1, co + 2; row j is channel co +
 * unas_row4(j, r)). `wide` allows the masked tail word (its four bytes lie
 * inside the input). */
UNAS_INLINE int32_t unas_row4(int32_t j, int32_t r) {
  return j == 0 ? 0 : j == 1 ? (r > 1) : j == 2 ? (r > 2 ? r - 2 : 0) : r - 1;
}

UNAS_INLINE void unas_window_rows(const int8_t *window, int32_t k, int32_t in_row, int32_t row, const int8_t *w,
                                  int32_t filter, int32_t r, int wide, int32_t *s) {
  const int rows = r >= 3 ? 4 : r;
  const int32_t dw = r > 1 ? filter : 0;
  int32_t ky, i, j;
  UNAS_UNROLL(8)
  for (ky = 0; ky < k; ++ky) {
    const int8_t *x = window + ky * in_row, *a = w + ky * row, *b = a + unas_row4(2, r) * filter;
    if (row >= 4) unas_mac_words(rows, &x, &a, &b, dw, row >> 2, s);
    if ((row & 3) != 0 && wide) {
      unas_mac_tail(rows, x, a, b, dw, row, s);
    } else {
      const int8_t *const at[4] = {a, a + dw, b, b + dw};
      for (i = 0; i < (row & 3); ++i) {
        for (j = 0; j < rows; ++j) s[j] += x[i] * at[j][i];
      }
    }
  }
}
#endif /* UNAS_DSP */

/* ------------------------------------------------------------------------
 * Bodies (contracts in unas_kernels.h)
 * ------------------------------------------------------------------------ */

/* Requantised output channel c of each kind of operator. */
UNAS_INLINE int8_t unas_conv_out(const unas_conv_params *p, int32_t acc, int32_t c) {
  return unas_requantize_channel(acc, p->requant, p->multiplier, p->shift, c, p->output_offset, p->act_min,
                                 p->act_max);
}
UNAS_INLINE int8_t unas_dense_out(const unas_dense_params *p, int32_t acc) {
  return unas_requantize_channel(acc, p->requant, &p->multiplier, &p->shift, 0, p->output_offset, p->act_min,
                                 p->act_max);
}
UNAS_INLINE int8_t unas_depthwise_out(const unas_depthwise_params *p, int32_t acc, int32_t c) {
  return unas_requantize_channel(acc, p->requant, p->multiplier, p->shift, c, p->output_offset, p->act_min,
                                 p->act_max);
}

#if UNAS_DSP
/* Output channels [co, co + r) of one pixel; o[c - out_first] is channel c. */
UNAS_INLINE void unas_conv_group(const unas_conv_params *p, const int8_t *window, int wide, int8_t *o,
                                 int32_t out_first, int32_t co, int32_t r) {
  const int32_t row = p->kernel * p->in_c, in_row = p->in_w * p->in_c;
  int32_t s[4], j;
  s[0] = p->bias[co];
  s[1] = p->bias[co + unas_row4(1, r)];
  s[2] = p->bias[co + unas_row4(2, r)];
  s[3] = p->bias[co + unas_row4(3, r)];
  unas_window_rows(window, p->kernel, in_row, row, p->weights + co * p->kernel * row, p->kernel * row, r, wide, s);
  /* channel co + j is s[j], except the third of three: s[3] */
  for (j = 0; j < r; ++j) o[co + j - out_first] = unas_conv_out(p, j == 2 && r == 3 ? s[3] : s[j], co + j);
}

/* Units [u, u + r) of a dense layer. */
UNAS_INLINE void unas_dense_group(const unas_dense_params *p, const int8_t *in, int8_t *out, int32_t u, int32_t r) {
  const int32_t n = p->in_h * p->in_w * p->in_c;
  int32_t s[4], j;
  s[0] = p->bias[u];
  s[1] = p->bias[u + unas_row4(1, r)];
  s[2] = p->bias[u + unas_row4(2, r)];
  s[3] = p->bias[u + unas_row4(3, r)];
  /* no masked tail: its word would read past the input */
  unas_window_rows(in, 1, n, n, p->weights + u * n, n, r, 0, s);
  for (j = 0; j < r; ++j) out[u + j] = unas_dense_out(p, j == 2 && r == 3 ? s[3] : s[j]);
}
#endif

UNAS_INLINE void unas_conv_s8_body(const unas_conv_params *p, const int8_t *in, int8_t *out, int32_t out_stride,
                                   int32_t out_first, int32_t co0, int32_t co1) {
  const int32_t k = p->kernel, row = k * p->in_c, in_row = p->in_w * p->in_c;
#if UNAS_DSP
  /* per output pixel, four output channels at a time; a masked tail word
   * reads up to 4 - (row & 3) bytes past a window row, which must stay
   * inside the input tensor */
  const int8_t *const in_end = in + p->in_h * in_row;
  const int32_t tail_end = (k - 1) * in_row + (row & ~3) + 4;
  int32_t oy, ox, co;
  for (oy = 0; oy < p->out_h; ++oy) {
    for (ox = 0; ox < p->out_w; ++ox) {
      int8_t *o = out + unas_pixel(oy, ox, p->out_w) * out_stride;
      const int8_t *window = in + unas_pixel(oy * p->stride, ox * p->stride, p->in_w) * p->in_c;
      const int wide = (row & 3) != 0 && window + tail_end <= in_end;
      /* whole groups of four (r a constant), then the last one to three */
      for (co = co0; co + 4 <= co1; co += 4) unas_conv_group(p, window, wide, o, out_first, co, 4);
      if (co < co1) unas_conv_group(p, window, wide, o, out_first, co, co1 - co);
    }
  }
#else
  const int32_t filter = k * row;
  int32_t oy, ox, co, ky;
  for (oy = 0; oy < p->out_h; ++oy) {
    for (ox = 0; ox < p->out_w; ++ox) {
      int8_t *o = out + unas_pixel(oy, ox, p->out_w) * out_stride;
      const int8_t *window = in + unas_pixel(oy * p->stride, ox * p->stride, p->in_w) * p->in_c;
      for (co = co0; co < co1; ++co) {
        int32_t acc = p->bias[co];
        /* one kernel row of the window is k * in_c contiguous bytes */
        for (ky = 0; ky < k; ++ky) acc += unas_dot_s8(window + ky * in_row, p->weights + co * filter + ky * row, row);
        o[co - out_first] = unas_conv_out(p, acc, co);
      }
    }
  }
#endif
}

UNAS_INLINE void unas_dense_s8_body(const unas_dense_params *p, const int8_t *in, int8_t *out) {
  int32_t u = 0;
#if UNAS_DSP
  /* four units at a time, then the last one to three */
  for (; u + 4 <= p->units; u += 4) unas_dense_group(p, in, out, u, 4);
  if (u < p->units) unas_dense_group(p, in, out, u, p->units - u);
#else
  const int32_t n = p->in_h * p->in_w * p->in_c;
  for (; u < p->units; ++u) {
    const int32_t acc = p->bias[u] + unas_dot_s8(in, p->weights + u * n, n);
    out[u] = unas_dense_out(p, acc);
  }
#endif
}

#if UNAS_DSP
/* Four depthwise channels at one output pixel: one word of input and one of
 * weights per window element, the four products kept apart by SMLABB /
 * SMLATT. `src` is the window's first element at the first channel, `w`
 * the weights of the first tap at that channel. */
UNAS_INLINE void unas_depthwise4(const unas_depthwise_params *p, const int8_t *src, int32_t in_stride,
                                 const int8_t *w, int32_t *a) {
  int32_t ky, kx;
  UNAS_UNROLL(8)
  for (ky = 0; ky < p->kernel; ++ky) {
    UNAS_UNROLL(8)
    for (kx = 0; kx < p->kernel; ++kx) {
      unas_dw_tap(src + unas_pixel(ky, kx, p->in_w) * in_stride, w + (ky * p->kernel + kx) * p->channels, a);
    }
  }
}
#endif

UNAS_INLINE void unas_depthwise_s8_body(const unas_depthwise_params *p, const int8_t *in, int32_t in_stride,
                                        int32_t in_first, int8_t *out, int32_t out_stride, int32_t out_first,
                                        int32_t c0, int32_t c1) {
  const int32_t k = p->kernel;
  int32_t oy, ox, c, ky, kx;
#if UNAS_DSP
  /* the last tap's word of a partial group of channels must stay inside
   * the input tensor */
  const int8_t *const in_end = in + p->in_h * p->in_w * in_stride;
  const int32_t last_tap = unas_pixel(k - 1, k - 1, p->in_w) * in_stride;
#endif
  for (oy = 0; oy < p->out_h; ++oy) {
    for (ox = 0; ox < p->out_w; ++ox) {
      /* o[c - out_first] is channel c of the output view, window[c -
       * in_first] channel c of the window's first element */
      int8_t *o = out + unas_pixel(oy, ox, p->out_w) * out_stride;
      const int8_t *window = in + unas_pixel(oy * p->stride, ox * p->stride, p->in_w) * in_stride;
      c = c0;
#if UNAS_DSP
      for (; c < c0 + ((c1 - c0) & ~3); c += 4) {
        int32_t a[4];
        a[0] = p->bias[c];
        a[1] = p->bias[c + 1];
        a[2] = p->bias[c + 2];
        a[3] = p->bias[c + 3];
        unas_depthwise4(p, window + (c - in_first), in_stride, p->weights + c, a);
        o[c - out_first] = unas_depthwise_out(p, a[0], c);
        o[c + 1 - out_first] = unas_depthwise_out(p, a[1], c + 1);
        o[c + 2 - out_first] = unas_depthwise_out(p, a[2], c + 2);
        o[c + 3 - out_first] = unas_depthwise_out(p, a[3], c + 3);
      }
      if (c1 - c == 3 && window + (c - in_first) + last_tap + 4 <= in_end) {
        /* the last three channels as a group of four (one or two are
         * cheaper one by one); the extra lane reads a byte of the tensor
         * and of the padded weights, and is dropped */
        int32_t a[4] = {0, 0, 0, 0}, j;
        for (j = 0; j < c1 - c; ++j) a[j] = p->bias[c + j];
        unas_depthwise4(p, window + (c - in_first), in_stride, p->weights + c, a);
        for (j = 0; j < c1 - c; ++j) {
          o[c + j - out_first] = unas_depthwise_out(p, a[j], c + j);
        }
        c = c1;
      }
#endif
      for (; c < c1; ++c) {
        int32_t acc = p->bias[c];
        UNAS_UNROLL(8)
        for (ky = 0; ky < k; ++ky) {
          UNAS_UNROLL(8)
          for (kx = 0; kx < k; ++kx) {
            acc += window[unas_pixel(ky, kx, p->in_w) * in_stride + (c - in_first)] *
                   p->weights[(ky * k + kx) * p->channels + c];
          }
        }
        o[c - out_first] = unas_depthwise_out(p, acc, c);
      }
    }
  }
}

/* Max (average = 0) or average pooling of channels [c0, c1). */
UNAS_INLINE void unas_pool_s8_body(const unas_pool_params *p, int average, const int8_t *in, int32_t in_stride,
                                   int32_t in_first, int8_t *out, int32_t out_stride, int32_t out_first, int32_t c0,
                                   int32_t c1) {
  int32_t oy, ox, c, y, x;
  for (oy = 0; oy < p->out_h; ++oy) {
    const int32_t y0 = oy * p->pool_h;
    const int32_t rows = (y0 + p->pool_h < p->in_h ? y0 + p->pool_h : p->in_h) - y0;
    for (ox = 0; ox < p->out_w; ++ox) {
      const int32_t x0 = ox * p->pool_w;
      const int32_t cols = (x0 + p->pool_w < p->in_w ? x0 + p->pool_w : p->in_w) - x0;
      const int32_t count = rows * cols;
      int8_t *o = out + unas_pixel(oy, ox, p->out_w) * out_stride;
      const int8_t *window = in + unas_pixel(y0, x0, p->in_w) * in_stride;
      c = c0;
#if UNAS_DSP
      /* four channels at a time: SSUB8 + SEL for the maximum, two 16-bit
       * lanes per SADD16 for the sum (a sum of at most 256 int8 fits in
       * int16; larger windows take the scalar loop) */
      if (!average || count <= 256) {
        for (; c < c0 + ((c1 - c0) & ~3); c += 4) {
          const int8_t *src = window + (c - in_first);
          int32_t m = unas_load4(src), lo = 0, hi = 0, j, v;
          for (y = 0; y < rows; ++y) {
            for (x = 0; x < cols; ++x) {
              const int32_t xv = unas_load4(src + unas_pixel(y, x, p->in_w) * in_stride);
              if (average) {
                lo = unas_sadd16(lo, unas_sxtb16(xv));
                hi = unas_sadd16(hi, unas_sxtb16_ror8(xv));
              } else {
                m = unas_max8x4(m, xv);
              }
            }
          }
          if (!average && p->act_min == -128 && p->act_max == 127) {
            memcpy(o + (c - out_first), &m, 4); /* the maxima as they are */
            continue;
          }
          for (j = 0; j < 4; ++j) {
            if (average) {
              /* lanes: lo holds channels 0 and 2, hi channels 1 and 3 */
              v = (int16_t)(uint16_t)((uint32_t)((j & 1) ? hi : lo) >> ((j & 2) ? 16 : 0));
              v = v > 0 ? (v + count / 2) / count : (v - count / 2) / count;
            } else {
              v = (int8_t)(uint8_t)((uint32_t)m >> (8 * j));
            }
            o[c + j - out_first] = unas_clamp8(v, p->act_min, p->act_max);
          }
        }
      }
#endif
      for (; c < c1; ++c) {
        int32_t acc = average ? 0 : -128;
        for (y = 0; y < rows; ++y) {
          for (x = 0; x < cols; ++x) {
            const int32_t v = window[unas_pixel(y, x, p->in_w) * in_stride + (c - in_first)];
            if (average) {
              acc += v;
            } else if (v > acc) {
              acc = v;
            }
          }
        }
        if (average) acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
        o[c - out_first] = unas_clamp8(acc, p->act_min, p->act_max);
      }
    }
  }
}

/* One binary ADD (TFLite's int8 Add): both operands (value - zero point)
 * << 20, scaled to a common scale, summed, requantised and clamped. */
UNAS_INLINE int32_t unas_add_one(const unas_add_stage *s, int32_t a, int32_t b) {
  const int32_t a20 = unas_shift_left(a + s->input1_offset, 20), b20 = unas_shift_left(b + s->input2_offset, 20);
  if (s->requant) {
    const int32_t r = unas_multiply_prepared(a20, &s->requant[0]) + unas_multiply_prepared(b20, &s->requant[1]);
    return unas_clamp8(unas_multiply_prepared(r, &s->requant[2]) + s->output_offset, s->act_min, s->act_max);
  } else {
    const int32_t r = unas_multiply(a20, s->input1_multiplier, s->input1_shift) +
                      unas_multiply(b20, s->input2_multiplier, s->input2_shift);
    return unas_clamp8(unas_multiply(r, s->output_multiplier, s->output_shift) + s->output_offset, s->act_min,
                       s->act_max);
  }
}

/* Adds of up to this many terms find each term's pixel once per output
 * pixel (a small array on the stack); longer chains look every element up. */
#define UNAS_ADD_TERMS 8

UNAS_INLINE void unas_add_s8_body(const unas_add_params *p, const int8_t *const *terms, int8_t *out) {
  const int32_t count = p->out_h * p->out_w * p->out_c;
  int32_t y, x, c, j, i, full = 1;
  for (j = 0; j < p->terms; ++j) {
    full &= p->term[j].h == p->out_h && p->term[j].w == p->out_w && p->term[j].c == p->out_c;
  }
  if (full) {
    /* every term has the sum's shape: contiguous elements (out may be any
     * term's memory; every term's element i is read before out[i] is
     * written) */
    if (p->terms == 2) {
      const int8_t *a = terms[0], *b = terms[1];
      for (i = 0; i < count; ++i) out[i] = (int8_t)unas_add_one(p->stage, a[i], b[i]);
      return;
    }
    for (i = 0; i < count; ++i) {
      int32_t sum = terms[0][i];
      UNAS_UNROLL(8)
      for (j = 1; j < p->terms; ++j) sum = unas_add_one(&p->stage[j - 1], sum, terms[j][i]);
      out[i] = (int8_t)sum;
    }
    return;
  }
  for (y = 0; y < p->out_h; ++y) {
    for (x = 0; x < p->out_w; ++x) {
      int8_t *o = out + unas_pixel(y, x, p->out_w) * p->out_c;
      if (p->terms == 2) {
        /* the common case, with the element loops per term hoisted:
         * channels both terms have, then those only one has */
        const unas_add_term *t0 = &p->term[0], *t1 = &p->term[1];
        const int8_t *a = y < t0->h && x < t0->w ? terms[0] + unas_pixel(y, x, t0->w) * t0->c : 0;
        const int8_t *b = y < t1->h && x < t1->w ? terms[1] + unas_pixel(y, x, t1->w) * t1->c : 0;
        const int32_t ca = a ? t0->c : 0, cb = b ? t1->c : 0;
        const int32_t both = ca < cb ? ca : cb;
        for (c = 0; c < both; ++c) o[c] = (int8_t)unas_add_one(p->stage, a[c], b[c]);
        for (; c < p->out_c; ++c) {
          o[c] = (int8_t)unas_add_one(p->stage, c < ca ? a[c] : t0->zero_point, c < cb ? b[c] : t1->zero_point);
        }
        continue;
      }
      if (p->terms <= UNAS_ADD_TERMS) {
        /* each term's pixel and channel count, found once per pixel */
        const int8_t *base[UNAS_ADD_TERMS];
        int32_t have[UNAS_ADD_TERMS];
        for (j = 0; j < p->terms; ++j) {
          const unas_add_term *t = &p->term[j];
          const int in = y < t->h && x < t->w;
          base[j] = in ? terms[j] + unas_pixel(y, x, t->w) * t->c : 0;
          have[j] = in ? t->c : 0;
        }
        for (c = 0; c < p->out_c; ++c) {
          int32_t sum = c < have[0] ? base[0][c] : p->term[0].zero_point;
          UNAS_UNROLL(8)
          for (j = 1; j < p->terms; ++j) {
            sum = unas_add_one(&p->stage[j - 1], sum, c < have[j] ? base[j][c] : p->term[j].zero_point);
          }
          o[c] = (int8_t)sum;
        }
        continue;
      }
      for (c = 0; c < p->out_c; ++c) {
        int32_t sum = 0;
        for (j = 0; j < p->terms; ++j) {
          const unas_add_term *t = &p->term[j];
          const int32_t v = (y < t->h && x < t->w && c < t->c) ? terms[j][unas_pixel(y, x, t->w) * t->c + c]
                                                               : t->zero_point;
          sum = j == 0 ? v : unas_add_one(&p->stage[j - 1], sum, v);
        }
        o[c] = (int8_t)sum;
      }
    }
  }
}

#endif /* UNAS_KERNELS_IMPL_H */
