// Test-only helpers for hand-built graphs shared by the costmodel/ and tflite/
// tests: one ModelGraph operator, and the exact minimum peak of a BufferGraph.
// Header-only; not thread-safe beyond what the arguments are.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "costmodel/model_graph.h"
#include "costmodel/order_search.h"

namespace unas::testing {

// A ModelGraph operator with the builtin `code` reading `inputs` and writing
// `outputs` (tensor indices); every option left at its default.
inline GraphOp GraphOpOf(int code, std::vector<int> inputs, std::vector<int> outputs) {
  GraphOp op;
  op.builtin_code = code;
  op.inputs = std::move(inputs);
  op.outputs = std::move(outputs);
  return op;
}

// Minimum peak bytes over every order of g's ops that PeakOfOrder accepts (the
// topological ones), by enumerating all permutations: only for small graphs
// (n! orders). -1 when no order is accepted.
inline int64_t BruteForcePeak(const BufferGraph& g) {
  std::vector<int> order(g.ops.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  int64_t best = -1;
  do {
    auto peak = PeakOfOrder(g, order);
    if (peak.ok() && (best < 0 || peak->peak_bytes < best)) best = peak->peak_bytes;
  } while (std::next_permutation(order.begin(), order.end()));
  return best;
}

}  // namespace unas::testing
