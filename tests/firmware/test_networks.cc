#include "tests/firmware/test_networks.h"

#include <algorithm>
#include <cmath>

namespace unas::firmware::testing {
namespace {

int Uniform(std::mt19937_64& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
float UniformF(std::mt19937_64& rng, float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng); }

// gemmlowp / TFLite fixed point, written out again here so the reference
// does not share code with the C kernels.
int32_t HighMul(int32_t a, int32_t b) {
  if (a == b && a == INT32_MIN) return INT32_MAX;
  const int64_t ab = int64_t{a} * b;
  const int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

int32_t DivPot(int32_t x, int e) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << e) - 1);
  const int32_t rem = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (rem > threshold ? 1 : 0);
}

int32_t Mbqm(int32_t x, Requant r) {
  const int left = r.shift > 0 ? r.shift : 0, right = r.shift > 0 ? 0 : -r.shift;
  return DivPot(HighMul(x * (1 << left), r.multiplier), right);
}

int8_t Clamp(int32_t v, int32_t lo, int32_t hi) { return static_cast<int8_t>(std::min(hi, std::max(lo, v))); }

struct T {
  std::vector<int8_t> v;
  Shape s;
  int8_t at(int y, int x, int c) const { return v[(static_cast<size_t>(y) * s.w + x) * s.c + c]; }
};

}  // namespace

Candidate SmallRandomCandidate(std::mt19937_64& rng) {
  Candidate c;
  const int blocks = Uniform(rng, 1, 4);
  for (int b = 0; b < blocks; ++b) {
    ConvBlock block;
    block.is_branch = b > 0 && Uniform(rng, 0, 1) == 1;
    const int layers = Uniform(rng, 1, 3);
    for (int l = 0; l < layers; ++l) {
      Layer layer;
      layer.type = static_cast<LayerType>(Uniform(rng, 0, 2));
      layer.ker_size = 3 + 2 * Uniform(rng, 0, 2);
      layer.filters = Uniform(rng, 1, 16);
      layer.stride2 = Uniform(rng, 0, 1) == 1;
      layer.has_prepool = Uniform(rng, 0, 9) < 3;
      layer.has_bn = Uniform(rng, 0, 1) == 1;
      layer.has_relu = Uniform(rng, 0, 9) < 9;
      block.layers.push_back(layer);
    }
    c.conv_blocks.push_back(block);
  }
  if (Uniform(rng, 0, 9) < 8) {
    c.pooling = Pooling{Uniform(rng, 0, 1) ? PoolType::kAvg : PoolType::kMax, 2 * Uniform(rng, 1, 3)};
  }
  const int dense = Uniform(rng, 1, 2);
  for (int d = 0; d < dense; ++d) c.dense_blocks.push_back({Uniform(rng, 10, 24)});
  return c;
}

QuantizedNetwork HandQuantize(const Network& network, uint64_t seed) {
  std::mt19937_64 rng(seed);
  QuantizedNetwork q;
  q.network = network;
  q.input = {UniformF(rng, 0.005f, 0.02f), Uniform(rng, -20, 20)};
  q.ops.resize(network.ops.size());
  for (size_t i = 0; i < network.ops.size(); ++i) {
    const Op& op = network.ops[i];
    QuantizedOp& qo = q.ops[i];
    const float in_scale = q.quant_of(op.inputs[0]).scale;
    if (op.kind == OpKind::kMaxPool || op.kind == OpKind::kAvgPool) {
      qo.output = q.quant_of(op.inputs[0]);
      continue;
    }
    if (op.kind == OpKind::kAdd) {
      float scale = 0;
      for (int in : op.inputs) scale = std::max(scale, q.quant_of(in).scale);
      for (size_t j = 1; j < op.inputs.size(); ++j) {
        qo.add_stages.push_back({scale * UniformF(rng, 1.0f, 1.6f), Uniform(rng, -30, 30)});
      }
      qo.output = qo.add_stages.back();
      continue;
    }
    const int64_t fan_in = op.kind == OpKind::kConv2D   ? int64_t{op.kernel} * op.kernel * op.in.c
                           : op.kind == OpKind::kDWConv2D ? int64_t{op.kernel} * op.kernel
                                                          : op.in.elements();
    qo.weights.resize(op.weight_count());
    for (int8_t& w : qo.weights) w = static_cast<int8_t>(Uniform(rng, -127, 127));
    const int scales = op.kind == OpKind::kDense ? 1 : op.out.c;
    float mean_scale = 0;
    for (int c = 0; c < scales; ++c) {
      qo.weight_scales.push_back(UniformF(rng, 0.002f, 0.02f));
      mean_scale += qo.weight_scales.back() / scales;
    }
    const double acc_sigma = std::sqrt(static_cast<double>(fan_in)) * 40.0 * 73.0;
    qo.bias.resize(op.bias_count());
    for (int32_t& b : qo.bias) b = Uniform(rng, -static_cast<int>(acc_sigma), static_cast<int>(acc_sigma));
    const double out_scale = acc_sigma * in_scale * mean_scale / 45.0 * UniformF(rng, 0.7f, 1.4f);
    qo.output = {static_cast<float>(out_scale), Uniform(rng, -40, 40)};
  }
  return q;
}

std::vector<int8_t> RandomInputs(const Network& network, int count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int8_t> v(static_cast<size_t>(network.input_shape().elements() * count));
  for (int8_t& x : v) x = static_cast<int8_t>(Uniform(rng, -128, 127));
  return v;
}

