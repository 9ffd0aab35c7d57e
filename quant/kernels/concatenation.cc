// CONCATENATION: TFLite's reference concatenation.h for int8 with equal
// quantisation (copies). The reference already copies whole runs, so the
// optimised kernel is the same loop applied to each image of the batch.
#include <cstring>

#include "quant/kernels/kernel_util.h"

namespace unas::quant::kernels {
namespace {

Result<OpParams> Prepare(const ModelGraph& g, size_t index) {
  const GraphOp& op = g.ops[index];
  OpParams p;
  const GraphTensor *out = nullptr, *in = nullptr;
  UNAS_RETURN_IF_ERROR(PrepareOutput(g, index, &p, &out));
  if (op.inputs.empty()) return OpError(index, op, "no inputs");
  const int rank = static_cast<int>(out->shape.size());
  p.axis = op.axis < 0 ? op.axis + rank : op.axis;
  if (p.axis < 0 || p.axis >= rank) return OpError(index, op, "axis out of range");
  p.axis += 4 - rank;
  int64_t along = 0;
  for (size_t k = 0; k < op.inputs.size(); ++k) {
    UNAS_RETURN_IF_ERROR(PrepareInput(g, index, k, &p, &in));
    if (!SameQuant(*in, *out)) return OpError(index, op, "every input's quantisation must equal the output's");
    if (in->shape.size() != out->shape.size()) return OpError(index, op, "inputs and output differ in rank");
    UNAS_ASSIGN_OR_RETURN(Dims4 d, ToDims4(*in));
    for (int a = 0; a < 4; ++a) {
      if (a != p.axis && d.d[a] != p.out.d[a]) return OpError(index, op, "input shapes differ off the axis");
    }
    along += d.d[p.axis];
    p.in_shapes.push_back(d);
  }
  if (along != p.out.d[p.axis]) return OpError(index, op, "inputs do not add up to the output along the axis");
  return p;
}

void EvalImage(const OpParams& p, const std::vector<const int8_t*>& ins, int8_t* out) {
  int64_t outer = 1, inner = 1;
  for (int a = 0; a < p.axis; ++a) outer *= p.out.d[a];
  for (int a = p.axis + 1; a < 4; ++a) inner *= p.out.d[a];
  int8_t* o = out;
  for (int64_t k = 0; k < outer; ++k) {
    for (size_t i = 0; i < ins.size(); ++i) {
      const int64_t chunk = p.in_shapes[i].d[p.axis] * inner;
      std::memcpy(o, ins[i] + k * chunk, static_cast<size_t>(chunk));
      o += chunk;
    }
  }
}

void EvalReference(const OpParams& p, const EvalContext& c) {
  std::vector<int64_t> sizes;
  for (const Dims4& d : p.in_shapes) sizes.push_back(d.elements());
  ForEachImage(p, c, sizes, [&](const std::vector<const int8_t*>& in, int8_t* out) { EvalImage(p, in, out); });
}

}  // namespace

OpKernel RegisterConcatenation() { return {Prepare, EvalReference, EvalReference}; }

}  // namespace unas::quant::kernels
