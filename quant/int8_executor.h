// An integer-only reference executor of int8 ModelGraphs, bit-exact with
// TensorFlow Lite's int8 reference kernels (tensorflow/lite/kernels/internal/
// reference/integer_ops/*, reference/pooling.h, pad.h, strided_slice.h,
// concatenation.h; multipliers as in their Prepare functions). The int8
// accuracy of a trained network is measured with it, and unas's C firmware
// generator (firmware/) must reproduce it bit for bit: the arithmetic of
// every operator is written out below so that nobody has to read the .cc.
//
// Notation: q = an int8 value; S_x, Z_x = scale and zero point of tensor x;
// MBQM(acc, M) = MultiplyByQuantizedMultiplier(acc, QuantizeMultiplier(M))
// (quant/fixed_point.h); every real multiplier M is computed in double from
// the float scales stored in the graph; clamp(v) = min(max(v, act_min),
// act_max). The fused activation's range (TFLite's
// CalculateActivationRangeQuantized), with quant(f) = Z_out + round(f / S_out)
// (std::round: half away from zero):
//   NONE: [-128, 127];  RELU: [max(-128, Z_out), 127];
//   RELU6: [max(-128, Z_out), min(127, quant(6))];
//   RELU_N1_TO_1: [max(-128, quant(-1)), min(127, quant(1))].
// Accumulators are int32.
//
// CONV_2D (inputs: input [1,H,W,Cin], filter [Cout,kh,kw,Cin] int8 with zero
//   point 0, scales per output channel (axis 0) or one, optional bias [Cout]
//   int32): SAME or VALID padding, strides, dilations. Per output pixel and
//   channel c:
//     acc = sum over in-bounds taps of filter[c,ky,kx,ci] * (q_in - Z_in)
//           (out-of-bounds SAME-padding taps are skipped)
//     acc += bias[c]
//     q_out = clamp(MBQM(acc, S_in * S_filter[c] / S_out) + Z_out)
// DEPTHWISE_CONV_2D (filter [1,kh,kw,Cin*depth_multiplier], scales per
//   channel along axis 3 or one): output channel c = ci * depth_multiplier + m
//   reads input channel ci only; otherwise exactly as CONV_2D.
// FULLY_CONNECTED (input of any rank, flattened row-major to [batches,
//   inputs]; weights [units, inputs] int8, ONE scale, zero point Z_w; optional
//   bias [units] int32; output [batches, units]):
//     acc = sum_i (w[u,i] - Z_w) * (q_in[i] - Z_in) + bias[u]
//     q_out = clamp(MBQM(acc, S_in * S_w / S_out) + Z_out)
// MAX_POOL_2D: max of q_in over the in-bounds part of the window, then
//   clamp. Input and output quantisation must be equal.
// AVERAGE_POOL_2D: sum of q_in over the in-bounds part of the window (count
//   n of in-bounds elements), then rounded to nearest with ties away from
//   zero, in integers: (sum + n/2) / n if sum > 0, else (sum - n/2) / n (C
//   division, truncating toward zero), then clamp. Input and output
//   quantisation must be equal.
//   Pool padding (SAME): total = max((out-1)*stride + filter - in, 0) per
//   dimension, top/left = total / 2; out = ceil(in / stride). VALID: out =
//   (in - filter) / stride + 1.
// ADD (two inputs of the output's shape; no broadcasting):
//     left_shift = 20; twice_max = 2 * max(S_1, S_2)
//     x_k = MBQM((q_k - Z_k) * 2^20, S_k / twice_max)     for k = 1, 2
//     q_out = clamp(MBQM(x_1 + x_2, twice_max / (2^20 * S_out)) + Z_out)
//   (every real multiplier here is < 1, so each MBQM is a rounding right
//   shift of a doubling high multiply, as TFLite's SmallerThanOneExp form.)
// PAD (paddings [rank, 2] int32 or int64 constant): copies the input, and
//   writes Z_out everywhere else (TFLite's int8 PAD without a constant value
//   pads with the output zero point, i.e. real 0). In/out quantisation equal.
// STRIDED_SLICE (begin, end, strides [rank] int32 constants; all masks 0,
//   as the ModelGraph has no mask fields): negative begin/end count from the
//   end; then clamped to [0, dim]; strides > 0. Copies. In/out quantisation equal.
// CONCATENATION (any number of inputs, `axis`, negative counts from the
//   end): copies; every input's quantisation must equal the output's.
// RESHAPE: copies (element counts must match; the shape input, if any, is
//   ignored: the output tensor's shape is used).
// Any other operator, a non-int8 activation, a missing constant or a shape
// that disagrees with the operator's rule is a kInvalidArgument error naming
// the operator index and what is wrong; nothing is ever guessed.
//
// Thread safety: an Int8Executor is immutable after Create; Run may be
// called from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "costmodel/model_graph.h"
#include "base/status.h"

namespace unas::quant {

class Int8Executor {
 public:
  // Validates `graph` (one int8 input, one int8 output, supported operators
  // with their constants and quantisation present) and precomputes every
  // multiplier. Copies what it needs from `graph`.
  static Result<Int8Executor> Create(const ModelGraph& graph);

  // Runs the operators in stored order on `input` (the graph input's int8
  // values, row-major NHWC) and returns the graph output's values.
  Result<std::vector<int8_t>> Run(const std::vector<int8_t>& input) const;
  // Same, returning the values of every tensor (constants' entries empty):
  // for tests and for comparing intermediate results.
  Result<std::vector<std::vector<int8_t>>> RunAll(const std::vector<int8_t>& input) const;

  struct Prepared;  // per-operator precomputed parameters (int8_executor.cc)
  Int8Executor(Int8Executor&&) noexcept;
  Int8Executor& operator=(Int8Executor&&) noexcept;
  ~Int8Executor();

 private:
  Int8Executor();
  std::unique_ptr<Prepared> prepared_;
};

// Create + Run in one call.
Result<std::vector<int8_t>> RunInt8(const ModelGraph& graph, const std::vector<int8_t>& input);

}  // namespace unas::quant
