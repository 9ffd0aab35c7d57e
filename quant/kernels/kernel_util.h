// What the operators' Prepare functions share (as TFLM's kernel_util.h):
// reading and validating tensors, the fused activation's range, window
// geometry, weights and multipliers. Every error is kInvalidArgument naming
// the operator index, its name and what is wrong.
//
// Thread safety: pure functions.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "quant/kernels/kernel.h"
#include "quant/multipliers.h"

namespace unas::quant::kernels {

Status OpError(size_t index, const GraphOp& op, const std::string& what);

Result<Dims4> ToDims4(const GraphTensor& t);
// An int32 constant's values (little-endian data).
std::vector<int32_t> ReadInt32(const GraphTensor& t);
// Values of an int32 or int64 constant (paddings, slice bounds).
Result<std::vector<int64_t>> ReadIndexConstant(const GraphTensor& t);
// One scale and one zero point each, and equal.
bool SameQuant(const GraphTensor& a, const GraphTensor& b);

// Starts every Prepare: the operator's code, its one output (an int8
// activation with per-tensor quantisation), the output's shape, zero point
// and the fused activation's range. `*out` is the output tensor.
Status PrepareOutput(const ModelGraph& g, size_t index, OpParams* p, const GraphTensor** out);
// Input k as an activation: checks it and appends it to p->inputs.
Status PrepareInput(const ModelGraph& g, size_t index, size_t k, OpParams* p, const GraphTensor** t);
// The operators that move values without rescaling them (PAD, RESHAPE,
// STRIDED_SLICE, the pools) start here: PrepareOutput, input 0 as p.in, and
// the two quantised alike.
Result<OpParams> PrepareSameQuantInput(const ModelGraph& g, size_t index);

// CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: the filter (input 1) and
// the optional bias (input 2) checked against the output channels and copied
// into p->filter / p->bias, plus the filter offset; `*filter` is the filter
// tensor. Multipliers are not computed here (quant/multipliers.h).
Status PrepareWeights(const ModelGraph& g, size_t index, const GraphTensor& in, OpParams* p,
                      const GraphTensor** filter);

// CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED's common start:
// PrepareOutput, input 0 as p->in with p->input_offset, then PrepareWeights.
// The three tensors are returned for the multipliers.
Status PrepareWeightedOp(const ModelGraph& g, size_t index, OpParams* p, const GraphTensor** in,
                         const GraphTensor** out, const GraphTensor** filter);

// CONV_2D, DEPTHWISE_CONV_2D, MAX/AVERAGE_POOL_2D: strides, dilations,
// padding and the output shape they imply (p->kh, p->kw already set).
Status PrepareWindow(const ModelGraph& g, size_t index, OpParams* p);

// CONV_2D and DEPTHWISE_CONV_2D's common start: PrepareWeightedOp, the
// per-channel multipliers (ConvMultipliers), the filter's size (its
// dimensions 1 and 2), the dilations and PrepareWindow. `*filter`, when
// `filter` is not null, is the filter tensor for the operator's own checks.
Status PrepareConv(const ModelGraph& g, size_t index, OpParams* p, const GraphTensor** filter);

// Requantisation multipliers: quant/multipliers.h (ConvMultipliers,
// FullyConnectedMultiplier, AddQuantization), one call per operator kind in
// each Prepare, computed where TFLite computes them.

// `channels` channels' bias and multipliers for the optimised kernels.
ChannelRequant MakeChannelRequant(const OpParams& p, int channels);

// 8-channel blocks: the optimised kernels' padded channel count.
inline int PaddedChannels(int channels) { return (channels + 7) / 8 * 8; }

inline int8_t Clamp(int32_t v, const OpParams& p) {
  return static_cast<int8_t>(std::min(std::max(v, p.act_min), p.act_max));
}

// The reference convolutions' output value for channel c from its int32
// accumulator: plus the bias, times the channel's (or the tensor's)
// multiplier, plus the output zero point, clamped to the activation's range.
int8_t RequantizeChannel(const OpParams& p, int c, int32_t acc);

// The reference convolutions' window walk (TFLite's reference conv.h and
// depthwise_conv.h walk it alike): calls tap(ky, kx, pixel) for every tap of
// output pixel (oy, ox)'s window that falls inside image `in`, `pixel`
// pointing at the input's channels under that tap (taps in the padding add
// nothing and are skipped).
template <typename Tap>
void ForEachTapInside(const OpParams& p, const int8_t* in, int oy, int ox, Tap tap) {
  const int ih = p.in.d[1], iw = p.in.d[2], ic = p.in.d[3];
  for (int ky = 0; ky < p.kh; ++ky) {
    const int y = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
    if (y < 0 || y >= ih) continue;
    for (int kx = 0; kx < p.kw; ++kx) {
      const int x = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
      if (x < 0 || x >= iw) continue;
      tap(ky, kx, in + (static_cast<int64_t>(y) * iw + x) * ic);
    }
  }
}

// An EvalFn that runs `per_image` (input pointers, output pointer) on each
// image of the batch in turn: how every reference kernel handles a batch.
template <typename PerImage>
void ForEachImage(const OpParams& p, const EvalContext& c, const std::vector<int64_t>& input_elements,
                  PerImage per_image) {
  std::vector<const int8_t*> ins(input_elements.size());
  const int64_t out_elements = p.out.elements();
  for (int i = 0; i < c.images; ++i) {
    for (size_t k = 0; k < ins.size(); ++k) ins[k] = c.inputs[k] + i * input_elements[k];
    per_image(ins, c.output + i * out_elements);
  }
}

}  // namespace unas::quant::kernels
