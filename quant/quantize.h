// Post-training int8 quantisation of a Network, in TensorFlow Lite's scheme:
// the lowered ModelGraph (costmodel/lowering.h) with every constant's data
// and every tensor's quantisation filled in, ready for the int8 executor
// (int8_executor.h), the .tflite writer and the C generator.
//
// Input: the Network, its float weights in ReferenceWeights' layout
// (costmodel/reference_executor.h) with batch norm ALREADY FOLDED into the
// preceding convolution's weights and bias (that layout has no batch norm:
// w' = w * gamma / sqrt(var + eps) per output channel, b' = (b - mean) *
// gamma / sqrt(var + eps) + beta), and calibration ranges (calibration.h).
//
// Rules:
//   - Weights symmetric int8 (zero point 0, values in [-127, 127]),
//     q = round(w / s) with s = max|w| / 127 (std::round, half away from
//     zero; s = 1 for an all-zero channel): per output channel for CONV_2D
//     (axis 0 of [F,k,k,Cin]) and DEPTHWISE_CONV_2D (axis 3 of [1,k,k,C]);
//     ONE scale for FULLY_CONNECTED (Arm NN 20.08 aborts on per-channel
//     dense weights; TFLite's converter also defaults to per tensor there).
//   - Biases int32, scale S_in * s_w (per channel where the weights are),
//     zero point 0, q = round(b / (S_in * s_w)) saturated to int32.
//   - Activations asymmetric int8 per tensor from a calibrated range
//     [lo, hi], first widened to include 0 (lo = min(lo, 0), hi = max(hi,
//     0), so real 0 is exact: PAD and ReLU rely on it):
//       S = (hi - lo) / 255, Z = clamp(round(-128 - lo / S), -128, 127)
//     (TFLite's converter's formula; a range of width 0 becomes [0, 1]).
//     A ReLU'd tensor's calibrated minimum is 0, so Z = -128 and the fused
//     ReLU's clamp is free.
//   - Tensors with their own range: the graph input, each CONV_2D /
//     DEPTHWISE_CONV_2D / FULLY_CONNECTED output (ReLU fused), each ADD of
//     an Add chain (partial sums included). MAX_POOL_2D, AVERAGE_POOL_2D,
//     PAD, STRIDED_SLICE and CONCATENATION outputs take their input's
//     quantisation (the int8 kernels require it: they only move values).
//
// Errors: kInvalidArgument for weights of the wrong shape, a tensor without
// a calibrated range, or a graph operator outside the lowering's set.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <vector>

#include "costmodel/model_graph.h"
#include "costmodel/network.h"
#include "costmodel/reference_executor.h"
#include "base/status.h"
#include "quant/calibration.h"

namespace unas::quant {

// Scale and zero point for a calibrated range (the activation rule above).
Quantization ActivationQuantization(const TensorRange& range);

// LowerNetwork(network), quantised. `ranges` by graph tensor id, as
// CalibrateRanges returns them for the same network and graph.
Result<ModelGraph> QuantizeNetwork(const Network& network, const ReferenceWeights& folded_weights,
                                   const std::vector<TensorRange>& ranges);

// Lowers, calibrates on `images` (float NHWC) and quantises in one call.
Result<ModelGraph> QuantizeWithImages(const Network& network, const ReferenceWeights& folded_weights,
                                      const std::vector<std::vector<float>>& images);

// A float image as the int8 graph input: q = clamp(round(x / S) + Z) as
// TFLite's QUANTIZE (float division, std::round).
std::vector<int8_t> QuantizeInput(const ModelGraph& graph, const std::vector<float>& image);
// The same rule on `count` floats (any number of images, back to back) into `out`.
void QuantizeInputs(const ModelGraph& graph, const float* values, int64_t count, int8_t* out);
// The graph output's int8 values as reals: S * (q - Z).
std::vector<float> DequantizeOutput(const ModelGraph& graph, const std::vector<int8_t>& output);
// Index of the first largest value (ties: the lowest index, as std::max_element).
int ArgMax(const std::vector<int8_t>& values);
int ArgMax(const int8_t* values, int64_t count);
int ArgMax(const std::vector<float>& values);

}  // namespace unas::quant
