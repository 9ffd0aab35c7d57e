#include "tflite/reorder.h"

#include <cstring>
#include <string>

#include "tflite/reader.h"
#include "tflite/tflite_subset_generated.h"

namespace unas {
namespace {

namespace fb = ::unas::tflite_fb;

Status Bad(const std::string& message) { return Status::Invalid("tflite reorder: " + message); }

std::string OpWhere(const ModelGraph& g, int op) {
  return "operator " + std::to_string(op) + " (" + BuiltinName(g.ops[op].builtin_code) + ")";
}

std::string TensorWhere(const ModelGraph& g, int t) {
  const std::string& name = g.tensors[t].name;
  return "tensor " + std::to_string(t) + (name.empty() ? "" : " ('" + name + "')");
}

Status CheckOrder(const ModelGraph& g, const std::vector<int>& order) {
  const int n = static_cast<int>(g.ops.size());
  if (static_cast<int>(order.size()) != n) {
    return Bad("the order has " + std::to_string(order.size()) + " entries, the model " + std::to_string(n) +
               " operators");
  }
  std::vector<int> position(n, -1);
  for (int i = 0; i < n; ++i) {
    const int op = order[i];
    if (op < 0 || op >= n) {
      return Bad("order[" + std::to_string(i) + "] = " + std::to_string(op) + " is not an operator (0.." +
                 std::to_string(n - 1) + ")");
    }
    if (position[op] >= 0) {
      return Bad("operator " + std::to_string(op) + " appears twice (positions " + std::to_string(position[op]) +
                 " and " + std::to_string(i) + ")");
    }
    position[op] = i;
  }
  // The operator that writes each tensor (-1: available from the start).
  std::vector<int> producer(g.tensors.size(), -1);
  for (int op = 0; op < n; ++op) {
    for (const int t : g.ops[op].outputs) producer[t] = op;
  }
  for (int i = 0; i < n; ++i) {
    for (const int t : g.ops[order[i]].inputs) {
      if (t < 0 || producer[t] < 0) continue;
      if (position[producer[t]] >= i) {
        return Bad(OpWhere(g, order[i]) + " at position " + std::to_string(i) + " reads " + TensorWhere(g, t) +
                   " before " + OpWhere(g, producer[t]) + " writes it (at position " +
                   std::to_string(position[producer[t]]) + ")");
      }
    }
  }
  return Status::Ok();
}

uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;  // flatbuffers are little-endian, as is every host unas builds on
}

void StoreU32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

}  // namespace

Result<std::vector<uint8_t>> ReorderOperators(const std::vector<uint8_t>& file, const std::vector<int>& order) {
  Result<ModelGraph> graph = ReadTflite(file.data(), file.size());
  if (!graph.ok()) return Bad(graph.status().message());
  UNAS_RETURN_IF_ERROR(CheckOrder(*graph, order));

  std::vector<uint8_t> out = file;  // vector storage is suitably aligned for the accessors
  const int n = static_cast<int>(order.size());
  if (n == 0) return out;
  const fb::Model* model = fb::GetModel(out.data());
  const auto* ops = model->subgraphs()->Get(0)->operators();
  const size_t vec_begin = static_cast<size_t>(reinterpret_cast<const uint8_t*>(ops->Data()) - out.data());
  const size_t vec_end = vec_begin + 4 * static_cast<size_t>(n);

  // Where each operator's table starts, in file offsets.
  std::vector<size_t> table(n);
  for (int i = 0; i < n; ++i) {
    const size_t slot = vec_begin + 4 * static_cast<size_t>(i);
    table[i] = slot + LoadU32(out.data() + slot);
    if (table[i] < vec_end) {
      return Bad("operator " + std::to_string(i) + "'s table (at byte " + std::to_string(table[i]) +
                 ") lies inside or before the operators vector (bytes " + std::to_string(vec_begin) + ".." +
                 std::to_string(vec_end) + "); only files whose operator tables follow the vector can be "
                 "reordered in place");
    }
  }
  for (int i = 0; i < n; ++i) {
    const size_t slot = vec_begin + 4 * static_cast<size_t>(i);
    StoreU32(out.data() + slot, static_cast<uint32_t>(table[order[i]] - slot));
  }

  // The result must read, and hold the permuted operators.
  Result<ModelGraph> check = ReadTflite(out.data(), out.size());
  if (!check.ok()) return Status::Internal("tflite reorder: the rewritten file does not read: " + check.status().message());
  for (int i = 0; i < n; ++i) {
    const GraphOp& want = graph->ops[order[i]];
    const GraphOp& got = check->ops[i];
    if (got.builtin_code != want.builtin_code || got.inputs != want.inputs || got.outputs != want.outputs) {
      return Status::Internal("tflite reorder: position " + std::to_string(i) + " does not hold operator " +
                              std::to_string(order[i]) + " after the rewrite");
    }
  }
  return out;
}

}  // namespace unas
