// STRIDED_SLICE with constant begin, end and strides and all masks 0:
// TFLite's reference strided_slice.h for int8 (a gather). The optimised
// kernel copies innermost runs when the innermost stride is 1.
#include <algorithm>
#include <cstring>

#include "quant/kernels/kernel_util.h"

namespace unas::quant::kernels {
namespace {

Result<OpParams> Prepare(const ModelGraph& g, size_t index) {
  const GraphOp& op = g.ops[index];
  UNAS_ASSIGN_OR_RETURN(OpParams p, PrepareSameQuantInput(g, index));
  if (op.inputs.size() != 4) return OpError(index, op, "expected input, begin, end and strides");
  const GraphTensor& in = g.tensors[p.inputs[0]];
  std::vector<int64_t> v[3];
  for (int k = 0; k < 3; ++k) {
    if (op.inputs[k + 1] < 0 || op.inputs[k + 1] >= static_cast<int>(g.tensors.size())) {
      return OpError(index, op, "missing begin, end or strides");
    }
    auto values = ReadIndexConstant(g.tensors[op.inputs[k + 1]]);
    if (!values.ok()) return OpError(index, op, values.status().message());
    v[k] = *values;
    if (v[k].size() != in.shape.size()) return OpError(index, op, "begin/end/strides rank differs from the input's");
  }
  const size_t lead = 4 - in.shape.size();
  for (size_t i = 0; i < in.shape.size(); ++i) {
    const int64_t dim = in.shape[i];
    int64_t b = v[0][i], e = v[1][i];
    const int64_t s = v[2][i];
    if (s <= 0) return OpError(index, op, "only positive strides are supported");
    if (b < 0) b += dim;
    if (e < 0) e += dim;
    b = std::clamp<int64_t>(b, 0, dim);
    e = std::clamp<int64_t>(e, 0, dim);
    const int64_t n = e > b ? (e - b + s - 1) / s : 0;
    if (n != p.out.d[lead + i]) return OpError(index, op, "output shape disagrees with begin/end/strides");
    p.before[lead + i] = static_cast<int>(b);
    p.stride[lead + i] = static_cast<int>(s);
  }
  return p;
}

// out[o] = in[begin + o * stride].
void EvalImage(const OpParams& p, const int8_t* in, int8_t* out) {
  for (int a = 0; a < p.out.d[0]; ++a)
    for (int b = 0; b < p.out.d[1]; ++b)
      for (int c = 0; c < p.out.d[2]; ++c)
        for (int e = 0; e < p.out.d[3]; ++e) {
          out[p.out.index(a, b, c, e)] = in[p.in.index(p.before[0] + a * p.stride[0], p.before[1] + b * p.stride[1],
                                                       p.before[2] + c * p.stride[2], p.before[3] + e * p.stride[3])];
        }
}

void EvalReference(const OpParams& p, const EvalContext& c) {
  ForEachImage(p, c, {p.in.elements()}, [&](const std::vector<const int8_t*>& in, int8_t* out) { EvalImage(p, in[0], out); });
}

void EvalOptimized(const OpParams& p, const EvalContext& c) {
  if (p.stride[3] != 1) return EvalReference(p, c);
  const size_t row = static_cast<size_t>(p.out.d[3]);
  for (int i = 0; i < c.images; ++i) {
    const int8_t* in = c.inputs[0] + i * p.in.elements();
    int8_t* out = c.output + i * p.out.elements();
    for (int a = 0; a < p.out.d[0]; ++a)
      for (int b = 0; b < p.out.d[1]; ++b)
        for (int x = 0; x < p.out.d[2]; ++x) {
          std::memcpy(out + p.out.index(a, b, x, 0),
                      in + p.in.index(p.before[0] + a * p.stride[0], p.before[1] + b * p.stride[1],
                                      p.before[2] + x * p.stride[2], p.before[3]),
                      row);
        }
  }
}

}  // namespace

OpKernel RegisterStridedSlice() { return {Prepare, EvalReference, EvalOptimized}; }

}  // namespace unas::quant::kernels
