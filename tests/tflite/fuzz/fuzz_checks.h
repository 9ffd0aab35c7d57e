// The properties the reader must keep on any bytes, shared by the in-suite
// fuzz test and the libFuzzer target:
//   - ReadTflite returns a graph or an error whose message starts "tflite: ";
//   - a graph that reads has every tensor id in range (ops, inputs, outputs),
//     constants whose data match shape and type, per-channel scales that
//     match their axis;
//   - it writes (WriteTflite), and the written file reads back with the same
//     tensors and operators; the identity reorder of the input succeeds.
#pragma once

#include <cstdint>
#include <string>

#include "tflite/reader.h"
#include "tflite/reorder.h"
#include "tflite/writer.h"

namespace unas::fuzz {

// An empty string when every property holds, else what broke. Counts reads
// and refusals when the counters are given.
inline std::string CheckReaderOn(const uint8_t* data, size_t size, int* ok_count = nullptr,
                                 int* error_count = nullptr) {
  Result<ModelGraph> graph = ReadTflite(data, size);
  if (!graph.ok()) {
    if (error_count) ++*error_count;
    const std::string& m = graph.status().message();
    if (m.rfind("tflite: ", 0) != 0 || m.size() < 16) return "unclear error: '" + m + "'";
    if (graph.status().code() != StatusCode::kInvalidArgument) return "error code is not kInvalidArgument: " + m;
    return "";
  }
  if (ok_count) ++*ok_count;
  const ModelGraph& g = *graph;
  const int n = static_cast<int>(g.tensors.size());
  auto in_range = [n](int id) { return id >= 0 && id < n; };
  for (int id : g.inputs) if (!in_range(id)) return "graph input out of range";
  for (int id : g.outputs) if (!in_range(id)) return "graph output out of range";
  for (const GraphOp& op : g.ops) {
    for (int id : op.inputs) if (id != -1 && !in_range(id)) return "operator input out of range";
    for (int id : op.outputs) if (!in_range(id)) return "operator output out of range";
  }
  for (const GraphTensor& t : g.tensors) {
    if (t.is_constant && t.type != TensorType::kString && static_cast<int64_t>(t.data.size()) != t.bytes()) {
      return "constant '" + t.name + "' data size differs from its shape";
    }
    if (t.quant.per_channel() &&
        (t.quant.axis < 0 || t.quant.axis >= static_cast<int>(t.shape.size()))) {
      return "per-channel axis outside the rank of '" + t.name + "'";
    }
  }
  auto written = WriteTflite(g);
  if (!written.ok()) return "a graph that reads does not write: " + written.status().message();
  auto back = ReadTflite(written->data(), written->size());
  if (!back.ok()) return "the written graph does not read: " + back.status().message();
  if (back->tensors.size() != g.tensors.size() || back->ops.size() != g.ops.size()) {
    return "the written graph reads back with other counts";
  }
  for (size_t i = 0; i < g.ops.size(); ++i) {
    if (back->ops[i].inputs != g.ops[i].inputs || back->ops[i].builtin_code != g.ops[i].builtin_code) {
      return "operator " + std::to_string(i) + " reads back differently";
    }
  }
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    if (back->tensors[i].data != g.tensors[i].data || back->tensors[i].shape != g.tensors[i].shape ||
        back->tensors[i].name != g.tensors[i].name) {
      return "tensor " + std::to_string(i) + " reads back differently";
    }
  }
  std::vector<int> identity(g.ops.size());
  for (size_t i = 0; i < identity.size(); ++i) identity[i] = static_cast<int>(i);
  const std::vector<uint8_t> file(data, data + size);
  auto same = ReorderOperators(file, identity);
  if (!same.ok()) {
    // An identity order is refused only when the file's own order reads a
    // tensor before it is written, or its operator tables precede the vector.
    const std::string& m = same.status().message();
    if (m.find("before") == std::string::npos) return "identity reorder failed: " + m;
  } else if (*same != file) {
    return "the identity reorder changed bytes";
  }
  return "";
}

}  // namespace unas::fuzz
