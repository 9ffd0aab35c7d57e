/* unas int8 kernels; see unas_kernels.h for the contract. Loops are written
 * plainly (output element outermost, then the reduction) so each kernel reads
 * as its definition; the inner loops run over contiguous channels. */
#include "unas_kernels.h"

#include <stdint.h>
#include <string.h>

/* gemmlowp's SaturatingRoundingDoublingHighMul: (a * b * 2) >> 32, rounded. */
static int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  const int overflow = a == b && a == INT32_MIN;
  const int64_t ab = (int64_t)a * (int64_t)b;
  const int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  const int64_t t = ab + nudge;
  /* t / 2^31 truncated toward zero, without a 64-bit division call */
  const int32_t high = (int32_t)(t >= 0 ? t >> 31 : -((-t) >> 31));
  return overflow ? INT32_MAX : high;
}

/* gemmlowp's RoundingDivideByPOT: x / 2^exponent, rounded half away from 0.
 * Assumes >> of a negative value is arithmetic (as on every target here). */
static int32_t rounding_divide_by_pot(int32_t x, int32_t exponent) {
  const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t unas_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t left_shift = shift > 0 ? shift : 0;
  const int32_t right_shift = shift > 0 ? 0 : -shift;
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x * (1 << left_shift), multiplier),
                                right_shift);
}

static int8_t requantize(int32_t acc, int32_t multiplier, int32_t shift, int32_t output_offset, int32_t act_min,
                         int32_t act_max) {
  int32_t v = unas_multiply_by_quantized_multiplier(acc, multiplier, shift) + output_offset;
  if (v < act_min) v = act_min;
  if (v > act_max) v = act_max;
  return (int8_t)v;
}

static int32_t pixel(int32_t y, int32_t x, int32_t w) { return y * w + x; }

/* sum over i < n of (x[i] + x_offset) * w[i]: the inner loop of convolution
 * and dense layers, kept small so that it stays in registers. */
