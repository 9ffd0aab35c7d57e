#include "costmodel/model_pex.h"

#include <algorithm>
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

// The tensors live between steps s-1 and s in file order (activations only).
std::vector<int> LiveBetween(const ModelGraph& g, int s) {
  std::vector<int> live;
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const GraphTensor& tensor = g.tensors[t];
    if (tensor.is_constant || tensor.is_variable || tensor.bytes() <= 0) continue;
    const int id = static_cast<int>(t);
    bool made = std::find(g.inputs.begin(), g.inputs.end(), id) != g.inputs.end();
    for (int x = 0; x < s && !made; ++x) {
      made = std::find(g.ops[x].outputs.begin(), g.ops[x].outputs.end(), id) != g.ops[x].outputs.end();
    }
    if (!made) continue;
    bool needed = std::find(g.outputs.begin(), g.outputs.end(), id) != g.outputs.end();
    for (int x = s; x < static_cast<int>(g.ops.size()) && !needed; ++x) {
      needed = std::find(g.ops[x].inputs.begin(), g.ops[x].inputs.end(), id) != g.ops[x].inputs.end();
    }
    if (needed) live.push_back(id);
  }
  return live;
}

// The chain of operators Pex may slice from start s, or why there is none.
struct ChainAt {
  bool found = false;
  Network net;          // found: operators s, s+1, ... with X as the network input
  std::string why_not;  // !found: the reason to report (empty: nothing worth reporting)
};

// Maps operators s, s+1, ... onto `net` until one does not map; records each
// mapped operator's output in `op_of`. Returns why the mapping stopped (or,
// when every operator mapped, why a chain reaching the end may still shrink).
std::string MapOpsFrom(const ModelGraph& g, int s, std::vector<int>* op_of, Network* net) {
  for (int x = s; x < static_cast<int>(g.ops.size()); ++x) {
    Op op;
    if (auto why = MapOp(g, x, *op_of, &op)) return "operator " + std::to_string(x) + ", " + *why;
    (*op_of)[g.ops[x].outputs[0]] = x - s;
    net->ops.push_back(op);
  }
  return "only its last output may be read after the chain";
}

// Whether the first k mapped operators from s form a closed chain: nothing
// after them (and no graph output) reads X or any of their outputs but the last.
bool ClosedChain(const ModelGraph& g, int s, int k, int x_tensor, const std::vector<int>& op_of) {
  auto inside = [&](int t) { return t == x_tensor || (op_of[t] >= 0 && op_of[t] < k - 1); };
  for (int x = s + k; x < static_cast<int>(g.ops.size()); ++x) {
    for (int t : g.ops[x].inputs) {
      if (t >= 0 && inside(t)) return false;
    }
  }
  for (int t : g.outputs) {
    if (t >= 0 && inside(t)) return false;
  }
  return true;
}

// At start s (the operators before it run whole) exactly one 8-bit tensor X
// must be live and not a graph output; the operators from s that map onto
// Network operators reading X are shrunk until only the last one's output
// is read after them, and at least two must remain.
ChainAt ChainFrom(const ModelGraph& g, int s) {
  ChainAt chain;
  const std::vector<int> live = LiveBetween(g, s);
  if (live.size() != 1) {
    if (s == 0) chain.why_not = "the graph does not start from one input";
    return chain;
  }
  const int x_tensor = live[0];
  const auto shape = ShapeOf(g.tensors[x_tensor]);
  if (!shape || !EightBit(g.tensors[x_tensor]) ||
      std::find(g.outputs.begin(), g.outputs.end(), x_tensor) != g.outputs.end()) {
    chain.why_not = "the tensor live there is not an 8-bit [1,H,W,C] or [1,N] tensor";
    return chain;
  }
  std::vector<int> op_of(g.tensors.size(), -2);
  op_of[x_tensor] = kNetworkInput;
  chain.net.input = InputSpec{shape->h, shape->w, shape->c, 2};
  const std::string why_stop = MapOpsFrom(g, s, &op_of, &chain.net);
  int k = static_cast<int>(chain.net.ops.size());
  while (k >= 2 && !ClosedChain(g, s, k, x_tensor, op_of)) --k;
  if (k < 2) {
    chain.why_not = why_stop;
    return chain;
  }
  chain.net.ops.resize(k);
  chain.found = true;
  return chain;
}

// The plan of the chain starting at s, spliced into the file order's
// timeline; `pex` holds the file order's figures on entry.
PexAnalysis PlanChain(PexAnalysis pex, const Network& net, int s, const std::vector<int64_t>& file_timeline,
                      int64_t file_peak_bytes) {
  const int k = static_cast<int>(net.ops.size());
  auto plan = PlanPartialExecution(net, Accounting::kFirmware);
  if (!plan.ok()) {
    pex.reason = "planning failed: " + plan.status().message();
    return pex;
  }
  const std::string range = "operators " + std::to_string(s) + ".." + std::to_string(s + k - 1);
  if (plan->segments.empty()) {
    pex.reason = "no segment of " + range + " lowers the peak: every operator runs whole";
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
               " in file order";
  return pex;
}

}  // namespace

// The first start with a chain is planned; the reasons of the first three
// starts tried without one are reported when none has.
PexAnalysis PlanModelPex(const ModelGraph& g, const std::vector<int64_t>& file_timeline, int64_t file_peak_bytes) {
  PexAnalysis pex;
  pex.peak_bytes = file_peak_bytes;
  pex.timeline_bytes = file_timeline;
  const int n = static_cast<int>(g.ops.size());
  if (n < 2) {
    pex.reason = "partial execution slices chains of at least two operators; the model has " + std::to_string(n);
    return pex;
  }
  std::string stop;  // why each start tried did not give a plan
  int tried = 0;
  for (int s = 0; s + 1 < n; ++s) {
    const ChainAt chain = ChainFrom(g, s);
    if (chain.found) return PlanChain(std::move(pex), chain.net, s, file_timeline, file_peak_bytes);
    if (!chain.why_not.empty() && tried++ < 3) {
      stop += (stop.empty() ? "" : "; ") + std::string("from operator ") + std::to_string(s) + ": " + chain.why_not;
    }
  }
  pex.reason = "no chain of at least two operators Pex can slice (" + stop + ")";
  return pex;
}

}  // namespace unas
