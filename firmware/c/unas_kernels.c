/* unas int8 kernels; see unas_kernels.h for the contract and
 * unas_kernels_impl.h for the two implementations (portable C and the
 * Cortex-M DSP extension) of the bodies shared with model.c. */
#include "unas_kernels.h"

#include <stdint.h>
#include <string.h>

#include "unas_kernels_impl.h"

int32_t unas_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t right = shift > 0 ? 0 : -shift;
  const int32_t shifted = unas_shift_left(x, shift > 0 ? shift : 0);
  if (multiplier >= 0) return unas_multiply(x, multiplier, shift);
  if (multiplier == INT32_MIN && shifted == INT32_MIN) return unas_rounding_divide_by_pot(INT32_MAX, right);
  {
    /* gemmlowp's general form: nudge toward the product's sign, truncate */
    const int64_t ab = (int64_t)shifted * multiplier;
    const int64_t t = ab + (ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30)));
    return unas_rounding_divide_by_pot((int32_t)(t >= 0 ? t >> 31 : -((-t) >> 31)), right);
  }
}

/* Accumulators sit at any byte offset the arena layout gives them, so they
 * are read and written with memcpy (a single unaligned load or store on
 * Cortex-M4/M7 and x86). */
static int32_t load32(const uint8_t *base, int32_t i) {
  int32_t v;
  memcpy(&v, base + 4 * i, sizeof v);
  return v;
}
static void store32(uint8_t *base, int32_t i, int32_t v) { memcpy(base + 4 * i, &v, sizeof v); }

/* acc + the dot product of n contiguous int8 pairs, on either path */
static int32_t dot_acc(const int8_t *x, const int8_t *w, int32_t n, int32_t acc) {
#if UNAS_DSP
  return unas_dot_dsp(x, w, n, acc);
#else
  return acc + unas_dot_s8(x, w, n);
#endif
}

void unas_conv_s8(const unas_conv_params *p, const int8_t *in, int8_t *out, int32_t out_stride,
                  int32_t out_first, int32_t co0, int32_t co1) {
  unas_conv_s8_body(p, in, out, out_stride, out_first, co0, co1);
}

void unas_conv_accumulate(const unas_conv_params *p, const int8_t *in, int32_t in_stride, int32_t in_first,
                          int32_t ci0, int32_t ci1, uint8_t *acc, int accumulate) {
  const int32_t k = p->kernel, cin = p->in_c;
  int32_t oy, ox, co, ky, kx;
  for (oy = 0; oy < p->out_h; ++oy) {
    for (ox = 0; ox < p->out_w; ++ox) {
      const int32_t base = unas_pixel(oy, ox, p->out_w) * p->out_c;
      const int8_t *window = in + unas_pixel(oy * p->stride, ox * p->stride, p->in_w) * in_stride + (ci0 - in_first);
      for (co = 0; co < p->out_c; ++co) {
        int32_t sum = 0;
        const int8_t *filter = p->weights + co * k * k * cin + ci0;
        for (ky = 0; ky < k; ++ky) {
          for (kx = 0; kx < k; ++kx) {
            sum = dot_acc(window + unas_pixel(ky, kx, p->in_w) * in_stride, filter + (ky * k + kx) * cin, ci1 - ci0,
                          sum);
          }
        }
        store32(acc, base + co, accumulate ? load32(acc, base + co) + sum : sum);
      }
    }
  }
}

void unas_dense_s8(const unas_dense_params *p, const int8_t *in, int8_t *out) { unas_dense_s8_body(p, in, out); }

void unas_dense_accumulate(const unas_dense_params *p, const int8_t *in, int32_t in_stride, int32_t in_first,
                           int32_t ci0, int32_t ci1, uint8_t *acc, int accumulate) {
  const int32_t n = p->in_h * p->in_w * p->in_c;
  int32_t u, px;
  for (u = 0; u < p->units; ++u) {
    int32_t sum = 0;
    const int8_t *row = p->weights + u * n;
    for (px = 0; px < p->in_h * p->in_w; ++px) {
      sum = dot_acc(in + px * in_stride + (ci0 - in_first), row + px * p->in_c + ci0, ci1 - ci0, sum);
    }
    store32(acc, u, accumulate ? load32(acc, u) + sum : sum);
  }
}

void unas_finalize_s8(const uint8_t *acc, int8_t *out, int32_t count, int32_t channels, const int32_t *bias,
                      const int32_t *multiplier, const int32_t *shift, int per_channel, int32_t output_offset,
                      int32_t act_min, int32_t act_max) {
  int32_t i, c = 0;
  for (i = 0; i < count; ++i) {
    const int32_t sum = load32(acc, i) + bias[c];  /* read element i before byte i is written */
    const int32_t m = per_channel ? c : 0;
    out[i] = unas_requantize(sum, multiplier[m], shift[m], output_offset, act_min, act_max);
    if (++c == channels) c = 0;
  }
}

void unas_depthwise_s8(const unas_depthwise_params *p, const int8_t *in, int32_t in_stride, int32_t in_first,
                       int8_t *out, int32_t out_stride, int32_t out_first, int32_t c0, int32_t c1) {
  unas_depthwise_s8_body(p, in, in_stride, in_first, out, out_stride, out_first, c0, c1);
}

void unas_max_pool_s8(const unas_pool_params *p, const int8_t *in, int32_t in_stride, int32_t in_first,
                      int8_t *out, int32_t out_stride, int32_t out_first, int32_t c0, int32_t c1) {
  unas_pool_s8_body(p, 0, in, in_stride, in_first, out, out_stride, out_first, c0, c1);
}

void unas_avg_pool_s8(const unas_pool_params *p, const int8_t *in, int32_t in_stride, int32_t in_first,
                      int8_t *out, int32_t out_stride, int32_t out_first, int32_t c0, int32_t c1) {
  unas_pool_s8_body(p, 1, in, in_stride, in_first, out, out_stride, out_first, c0, c1);
}

void unas_add_s8(const unas_add_params *p, const int8_t *const *terms, int8_t *out) { unas_add_s8_body(p, terms, out); }
