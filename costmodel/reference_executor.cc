#include "costmodel/reference_executor.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

namespace unas {
namespace {

// A tensor, or a contiguous slice of its channels [c_first, c_first + c_stored).
struct View {
  float* data = nullptr;
  int h = 1, w = 1, c_stored = 1, c_first = 0;
  float& at(int y, int x, int c) const {
    return data[(static_cast<int64_t>(y) * w + x) * c_stored + (c - c_first)];
  }
  int64_t elements() const { return int64_t{h} * w * c_stored; }
};

View ViewOf(float* data, const Shape& s) { return {data, s.h, s.w, s.c, 0}; }

// out[co] (= or +=) sum over ci in [ci0, ci1) of the convolution. Output
// channels run innermost so the weights are read contiguously; each output's
// sum still adds its terms in (ky, kx, ci) order, so every float is the same
// as summing one output at a time.
void Conv(const Op& op, const std::vector<float>& w, const View& in, const View& out, int ci0, int ci1, int co0,
          int co1, bool accumulate, int64_t* macs) {
  const int k = op.kernel, cin = op.in.c, cout = op.out.c;
  std::vector<float> sums(static_cast<size_t>(co1 - co0));
  for (int oy = 0; oy < op.out.h; ++oy) {
    for (int ox = 0; ox < op.out.w; ++ox) {
      std::fill(sums.begin(), sums.end(), 0.0f);
      for (int ky = 0; ky < k; ++ky) {
        for (int kx = 0; kx < k; ++kx) {
          for (int ci = ci0; ci < ci1; ++ci) {
            const float x = in.at(oy * op.stride + ky, ox * op.stride + kx, ci);
            const float* wr = &w[((static_cast<int64_t>(ky) * k + kx) * cin + ci) * cout + co0];
            for (int j = 0; j < co1 - co0; ++j) sums[j] += x * wr[j];
          }
        }
      }
      for (int co = co0; co < co1; ++co) {
        float& o = out.at(oy, ox, co);
        o = accumulate ? o + sums[co - co0] : sums[co - co0];
      }
    }
  }
  *macs += int64_t{op.out.h} * op.out.w * (co1 - co0) * k * k * (ci1 - ci0);
}

// Units innermost, as Conv (same floats as one unit at a time).
void Dense(const Op& op, const std::vector<float>& w, const View& in, const View& out, int ci0, int ci1,
           bool accumulate, int64_t* macs) {
  const int units = op.out.c, c = op.in.c;
  std::vector<float> sums(static_cast<size_t>(units), 0.0f);
  for (int y = 0; y < op.in.h; ++y) {
    for (int x = 0; x < op.in.w; ++x) {
      for (int ci = ci0; ci < ci1; ++ci) {
        const float v = in.at(y, x, ci);
        const float* wr = &w[((static_cast<int64_t>(y) * op.in.w + x) * c + ci) * units];
        for (int o = 0; o < units; ++o) sums[o] += v * wr[o];
      }
    }
  }
  for (int o = 0; o < units; ++o) {
    float& out_o = out.at(0, 0, o);
    out_o = accumulate ? out_o + sums[o] : sums[o];
  }
  *macs += int64_t{op.in.h} * op.in.w * (ci1 - ci0) * units;
}

// Bias and ReLU over channels [c0, c1), reading `from` and writing `to`
// (the same memory when finalising an accumulator in place).
void Finish(const Op& op, const std::vector<float>& bias, const View& from, const View& to, int c0, int c1) {
  for (int y = 0; y < op.out.h; ++y) {
    for (int x = 0; x < op.out.w; ++x) {
      for (int c = c0; c < c1; ++c) {
        const float v = from.at(y, x, c) + bias[c];
        to.at(y, x, c) = op.has_relu ? (v > 0 ? v : 0) : v;
      }
    }
  }
}

// Depthwise conv or pool over channels [c0, c1).
void ChannelLocal(const Op& op, const ReferenceWeights& rw, int index, const View& in, const View& out, int c0,
                  int c1, int64_t* macs) {
  for (int oy = 0; oy < op.out.h; ++oy) {
    for (int ox = 0; ox < op.out.w; ++ox) {
      for (int c = c0; c < c1; ++c) {
        float v = 0;
        if (op.kind == OpKind::kDWConv2D) {
          const int k = op.kernel;
          for (int ky = 0; ky < k; ++ky) {
            for (int kx = 0; kx < k; ++kx) {
              v += in.at(oy * op.stride + ky, ox * op.stride + kx, c) * rw.weights[index][(ky * k + kx) * op.in.c + c];
            }
          }
          v += rw.biases[index][c];
          if (op.has_relu) v = v > 0 ? v : 0;
        } else {
          const int y1 = std::min(op.in.h, (oy + 1) * op.pool_h), x1 = std::min(op.in.w, (ox + 1) * op.pool_w);
          bool first = true;
          int count = 0;
          for (int y = oy * op.pool_h; y < y1; ++y) {
            for (int x = ox * op.pool_w; x < x1; ++x, ++count) {
              const float e = in.at(y, x, c);
              v = op.kind == OpKind::kAvgPool ? v + e : (first || e > v ? e : v);
              first = false;
            }
          }
          if (op.kind == OpKind::kAvgPool) v /= static_cast<float>(count);
        }
        out.at(oy, ox, c) = v;
      }
    }
  }
  const int64_t per = op.kind == OpKind::kDWConv2D ? int64_t{op.kernel} * op.kernel : int64_t{op.pool_h} * op.pool_w;
  *macs += int64_t{op.out.h} * op.out.w * (c1 - c0) * per;
}

void AddOp(const Op& op, const std::vector<View>& ins, const View& out) {
  for (int y = 0; y < op.out.h; ++y) {
    for (int x = 0; x < op.out.w; ++x) {
      for (int c = 0; c < op.out.c; ++c) {
        float v = 0;
        for (const View& in : ins) {
          if (y < in.h && x < in.w && c < in.c_stored) v += in.at(y, x, c);
        }
        out.at(y, x, c) = v;
      }
    }
  }
}

// Runs op `index` whole from `ins` into `out`.
void RunOpWhole(const Network& network, const ReferenceWeights& rw, int index, const std::vector<View>& ins,
                const View& out, int64_t* macs) {
  const Op& op = network.ops[index];
  switch (op.kind) {
    case OpKind::kConv2D:
      Conv(op, rw.weights[index], ins[0], out, 0, op.in.c, 0, op.out.c, false, macs);
      Finish(op, rw.biases[index], out, out, 0, op.out.c);
      break;
    case OpKind::kDense:
      Dense(op, rw.weights[index], ins[0], out, 0, op.in.c, false, macs);
      Finish(op, rw.biases[index], out, out, 0, op.out.c);
      break;
    case OpKind::kDWConv2D:
    case OpKind::kMaxPool:
    case OpKind::kAvgPool: ChannelLocal(op, rw, index, ins[0], out, 0, op.out.c, macs); break;
    case OpKind::kAdd:
      AddOp(op, ins, out);
      *macs += op.macs();
      break;
  }
}

}  // namespace

ReferenceWeights RandomWeights(const Network& network, uint64_t seed) {
  std::mt19937_64 rng(seed);
  ReferenceWeights rw;
  for (const Op& op : network.ops) {
    int64_t fan_in = 1;
    if (op.kind == OpKind::kConv2D) fan_in = int64_t{op.kernel} * op.kernel * op.in.c;
    if (op.kind == OpKind::kDWConv2D) fan_in = int64_t{op.kernel} * op.kernel;
    if (op.kind == OpKind::kDense) fan_in = op.in.elements();
    std::uniform_real_distribution<float> w(-1.0f / std::sqrt(static_cast<float>(fan_in)),
                                            1.0f / std::sqrt(static_cast<float>(fan_in)));
    std::uniform_real_distribution<float> b(-0.1f, 0.1f);
    std::vector<float> weights(op.weight_count()), biases(op.bias_count());
    for (float& v : weights) v = w(rng);
    for (float& v : biases) v = b(rng);
    rw.weights.push_back(std::move(weights));
    rw.biases.push_back(std::move(biases));
  }
  return rw;
}

std::vector<float> RandomInput(const Network& network, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> input(network.input_shape().elements());
  for (float& v : input) v = u(rng);
  return input;
}

Result<ExecutionResult> RunWhole(const Network& network, const ReferenceWeights& weights,
                                 const std::vector<float>& input, RunTrace* trace) {
  if (static_cast<int64_t>(input.size()) != network.input_shape().elements()) {
    return Status::Invalid("input has the wrong number of elements");
  }
  std::vector<float> in_copy = input;
  std::vector<std::vector<float>> outs(network.ops.size());
  ExecutionResult result;
  for (size_t i = 0; i < network.ops.size(); ++i) {
    const Op& op = network.ops[i];
    std::vector<View> ins;
    for (int p : op.inputs) {
      ins.push_back(p == kNetworkInput ? ViewOf(in_copy.data(), network.input_shape())
                                       : ViewOf(outs[p].data(), network.ops[p].out));
    }
    outs[i].assign(op.out.elements(), 0.0f);
    RunOpWhole(network, weights, static_cast<int>(i), ins, ViewOf(outs[i].data(), op.out), &result.macs);
    if (trace != nullptr) {
      trace->add_partial_sums.resize(network.ops.size());
      trace->add_partial_sums[i].clear();
      // The same Add, over the first k terms: exactly the chain's k-1'th sum
      // (float addition in the same order).
      for (size_t k = 2; op.kind == OpKind::kAdd && k <= ins.size(); ++k) {
        std::vector<float> partial(op.out.elements(), 0.0f);
        AddOp(op, std::vector<View>(ins.begin(), ins.begin() + static_cast<std::ptrdiff_t>(k)),
              ViewOf(partial.data(), op.out));
        trace->add_partial_sums[i].push_back(std::move(partial));
      }
    }
  }
  result.output = outs.back();
  if (trace != nullptr) trace->outputs = std::move(outs);
  return result;
}

Result<ExecutionResult> RunPlan(const Network& network, const PexPlan& plan, const ReferenceWeights& weights,
                                const std::vector<float>& input) {
  if (static_cast<int64_t>(input.size()) != network.input_shape().elements()) {
    return Status::Invalid("input has the wrong number of elements");
  }
  if (plan.layout.offsets.size() != plan.graph.tensor_bytes.size()) {
    return Status(StatusCode::kFailedPrecondition, "plan has no arena layout");
  }
  // Poison, so that reading a buffer nobody wrote shows in the output.
  std::vector<float> arena(static_cast<size_t>(plan.layout.arena_bytes), 1e6f);
  std::vector<float> outside = input;  // the uncounted network input
  const int t_count = static_cast<int>(plan.tensors.size());
  std::vector<View> views(t_count);
  for (int t = 0; t < t_count; ++t) {
    const PexTensor& pt = plan.tensors[t];
    const Shape s = pt.op == kNetworkInput ? network.input_shape() : network.ops[pt.op].out;
    View v{nullptr, s.h, s.w, s.c, 0};
    if (pt.kind == PexTensorKind::kSlice) {
      v.c_first = pt.channel_begin;
      v.c_stored = pt.channel_end - pt.channel_begin;
    }
    const int64_t offset = plan.layout.offsets[t];
    if (plan.graph.tensor_bytes[t] == 0 && pt.op == kNetworkInput) {
      v.data = outside.data();
    } else if (offset < 0 || offset + v.elements() > plan.layout.arena_bytes) {
      return Status(StatusCode::kFailedPrecondition,
                    "tensor " + std::to_string(t) + " does not fit in the planned arena");
    } else {
      v.data = arena.data() + offset;
    }
    views[t] = v;
  }
  if (plan.graph.tensor_bytes[0] > 0) std::copy(input.begin(), input.end(), views[0].data);
  // Carries the previous accumulator (or partly written output) into the
  // next one when the layout did not put them in the same place.
  auto carry = [&](int from, int to) {
    if (views[from].data != views[to].data) {
      std::copy(views[from].data, views[from].data + views[from].elements(), views[to].data);
    }
  };
  ExecutionResult result;
  for (int g : plan.order) {
    const PexStep& step = plan.steps[g];
    const BufferGraph::Step& gs = plan.graph.ops[g];
    const Op& op = network.ops[step.op];
    const View& out = views[gs.output];
    if (step.kind == PexStepKind::kWhole) {
      std::vector<View> ins;
      for (int t : gs.inputs) ins.push_back(views[t]);
      RunOpWhole(network, weights, step.op, ins, out, &result.macs);
      continue;
    }
    if (step.kind == PexStepKind::kFinalize) {
      Finish(op, weights.biases[step.op], views[gs.inputs[0]], out, 0, op.out.c);
      continue;
    }
    const PexSegment& seg = plan.segments[step.segment];
    const bool head = seg.ops.front() == step.op, tail = seg.ops.back() == step.op;
    const View& in = views[gs.inputs[0]];
    const int c0 = step.channel_begin, c1 = step.channel_end;
    if (tail && step.slice > 0) carry(gs.inputs.back(), gs.output);
    if (op.kind == OpKind::kConv2D && head) {
      Conv(op, weights.weights[step.op], in, out, 0, op.in.c, c0, c1, false, &result.macs);
      Finish(op, weights.biases[step.op], out, out, c0, c1);
    } else if (op.kind == OpKind::kConv2D) {
      Conv(op, weights.weights[step.op], in, out, c0, c1, 0, op.out.c, step.slice > 0, &result.macs);
    } else if (op.kind == OpKind::kDense) {
      Dense(op, weights.weights[step.op], in, out, c0, c1, step.slice > 0, &result.macs);
    } else {
      ChannelLocal(op, weights, step.op, in, out, c0, c1, &result.macs);
    }
  }
  const View& last = views[plan.graph.graph_outputs[0]];
  result.output.assign(last.data, last.data + last.elements());
  return result;
}

}  // namespace unas
