// A quantised network at the Network's level: one entry per Network op with
// its int8 weights, int32 biases and the quantisation of its output. This is
// what the C generator compiles; it is extracted from a quantised, lowered
// ModelGraph (FromModelGraph) or, in tests, made by hand.
//
// Semantics are those of the lowered int8 graph (TFLite reference kernels):
//   conv / depthwise: weights per output channel, int32 bias with scale
//     input_scale * weight_scale[c] and zero point 0, fused ReLU;
//   dense: one weight scale (FULLY_CONNECTED per tensor);
//   pools: output quantisation equal to the input's;
//   add of n terms: the chain of n - 1 binary ADDs ((t0 + t1) + t2) ...,
//     stage j's output quantised with add_stages[j - 1] (the last one is the
//     op's output); smaller terms are zero-padded (by their zero point).
// Weight zero points are 0 (symmetric), as TFLite requires for int8.
//
// Thread safety: plain values; the functions are pure.
#pragma once

#include <cstdint>
#include <vector>

#include "costmodel/model_graph.h"
#include "costmodel/network.h"
#include "base/status.h"

namespace unas::firmware {

struct QuantParams {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

struct QuantizedOp {
  QuantParams output;
  // conv [out_c][k][k][in_c]; depthwise [k][k][c]; dense [units][h * w * c]
  // (the input flattened in h, w, c order). Empty for pools and Adds.
  std::vector<int8_t> weights;
  std::vector<int32_t> bias;         // [output channels]
  std::vector<float> weight_scales;  // per output channel; one for dense
  std::vector<QuantParams> add_stages;  // Add only: terms - 1 entries, last == output
};

struct QuantizedNetwork {
  Network network;
  QuantParams input;
  std::vector<QuantizedOp> ops;  // by Network op index
  const QuantParams& quant_of(int producer) const {  // a tensor's quantisation
    return producer == kNetworkInput ? input : ops[producer].output;
  }
};

// Checks sizes and invariants above; errors name the op and the field.
Status Validate(const QuantizedNetwork& q);

// Extracts the quantised network from a quantised graph lowered from
// `network` (costmodel/lowering.h: GraphOp::source_op names the Network op;
// pools may be STRIDED_SLICE pieces joined by CONCATENATION, all with the
// pool's quantisation; Add terms may go through PAD; chained ADDs), e.g.
// quant::QuantizeNetwork's result. Fails with kInvalidArgument, naming the
// op, when the graph does not match the network or lacks constant data.
Result<QuantizedNetwork> FromModelGraph(const Network& network, const ModelGraph& graph);

// The integer parameters of one requantisation (TFLite's Prepare step, as
// quant/multipliers.h computes them for RunInt8 too).
struct Requant {
  int32_t multiplier = 0, shift = 0;
};
// conv / depthwise output channel c, or the dense layer (c ignored).
Requant OpRequant(const QuantizedNetwork& q, int op, int channel);
// One ADD of an Add's chain: inputs 1 (running sum) and 2 (term `stage`),
// and the output, with TFLite's left shift of 20.
struct AddStageRequant {
  QuantParams input1, input2, output;
  Requant r1, r2, out;
};
AddStageRequant AddStage(const QuantizedNetwork& q, int op, int stage);  // stage in 1..terms-1

// Fused activation range of an op's int8 output.
void ActivationRange(const QuantizedNetwork& q, int op, int32_t* act_min, int32_t* act_max);

}  // namespace unas::firmware
