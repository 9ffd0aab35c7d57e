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
// Kernels (quant/kernels/): every operator has one Prepare and two Evals, as
// TFLM's kernels do. The reference kernels are TFLite's reference loops, one
// image at a time. The optimised kernels (the default) compute the same
// values bit for bit over a batch of images: im2col and a blocked int16 GEMM
// with exact int32 accumulation for CONV_2D and FULLY_CONNECTED, per-channel
// vectorised requantisation, and run-wise copies; with AVX2 intrinsics when
// the CPU has AVX2 (checked at run time, x86-64 only), otherwise portable C++.
// tests/quant/int8_kernels_test.cc checks them against the reference on
// random networks and inputs.
//
// Thread safety: an Int8Executor is immutable after Create; Run, RunAll and
// RunBatch may be called from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "costmodel/model_graph.h"
#include "base/status.h"

namespace unas::quant {

enum class Int8Kernels {
  kOptimized,          // AVX2 where the CPU has it, else the portable C++ below
  kOptimizedPortable,  // the optimised kernels without SIMD intrinsics (any CPU)
  kReference,          // TFLite's reference loops, one image at a time
};

class Int8Executor {
 public:
  // Validates `graph` (one int8 input, one int8 output, supported operators
  // with their constants and quantisation present) and runs every
  // operator's Prepare (multipliers, geometry, repacked weights). Copies
  // what it needs from `graph`.
  static Result<Int8Executor> Create(const ModelGraph& graph, Int8Kernels kernels = Int8Kernels::kOptimized);

  // Runs the operators in stored order on `input` (the graph input's int8
  // values, row-major NHWC) and returns the graph output's values.
  Result<std::vector<int8_t>> Run(const std::vector<int8_t>& input) const;
  // `images` inputs at once, image after image (images x the graph input's
  // element count values); returns the outputs the same way. Each image's
  // output is exactly Run's on it; batching only lets the optimised kernels
  // reuse weights across images (FULLY_CONNECTED) and per-call work.
  Result<std::vector<int8_t>> RunBatch(const std::vector<int8_t>& inputs, int images) const;
  // Same as Run, returning the values of every tensor (constants' entries
  // empty): for tests and for comparing intermediate results.
  Result<std::vector<std::vector<int8_t>>> RunAll(const std::vector<int8_t>& input) const;

  // The graph input's and output's element counts (per image).
  int64_t input_elements() const;
  int64_t output_elements() const;
  // The kernels asked for, and whether they run with AVX2.
  Int8Kernels kernels() const;
  bool uses_avx2() const;

  struct Prepared;  // per-operator precomputed parameters (int8_executor.cc)
  Int8Executor(Int8Executor&&) noexcept;
  Int8Executor& operator=(Int8Executor&&) noexcept;
  ~Int8Executor();

 private:
  Int8Executor();
  std::unique_ptr<Prepared> prepared_;
};

// Create (optimised kernels) + Run in one call.
Result<std::vector<int8_t>> RunInt8(const ModelGraph& graph, const std::vector<int8_t>& input);

}  // namespace unas::quant
