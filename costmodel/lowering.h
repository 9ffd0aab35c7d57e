// From a Network (docs/cost-model.md's semantics) to TensorFlow Lite builtin
// operators: the graph unas exports as .tflite, quantises, costs in the
// `tflm` accounting and generates C from. Shapes, types, options and the
// structural constants (pad amounts, slice bounds) only: weights and biases
// are flagged constant with empty data, and no tensor is quantised yet
// (quant/ fills both in).
//
// Lowering rules, each exact for μNAS's semantics:
//   conv      CONV_2D, VALID, stride 1 or 2, filter [F,k,k,Cin] int8, bias [F]
//             int32; ReLU fused; batch norm folded (no operator).
//   dwconv    DEPTHWISE_CONV_2D, VALID, multiplier 1, filter [1,k,k,C], bias [C].
//   dense     FULLY_CONNECTED on the tensor as it is (TFLite flattens NHWC in
//             h, w, c order, as the cost model does), weights [units, h*w*c],
//             bias [units] int32; no RESHAPE, which TFLM would give a buffer.
//   pools     ceil mode with window = stride = p (clipped). TFLite's SAME pads
//             floor(t/2) at the top and left, t = ceil(H/p)*p - H, so it is
//             exact when t <= 1 in both dimensions (VALID when t = 0 in both).
//             Otherwise each dimension with t >= 2 is split into its aligned
//             part and its partial last window: 2 or 4 STRIDED_SLICE pieces,
//             each pooled (filter p, or the partial window's size), joined by
//             CONCATENATION along W, then H. Max and average (which divides by
//             the in-range count, as TFLite's does) are then exact.
//   add       n terms -> n-1 binary ADDs chained ((a+b)+c)...; a term smaller
//             than the sum's shape (the elementwise maximum) first goes
//             through PAD at the bottom/right of each dimension that differs
//             (int8 PAD pads with the zero point: a real 0).
// No softmax: the output is the classifier's logits, [1, classes].
//
// Tensor 0 is the input [1,H,W,C] int8, the graph's only input; its only
// output is the last operator's output. Operators are in the Network's build
// order (a valid execution order); GraphOp::source_op names the Network op
// each implements, and the last graph operator with a given source_op writes
// that Network op's output (OutputTensors).
//
// Thread safety: pure functions.
#pragma once

#include <vector>

#include "costmodel/model_graph.h"
#include "costmodel/network.h"
#include "costmodel/status.h"

namespace unas {

Result<ModelGraph> LowerNetwork(const Network& network);

// By Network op index: the graph tensor holding that op's output (for
// calibration, weights and reports). Tensor 0 for ops that no graph operator
// implements (none, for graphs from LowerNetwork).
std::vector<int> OutputTensors(const ModelGraph& graph, int network_ops);

}  // namespace unas
