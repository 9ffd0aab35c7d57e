// Test-only: the variant of an int8 ModelGraph that Arm NN 20.08 computes
// the same way as TFLite (see WithZeroPointZeroAtPads).
#pragma once

#include <vector>

#include "costmodel/model_graph.h"

namespace unas::testing {

// Arm NN 20.08's PAD fills with the raw value 0 whatever the zero point
// (TFLite and TFLM fill with the output's zero point, i.e. a real 0), and its
// parser refuses PADV2. The models unas exports keep TFLite's PAD; for the
// Arm NN check each group of tensors that share a PAD's quantisation (through
// pools, PAD, STRIDED_SLICE, CONCATENATION) gets zero point 0, where both
// fills agree. Everything else (scales, weights, every other kernel) is
// unchanged; our PAD with a non-zero zero point is checked by hand in
// int8_executor_test.cc.
inline ModelGraph WithZeroPointZeroAtPads(ModelGraph g) {
  std::vector<int> parent(g.tensors.size());
  for (size_t t = 0; t < parent.size(); ++t) parent[t] = static_cast<int>(t);
  auto find = [&](int t) {
    while (parent[t] != t) t = parent[t] = parent[parent[t]];
    return t;
  };
  for (const GraphOp& op : g.ops) {
    const int c = op.builtin_code;
    if (c != builtin::kMaxPool2D && c != builtin::kAveragePool2D && c != builtin::kPad &&
        c != builtin::kStridedSlice && c != builtin::kConcatenation) {
      continue;
    }
    const bool all_inputs = c == builtin::kConcatenation;
    for (size_t k = 0; k < (all_inputs ? op.inputs.size() : 1); ++k) parent[find(op.inputs[k])] = find(op.outputs[0]);
  }
  std::vector<bool> padded(g.tensors.size(), false);
  for (const GraphOp& op : g.ops) {
    if (op.builtin_code == builtin::kPad) padded[find(op.inputs[0])] = true;
  }
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    if (padded[find(static_cast<int>(t))]) g.tensors[t].quant.zero_point = {0};
  }
  return g;
}

}  // namespace unas::testing