std::vector<int8_t> RunInt8Network(const QuantizedNetwork& q, const std::vector<int8_t>& input) {
  const Network& net = q.network;
  const T in_t{input, net.input_shape()};
  std::vector<T> outs(net.ops.size());
  auto tensor = [&](int p) -> const T& { return p == kNetworkInput ? in_t : outs[p]; };
  for (int i = 0; i < static_cast<int>(net.ops.size()); ++i) {
    const Op& op = net.ops[i];
    const QuantizedOp& qo = q.ops[i];
    const T& x = tensor(op.inputs[0]);
    const int32_t in_off = -q.quant_of(op.inputs[0]).zero_point, out_off = qo.output.zero_point;
    int32_t lo = 0, hi = 0;
    ActivationRange(q, i, &lo, &hi);
    T& y = outs[i];
    y.s = op.out;
    y.v.assign(static_cast<size_t>(op.out.elements()), 0);
    int8_t* o = y.v.data();
    switch (op.kind) {
      case OpKind::kConv2D: {
        const int k = op.kernel;
        for (int oy = 0; oy < op.out.h; ++oy)
          for (int ox = 0; ox < op.out.w; ++ox)
            for (int co = 0; co < op.out.c; ++co) {
              int32_t acc = qo.bias[co];
              for (int ky = 0; ky < k; ++ky)
                for (int kx = 0; kx < k; ++kx)
                  for (int ci = 0; ci < op.in.c; ++ci)
                    acc += (x.at(oy * op.stride + ky, ox * op.stride + kx, ci) + in_off) *
                           qo.weights[((static_cast<size_t>(co) * k + ky) * k + kx) * op.in.c + ci];
              *o++ = Clamp(Mbqm(acc, OpRequant(q, i, co)) + out_off, lo, hi);
            }
        break;
      }
      case OpKind::kDWConv2D: {
        const int k = op.kernel;
        for (int oy = 0; oy < op.out.h; ++oy)
          for (int ox = 0; ox < op.out.w; ++ox)
            for (int c = 0; c < op.out.c; ++c) {
              int32_t acc = qo.bias[c];
              for (int ky = 0; ky < k; ++ky)
                for (int kx = 0; kx < k; ++kx)
                  acc += (x.at(oy * op.stride + ky, ox * op.stride + kx, c) + in_off) *
                         qo.weights[(static_cast<size_t>(ky) * k + kx) * op.in.c + c];
              *o++ = Clamp(Mbqm(acc, OpRequant(q, i, c)) + out_off, lo, hi);
            }
        break;
      }
      case OpKind::kDense: {
        const int64_t n = op.in.elements();
        for (int u = 0; u < op.out.c; ++u) {
          int32_t acc = qo.bias[u];
          for (int64_t j = 0; j < n; ++j) acc += (x.v[j] + in_off) * qo.weights[u * n + j];
          *o++ = Clamp(Mbqm(acc, OpRequant(q, i, 0)) + out_off, lo, hi);
        }
        break;
      }
      case OpKind::kMaxPool:
      case OpKind::kAvgPool:
        for (int oy = 0; oy < op.out.h; ++oy)
          for (int ox = 0; ox < op.out.w; ++ox)
            for (int c = 0; c < op.out.c; ++c) {
              int32_t acc = op.kind == OpKind::kMaxPool ? -128 : 0, count = 0;
              for (int yy = oy * op.pool_h; yy < std::min(op.in.h, (oy + 1) * op.pool_h); ++yy)
                for (int xx = ox * op.pool_w; xx < std::min(op.in.w, (ox + 1) * op.pool_w); ++xx, ++count)
                  acc = op.kind == OpKind::kMaxPool ? std::max<int32_t>(acc, x.at(yy, xx, c)) : acc + x.at(yy, xx, c);
              if (op.kind == OpKind::kAvgPool) acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
              *o++ = Clamp(acc, lo, hi);
            }
        break;
      case OpKind::kAdd: {
        // The chain of binary ADDs, each term zero-padded first (PAD by the
        // term's zero point), each stage a TFLite int8 ADD.
        auto padded = [&](int t, int yy, int xx, int c) -> int32_t {
          const T& term = tensor(op.inputs[t]);
          if (yy < term.s.h && xx < term.s.w && c < term.s.c) return term.at(yy, xx, c);
          return q.quant_of(op.inputs[t]).zero_point;
        };
        std::vector<int8_t> running(static_cast<size_t>(op.out.elements()));
        for (int yy = 0, e = 0; yy < op.out.h; ++yy)
          for (int xx = 0; xx < op.out.w; ++xx)
            for (int c = 0; c < op.out.c; ++c, ++e) running[e] = static_cast<int8_t>(padded(0, yy, xx, c));
        for (size_t j = 1; j < op.inputs.size(); ++j) {
          const AddStageRequant a = AddStage(q, i, static_cast<int>(j));
          for (int yy = 0, e = 0; yy < op.out.h; ++yy)
            for (int xx = 0; xx < op.out.w; ++xx)
              for (int c = 0; c < op.out.c; ++c, ++e) {
                const int32_t s1 = Mbqm((running[e] - a.input1.zero_point) * (1 << 20), a.r1);
                const int32_t s2 = Mbqm((padded(static_cast<int>(j), yy, xx, c) - a.input2.zero_point) * (1 << 20), a.r2);
                running[e] = Clamp(Mbqm(s1 + s2, a.out) + a.output.zero_point, -128, 127);
              }
        }
        y.v = running;
        break;
      }
    }
  }
  return outs.back().v;
}

}  // namespace unas::firmware::testing
