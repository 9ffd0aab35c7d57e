#include "costmodel/cost_model.h"

#include <algorithm>

#include "base/spelling.h"
#include "costmodel/lowering.h"
#include "costmodel/proposal_costs.h"
#include "costmodel/tflm_arena.h"

namespace unas {
namespace {

int64_t BiasBytes(Accounting accounting) { return accounting == Accounting::kUnas ? 1 : 4; }

struct Totals {
  int64_t params = 0, flash = 0, macs = 0;
};

Totals Count(const Network& network, Accounting accounting, std::vector<OpCost>* per_op) {
  Totals totals;
  for (const Op& op : network.ops) {
    OpCost c;
    c.weights = op.weight_count();
    c.biases = op.bias_count();
    c.flash_bytes = c.weights + c.biases * BiasBytes(accounting);
    c.macs = op.macs();
    totals.params += c.weights + c.biases;
    totals.flash += c.flash_bytes;
    totals.macs += c.macs;
    if (per_op) per_op->push_back(c);
  }
  return totals;
}

std::vector<int> Iota(size_t n) {
  std::vector<int> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = static_cast<int>(i);
  return order;
}

// The kTflm figures. Candidate orders of the lowered graph: (1) its exact
// best order (smallest peak of live, rounded bytes) when that needs at most
// kTflmExactStates states (a branch block lowered to PADs and a chain of
// binary ADDs is not parallel chains, so the exact search can be costly);
// (2) the Network's best order under TFLM's rules (MakeBufferGraph) with each
// Network op's TFLite operators in build order; (3) the build order. The one
// with the smallest planned arena is taken (ties: the earlier candidate):
// TFLM's greedy layout is not monotone in the peak.
constexpr int64_t kTflmExactStates = 20'000;

// The order is chosen on the reference kernels' planned arena for both
// TFLM accountings, so a model is exported in one order whichever kernels
// run it; the CMSIS-NN figures are that order's.
struct TflmCosts {
  ModelGraph graph;
  OrderPeak chosen;  // on TflmBufferGraph(graph)
  OrderPeak build;
  TflmArena arena;        // for chosen.order
  TflmArena build_arena;  // for build order
  int64_t cmsis_nn_total = 0, cmsis_nn_build_total = 0;  // CMSIS-NN kernels, chosen and build order
};

// `cmsis_nn`: also plan the chosen and build orders with the CMSIS-NN
// kernels (one or two more runs of TFLM's planner); without it their totals
// stay 0.
Result<TflmCosts> CostTflm(const Network& network, bool cmsis_nn = true) {
  TflmCosts t;
  UNAS_ASSIGN_OR_RETURN(t.graph, LowerNetwork(network));
  // The deployed model is int8 with per-tensor quantisation: TFLM copies the
  // quantisation of each graph input and output into the arena. The lowered
  // graph is not quantised yet; one scale stands for any.
  for (const std::vector<int>* io : {&t.graph.inputs, &t.graph.outputs}) {
    for (int id : *io) {
      Quantization& q = t.graph.tensors[id].quant;
      if (q.empty()) q = Quantization{{1.0f}, {0}, 0};
    }
  }
  const BufferGraph g = TflmBufferGraph(t.graph);
  TflmArenaPlanner planner(t.graph);
  UNAS_ASSIGN_OR_RETURN(t.build, PeakOfOrder(g, Iota(t.graph.ops.size())));
  UNAS_ASSIGN_OR_RETURN(t.build_arena, planner.Plan(t.build.order));
  t.chosen = t.build;
  t.arena = t.build_arena;
  // Candidates are tried from the last to the first, each replacing the
  // chosen order when its arena is no larger. An order already planned (the
  // candidates often coincide) would plan the same arena again and replace
  // it by its equal: skipped.
  UNAS_ASSIGN_OR_RETURN(OrderPeak network_best, BestOrder(MakeBufferGraph(network, Accounting::kTflm)));
  std::vector<std::vector<int>> by_source(network.ops.size());
  for (size_t x = 0; x < t.graph.ops.size(); ++x) {
    const int src = t.graph.ops[x].source_op;
    if (src < 0 || src >= static_cast<int>(network.ops.size())) return Status::Internal("lowering: bad source_op");
    by_source[src].push_back(static_cast<int>(x));
  }
  std::vector<int> mapped;
  for (int op : network_best.order) mapped.insert(mapped.end(), by_source[op].begin(), by_source[op].end());
  if (mapped != t.chosen.order) {
    UNAS_ASSIGN_OR_RETURN(TflmArena arena, planner.Plan(mapped));
    if (arena.arena_bytes <= t.arena.arena_bytes) {
      UNAS_ASSIGN_OR_RETURN(t.chosen, PeakOfOrder(g, mapped));
      t.arena = std::move(arena);
    }
  }
  // The exact order's arena is at least its peak (every planned tensor live
  // in one scope has its own bytes in it), so it can replace the chosen one
  // only if that peak is within the chosen arena: the search is bounded by
  // it (same order as unbounded within the bound; kOutOfRange: none).
  auto exact = BestOrderExactWithin(g, t.arena.arena_bytes, kTflmExactStates);
  if (exact.ok()) {
    if (exact->order != t.chosen.order) {
      UNAS_ASSIGN_OR_RETURN(TflmArena arena, planner.Plan(exact->order));
      if (arena.arena_bytes <= t.arena.arena_bytes) {
        t.chosen = std::move(*exact);
        t.arena = std::move(arena);
      }
    }
  } else if (exact.status().code() != StatusCode::kResourceExhausted &&
             exact.status().code() != StatusCode::kOutOfRange) {
    return exact.status();
  }
  if (!cmsis_nn) return t;
  UNAS_ASSIGN_OR_RETURN(TflmArena cmsis_build, planner.Plan(t.build.order, TflmKernels::kCmsisNn));
  t.cmsis_nn_build_total = cmsis_build.total_arena_bytes;
  t.cmsis_nn_total = cmsis_build.total_arena_bytes;
  if (t.chosen.order != t.build.order) {
    UNAS_ASSIGN_OR_RETURN(TflmArena cmsis, planner.Plan(t.chosen.order, TflmKernels::kCmsisNn));
    t.cmsis_nn_total = cmsis.total_arena_bytes;
  }
  return t;
}

void FillTflmSummary(const TflmCosts& t, Accounting accounting, CostSummary* s) {
  s->tflm_arena_bytes = t.arena.arena_bytes;
  s->tflm_persistent_bytes = t.arena.persistent_bytes;
  s->tflm_total_arena_bytes = t.arena.total_arena_bytes;
  s->tflm_cmsis_nn_total_arena_bytes = t.cmsis_nn_total;
  const bool cmsis = accounting == Accounting::kTflmCmsisNn;
  s->peak_sram_bytes = cmsis ? t.cmsis_nn_total : t.arena.total_arena_bytes;
  s->build_order_peak_bytes = cmsis ? t.cmsis_nn_build_total : t.build_arena.total_arena_bytes;
}

// Network-level view of a graph order: each Network op's position is that of
// its last TFLite operator (which writes its output), its live bytes the
// largest of its operators'. Returns the Network ops in that order.
std::vector<int> NetworkOrder(const ModelGraph& graph, const OrderPeak& peak, int network_ops,
                              std::vector<int64_t>* live_by_op) {
  std::vector<int> last(network_ops, -1);
  live_by_op->assign(network_ops, 0);
  for (size_t p = 0; p < peak.order.size(); ++p) {
    const int src = graph.ops[peak.order[p]].source_op;
    if (src < 0 || src >= network_ops) continue;
    last[src] = std::max(last[src], static_cast<int>(p));
    (*live_by_op)[src] = std::max((*live_by_op)[src], peak.live_bytes[p]);
  }
  std::vector<int> order = Iota(network_ops);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return last[a] < last[b]; });
  return order;
}

