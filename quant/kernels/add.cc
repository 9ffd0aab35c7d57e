// ADD: TFLite's reference integer_ops/add.h (no broadcasting), and the
// optimised kernel: the same three multiplications, eight elements at a time,
// over the whole batch at once (the tensors are contiguous).
#include <algorithm>

#include "quant/kernels/arithmetic.h"
#include "quant/kernels/kernel_util.h"

namespace unas::quant::kernels {
namespace {

Result<OpParams> Prepare(const ModelGraph& g, size_t index) {
  const GraphOp& op = g.ops[index];
  OpParams p;
  const GraphTensor *out = nullptr, *in = nullptr, *in2 = nullptr;
  UNAS_RETURN_IF_ERROR(PrepareOutput(g, index, &p, &out));
  UNAS_RETURN_IF_ERROR(PrepareInput(g, index, 0, &p, &in));
  UNAS_RETURN_IF_ERROR(PrepareInput(g, index, 1, &p, &in2));
  if (in->shape != out->shape || in2->shape != out->shape) {
    return OpError(index, op, "inputs must have the output's shape (no broadcasting)");
  }
  p.in = p.out;
  p.input_offset = static_cast<int32_t>(-in->quant.zero_point[0]);
  p.input2_offset = static_cast<int32_t>(-in2->quant.zero_point[0]);
  auto add = AddQuantization(in->quant.scale[0], in2->quant.scale[0], out->quant.scale[0]);
  if (!add.ok()) return OpError(index, op, add.status().message());
  p.in1_multiplier = add->input1;
  p.in2_multiplier = add->input2;
  p.multipliers = {add->output};
  return p;
}

void EvalImage(const OpParams& p, const int8_t* a, const int8_t* b, int8_t* out) {
  const int64_t n = p.out.elements();
  for (int64_t i = 0; i < n; ++i) {
    const int32_t x1 = MultiplyByQuantizedMultiplier((a[i] + p.input_offset) * (1 << 20), p.in1_multiplier);
    const int32_t x2 = MultiplyByQuantizedMultiplier((b[i] + p.input2_offset) * (1 << 20), p.in2_multiplier);
    out[i] = Clamp(MultiplyByQuantizedMultiplier(x1 + x2, p.multipliers[0]) + p.output_offset, p);
  }
}

void EvalReference(const OpParams& p, const EvalContext& c) {
  const int64_t n = p.out.elements();
  ForEachImage(p, c, {n, n}, [&](const std::vector<const int8_t*>& in, int8_t* out) { EvalImage(p, in[0], in[1], out); });
}

void EvalOptimized(const OpParams& p, const EvalContext& c) {
  AddParams a;
  a.input1_offset = p.input_offset;
  a.input2_offset = p.input2_offset;
  a.output_offset = p.output_offset;
  a.input1 = p.in1_multiplier;
  a.input2 = p.in2_multiplier;
  a.output = p.multipliers[0];
  a.act_min = p.act_min;
  a.act_max = p.act_max;
  AddElementwise(a, c.inputs[0], c.inputs[1], c.images * p.out.elements(), c.output, c.avx2);
}

}  // namespace

OpKernel RegisterAdd() { return {Prepare, EvalReference, EvalOptimized}; }

}  // namespace unas::quant::kernels
