#include "costmodel/model_pex.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>

#include "costmodel/network.h"
#include "costmodel/partial_execution.h"
#include "costmodel/text_format.h"

namespace unas {
namespace {

// NHWC with batch 1, or a flat [1, N] / [N] vector as {1, 1, N}.
std::optional<Shape> ShapeOf(const GraphTensor& t) {
  const std::vector<int>& s = t.shape;
  for (int d : s) {
    if (d <= 0) return std::nullopt;
  }
  if (s.size() == 4 && s[0] == 1) return Shape{s[1], s[2], s[3]};
  if (s.size() == 2 && s[0] == 1) return Shape{1, 1, s[1]};
  if (s.size() == 1) return Shape{1, 1, s[0]};
  return std::nullopt;
}

bool EightBit(const GraphTensor& t) { return t.type == TensorType::kInt8 || t.type == TensorType::kUInt8; }

// Maps graph op `x` onto a Network op, its activation inputs given by
// `op_of` (tensor -> network op index, kNetworkInput for the graph input,
// -2 otherwise). Returns the reason when it does not map.
std::optional<std::string> MapOp(const ModelGraph& g, int x, const std::vector<int>& op_of, Op* out) {
  const GraphOp& op = g.ops[x];
  const std::string name = BuiltinName(op.builtin_code);
  std::vector<int> acts;
  for (int t : op.inputs) {
    if (t < 0 || g.tensors[t].is_constant) continue;
    if (op_of[t] == -2) return name + " reads a tensor from outside the mapped operators";
    acts.push_back(t);
  }
  if (op.outputs.size() != 1 || acts.empty()) return name + " does not have one output and an input";
  const GraphTensor& y = g.tensors[op.outputs[0]];
  const GraphTensor& in = g.tensors[acts[0]];
  const auto out_shape = ShapeOf(y), in_shape = ShapeOf(in);
  if (!out_shape || !in_shape) return name + " has a shape other than [1,H,W,C] or [1,N]";
  if (!EightBit(y) || !EightBit(in)) return name + " has activations of more than 8 bits";
  out->inputs.clear();
  for (int t : acts) out->inputs.push_back(op_of[t]);
  out->in = *in_shape;
  out->out = *out_shape;
  auto filter = [&]() -> const GraphTensor* {
    return op.inputs.size() > 1 && op.inputs[1] >= 0 ? &g.tensors[op.inputs[1]] : nullptr;
  };
  switch (op.builtin_code) {
    case builtin::kConv2D:
    case builtin::kDepthwiseConv2D: {
      const GraphTensor* f = filter();
      if (acts.size() != 1 || !f || f->shape.size() != 4 || f->shape[1] != f->shape[2]) {
        return name + " without a square 4-D filter";
      }
      if (op.dilation_h != 1 || op.dilation_w != 1 || op.stride_h != op.stride_w) {
        return name + " with dilation or unequal strides";
      }
      // A depthwise conv with a channel multiplier M over one input channel
      // is a convolution with M filters (same MACs, same slicing); over
      // several channels it is grouped, which Pex does not slice.
      const bool dw = op.builtin_code == builtin::kDepthwiseConv2D && out_shape->c == in_shape->c;
      if (op.builtin_code == builtin::kDepthwiseConv2D && !dw && in_shape->c != 1) {
        return name + " with a channel multiplier over several channels";
      }
      out->kind = dw ? OpKind::kDWConv2D : OpKind::kConv2D;
      out->kernel = f->shape[1];
      out->stride = op.stride_h;
      return std::nullopt;
    }
    case builtin::kMaxPool2D:
    case builtin::kAveragePool2D:
      if (acts.size() != 1) return name + " with more than one input";
      out->kind = op.builtin_code == builtin::kMaxPool2D ? OpKind::kMaxPool : OpKind::kAvgPool;
      out->pool_h = op.filter_h;
      out->pool_w = op.filter_w;
      return std::nullopt;
    case builtin::kAdd:
      if (acts.size() != 2) return name + " without two activation inputs";
      for (int t : acts) {
        if (ShapeOf(g.tensors[t]) != out_shape) return name + " with broadcasting";
      }
      out->kind = OpKind::kAdd;
      return std::nullopt;
    case builtin::kFullyConnected:
      if (acts.size() != 1 || out_shape->h != 1 || out_shape->w != 1) return name + " with a batch or kept dims";
      out->kind = OpKind::kDense;
      return std::nullopt;
    default:
      return name + " is not one of the operators Pex slices here (CONV_2D, DEPTHWISE_CONV_2D, pooling, ADD, "
                    "FULLY_CONNECTED)";
  }
}

// An upper bound on the schedule steps PlanPartialExecution builds for
// `net` (its cost in time and memory): every evaluation of a set of segments
// builds the network's operators plus each segment's operators once per
// slice (one channel per slice while choosing), and it evaluates the empty
// plan, each candidate once per pass, each chosen segment once more to drop
// it, up to 2 sqrt(C) slice widths per chosen segment, and the final plan.
int64_t PexWorkBound(const Network& net) {
  const std::vector<PexSegment> candidates = CandidateSegments(net);
  const int64_t n = static_cast<int64_t>(net.ops.size());
  std::vector<int64_t> cover(net.ops.size(), 0);  // the most slices any candidate gives an op
  int64_t widest = 1;
  for (const PexSegment& c : candidates) {
    for (int op : c.ops) cover[op] = std::max<int64_t>(cover[op], c.channels + 1);
    widest = std::max<int64_t>(widest, c.channels);
  }
  int64_t per_evaluation = n;
  for (int64_t c : cover) per_evaluation += c;
  int64_t widths = 2;
  while (widths * widths < 4 * widest) ++widths;  // >= 2 sqrt(widest)
  const double evaluations =
      2.0 + PexOptions().max_passes * static_cast<double>(candidates.size()) + static_cast<double>(n / 2 * (1 + widths));
  const double work = evaluations * static_cast<double>(per_evaluation);  // no overflow for huge channel counts
  return work >= 9e18 ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(work);
}

}  // namespace

std::vector<int> SoleLiveTensors(const ModelGraph& g) {
  // Tensor t is live between steps s-1 and s for s in [from, until]: from
  // after its first producer (0 for a graph input), until its last reader
  // (the end for a graph output). Counts and id sums by difference arrays:
  // where the count is one, the sum is the tensor.
  const int n = static_cast<int>(g.ops.size());
  const int tensors = static_cast<int>(g.tensors.size());
  std::vector<int> from(tensors, n + 1), until(tensors, -1);
  for (int t : g.inputs) {
    if (t >= 0 && t < tensors) from[t] = 0;
  }
  for (int t : g.outputs) {
    if (t >= 0 && t < tensors) until[t] = n;
  }
  for (int x = 0; x < n; ++x) {
    for (int t : g.ops[x].outputs) {
      if (t >= 0 && t < tensors) from[t] = std::min(from[t], x + 1);
    }
    for (int t : g.ops[x].inputs) {
      if (t >= 0 && t < tensors) until[t] = std::max(until[t], x);
    }
  }
  std::vector<int64_t> count(n + 2, 0), sum(n + 2, 0);
  for (int t = 0; t < tensors; ++t) {
    const GraphTensor& tensor = g.tensors[t];
    if (tensor.is_constant || tensor.is_variable || tensor.bytes() <= 0) continue;
    const int lo = from[t], hi = std::min(until[t], n);
    if (lo > hi) continue;
    count[lo] += 1, count[hi + 1] -= 1;
    sum[lo] += t, sum[hi + 1] -= t;
  }
  std::vector<int> sole(n, -1);
  int64_t live = 0, ids = 0;
  for (int s = 0; s < n; ++s) {
    live += count[s];
    ids += sum[s];
    if (live == 1) sole[s] = static_cast<int>(ids);
    else if (live > 1) sole[s] = -2;
  }
  return sole;
}

PexAnalysis PlanModelPex(const ModelGraph& g, const std::vector<int64_t>& file_timeline, int64_t file_peak_bytes,
                         const AnalysisLimits& limits) {
  PexAnalysis pex;
  pex.peak_bytes = file_peak_bytes;
  pex.timeline_bytes = file_timeline;
  const int n = static_cast<int>(g.ops.size());
  const int tensors = static_cast<int>(g.tensors.size());
  // The first start s (operators before it run whole) where exactly one
  // 8-bit tensor X is live, not a graph output, and a prefix of at least two
  // operators from s maps onto Network operators reading X; the prefix is
  // then shrunk until only its last output is read after it.
  if (n < 2) {
    pex.reason = "partial execution slices chains of at least two operators; the model has " + std::to_string(n);
    return pex;
  }
  std::string stop;  // why each start tried did not give a plan
  int tried = 0;
  auto give_up = [&](int s, const std::string& why) {
    if (tried++ < 3) stop += (stop.empty() ? "" : "; ") + std::string("from operator ") + std::to_string(s) + ": " + why;
  };
  // How far each tensor is needed: its last reader, or past the end for a
  // graph output (so that "read after the chain" is one comparison).
  std::vector<int> reach(tensors, -1);
  for (int x = 0; x < n; ++x) {
    for (int t : g.ops[x].inputs) {
      if (t >= 0 && t < tensors) reach[t] = std::max(reach[t], x);
    }
  }
  for (int t : g.outputs) {
    if (t >= 0 && t < tensors) reach[t] = n;
  }
  const std::vector<int> sole = SoleLiveTensors(g);
  // Tensor -> network op index while a start is tried; reset after each.
  std::vector<int> op_of(tensors, -2);
  const int64_t cap = std::max(2, limits.max_pex_operators);
  // A start given up on after mapping `cap` operators might have planned
  // with more: every answer then says the limit was reached.
  bool capped_before = false;
  const std::string cap_note = " (partial execution plans at most " + std::to_string(cap) +
                               " operators of a chain, the analysis' limit; the rest runs whole)";
  for (int s = 0; s + 1 < n; ++s) {
    if (sole[s] < 0) {
      if (s == 0) give_up(0, "the graph does not start from one input");
      continue;
    }
    const int x_tensor = sole[s];
    const auto shape = ShapeOf(g.tensors[x_tensor]);
    if (!shape || !EightBit(g.tensors[x_tensor]) ||
        std::find(g.outputs.begin(), g.outputs.end(), x_tensor) != g.outputs.end()) {
      give_up(s, "the tensor live there is not an 8-bit [1,H,W,C] or [1,N] tensor");
      continue;
    }
    op_of[x_tensor] = kNetworkInput;
    Network net;
    net.input = InputSpec{shape->h, shape->w, shape->c, 2};
    std::string why_stop = "only its last output may be read after the chain";
    bool capped = false;
    for (int x = s; x < n; ++x) {
      if (static_cast<int64_t>(net.ops.size()) >= cap) {
        capped = true;
        break;
      }
      Op op;
      if (auto why = MapOp(g, x, op_of, &op)) {
        why_stop = "operator " + std::to_string(x) + ", " + *why;
        break;
      }
      op_of[g.ops[x].outputs[0]] = x - s;
      net.ops.push_back(op);
    }
    const int mapped = static_cast<int>(net.ops.size());
    auto reset = [&] {
      op_of[x_tensor] = -2;
      for (int j = 0; j < mapped; ++j) op_of[g.ops[s + j].outputs[0]] = -2;
    };
    // closed(k): nothing after operator s+k-1 reads X or the outputs of the
    // chain's first k-1 operators, and none of them is a graph output.
    std::vector<int> needed(std::max(mapped, 1), reach[x_tensor]);  // needed[j]: X and outputs 0..j-1
    for (int j = 1; j < mapped; ++j) needed[j] = std::max(needed[j - 1], reach[g.ops[s + j - 1].outputs[0]]);
    auto closed = [&](int k) { return needed[k - 1] < s + k; };
    int k = mapped;
    while (k >= 2 && !closed(k)) --k;
    if (k < 2) {
      reset();
      give_up(s, why_stop);
      capped_before = capped_before || capped;
      continue;
    }
    net.ops.resize(k);
    // The planner's cost grows with the chain and its channels: plan the
    // longest closed prefix within the work limit.
    const int closed_k = k;
    const bool unlimited = limits.max_pex_work == std::numeric_limits<int64_t>::max();
    int64_t work = unlimited ? 0 : PexWorkBound(net);
    while (work > limits.max_pex_work && k > 2) {
      do {
        --k;
      } while (k >= 2 && !closed(k));
      if (k < 2) break;
      net.ops.resize(k);
      work = PexWorkBound(net);
    }
    reset();
    const std::string over_work = "planning partial execution from operator " + std::to_string(s) +
                                  " would build about " + std::to_string(work) + " schedule steps, more than the " +
                                  "analysis' limit of " + std::to_string(limits.max_pex_work);
    if (k < 2 || work > limits.max_pex_work) {
      pex.reason = "not planned: " + over_work + " (docs/analyze.md)" + (capped_before ? cap_note : "");
      return pex;
    }
    auto plan = PlanPartialExecution(net, Accounting::kFirmware);
    if (!plan.ok()) {
      pex.reason = "planning failed: " + plan.status().message();
      return pex;
    }
    const std::string range = "operators " + std::to_string(s) + ".." + std::to_string(s + k - 1);
    std::string cut;
    if ((capped && k == closed_k) || capped_before) {
      cut = cap_note;
    } else if (k < closed_k) {
      cut = " (shortened from " + std::to_string(closed_k) + " operators: planning them all would exceed the " +
            "analysis' work limit of " + std::to_string(limits.max_pex_work) + " schedule steps)";
    }
    if (plan->segments.empty()) {
      pex.reason = "no segment of " + range + " lowers the peak: every operator runs whole" + cut;
      return pex;
    }
    pex.applies = true;
    pex.timeline_bytes.assign(file_timeline.begin(), file_timeline.begin() + s);
    pex.timeline_bytes.insert(pex.timeline_bytes.end(), plan->timeline.begin(), plan->timeline.end());
    pex.timeline_bytes.insert(pex.timeline_bytes.end(), file_timeline.begin() + s + k, file_timeline.end());
    pex.peak_bytes = *std::max_element(pex.timeline_bytes.begin(), pex.timeline_bytes.end());
    for (const PexSegment& seg : plan->segments) {
      PexSegmentAnalysis a;
      for (int op : seg.ops) a.ops.push_back(op + s);
      a.slices = seg.slices();
      pex.segments.push_back(std::move(a));
    }
    pex.reason = std::to_string(plan->segments.size()) + " segment(s) among " + range +
                 " (firmware accounting: unas's runtime); the other operators run whole; peak " +
                 WithThousands(pex.peak_bytes) + " bytes against " + WithThousands(file_peak_bytes) +
                 " in file order" + cut;
    return pex;
  }
  pex.reason = "no chain of at least two operators Pex can slice (" + stop + ")" + (capped_before ? cap_note : "");
  return pex;
}

}  // namespace unas
