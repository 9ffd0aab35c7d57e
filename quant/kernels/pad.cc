// PAD and PADV2 without a constant value: TFLite's reference pad.h for int8
// (the fill is the output zero point, i.e. real 0). The optimised kernel
// copies whole innermost rows instead of single values.
#include <algorithm>
#include <cstring>

#include "quant/kernels/kernel_util.h"

namespace unas::quant::kernels {
namespace {

Result<OpParams> Prepare(const ModelGraph& g, size_t index) {
  const GraphOp& op = g.ops[index];
  UNAS_ASSIGN_OR_RETURN(OpParams p, PrepareSameQuantInput(g, index));
  if (op.inputs.size() < 2 || op.inputs[1] < 0 || op.inputs[1] >= static_cast<int>(g.tensors.size())) {
    return OpError(index, op, "missing paddings");
  }
  const GraphTensor& in = g.tensors[p.inputs[0]];
  if (op.inputs.size() > 2 && op.inputs[2] >= 0) return OpError(index, op, "a constant pad value is not supported");
  auto pads = ReadIndexConstant(g.tensors[op.inputs[1]]);
  if (!pads.ok()) return OpError(index, op, pads.status().message());
  if (pads->size() != 2 * in.shape.size()) return OpError(index, op, "paddings must be [rank, 2]");
  const size_t lead = 4 - in.shape.size();
  for (size_t i = 0; i < in.shape.size(); ++i) {
    const int64_t before = (*pads)[2 * i], after = (*pads)[2 * i + 1];
    if (before < 0 || after < 0) return OpError(index, op, "negative padding");
    if (in.shape[i] + before + after != p.out.d[lead + i]) return OpError(index, op, "output shape disagrees with paddings");
    p.before[lead + i] = static_cast<int>(before);
  }
  return p;
}

// out[before + i] = in[i]; everything else the zero point.
void EvalImage(const OpParams& p, const int8_t* in, int8_t* out) {
  std::fill(out, out + p.out.elements(), static_cast<int8_t>(p.output_offset));
  for (int a = 0; a < p.in.d[0]; ++a)
    for (int b = 0; b < p.in.d[1]; ++b)
      for (int c = 0; c < p.in.d[2]; ++c)
        for (int e = 0; e < p.in.d[3]; ++e) {
          out[p.out.index(a + p.before[0], b + p.before[1], c + p.before[2], e + p.before[3])] = in[p.in.index(a, b, c, e)];
        }
}

void EvalReference(const OpParams& p, const EvalContext& c) {
  ForEachImage(p, c, {p.in.elements()}, [&](const std::vector<const int8_t*>& in, int8_t* out) { EvalImage(p, in[0], out); });
}

void EvalOptimized(const OpParams& p, const EvalContext& c) {
  const size_t row = static_cast<size_t>(p.in.d[3]);
  for (int i = 0; i < c.images; ++i) {
    const int8_t* in = c.inputs[0] + i * p.in.elements();
    int8_t* out = c.output + i * p.out.elements();
    std::fill(out, out + p.out.elements(), static_cast<int8_t>(p.output_offset));
    for (int a = 0; a < p.in.d[0]; ++a)
      for (int b = 0; b < p.in.d[1]; ++b)
        for (int x = 0; x < p.in.d[2]; ++x) {
          std::memcpy(out + p.out.index(a + p.before[0], b + p.before[1], x + p.before[2], p.before[3]),
                      in + p.in.index(a, b, x, 0), row);
        }
  }
}

}  // namespace

OpKernel RegisterPad() { return {Prepare, EvalReference, EvalOptimized}; }

}  // namespace unas::quant::kernels
