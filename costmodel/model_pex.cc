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

namespace {

// PlanModelPex's search. The first start s (operators before it run whole)
// where exactly one 8-bit tensor X is live, not a graph output, and a prefix
// of at least two operators from s maps onto Network operators reading X;
// the prefix is then shrunk until only its last output is read after it
// (closed), and within the work limit. That start's chain is planned and
// ends the search, with a plan or the reason there is none.
class ModelPexPlanner {
 public:
  ModelPexPlanner(const ModelGraph& g, const std::vector<int64_t>& file_timeline, int64_t file_peak_bytes,
                  const AnalysisLimits& limits)
      : g_(g),
        file_timeline_(file_timeline),
        file_peak_bytes_(file_peak_bytes),
        limits_(limits),
        n_(static_cast<int>(g.ops.size())),
        tensors_(static_cast<int>(g.tensors.size())),
        cap_(std::max(2, limits.max_pex_operators)),
        cap_note_(" (partial execution plans at most " + std::to_string(cap_) +
                  " operators of a chain, the analysis' limit; the rest runs whole)") {}

  PexAnalysis Plan() {
    if (n_ < 2) {
      return Unplanned("partial execution slices chains of at least two operators; the model has " +
                       std::to_string(n_));
    }
    FindReach();
    sole_ = SoleLiveTensors(g_);
    op_of_.assign(tensors_, -2);
    for (int s = 0; s + 1 < n_; ++s) {
      if (std::optional<PexAnalysis> answer = TryStart(s)) return *std::move(answer);
    }
    return Unplanned("no chain of at least two operators Pex can slice (" + stop_ + ")" +
                     (capped_before_ ? cap_note_ : ""));
  }

 private:
  // The operators mapped from a start, as a Network reading X.
  struct Chain {
    int start = 0;
    int x_tensor = -1;
    Network net;
    int mapped = 0;        // operators mapped (net.ops is cut shorter later)
    bool capped = false;   // mapping stopped at the analysis' operator limit
    std::string why_stop = "only its last output may be read after the chain";
    std::vector<int> needed;  // needed[j]: the last reader of X and of outputs 0..j-1

    // Nothing after operator start+k-1 reads X or the outputs of the chain's
    // first k-1 operators, and none of them is a graph output.
    bool Closed(int k) const { return needed[k - 1] < start + k; }
  };

  PexAnalysis Unplanned(std::string reason) const {
    PexAnalysis pex;
    pex.peak_bytes = file_peak_bytes_;
    pex.timeline_bytes = file_timeline_;
    pex.reason = std::move(reason);
    return pex;
  }

  // Why start s gave no plan; the first three are kept for the answer.
  void GiveUp(int s, const std::string& why) {
    if (tried_++ < 3) stop_ += (stop_.empty() ? "" : "; ") + std::string("from operator ") + std::to_string(s) + ": " + why;
  }

  // How far each tensor is needed: its last reader, or past the end for a
  // graph output (so that "read after the chain" is one comparison).
  void FindReach() {
    reach_.assign(tensors_, -1);
    for (int x = 0; x < n_; ++x) {
      for (int t : g_.ops[x].inputs) {
        if (t >= 0 && t < tensors_) reach_[t] = std::max(reach_[t], x);
      }
    }
    for (int t : g_.outputs) {
      if (t >= 0 && t < tensors_) reach_[t] = n_;
    }
  }

  // The answer from start s, or nullopt (with why in stop_) when the next
  // start must be tried.
  std::optional<PexAnalysis> TryStart(int s) {
    if (sole_[s] < 0) {
      if (s == 0) GiveUp(0, "the graph does not start from one input");
      return std::nullopt;
    }
    const int x_tensor = sole_[s];
    const auto shape = ShapeOf(g_.tensors[x_tensor]);
    if (!shape || !EightBit(g_.tensors[x_tensor]) ||
        std::find(g_.outputs.begin(), g_.outputs.end(), x_tensor) != g_.outputs.end()) {
      GiveUp(s, "the tensor live there is not an 8-bit [1,H,W,C] or [1,N] tensor");
      return std::nullopt;
    }
    Chain chain = MapChain(s, x_tensor, *shape);
    int k = chain.mapped;
    while (k >= 2 && !chain.Closed(k)) --k;
    if (k < 2) {
      Unmap(chain);
      GiveUp(s, chain.why_stop);
      // A start given up on after mapping the limit's operators might have
      // planned with more: every answer then says the limit was reached.
      capped_before_ = capped_before_ || chain.capped;
      return std::nullopt;
    }
    chain.net.ops.resize(k);
    const int closed_k = k;
    const int64_t work = ShortenToWorkLimit(&chain, &k);
    Unmap(chain);
    const std::string over_work = "planning partial execution from operator " + std::to_string(s) +
                                  " would build about " + std::to_string(work) + " schedule steps, more than the " +
                                  "analysis' limit of " + std::to_string(limits_.max_pex_work);
    if (k < 2 || work > limits_.max_pex_work) {
      return Unplanned("not planned: " + over_work + " (docs/analyze.md)" + (capped_before_ ? cap_note_ : ""));
    }
    auto plan = PlanPartialExecution(chain.net, Accounting::kFirmware);
    if (!plan.ok()) return Unplanned("planning failed: " + plan.status().message());
    return Planned(s, k, closed_k, chain.capped, *plan);
  }

