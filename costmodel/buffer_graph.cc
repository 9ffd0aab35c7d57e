#include "costmodel/buffer_graph.h"

#include <algorithm>

namespace unas {

Result<BufferGraphFacts> AnalyseBufferGraph(const BufferGraph& g) {
  BufferGraphFacts a;
  a.n = static_cast<int>(g.ops.size());
  const int t_count = static_cast<int>(g.tensor_bytes.size());
  a.producer.assign(t_count, -1);
  a.consumers.assign(t_count, {});
  a.inputs.assign(a.n, {});
  a.outputs.assign(a.n, {});
  a.is_output.assign(t_count, 0);
  auto valid = [&](int t) { return t >= 0 && t < t_count; };
  for (int t = 0; t < t_count; ++t) {
    if (g.tensor_bytes[t] < 0) return Status::Invalid("tensor " + std::to_string(t) + " has negative size");
  }
  // Every order search and peak starts here (several per candidate in the
  // tflm costing): no allocation per op beyond the facts themselves.
  for (int x = 0; x < a.n; ++x) {
    const auto& op = g.ops[x];
    auto where = [x] { return "op " + std::to_string(x); };
    auto writes = [&](int t) {
      return t == op.output || std::find(op.outputs.begin(), op.outputs.end(), t) != op.outputs.end();
    };
    a.outputs[x].reserve((op.output != -1 ? 1 : 0) + op.outputs.size());
    for (size_t k = 0; k <= op.outputs.size(); ++k) {
      const int t = k == 0 ? op.output : op.outputs[k - 1];
      if (k == 0 && t == -1) continue;
      if (!valid(t)) return Status::Invalid(where() + " writes an unknown tensor");
      if (a.producer[t] != -1) return Status::Invalid("tensor " + std::to_string(t) + " is written by two ops");
      a.producer[t] = x;
      a.outputs[x].push_back(t);
    }
    a.inputs[x].reserve(op.inputs.size());
    for (int t : op.inputs) {
      if (!valid(t)) return Status::Invalid(where() + " reads an unknown tensor");
      if (writes(t)) return Status::Invalid(where() + " reads its own output");
      if (std::find(a.inputs[x].begin(), a.inputs[x].end(), t) == a.inputs[x].end()) {
        a.inputs[x].push_back(t);
        a.consumers[t].push_back(x);
      }
    }
    for (int t : op.inplace_inputs) {
      if (std::find(op.inputs.begin(), op.inputs.end(), t) == op.inputs.end()) {
        return Status::Invalid(where() + " may overwrite a tensor it does not read");
      }
      if (op.output == -1) return Status::Invalid(where() + " overwrites an input but has no first output");
    }
  }
  for (int t : g.graph_outputs) {
    if (!valid(t)) return Status::Invalid("unknown graph output tensor");
    a.is_output[t] = 1;
  }
  // Kahn's algorithm, smallest index first so that a build order stays as is.
  std::vector<int> pending(a.n, 0);
  for (int x = 0; x < a.n; ++x) {
    for (int t : a.inputs[x]) pending[x] += a.producer[t] >= 0 ? 1 : 0;
  }
  std::vector<int> ready;
  a.topo.reserve(a.n);
  for (int x = a.n - 1; x >= 0; --x) {
    if (pending[x] == 0) ready.push_back(x);
  }
  while (!ready.empty()) {
    const int x = ready.back();
    ready.pop_back();
    a.topo.push_back(x);
    bool added = false;
    for (int out : a.outputs[x]) {
      for (int c : a.consumers[out]) {
        if (--pending[c] == 0) {
          ready.push_back(c);
          added = true;
        }
      }
    }
    if (added) std::sort(ready.rbegin(), ready.rend());
  }
  if (static_cast<int>(a.topo.size()) != a.n) return Status::Invalid("the graph has a cycle");
  return a;
}

}  // namespace unas
