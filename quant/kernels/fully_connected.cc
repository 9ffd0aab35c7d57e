// FULLY_CONNECTED: TFLite's reference integer_ops/fully_connected.h, and the
// optimised kernel: every image's rows (q_in - Z_in as int16) in one GEMM
// against the packed (w - Z_w), so a batch of images reads the weights once.
#include <algorithm>

#include "quant/kernels/arithmetic.h"
#include "quant/kernels/kernel_util.h"

namespace unas::quant::kernels {
namespace {

Result<OpParams> Prepare(const ModelGraph& g, size_t index) {
  OpParams p;
  const GraphTensor *out = nullptr, *in = nullptr, *filter = nullptr;
  UNAS_RETURN_IF_ERROR(PrepareWeightedOp(g, index, &p, &in, &out, &filter));
  p.multipliers = {FullyConnectedMultiplier(in->quant.scale[0], filter->quant.scale[0], out->quant.scale[0])};
  const int units = filter->shape[0];
  p.gemm_k = static_cast<int>(p.fc_inputs);
  std::vector<int16_t> rows(p.filter.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int16_t>(p.filter[i] + p.filter_offset);
  p.packed = PackGemmB(rows, units, p.gemm_k);
  p.requant = MakeChannelRequant(p, units);
  return p;
}

void EvalImage(const OpParams& p, const int8_t* in, int8_t* out) {
  const int64_t batches = p.in.elements() / p.fc_inputs, units = p.out.elements() / batches;
  for (int64_t b = 0; b < batches; ++b) {
    const int8_t* x = in + b * p.fc_inputs;
    for (int64_t u = 0; u < units; ++u) {
      const int8_t* w = p.filter.data() + u * p.fc_inputs;
      int32_t acc = 0;
      for (int64_t i = 0; i < p.fc_inputs; ++i) acc += (w[i] + p.filter_offset) * (x[i] + p.input_offset);
      if (!p.bias.empty()) acc += p.bias[u];
      out[b * units + u] = Clamp(MultiplyByQuantizedMultiplier(acc, p.multipliers[0]) + p.output_offset, p);
    }
  }
}

void EvalReference(const OpParams& p, const EvalContext& c) {
  ForEachImage(p, c, {p.in.elements()}, [&](const std::vector<const int8_t*>& in, int8_t* out) { EvalImage(p, in[0], out); });
}

// Input rows per GEMM call.
constexpr int kRowBlock = 64;

void EvalOptimized(const OpParams& p, const EvalContext& c) {
  const int k = p.gemm_k, kp = GemmPaddedK(k);
  const int units = static_cast<int>(p.out.elements() / (p.in.elements() / p.fc_inputs));
  const int np = PaddedChannels(units);
  // Images' inputs are contiguous, so every image's batches are rows of one matrix.
  const int64_t total_rows = c.images * (p.in.elements() / p.fc_inputs);
  Scratch& s = *c.scratch;
  s.columns.resize(static_cast<size_t>(kRowBlock) * kp);
  s.accumulators.resize(static_cast<size_t>(kRowBlock) * np);
  for (int64_t first = 0; first < total_rows; first += kRowBlock) {
    const int rows = static_cast<int>(std::min<int64_t>(kRowBlock, total_rows - first));
    for (int r = 0; r < rows; ++r) {
      int16_t* dst = s.columns.data() + static_cast<int64_t>(r) * kp;
      WidenWithOffset(c.inputs[0] + (first + r) * k, k, p.input_offset, dst);
      if (kp != k) dst[k] = 0;
    }
    GemmInt16(s.columns.data(), kp, rows, kp, p.packed.data(), np, s.accumulators.data(), np, c.avx2);
    RequantizeRows(s.accumulators.data(), np, rows, units, p.requant, p.output_offset, p.act_min, p.act_max,
                   c.output + first * units, units, c.avx2);
  }
}

}  // namespace

OpKernel RegisterFullyConnected() { return {Prepare, EvalReference, EvalOptimized}; }

}  // namespace unas::quant::kernels