Status FillTflmReport(const Network& network, const TflmCosts& t, CostReport* report) {
  const int n = static_cast<int>(network.ops.size());
  std::vector<int64_t> live_best, live_build;
  report->best_order = NetworkOrder(t.graph, t.chosen, n, &live_best);
  NetworkOrder(t.graph, t.build, n, &live_build);
  report->tflm_order = t.chosen.order;
  for (int s = 0; s < n; ++s) {
    const int op = report->best_order[s];
    report->ops[op].live_bytes_best = live_best[op];
    report->ops[op].step_best = s;
    report->ops[s].live_bytes_build = live_build[s];
    report->timeline_best.push_back(live_best[op]);
    report->timeline_build.push_back(live_build[s]);
  }
  // The layout in MakeBufferGraph's tensor ids: offsets in TFLM's arena,
  // lifetimes in steps of best_order.
  const std::vector<int> out_tensor = OutputTensors(t.graph, n);
  std::vector<int64_t> offset_of(t.graph.tensors.size(), -1);
  for (const TflmBuffer& b : t.arena.buffers) offset_of[b.tensor] = b.offset;
  ArenaLayout& layout = report->layout;
  layout.arena_bytes = t.arena.arena_bytes;
  layout.offsets.assign(n + 1, -1);
  layout.first_step.assign(n + 1, 0);
  layout.last_step.assign(n + 1, 0);
  layout.alias_of = Iota(n + 1);
  layout.offsets[0] = t.graph.inputs.empty() ? -1 : offset_of[t.graph.inputs[0]];
  std::vector<int> pos(n);
  for (int s = 0; s < n; ++s) pos[report->best_order[s]] = s;
  for (int i = 0; i < n; ++i) {
    layout.offsets[i + 1] = offset_of[out_tensor[i]];
    layout.first_step[i + 1] = pos[i];
    layout.last_step[i + 1] = i == n - 1 ? n - 1 : pos[i];
    for (int in : network.ops[i].inputs) {
      const int tensor = in + 1;
      layout.last_step[tensor] = std::max(layout.last_step[tensor], pos[i]);
    }
  }
  return Status::Ok();
}

}  // namespace