  // Maps operators from s onto a Network reading X until one does not map
  // or the operator limit is reached; op_of_ holds them until Unmap.
  Chain MapChain(int s, int x_tensor, const Shape& shape) {
    Chain c;
    c.start = s;
    c.x_tensor = x_tensor;
    op_of_[x_tensor] = kNetworkInput;
    c.net.input = InputSpec{shape.h, shape.w, shape.c, 2};
    for (int x = s; x < n_; ++x) {
      if (static_cast<int64_t>(c.net.ops.size()) >= cap_) {
        c.capped = true;
        break;
      }
      Op op;
      if (auto why = MapOp(g_, x, op_of_, &op)) {
        c.why_stop = "operator " + std::to_string(x) + ", " + *why;
        break;
      }
      op_of_[g_.ops[x].outputs[0]] = x - s;
      c.net.ops.push_back(op);
    }
    c.mapped = static_cast<int>(c.net.ops.size());
    c.needed.assign(std::max(c.mapped, 1), reach_[x_tensor]);
    for (int j = 1; j < c.mapped; ++j) c.needed[j] = std::max(c.needed[j - 1], reach_[g_.ops[s + j - 1].outputs[0]]);
    return c;
  }

  void Unmap(const Chain& c) {
    op_of_[c.x_tensor] = -2;
    for (int j = 0; j < c.mapped; ++j) op_of_[g_.ops[c.start + j].outputs[0]] = -2;
  }

  // The planner's cost grows with the chain and its channels: cuts the
  // chain's `*k` operators to the longest closed prefix within the work
  // limit and returns its bound (*k < 2 or the bound over the limit when no
  // prefix fits).
  int64_t ShortenToWorkLimit(Chain* c, int* k) const {
    const bool unlimited = limits_.max_pex_work == std::numeric_limits<int64_t>::max();
    int64_t work = unlimited ? 0 : PexWorkBound(c->net);
    while (work > limits_.max_pex_work && *k > 2) {
      do {
        --*k;
      } while (*k >= 2 && !c->Closed(*k));
      if (*k < 2) break;
      c->net.ops.resize(*k);
      work = PexWorkBound(c->net);
    }
    return work;
  }

  // The file's timeline with operators s..s+k-1 replaced by the plan's steps.
  PexAnalysis Planned(int s, int k, int closed_k, bool capped, const PexPlan& plan) const {
    const std::string range = "operators " + std::to_string(s) + ".." + std::to_string(s + k - 1);
    std::string cut;
    if ((capped && k == closed_k) || capped_before_) {
      cut = cap_note_;
    } else if (k < closed_k) {
      cut = " (shortened from " + std::to_string(closed_k) + " operators: planning them all would exceed the " +
            "analysis' work limit of " + std::to_string(limits_.max_pex_work) + " schedule steps)";
    }
    if (plan.segments.empty()) {
      return Unplanned("no segment of " + range + " lowers the peak: every operator runs whole" + cut);
    }
    PexAnalysis pex = Unplanned("");
    pex.applies = true;
    pex.timeline_bytes.assign(file_timeline_.begin(), file_timeline_.begin() + s);
    pex.timeline_bytes.insert(pex.timeline_bytes.end(), plan.timeline.begin(), plan.timeline.end());
    pex.timeline_bytes.insert(pex.timeline_bytes.end(), file_timeline_.begin() + s + k, file_timeline_.end());
    pex.peak_bytes = *std::max_element(pex.timeline_bytes.begin(), pex.timeline_bytes.end());
    for (const PexSegment& seg : plan.segments) {
      PexSegmentAnalysis a;
      for (int op : seg.ops) a.ops.push_back(op + s);
      a.slices = seg.slices();
      pex.segments.push_back(std::move(a));
    }
    pex.reason = std::to_string(plan.segments.size()) + " segment(s) among " + range +
                 " (firmware accounting: unas's runtime); the other operators run whole; peak " +
                 WithThousands(pex.peak_bytes) + " bytes against " + WithThousands(file_peak_bytes_) +
                 " in file order" + cut;
    return pex;
  }

  const ModelGraph& g_;
  const std::vector<int64_t>& file_timeline_;
  const int64_t file_peak_bytes_;
  const AnalysisLimits& limits_;
  const int n_;
  const int tensors_;
  const int64_t cap_;  // operators mapped from one start at most
  const std::string cap_note_;
  std::vector<int> reach_;
  std::vector<int> sole_;   // SoleLiveTensors
  std::vector<int> op_of_;  // tensor -> network op index while a start is tried; -2 otherwise
  bool capped_before_ = false;  // a start given up on was cut at the operator limit
  std::string stop_;            // why the starts tried did not give a plan
  int tried_ = 0;
};

}  // namespace

PexAnalysis PlanModelPex(const ModelGraph& g, const std::vector<int64_t>& file_timeline, int64_t file_peak_bytes,
                         const AnalysisLimits& limits) {
  return ModelPexPlanner(g, file_timeline, file_peak_bytes, limits).Plan();
}

}  // namespace unas
