// A plain C++ float executor of networks, to prove partial-execution plans
// real: it runs a network whole (every tensor in its own vector), or follows a
// PexPlan inside ONE arena of exactly the planned size, reading and writing
// every tensor, slice and accumulator only through its planned offset. If the
// plan under-counts memory, buffers that are live together share bytes and
// the output differs from the whole run (or a buffer does not fit and the run
// fails).
//
// Units: the plan counts int8 bytes (accumulators 4 bytes per element). The
// arena here holds `arena_bytes` floats, one float per planned byte, so
// bytes that overlap in the plan are floats that overlap here. An
// accumulator uses the first quarter of its planned bytes (one float per
// element) and its int8 result is written in place at the same offset.
// The network input of the `unas` accounting is not counted by the plan and
// is kept outside the arena, as on a device where it lives elsewhere.
//
// Semantics: NHWC, valid padding, ceil-mode pools whose partial windows
// cover only the in-range elements (avg divides by their count), Add
// zero-pads smaller inputs at the bottom/right, dense flattens (h, w, c) in
// that order. Batch norm is treated as folded into the weights (no-op here).
//
// Thread safety: all functions are pure.
#pragma once

#include <cstdint>
#include <vector>

#include "costmodel/network.h"
#include "costmodel/partial_execution.h"
#include "base/status.h"

namespace unas {

struct ReferenceWeights {
  // By op. conv: [ky][kx][ci][co]; depthwise: [ky][kx][c]; dense: [i][o],
  // i running over the flattened (h, w, c) input. Empty for pools and Adds.
  std::vector<std::vector<float>> weights;
  std::vector<std::vector<float>> biases;
};

// Uniform weights in +-1/sqrt(fan_in) and biases in +-0.1, from `seed`.
ReferenceWeights RandomWeights(const Network& network, uint64_t seed);
// Uniform input in [-1, 1], NHWC, from `seed`.
std::vector<float> RandomInput(const Network& network, uint64_t seed);

struct ExecutionResult {
  std::vector<float> output;  // the last operator's output
  int64_t macs = 0;           // multiply-accumulates performed (pool windows at nominal size)
};

// What RunWhole saw, for calibrating an int8 model (quant/calibration.h):
// every operator's output by op index (NHWC, op.out's shape), and for an Add
// of n terms the running sums of its first 2, 3, ..., n terms, each at the
// Add's output shape with smaller terms zero-padded (the chain of binary
// ADDs an int8 model computes; the last equals the op's output). Empty for
// other ops.
struct RunTrace {
  std::vector<std::vector<float>> outputs;
  std::vector<std::vector<std::vector<float>>> add_partial_sums;
};

// Runs every operator whole, in build order, each tensor in its own buffer.
// Fills `trace` when it is not null.
Result<ExecutionResult> RunWhole(const Network& network, const ReferenceWeights& weights,
                                 const std::vector<float>& input, RunTrace* trace = nullptr);

// Runs `plan` (which must have a layout) in one arena of
// plan.layout.arena_bytes floats, steps in plan.order. Fails with
// kFailedPrecondition if a buffer does not fit in the arena.
Result<ExecutionResult> RunPlan(const Network& network, const PexPlan& plan, const ReferenceWeights& weights,
                                const std::vector<float>& input);

}  // namespace unas
