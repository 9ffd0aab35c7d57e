#include "costmodel/partial_execution.h"

#include <algorithm>
#include <string>

namespace unas {
namespace {

bool ChannelLocal(OpKind kind) {
  return kind == OpKind::kDWConv2D || kind == OpKind::kMaxPool || kind == OpKind::kAvgPool;
}
bool HeadOk(OpKind kind) { return kind == OpKind::kConv2D || ChannelLocal(kind); }
bool TailOk(OpKind kind) { return ChannelLocal(kind) || kind == OpKind::kConv2D || kind == OpKind::kDense; }

std::vector<std::vector<int>> Consumers(const Network& network) {
  std::vector<std::vector<int>> consumers(network.ops.size());
  for (size_t i = 0; i < network.ops.size(); ++i) {
    for (int in : network.ops[i].inputs) {
      if (in != kNetworkInput) consumers[in].push_back(static_cast<int>(i));
    }
  }
  return consumers;
}

// The sole consumer of `op` if the pair can sit inside a segment, else -1.
int LinkedConsumer(const Network& network, const std::vector<std::vector<int>>& consumers, int op) {
  if (op == network.output_op() || consumers[op].size() != 1) return -1;
  const int c = consumers[op][0];
  return network.ops[c].inputs.size() == 1 ? c : -1;
}

// MACs of `op` restricted to `channels` of the segment's channel axis: the
// output channels of a head conv, the input channels of an accumulating
// tail, the channels of a channel-local op. Linear in `channels`, so the
// slices of an operator sum to Op::macs().
int64_t SliceMacs(const Op& op, bool is_head, int channels) {
  const int64_t k2 = int64_t{op.kernel} * op.kernel;
  const int64_t hw = int64_t{op.out.h} * op.out.w;
  switch (op.kind) {
    case OpKind::kConv2D:
      return is_head ? hw * k2 * op.in.c * channels : hw * k2 * channels * op.out.c;
    case OpKind::kDWConv2D: return hw * k2 * channels;
    case OpKind::kMaxPool:
    case OpKind::kAvgPool: return hw * op.pool_h * op.pool_w * channels;
    case OpKind::kDense: return int64_t{op.in.h} * op.in.w * channels * op.out.c;
    case OpKind::kAdd: return 0;
  }
  return 0;
}

Status ValidateSegments(const Network& network, const std::vector<PexSegment>& segments) {
  const auto consumers = Consumers(network);
  std::vector<int> owner(network.ops.size(), -1);
  for (size_t s = 0; s < segments.size(); ++s) {
    const PexSegment& seg = segments[s];
    const std::string where = "segment " + std::to_string(s);
    const int m = static_cast<int>(seg.ops.size());
    if (m < 2) return Status::Invalid(where + ": needs at least two operators");
    for (int i = 0; i < m; ++i) {
      const int op = seg.ops[i];
      if (op < 0 || op >= static_cast<int>(network.ops.size())) return Status::Invalid(where + ": unknown op");
      if (owner[op] >= 0) return Status::Invalid(where + ": op " + std::to_string(op) + " is in two segments");
      owner[op] = static_cast<int>(s);
      const OpKind kind = network.ops[op].kind;
      const bool ok = i == 0 ? HeadOk(kind) : i == m - 1 ? TailOk(kind) : ChannelLocal(kind);
      if (!ok) return Status::Invalid(where + ": op " + std::to_string(op) + " cannot sit at that position");
      if (i > 0 && LinkedConsumer(network, consumers, seg.ops[i - 1]) != op) {
        return Status::Invalid(where + ": op " + std::to_string(op) + " is not the sole consumer of the previous op");
      }
    }
    if (seg.channels != network.ops[seg.ops[0]].out.c || seg.channels < 2) {
      return Status::Invalid(where + ": channels must be the head's output channels (at least 2)");
    }
    if (seg.slice_channels < 1 || seg.slices() < 2) {
      return Status::Invalid(where + ": slice_channels must give at least two slices");
    }
    const OpKind tail = network.ops[seg.ops.back()].kind;
    if (seg.accumulates != (tail == OpKind::kConv2D || tail == OpKind::kDense)) {
      return Status::Invalid(where + ": accumulates must be true exactly for a conv or dense tail");
    }
  }
  return Status::Ok();
}

// The schedule's buffer graph ("expanded") and the compressed graph the order
// is optimised on ("macro"), built together. In the macro graph a segment
// reading X and writing Y becomes S1: X -> T1 (M1 bytes), then either
// S2: T1 -> Y in place (when M2 <= M1), or S2: T1 -> T2 (max(|Y|, M2 - M1))
// and S3: T2 -> Y in place; M1 and M2 are the largest internal bytes (live
// bytes of the segment, X excluded) before and after X's last read. The
// expanded steps of the first phase run at S1's position and the rest at
// S2's, and at every position the macro graph holds at least the bytes the
// expanded schedule does, so the macro peak bounds the exact one.
struct Built {
  BufferGraph expanded;
  std::vector<PexTensor> tensors;
  std::vector<PexStep> steps;
  BufferGraph macro;
  std::vector<std::vector<int>> macro_steps;  // by macro op: expanded op ids
};

Built Build(const Network& network, Accounting accounting, const std::vector<PexSegment>& segments) {
  Built b;
  const int n = static_cast<int>(network.ops.size());
  const int64_t input_bytes = accounting == Accounting::kUnas ? 0 : network.input_shape().elements();
  b.expanded.inplace_requires_last_use = b.macro.inplace_requires_last_use = accounting != Accounting::kUnas;
  b.expanded.tensor_bytes.push_back(input_bytes);
  b.macro.tensor_bytes.push_back(input_bytes);
  b.tensors.push_back({PexTensorKind::kWhole, kNetworkInput, 0, 0});
  std::vector<int> whole(n, -1), macro_whole(n, -1);  // by op: its whole output tensor
  auto tensor_of = [](const std::vector<int>& map, int op) { return op == kNetworkInput ? 0 : map[op]; };
  auto add_tensor = [&](int64_t bytes, PexTensor t) {
    b.expanded.tensor_bytes.push_back(bytes);
    b.tensors.push_back(t);
    return static_cast<int>(b.expanded.tensor_bytes.size()) - 1;
  };
  auto add_macro_tensor = [&](int64_t bytes) {
    b.macro.tensor_bytes.push_back(bytes);
    return static_cast<int>(b.macro.tensor_bytes.size()) - 1;
  };
  auto add_step = [&](BufferGraph::Step step, PexStep info) {
    b.expanded.ops.push_back(std::move(step));
    b.steps.push_back(info);
    return static_cast<int>(b.expanded.ops.size()) - 1;
  };
  auto add_macro_step = [&](BufferGraph::Step step, std::vector<int> expanded) {
    b.macro.ops.push_back(std::move(step));
    b.macro_steps.push_back(std::move(expanded));
  };
  std::vector<int> segment_of(n, -1);
  for (size_t s = 0; s < segments.size(); ++s) {
    for (int op : segments[s].ops) segment_of[op] = static_cast<int>(s);
  }

  for (int i = 0; i < n; ++i) {
    const Op& op = network.ops[i];
    const int s = segment_of[i];
    if (s < 0) {
      BufferGraph::Step step, mstep;
      step.output = whole[i] = add_tensor(op.out.elements(), {PexTensorKind::kWhole, i, 0, 0});
      mstep.output = macro_whole[i] = add_macro_tensor(op.out.elements());
      for (int in : op.inputs) {
        step.inputs.push_back(tensor_of(whole, in));
        mstep.inputs.push_back(tensor_of(macro_whole, in));
        const Shape in_shape = in == kNetworkInput ? network.input_shape() : network.ops[in].out;
        if (op.kind == OpKind::kAdd && in_shape == op.out) {
          step.inplace_inputs.push_back(step.inputs.back());
          mstep.inplace_inputs.push_back(mstep.inputs.back());
        }
      }
      PexStep info;
      info.op = i;
      info.macs = op.macs();
      add_macro_step(std::move(mstep), {add_step(std::move(step), info)});
      continue;
    }
    const PexSegment& seg = segments[s];
    if (seg.ops[0] != i) continue;  // emitted with the head
    const int m = static_cast<int>(seg.ops.size());
    const int k = seg.slices();
    const Op& tail_op = network.ops[seg.ops.back()];
    const int64_t y_bytes = tail_op.out.elements();
    const int64_t acc_bytes = seg.accumulates ? 4 * y_bytes : y_bytes;
    const int x = tensor_of(whole, op.inputs[0]);
    std::vector<int> phase1, phase2;
    int64_t m1 = 0, m2 = 0;
    int prev_y = -1;
    for (int j = 0; j < k; ++j) {
      const int c0 = j * seg.slice_channels, c1 = std::min(seg.channels, c0 + seg.slice_channels);
      int prev_slice = -1;
      int64_t prev_slice_bytes = 0;
      for (int p = 0; p < m; ++p) {
        const int o = seg.ops[p];
        const Op& sop = network.ops[o];
        BufferGraph::Step step;
        step.inputs.push_back(p == 0 ? x : prev_slice);
        // The previous slice's accumulator: read by the head only to keep
        // slices in order, overwritten in place by the tail.
        if (prev_y >= 0 && (p == 0 || p == m - 1)) step.inputs.push_back(prev_y);
        int64_t internal = prev_y >= 0 ? acc_bytes : 0;
        if (p < m - 1) {
          const int64_t bytes = int64_t{sop.out.h} * sop.out.w * (c1 - c0);
          step.output = add_tensor(bytes, {PexTensorKind::kSlice, o, c0, c1});
          internal += prev_slice_bytes + bytes;
          prev_slice_bytes = bytes;
        } else {
          step.output = add_tensor(acc_bytes, {seg.accumulates ? PexTensorKind::kAccumulator : PexTensorKind::kWhole,
                                               o, 0, 0});
          if (prev_y >= 0) step.inplace_inputs.push_back(prev_y);
          internal = acc_bytes + prev_slice_bytes;
          prev_y = step.output;
        }
        if (p < m - 1) prev_slice = step.output;
        PexStep info;
        info.kind = PexStepKind::kSlice;
        info.op = o;
        info.segment = s;
        info.slice = j;
        info.channel_begin = c0;
        info.channel_end = c1;
        info.macs = SliceMacs(sop, p == 0, c1 - c0);
        const bool first_phase = j < k - 1 || p == 0;
        (first_phase ? phase1 : phase2).push_back(add_step(std::move(step), info));
        (first_phase ? m1 : m2) = std::max(first_phase ? m1 : m2, internal);
      }
    }
    if (seg.accumulates) {
      BufferGraph::Step step;
      step.inputs = {prev_y};
      step.inplace_inputs = {prev_y};
      step.output = add_tensor(y_bytes, {PexTensorKind::kWhole, seg.ops.back(), 0, 0});
      PexStep info;
      info.kind = PexStepKind::kFinalize;
      info.op = seg.ops.back();
      info.segment = s;
      phase2.push_back(add_step(std::move(step), info));
      m2 = std::max(m2, acc_bytes);
      prev_y = b.expanded.ops.back().output;
    }
    whole[seg.ops.back()] = prev_y;
    // Macro steps. M1 >= |Y| since the first slice's tail (k >= 2) is in phase 1.
    const int mx = tensor_of(macro_whole, op.inputs[0]);
    BufferGraph::Step s1;
    s1.inputs = {mx};
    s1.output = add_macro_tensor(m1);
    const int t1 = s1.output;
    add_macro_step(std::move(s1), std::move(phase1));
    const int y = macro_whole[seg.ops.back()] = add_macro_tensor(y_bytes);
    if (m2 <= m1) {
      BufferGraph::Step s2;
      s2.inputs = {t1};
      s2.inplace_inputs = {t1};
      s2.output = y;
      add_macro_step(std::move(s2), std::move(phase2));
    } else {
      BufferGraph::Step s2, s3;
      s2.inputs = {t1};
      s2.output = add_macro_tensor(std::max(y_bytes, m2 - m1));
      s3.inputs = {s2.output};
      s3.inplace_inputs = {s2.output};
      s3.output = y;
      add_macro_step(std::move(s2), std::move(phase2));
      add_macro_step(std::move(s3), {});
    }
  }
  b.expanded.graph_outputs = {whole[n - 1]};
  b.macro.graph_outputs = {macro_whole[n - 1]};
  return b;
}

// The objective: per network op, the largest live bytes of its steps, sorted
// descending (the first entry is the peak). Smaller lexicographically is better.
std::vector<int64_t> Profile(const Network& network, const PexPlan& plan) {
  std::vector<int64_t> per_op(network.ops.size(), 0);
  for (size_t p = 0; p < plan.order.size(); ++p) {
    int64_t& slot = per_op[plan.steps[plan.order[p]].op];
    slot = std::max(slot, plan.timeline[p]);
  }
  std::sort(per_op.rbegin(), per_op.rend());
  return per_op;
}

bool Overlaps(const PexSegment& a, const PexSegment& b) {
  for (int x : a.ops) {
    if (std::find(b.ops.begin(), b.ops.end(), x) != b.ops.end()) return true;
  }
  return false;
}

}  // namespace

std::vector<PexSegment> CandidateSegments(const Network& network) {
  const auto consumers = Consumers(network);
  std::vector<PexSegment> out;
  for (int a = 0; a < static_cast<int>(network.ops.size()); ++a) {
    const Op& head = network.ops[a];
    if (!HeadOk(head.kind) || head.out.c < 2) continue;
    std::vector<int> chain = {a};
    for (int cur = a;;) {
      const int c = LinkedConsumer(network, consumers, cur);
      if (c < 0) break;
      const OpKind kind = network.ops[c].kind;
      if (!TailOk(kind)) break;
      chain.push_back(c);
      PexSegment seg;
      seg.ops = chain;
      seg.channels = head.out.c;
      seg.slice_channels = 1;
      seg.accumulates = !ChannelLocal(kind);
      out.push_back(seg);
      if (!ChannelLocal(kind)) break;
      cur = c;
    }
  }
  return out;
}

namespace {

// The plan without the whole-tensor reference figures.
Result<PexPlan> Evaluate(const Network& network, Accounting accounting, const std::vector<PexSegment>& segments,
                         bool with_layout) {
  UNAS_RETURN_IF_ERROR(ValidateSegments(network, segments));
  Built b = Build(network, accounting, segments);
  UNAS_ASSIGN_OR_RETURN(OrderPeak macro, BestOrder(b.macro));
  PexPlan plan;
  plan.accounting = accounting;
  plan.segments = segments;
  for (int op : macro.order) {
    plan.order.insert(plan.order.end(), b.macro_steps[op].begin(), b.macro_steps[op].end());
  }
  UNAS_ASSIGN_OR_RETURN(OrderPeak exact, PeakOfOrder(b.expanded, plan.order));
  if (exact.peak_bytes > macro.peak_bytes) {
    return Status::Internal("partial execution: the exact peak exceeds its bound");
  }
  plan.timeline = std::move(exact.live_bytes);
  plan.peak_bytes = exact.peak_bytes;
  plan.graph = std::move(b.expanded);
  plan.tensors = std::move(b.tensors);
  plan.steps = std::move(b.steps);
  for (const PexStep& step : plan.steps) plan.macs += step.macs;
  if (with_layout) {
    UNAS_ASSIGN_OR_RETURN(plan.layout, LayoutArena(plan.graph, plan.order));
  }
  return plan;
}

Status AddWholeFigures(const Network& network, PexPlan* plan) {
  const BufferGraph whole = MakeBufferGraph(network, plan->accounting);
  UNAS_ASSIGN_OR_RETURN(OrderPeak best, BestOrder(whole));
  std::vector<int> build_order(network.ops.size());
  for (size_t i = 0; i < build_order.size(); ++i) build_order[i] = static_cast<int>(i);
  UNAS_ASSIGN_OR_RETURN(OrderPeak build, PeakOfOrder(whole, build_order));
  plan->whole_peak_bytes = best.peak_bytes;
  plan->build_order_peak_bytes = build.peak_bytes;
  return Status::Ok();
}

}  // namespace

Accounting PexAccounting(Accounting accounting) {
  return IsTflm(accounting) ? Accounting::kFirmware : accounting;
}

Result<PexPlan> PlanSegments(const Network& network, Accounting accounting,
                             const std::vector<PexSegment>& segments, bool with_layout) {
  accounting = PexAccounting(accounting);
  UNAS_ASSIGN_OR_RETURN(PexPlan plan, Evaluate(network, accounting, segments, with_layout));
  UNAS_RETURN_IF_ERROR(AddWholeFigures(network, &plan));
  return plan;
}

Result<PexPlan> PlanPartialExecution(const Network& network, Accounting accounting, const PexOptions& options) {
  accounting = PexAccounting(accounting);
  const std::vector<PexSegment> candidates = CandidateSegments(network);
  std::vector<PexSegment> chosen;
  UNAS_ASSIGN_OR_RETURN(PexPlan best, Evaluate(network, accounting, chosen, false));
  std::vector<int64_t> best_profile = Profile(network, best);
  // A trial that fails (e.g. the exact scheduler's state limit) is skipped:
  // an error never turns into a wrong answer, only into a missed saving.
  auto consider = [&](const std::vector<PexSegment>& trial, bool accept_equal) {
    auto plan = Evaluate(network, accounting, trial, false);
    if (!plan.ok()) return false;
    std::vector<int64_t> profile = Profile(network, *plan);
    if (profile < best_profile || (accept_equal && profile == best_profile)) {
      chosen = trial;
      best = std::move(plan).value();
      best_profile = std::move(profile);
      return true;
    }
    return false;
  };
  for (int pass = 0; pass < options.max_passes; ++pass) {
    bool improved = false;
    for (const PexSegment& c : candidates) {
      std::vector<PexSegment> trial;
      for (const PexSegment& s : chosen) {
        if (!Overlaps(s, c)) trial.push_back(s);
      }
      trial.push_back(c);
      improved = consider(trial, false) || improved;
    }
    if (!improved) break;
  }
  // Keep whole execution wherever slicing does not lower the peak: a segment
  // that only relieves a lower step costs slicing overhead for nothing.
  for (size_t i = chosen.size(); i-- > 0;) {
    std::vector<PexSegment> trial = chosen;
    trial.erase(trial.begin() + static_cast<std::ptrdiff_t>(i));
    auto plan = Evaluate(network, accounting, trial, false);
    if (plan.ok() && plan->peak_bytes <= best.peak_bytes) {
      chosen = trial;
      best = std::move(plan).value();
      best_profile = Profile(network, best);
    }
  }
  if (options.fewest_slices) {
    // Wider slices never lower the peak, so take the widest (fewest steps,
    // least per-call overhead) that keep the peak.
    for (size_t i = 0; i < chosen.size(); ++i) {
      const int channels = chosen[i].channels;
      int previous_width = 0;
      for (int k = 2; k <= channels; ++k) {
        const int width = (channels + k - 1) / k;  // the narrowest width giving k slices
        if (width <= chosen[i].slice_channels) break;
        if (width == previous_width) continue;
        previous_width = width;
        std::vector<PexSegment> trial = chosen;
        trial[i].slice_channels = width;
        auto plan = Evaluate(network, accounting, trial, false);
        if (plan.ok() && plan->peak_bytes <= best.peak_bytes) {
          chosen = trial;
          best = std::move(plan).value();
          break;
        }
      }
    }
  }
  std::stable_sort(chosen.begin(), chosen.end(),
                   [](const PexSegment& a, const PexSegment& b) { return a.ops[0] < b.ops[0]; });
  return PlanSegments(network, accounting, chosen, options.with_layout);
}

Result<int64_t> PexPeakBytes(const Network& network, Accounting accounting) {
  PexOptions options;
  options.fewest_slices = false;
  options.with_layout = false;
  UNAS_ASSIGN_OR_RETURN(PexPlan plan, PlanPartialExecution(network, accounting, options));
  return plan.peak_bytes;
}

}  // namespace unas