static int32_t dot_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t x_offset) {
  int32_t acc = 0;
  while (n-- > 0) acc += (*x++ + x_offset) * *w++;
  return acc;
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

void unas_conv_s8(const unas_conv_params *p, const int8_t *in, int8_t *out, int32_t out_stride,
                  int32_t out_first, int32_t co0, int32_t co1) {
  const int32_t k = p->kernel, cin = p->in_c;
  int32_t oy, ox, co, ky;
  for (oy = 0; oy < p->out_h; ++oy) {
    for (ox = 0; ox < p->out_w; ++ox) {
      int8_t *o = out + pixel(oy, ox, p->out_w) * out_stride;
      for (co = co0; co < co1; ++co) {
        int32_t acc = p->bias[co];
        const int8_t *filter = p->weights + co * k * k * cin;
        /* one kernel row of the window is k * cin contiguous bytes */
        for (ky = 0; ky < k; ++ky) {
          const int8_t *src = in + pixel(oy * p->stride + ky, ox * p->stride, p->in_w) * cin;
          acc += dot_s8(src, filter + ky * k * cin, k * cin, p->input_offset);
        }
        o[co - out_first] = requantize(acc, p->multiplier[co], p->shift[co], p->output_offset, p->act_min, p->act_max);
      }
    }
  }
}

void unas_conv_accumulate(const unas_conv_params *p, const int8_t *in, int32_t in_stride, int32_t in_first,
                          int32_t ci0, int32_t ci1, uint8_t *acc, int accumulate) {
  const int32_t k = p->kernel, cin = p->in_c;
  int32_t oy, ox, co, ky, kx;
  for (oy = 0; oy < p->out_h; ++oy) {
    for (ox = 0; ox < p->out_w; ++ox) {
      const int32_t base = pixel(oy, ox, p->out_w) * p->out_c;
      for (co = 0; co < p->out_c; ++co) {
        int32_t sum = 0;
        const int8_t *filter = p->weights + co * k * k * cin;
        for (ky = 0; ky < k; ++ky) {
          for (kx = 0; kx < k; ++kx) {
            const int8_t *src = in + pixel(oy * p->stride + ky, ox * p->stride + kx, p->in_w) * in_stride;
            sum += dot_s8(src + (ci0 - in_first), filter + (ky * k + kx) * cin + ci0, ci1 - ci0, p->input_offset);
          }
        }
        store32(acc, base + co, accumulate ? load32(acc, base + co) + sum : sum);
      }
    }
  }
}

void unas_dense_s8(const unas_dense_params *p, const int8_t *in, int8_t *out) {
  const int32_t n = p->in_h * p->in_w * p->in_c;
  int32_t u;
  for (u = 0; u < p->units; ++u) {
    int32_t acc = p->bias[u];
    const int8_t *row = p->weights + u * n;
    acc += dot_s8(in, row, n, p->input_offset);
    out[u] = requantize(acc, p->multiplier, p->shift, p->output_offset, p->act_min, p->act_max);
  }
}

void unas_dense_accumulate(const unas_dense_params *p, const int8_t *in, int32_t in_stride, int32_t in_first,
                           int32_t ci0, int32_t ci1, uint8_t *acc, int accumulate) {
  const int32_t n = p->in_h * p->in_w * p->in_c;
  int32_t u, px;
  for (u = 0; u < p->units; ++u) {
    int32_t sum = 0;
    const int8_t *row = p->weights + u * n;
    for (px = 0; px < p->in_h * p->in_w; ++px) {
      const int8_t *src = in + px * in_stride;
      sum += dot_s8(src + (ci0 - in_first), row + px * p->in_c + ci0, ci1 - ci0, p->input_offset);
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
    out[i] = requantize(sum, multiplier[m], shift[m], output_offset, act_min, act_max);
    if (++c == channels) c = 0;
  }
}

void unas_depthwise_s8(const unas_depthwise_params *p, const int8_t *in, int32_t in_stride, int32_t in_first,
                       int8_t *out, int32_t out_stride, int32_t out_first, int32_t c0, int32_t c1) {
  const int32_t k = p->kernel;
  int32_t oy, ox, c, ky, kx;
  for (oy = 0; oy < p->out_h; ++oy) {
    for (ox = 0; ox < p->out_w; ++ox) {
      int8_t *o = out + pixel(oy, ox, p->out_w) * out_stride;
      for (c = c0; c < c1; ++c) {
        int32_t acc = p->bias[c];
        for (ky = 0; ky < k; ++ky) {
          for (kx = 0; kx < k; ++kx) {
            const int8_t *src = in + pixel(oy * p->stride + ky, ox * p->stride + kx, p->in_w) * in_stride;
            acc += (src[c - in_first] + p->input_offset) * p->weights[(ky * k + kx) * p->channels + c];
          }
        }
        o[c - out_first] = requantize(acc, p->multiplier[c], p->shift[c], p->output_offset, p->act_min, p->act_max);
      }
    }
  }
}

static int32_t min32(int32_t a, int32_t b) { return a < b ? a : b; }

static void pool(const unas_pool_params *p, int average, const int8_t *in, int32_t in_stride, int32_t in_first,
                 int8_t *out, int32_t out_stride, int32_t out_first, int32_t c0, int32_t c1) {
  int32_t oy, ox, c, y, x;
  for (oy = 0; oy < p->out_h; ++oy) {
    const int32_t y0 = oy * p->pool_h, y1 = min32(p->in_h, y0 + p->pool_h);
    for (ox = 0; ox < p->out_w; ++ox) {
      const int32_t x0 = ox * p->pool_w, x1 = min32(p->in_w, x0 + p->pool_w);
      const int32_t count = (y1 - y0) * (x1 - x0);
      int8_t *o = out + pixel(oy, ox, p->out_w) * out_stride;
      for (c = c0; c < c1; ++c) {
        int32_t acc = average ? 0 : -128;
        for (y = y0; y < y1; ++y) {
          for (x = x0; x < x1; ++x) {
            const int32_t v = in[pixel(y, x, p->in_w) * in_stride + (c - in_first)];
            if (average) {
              acc += v;
            } else if (v > acc) {
              acc = v;
            }
          }
        }
        if (average) acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
        if (acc < p->act_min) acc = p->act_min;
        if (acc > p->act_max) acc = p->act_max;
        o[c - out_first] = (int8_t)acc;
      }
    }
  }
}

void unas_max_pool_s8(const unas_pool_params *p, const int8_t *in, int32_t in_stride, int32_t in_first,
                      int8_t *out, int32_t out_stride, int32_t out_first, int32_t c0, int32_t c1) {
  pool(p, 0, in, in_stride, in_first, out, out_stride, out_first, c0, c1);
}

void unas_avg_pool_s8(const unas_pool_params *p, const int8_t *in, int32_t in_stride, int32_t in_first,
                      int8_t *out, int32_t out_stride, int32_t out_first, int32_t c0, int32_t c1) {
  pool(p, 1, in, in_stride, in_first, out, out_stride, out_first, c0, c1);
}

/* One term's contribution to a stage: (value - zero point) << 20, scaled. */
static int32_t scaled_input(int32_t value, int32_t offset, int32_t multiplier, int32_t shift) {
  return unas_multiply_by_quantized_multiplier((value + offset) * (1 << 20), multiplier, shift);
}

void unas_add_s8(const unas_add_params *p, const int8_t *const *terms, int8_t *out) {
  int32_t y, x, c, j;
  for (y = 0; y < p->out_h; ++y) {
    for (x = 0; x < p->out_w; ++x) {
      for (c = 0; c < p->out_c; ++c) {
        int32_t sum = 0;
        for (j = 0; j < p->terms; ++j) {
          const unas_add_term *t = &p->term[j];
          const int32_t v = (y < t->h && x < t->w && c < t->c) ? terms[j][pixel(y, x, t->w) * t->c + c]
                                                               : t->zero_point;
          if (j == 0) {
            sum = v;
          } else {
            const unas_add_stage *s = &p->stage[j - 1];
            int32_t r = scaled_input(sum, s->input1_offset, s->input1_multiplier, s->input1_shift) +
                        scaled_input(v, s->input2_offset, s->input2_multiplier, s->input2_shift);
            r = unas_multiply_by_quantized_multiplier(r, s->output_multiplier, s->output_shift) + s->output_offset;
            if (r < s->act_min) r = s->act_min;
            if (r > s->act_max) r = s->act_max;
            sum = r;
          }
        }
        out[pixel(y, x, p->out_w) * p->out_c + c] = (int8_t)sum;
      }
    }
  }
}
