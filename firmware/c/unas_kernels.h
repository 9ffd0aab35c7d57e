/* unas int8 kernels: the operators of a unas network, whole and sliced along
 * channels for partial execution. Plain C99, no heap, no floating point, only
 * the C standard headers. Generated model.c files call them at fixed arena
 * offsets; this file is copied unchanged beside every generated model.
 *
 * Arithmetic is TensorFlow Lite's int8 reference kernels', bit for bit:
 * per-channel convolution multipliers, MultiplyByQuantizedMultiplier built
 * from SaturatingRoundingDoublingHighMul and RoundingDivideByPOT, ADD with
 * a left shift of 20, average pooling rounded half away from zero.
 * Multipliers are Q31 mantissas in [0, 2^31) (quant::QuantizeMultiplier of
 * a positive scale ratio) and shifts in [-31, 30].
 *
 * Convolution, depthwise and dense biases are the *effective* bias:
 * bias - input_zero_point * (sum of the output channel's weights), computed
 * by the generator, so the kernels multiply raw int8 inputs (the window is
 * always in range: convolutions are VALID).
 *
 * Two implementations behind one interface, chosen at compile time: the
 * DSP extension's SIMD instructions where __ARM_FEATURE_DSP is defined
 * (Cortex-M4, M7, M33), portable C elsewhere (or with -DUNAS_PORTABLE);
 * outputs are identical. No scratch memory beyond the caller's buffers.
 *
 * Tensors are NHWC with batch 1. A "view" of a tensor is a pointer plus
 * `stride` (channels stored per pixel) and `first` (the first channel
 * stored): a whole tensor has stride = channels and first = 0; a slice of
 * channels [c0, c1) stored on its own has stride = c1 - c0 and first = c0.
 * Element (y, x, c) of a view is data[(y * w + x) * stride + (c - first)].
 *
 * Geometry: convolutions use VALID padding; pools are ceil-mode with window
 * = stride, a partial last window covering only the in-range elements
 * (average divides by their count); Add zero-pads smaller terms at the
 * bottom/right (a missing element is the term's zero point, real 0).
 *
 * Thread safety: no state; concurrent calls on disjoint buffers are safe. */
#ifndef UNAS_KERNELS_H
#define UNAS_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* x * multiplier * 2^shift with TFLite's rounding (multiplier in Q31),
 * for every int32 argument (the kernels' own copy assumes multiplier >= 0). */
int32_t unas_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift);

/* A requantisation multiplier with a right shift (TFLite shift <= -1),
 * prepared by the generator: MultiplyByQuantizedMultiplier's two roundings
 * are then one 64-bit multiply-accumulate and one shift,
 *   x * multiplier + K >> 32 >> shift,
 * with K = 2^30 + 2^(30 + R) (R = -TFLite shift) when x * multiplier + 2^30
 * >= 0, i.e. x >= neg_below, and K - 2^31 otherwise (both roundings'
 * nudges folded into K). Exact for every int32 x. */
typedef struct {
  int32_t multiplier;  /* Q31 mantissa, as in the multiplier arrays */
  int32_t neg_below;   /* -floor(2^30 / multiplier) (INT32_MIN for 0) */
  uint32_t k_lo;       /* low word of K (of K - 2^31: k_lo ^ 2^31) */
  int32_t k_hi;        /* high word of K */
  int32_t k_hi_neg;    /* high word of K - 2^31 */
  int32_t shift;       /* R - 1, in 0..30 */
} unas_requant;

/* Conv2D (any square kernel, 1x1 included), weights [out_c][k][k][in_c]. */
typedef struct {
  int32_t in_h, in_w, in_c;
  int32_t out_h, out_w, out_c;
  int32_t kernel, stride;
  int32_t output_offset;  /* the output zero point */
  int32_t act_min, act_max;
  const int8_t *weights;
  const int32_t *bias;        /* [out_c], effective (see above) */
  const int32_t *multiplier;  /* [out_c] */
  const int32_t *shift;       /* [out_c] */
  const unas_requant *requant;  /* [out_c], or NULL: multiplier and shift */
} unas_conv_params;

/* Output channels [co0, co1) from the whole input, requantised to int8 into
 * the view (out, out_stride, out_first). */
void unas_conv_s8(const unas_conv_params *p, const int8_t *in, int8_t *out, int32_t out_stride,
                  int32_t out_first, int32_t co0, int32_t co1);

