// The requantisation multipliers of every int8 operator unas executes,
// computed exactly as TensorFlow Lite's Prepare computes them (the reference
// kernels of tensorflow/lite/kernels and TFLM's tensorflow/lite/micro/kernels,
// tflite-micro 90b983c2; CMSIS-NN's TFLM kernels call the same functions).
// The one place they are computed: quant::RunInt8 and the C generator both
// call it, so the executor, the generated C and TFLite agree bit for bit.
//
// Scales are float32, as a .tflite stores them; where TFLite does arithmetic
// in float32 before widening to double, so does this (that is the point):
//
//   CONV_2D, DEPTHWISE_CONV_2D (per channel, or per tensor broadcast to every
//     channel): kernel_util.cc PopulateConvolutionQuantizationParams:
//     QuantizeMultiplier(double(input_scale) * double(filter_scale[c]) /
//     double(output_scale)), all in double.
//   FULLY_CONNECTED, per-tensor filter: fully_connected_common.cc
//     CalculateOpDataFullyConnected -> kernel_util.cc
//     GetQuantizedConvolutionMultipler:
//     QuantizeMultiplier(double(input_scale * filter_scale) / double(output_scale)):
//     the product is rounded to float32 first. Computing it in double gives
//     a multiplier up to ~100 units of 2^-31 away, and occasionally an output
//     1 LSB away (../shared/spec/deployment.md).
//   FULLY_CONNECTED, per-channel filter: as convolutions (the same loop in
//     CalculateOpDataFullyConnected).
//   ADD (int8): add_common.cc CalculateOpDataAdd: left_shift 20,
//     twice_max = 2 * double(max(s1, s2)), input multipliers
//     double(s1) / twice_max and double(s2) / twice_max, output multiplier
//     twice_max / ((1 << 20) * double(s_out)); each through
//     QuantizeMultiplierSmallerThanOneExp, which TFLite CHECKs to be in (0, 1).
// Pooling (MAX and AVERAGE: rounding division by the window, no
// multiplier), PAD, STRIDED_SLICE, CONCATENATION and RESHAPE (input and
// output quantisation equal) have no multiplier in int8.
//
// Thread safety: pure functions.
#pragma once

#include <vector>

#include "base/status.h"
#include "quant/fixed_point.h"

namespace unas::quant {

// One multiplier per entry of `filter_scales` (a per-tensor filter has one;
// TFLite broadcasts it). All scales must be positive and finite.
std::vector<QuantizedMultiplier> ConvMultipliers(float input_scale, const std::vector<float>& filter_scales,
                                                 float output_scale);

// A per-tensor FULLY_CONNECTED layer's multiplier (float32 product).
QuantizedMultiplier FullyConnectedMultiplier(float input_scale, float filter_scale, float output_scale);

struct AddMultipliers {
  int left_shift = 20;  // int8 ADD's input left shift
  QuantizedMultiplier input1, input2, output;
};

// Fails with kInvalidArgument when a real multiplier is outside (0, 1),
// where TFLite's Prepare aborts (e.g. an output scale below
// 2 * max(s1, s2) / 2^20).
Result<AddMultipliers> AddQuantization(float input1_scale, float input2_scale, float output_scale);

}  // namespace unas::quant
