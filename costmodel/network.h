// The operator graph of a candidate on a given input: the single description of
// "which network is this" that both the cost model and the training worker
// use, so the network that is trained is the network that was costed.
//
// Semantics follow docs/cost-model.md section 2 exactly (valid padding,
// clipped kernels, ceil-mode pooling, pre-pools, branch blocks tied up by
// max-pooling and a zero-padded Add).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "costmodel/candidate.h"
#include "base/status.h"

namespace unas {

struct Shape {
  int h = 1, w = 1, c = 1;  // a dense output is {1, 1, units}
  int64_t elements() const { return int64_t{h} * w * c; }
  bool operator==(const Shape& o) const { return h == o.h && w == o.w && c == o.c; }
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string ToString() const;  // "13x13x8", or "32" for a flat vector
};

enum class OpKind {
  kConv2D,    // also 1x1 convolutions (kernel 1)
  kDWConv2D,  // depthwise, multiplier 1
  kMaxPool,
  kAvgPool,
  kAdd,       // elementwise sum; smaller inputs zero-padded at bottom/right
  kDense,     // flattens its input first
};

// Why an operator exists, for reports and for mapping weights back to layers.
enum class OpRole {
  kLayer,             // a layer of the candidate
  kPrepool,           // the 2x2 max-pool of a layer with has_prepool
  kBranchProjection,  // 1x1 conv appended to a branch ending in DWConv2D
  kTieUpPool,         // max-pool that brings a pending output to the smallest size
  kTieUpAdd,          // the Add that ties pending outputs up
  kPooling,           // the candidate's final pooling stage
  kDenseBlock,        // a dense block (ReLU; dropout before it in training)
  kClassifier,        // the implicit final dense layer
};

const char* OpKindName(OpKind kind);
const char* OpRoleName(OpRole role);

constexpr int kNetworkInput = -1;

struct Op {
  OpKind kind = OpKind::kConv2D;
  OpRole role = OpRole::kLayer;
  std::vector<int> inputs;  // producing op indices, or kNetworkInput
  Shape in;                 // shape of inputs[0]
  Shape out;
  int kernel = 1;             // convolutions: square kernel after clipping
  int stride = 1;             // convolutions: 1 or 2
  int pool_h = 1, pool_w = 1; // pools: window, equal to the stride
  bool has_bn = false;        // convolutions: batch norm (folded at deployment)
  bool has_relu = false;      // convolutions and dense blocks
  int block = -1;             // conv block (or dense block) index in the candidate
  int layer = -1;             // layer index within the conv block

  int64_t weight_count() const;  // trainable weights, excluding bias and BN
  int64_t bias_count() const;
  int64_t macs() const;          // multiply-accumulates, as in docs/cost-model.md
  std::string Describe() const;  // e.g. "conv 3x3/2 x8", "add 2 terms"
};

struct Network {
  InputSpec input;
  std::vector<Op> ops;  // in build order, which is a valid execution order
  Shape input_shape() const { return {input.height, input.width, input.channels}; }
  int output_op() const { return static_cast<int>(ops.size()) - 1; }
};

// Lowers a validated candidate onto an input. Fails (kInvalidArgument) only if
// the input is too small for the candidate's downsampling, which cannot happen
// for inputs of at least 1x1: kernels and pools clip to the input size.
Result<Network> BuildNetwork(const Candidate& candidate, const InputSpec& input);

// round(numerator / denominator) with ties to even, as Python's round().
int RoundHalfEven(int numerator, int denominator);

}  // namespace unas
