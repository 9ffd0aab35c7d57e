// RESHAPE: a copy (the output tensor's shape is used; a shape input, if any,
// is ignored). The optimised kernel copies the whole batch at once.
#include <cstring>

#include "quant/kernels/kernel_util.h"

namespace unas::quant::kernels {
namespace {

Result<OpParams> Prepare(const ModelGraph& g, size_t index) {
  const GraphOp& op = g.ops[index];
  UNAS_ASSIGN_OR_RETURN(OpParams p, PrepareSameQuantInput(g, index));
  if (p.in.elements() != p.out.elements()) return OpError(index, op, "element counts differ");
  return p;
}

void EvalReference(const OpParams& p, const EvalContext& c) {
  ForEachImage(p, c, {p.in.elements()}, [&](const std::vector<const int8_t*>& in, int8_t* out) {
    std::copy(in[0], in[0] + p.in.elements(), out);
  });
}

void EvalOptimized(const OpParams& p, const EvalContext& c) {
  std::memcpy(c.output, c.inputs[0], static_cast<size_t>(c.images * p.out.elements()));
}

}  // namespace

OpKernel RegisterReshape() { return {Prepare, EvalReference, EvalOptimized}; }

}  // namespace unas::quant::kernels