constexpr Spelling<Accounting> kAccountings[] = {{Accounting::kUnas, "unas"},
                                                 {Accounting::kTflm, "tflm"},
                                                 {Accounting::kFirmware, "firmware"},
                                                 {Accounting::kTflmCmsisNn, "tflm_cmsis_nn"}};

const char* AccountingName(Accounting accounting) { return NameIn(kAccountings, accounting, "unknown"); }

Result<Accounting> ParseAccounting(const std::string& name) { return ParseIn(kAccountings, name, "accounting"); }

BufferGraph MakeBufferGraph(const Network& network, Accounting accounting) {
  const bool tflm = IsTflm(accounting);
  auto bytes = [&](int64_t b) { return tflm ? TflmRound(b) : b; };
  BufferGraph g;
  g.inplace_requires_last_use = accounting != Accounting::kUnas;
  g.tensor_bytes.reserve(network.ops.size() + 1);
  g.tensor_bytes.push_back(accounting == Accounting::kUnas ? 0 : bytes(network.input_shape().elements()));
  g.ops.reserve(network.ops.size());
  for (size_t i = 0; i < network.ops.size(); ++i) {
    const Op& op = network.ops[i];
    g.tensor_bytes.push_back(bytes(op.out.elements()));
    BufferGraph::Step step;
    step.output = static_cast<int>(i) + 1;
    for (int input : op.inputs) {
      const int tensor = input + 1;  // kNetworkInput (-1) maps to tensor 0
      step.inputs.push_back(tensor);
      const Shape in_shape = input == kNetworkInput ? network.input_shape() : network.ops[input].out;
      if (!tflm && op.kind == OpKind::kAdd && in_shape == op.out) step.inplace_inputs.push_back(tensor);
    }
    g.ops.push_back(std::move(step));
  }
  g.graph_outputs = {static_cast<int>(network.ops.size())};
  return g;
}

namespace {

Result<CostSummary> Summarise(const Network& network, Accounting accounting, bool other_kernels) {
  const Totals totals = Count(network, accounting, nullptr);
  CostSummary s;
  s.params = totals.params;
  s.flash_bytes = totals.flash;
  s.macs = totals.macs;
  if (IsTflm(accounting)) {
    UNAS_ASSIGN_OR_RETURN(TflmCosts t, CostTflm(network, other_kernels || accounting == Accounting::kTflmCmsisNn));
    FillTflmSummary(t, accounting, &s);
    return s;
  }
  const BufferGraph graph = MakeBufferGraph(network, accounting);
  UNAS_ASSIGN_OR_RETURN(OrderPeak best, BestOrder(graph));
  UNAS_ASSIGN_OR_RETURN(OrderPeak build, PeakOfOrder(graph, Iota(network.ops.size())));
  s.peak_sram_bytes = best.peak_bytes;
  s.build_order_peak_bytes = build.peak_bytes;
  return s;
}

}  // namespace

Result<CostSummary> SummariseCosts(const Network& network, Accounting accounting) {
  return Summarise(network, accounting, /*other_kernels=*/true);
}

Result<CostSummary> SummariseProposalCosts(const Network& network, Accounting accounting) {
  return Summarise(network, accounting, /*other_kernels=*/false);
}

Result<CostReport> CostNetwork(const Network& network, Accounting accounting, const McuProfile* mcu) {
  CostReport report;
  report.accounting = accounting;
  const Totals totals = Count(network, accounting, &report.ops);
  report.summary.params = totals.params;
  report.summary.flash_bytes = totals.flash;
  report.summary.macs = totals.macs;
  if (IsTflm(accounting)) {
    UNAS_ASSIGN_OR_RETURN(TflmCosts t, CostTflm(network));
    FillTflmSummary(t, accounting, &report.summary);
    UNAS_RETURN_IF_ERROR(FillTflmReport(network, t, &report));
  } else {
    const BufferGraph graph = MakeBufferGraph(network, accounting);
    UNAS_ASSIGN_OR_RETURN(OrderPeak best, BestOrder(graph));
    UNAS_ASSIGN_OR_RETURN(OrderPeak build, PeakOfOrder(graph, Iota(network.ops.size())));
    UNAS_ASSIGN_OR_RETURN(report.layout, LayoutArena(graph, best.order));
    report.summary.peak_sram_bytes = best.peak_bytes;
    report.summary.build_order_peak_bytes = build.peak_bytes;
    for (size_t s = 0; s < best.order.size(); ++s) {
      report.ops[best.order[s]].live_bytes_best = best.live_bytes[s];
      report.ops[best.order[s]].step_best = static_cast<int>(s);
      report.ops[s].live_bytes_build = build.live_bytes[s];
    }
    report.best_order = std::move(best.order);
    report.timeline_best = std::move(best.live_bytes);
    report.timeline_build = std::move(build.live_bytes);
  }
  if (mcu) {
    const LatencyEstimate latency = EstimateLatency(*mcu, network);
    report.mcu = mcu;
    report.latency_ms = latency.latency_ms;
    for (size_t i = 0; i < network.ops.size(); ++i) report.ops[i].cycles = latency.op_cycles[i];
  }
  return report;
}

}  // namespace unas