/* Partial sums over input channels [ci0, ci1) of the view (in, in_stride,
 * in_first) into acc [out_h][out_w][out_c] (int32, no bias, any byte
 * alignment): assigned when `accumulate` is 0, added otherwise. The sums
 * are of raw inputs: the finalisation's effective bias holds the zero
 * point's share of all slices. */
void unas_conv_accumulate(const unas_conv_params *p, const int8_t *in, int32_t in_stride, int32_t in_first,
                          int32_t ci0, int32_t ci1, uint8_t *acc, int accumulate);

/* Dense (fully connected) on the flattened (h, w, c) input, weights
 * [units][in_h * in_w * in_c], one multiplier for all units. */
typedef struct {
  int32_t in_h, in_w, in_c;
  int32_t units;
  int32_t output_offset;
  int32_t act_min, act_max;
  const int8_t *weights;
  const int32_t *bias;  /* [units], effective */
  int32_t multiplier, shift;
  const unas_requant *requant;  /* [1], or NULL: multiplier and shift */
} unas_dense_params;

void unas_dense_s8(const unas_dense_params *p, const int8_t *in, int8_t *out);
void unas_dense_accumulate(const unas_dense_params *p, const int8_t *in, int32_t in_stride, int32_t in_first,
                           int32_t ci0, int32_t ci1, uint8_t *acc, int accumulate);

/* Bias, requantisation and activation of `count` int32 sums whose channel is
 * index % channels, in place: out may be the same memory as acc (byte i is
 * written after int32 element i is read and never lies after it). One
 * multiplier per channel when `per_channel`, else multiplier[0]. */
void unas_finalize_s8(const uint8_t *acc, int8_t *out, int32_t count, int32_t channels, const int32_t *bias,
                      const int32_t *multiplier, const int32_t *shift, int per_channel, int32_t output_offset,
                      int32_t act_min, int32_t act_max);

/* Depthwise Conv2D, multiplier 1, weights [k][k][c]. */
typedef struct {
  int32_t in_h, in_w, channels;
  int32_t out_h, out_w;
  int32_t kernel, stride;
  int32_t output_offset;
  int32_t act_min, act_max;
  const int8_t *weights;
  const int32_t *bias, *multiplier, *shift;  /* [channels]; bias effective */
  const unas_requant *requant;               /* [channels], or NULL */
} unas_depthwise_params;

/* Channels [c0, c1) from view (in, in_stride, in_first) to view (out, ...). */
void unas_depthwise_s8(const unas_depthwise_params *p, const int8_t *in, int32_t in_stride, int32_t in_first,
                       int8_t *out, int32_t out_stride, int32_t out_first, int32_t c0, int32_t c1);

/* Max or average pooling; input and output share one quantisation. */
typedef struct {
  int32_t in_h, in_w, channels;
  int32_t out_h, out_w;
  int32_t pool_h, pool_w;  /* window = stride */
  int32_t act_min, act_max;
} unas_pool_params;

void unas_max_pool_s8(const unas_pool_params *p, const int8_t *in, int32_t in_stride, int32_t in_first,
                      int8_t *out, int32_t out_stride, int32_t out_first, int32_t c0, int32_t c1);
void unas_avg_pool_s8(const unas_pool_params *p, const int8_t *in, int32_t in_stride, int32_t in_first,
                      int8_t *out, int32_t out_stride, int32_t out_first, int32_t c0, int32_t c1);

/* One binary ADD of the chain ((t0 + t1) + t2) + ...: stage j adds term j
 * to the running sum (term 0 for j = 1) and requantises to its own output. */
typedef struct {
  int32_t input1_offset, input1_multiplier, input1_shift;
  int32_t input2_offset, input2_multiplier, input2_shift;
  int32_t output_offset, output_multiplier, output_shift;
  int32_t act_min, act_max;
  const unas_requant *requant;  /* [3]: input 1, input 2, output; or NULL */
} unas_add_stage;

typedef struct {
  int32_t h, w, c;      /* the term's shape (at most the sum's) */
  int32_t zero_point;   /* the value of a padded element */
} unas_add_term;

typedef struct {
  int32_t out_h, out_w, out_c;
  int32_t terms;                   /* at least 2 */
  const unas_add_term *term;       /* [terms] */
  const unas_add_stage *stage;     /* [terms - 1]; stage[j - 1] adds term j */
} unas_add_params;

/* out may be the same memory as any term of the sum's full shape. */
void unas_add_s8(const unas_add_params *p, const int8_t *const *terms, int8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* UNAS_KERNELS_H */
