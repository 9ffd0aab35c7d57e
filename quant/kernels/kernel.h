// The int8 executor's operators, organised as TensorFlow Lite Micro's kernels
// are (tensorflow/lite/micro/kernels/conv.cc and its cmsis_nn/ twin): each
// operator has one Prepare, which validates the operator against the graph
// and precomputes everything its kernels need (multipliers, activation range,
// geometry, repacked weights), and two Evals that compute the same values bit
// for bit:
//   - reference: TensorFlow Lite's reference loops, one image at a time,
//     written to be read against quant/int8_executor.h's arithmetic. It is
//     the reference the optimised kernels are tested against.
//   - optimised: the same integer arithmetic reorganised for speed over a
//     batch of images (im2col + a blocked int16 GEMM with exact int32
//     accumulation, vectorised requantisation); AVX2 when the CPU has it,
//     otherwise portable C++ (arithmetic.h).
// Internal to unas_quant: the public contract is int8_executor.h.
//
// Tensors in an Eval are the graph's activation tensors for `images` images
// at once, image after image (each image's values row-major as the graph
// tensor's shape).
//
// Thread safety: OpParams are immutable after Prepare; Evals only write their
// output and the Scratch they are given (one Scratch per running thread).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "costmodel/model_graph.h"
#include "quant/fixed_point.h"

namespace unas::quant::kernels {

// A shape extended to 4 dimensions by leading 1s (activations are at most 4-D).
struct Dims4 {
  int d[4] = {1, 1, 1, 1};
  int64_t elements() const { return int64_t{d[0]} * d[1] * d[2] * d[3]; }
  int64_t index(int a, int b, int c, int e) const {
    return ((static_cast<int64_t>(a) * d[1] + b) * d[2] + c) * d[3] + e;
  }
};

// Per output channel requantisation, laid out for the optimised kernels:
// every vector has `padded` entries (channels rounded up to a multiple of 8;
// the padding is a zero multiplier), so 8 channels are handled at once.
struct ChannelRequant {
  std::vector<int32_t> bias;         // 0 where the operator has no bias
  std::vector<int32_t> multiplier;   // QuantizedMultiplier::multiplier
  std::vector<int32_t> left_shift;   // max(shift, 0)
  std::vector<int32_t> right_shift;  // max(-shift, 0)
  // False when a multiplier lies outside what the vector arithmetic
  // reproduces exactly (a shift beyond +-31, or a mantissa of INT32_MIN,
  // which only a negative scale could give): those operators requantise with
  // the scalar fixed_point.h functions instead.
  bool vectorizable = true;
};

struct OpParams {
  int code = 0;
  std::vector<int> inputs;  // activation tensor ids only (constants are folded in here)
  int output = -1;
  Dims4 in, out;
  // Convolutions and fully connected.
  std::vector<int8_t> filter;
  std::vector<int32_t> bias;  // empty: no bias
  std::vector<QuantizedMultiplier> multipliers;  // per output channel (or one)
  int32_t input_offset = 0, filter_offset = 0, output_offset = 0;
  int32_t act_min = -128, act_max = 127;
  int kh = 1, kw = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0, depth_multiplier = 1;
  int64_t fc_inputs = 0;
  // Add.
  int32_t input2_offset = 0;
  QuantizedMultiplier in1_multiplier, in2_multiplier;
  // Pad (before, per dim), strided slice (begin, stride per dim).
  int before[4] = {0, 0, 0, 0};
  int stride[4] = {1, 1, 1, 1};
  // Concatenation.
  int axis = 0;
  std::vector<Dims4> in_shapes;

  // For the optimised kernels only (filled by Prepare):
  // CONV_2D and FULLY_CONNECTED: the weights (plus the filter offset) as the
  // GEMM's packed B operand (arithmetic.h), K = gemm_k values per output
  // channel; DEPTHWISE_CONV_2D: the filter as int16, [kh * kw][channels].
  std::vector<int16_t> packed;
  int gemm_k = 0;
  ChannelRequant requant;  // conv, depthwise, fully connected
};

// Per running thread: buffers the optimised kernels grow and reuse.
struct Scratch {
  std::vector<int16_t> widened;  // an input image as int16, padded
  std::vector<int16_t> columns;  // im2col rows
  std::vector<int32_t> accumulators;
};

struct EvalContext {
  const int8_t* const* inputs = nullptr;  // one per OpParams::inputs, `images` images each
  int8_t* output = nullptr;               // `images` images of OpParams::out
  int images = 1;
  bool avx2 = false;                      // optimised kernels may use AVX2
  Scratch* scratch = nullptr;             // optimised kernels only
};

using PrepareFn = Result<OpParams> (*)(const ModelGraph& graph, size_t index);
using EvalFn = void (*)(const OpParams& params, const EvalContext& context);

// One operator: TFLM's registration (prepare + invoke), with both kernels.
struct OpKernel {
  PrepareFn prepare = nullptr;
  EvalFn reference = nullptr;
  EvalFn optimized = nullptr;
};

// The kernel of a builtin operator, or nullptr when the executor does not run it.
const OpKernel* FindKernel(int builtin_code);

OpKernel RegisterConv2D();
OpKernel RegisterDepthwiseConv2D();
OpKernel RegisterFullyConnected();
OpKernel RegisterMaxPool2D();
OpKernel RegisterAveragePool2D();
OpKernel RegisterAdd();
OpKernel RegisterPad();  // PAD and PADV2 (without a constant value)
OpKernel RegisterStridedSlice();
OpKernel RegisterConcatenation();
OpKernel RegisterReshape();

}  // namespace unas::quant::kernels
