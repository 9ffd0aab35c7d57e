// TensorFlow Lite's fixed-point arithmetic for int8 kernels, as its reference
// kernels define it (tensorflow/lite/kernels/internal/common.h and
// quantization_util.cc, default "double rounding" build, i.e. without
// TFLITE_SINGLE_ROUNDING; gemmlowp's fixedpoint.h for the two primitives).
// Reimplemented from the definitions; every result is bit-exact with them.
//
// A real multiplier M > 0 is represented as a 32-bit fixed-point value
// `multiplier` in [2^30, 2^31) (i.e. a Q0.31 mantissa in [0.5, 1)) and an
// exponent `shift`, so that M ~= multiplier * 2^(shift - 31). Applying it to
// an int32 accumulator x:
//   MultiplyByQuantizedMultiplier(x, m, s)
//     = RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x * 2^max(s,0), m), max(-s,0))
// i.e. two roundings: to nearest with ties toward +infinity in the doubling
// high multiply, then to nearest with ties away from zero in the
// power-of-two division.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>

namespace unas::quant {

struct QuantizedMultiplier {
  int32_t multiplier = 0;  // Q0.31 mantissa in [2^30, 2^31), or 0 for a zero multiplier
  int shift = 0;           // power-of-two exponent: positive = left shift
};

// TFLite's QuantizeMultiplier: frexp(real) = q * 2^shift with q in [0.5, 1);
// multiplier = round(q * 2^31) (std::round: half away from zero); if that
// rounds up to 2^31 it is halved and shift incremented; a shift below -31
// flushes to {0, 0}; real == 0 gives {0, 0}. `real` must be finite and >= 0
// (kernels only ever pass positive scale ratios); negative values are
// handled as TFLite does (sign kept in the mantissa).
QuantizedMultiplier QuantizeMultiplier(double real);

// gemmlowp's SaturatingRoundingDoublingHighMul: a*b / 2^31 rounded to
// nearest (nudge 2^30, or 1 - 2^30 for a negative product, then division by
// 2^31 truncating toward zero; so ties go toward +infinity: 1.5 -> 2,
// -1.5 -> -1); the one overflowing case a == b == INT32_MIN gives INT32_MAX.
int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b);

// gemmlowp's RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties
// away from zero: (x >> e) + (remainder > threshold), with remainder =
// x & (2^e - 1) and threshold = (2^e - 1) >> 1, plus 1 when x < 0.
// exponent in [0, 31].
int32_t RoundingDivideByPOT(int32_t x, int exponent);

// TFLite's MultiplyByQuantizedMultiplier (int32 accumulator): see the file
// comment. The left shift x * 2^s (s > 0) is done in 32-bit two's
// complement, as TFLite does on every real target (where it would overflow,
// TFLite's behaviour is undefined; the quantiser never produces multipliers
// that make it overflow for int8 ranges: real multipliers are < 1 in
// practice).
int32_t MultiplyByQuantizedMultiplier(int32_t x, int32_t multiplier, int shift);
inline int32_t MultiplyByQuantizedMultiplier(int32_t x, const QuantizedMultiplier& m) {
  return MultiplyByQuantizedMultiplier(x, m.multiplier, m.shift);
}

}  // namespace unas::quant
