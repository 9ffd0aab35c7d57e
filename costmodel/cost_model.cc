#include "costmodel/cost_model.h"

namespace unas {
namespace {

int64_t BiasBytes(Accounting accounting) { return accounting == Accounting::kTflm ? 4 : 1; }

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

std::vector<int> BuildOrder(const Network& network) {
  std::vector<int> order(network.ops.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  return order;
}

}  // namespace

const char* AccountingName(Accounting accounting) {
  return accounting == Accounting::kUnas ? "unas" : "tflm";
}

Result<Accounting> ParseAccounting(const std::string& name) {
  if (name == "unas") return Accounting::kUnas;
  if (name == "tflm") return Accounting::kTflm;
  return Status::Invalid("accounting: '" + name + "' is not one of unas, tflm");
}

BufferGraph MakeBufferGraph(const Network& network, Accounting accounting) {
  BufferGraph g;
  g.inplace_requires_last_use = accounting == Accounting::kTflm;
  g.tensor_bytes.reserve(network.ops.size() + 1);
  g.tensor_bytes.push_back(accounting == Accounting::kUnas ? 0 : network.input_shape().elements());
  g.ops.reserve(network.ops.size());
  for (size_t i = 0; i < network.ops.size(); ++i) {
    const Op& op = network.ops[i];
    g.tensor_bytes.push_back(op.out.elements());
    BufferGraph::Step step;
    step.output = static_cast<int>(i) + 1;
    for (int input : op.inputs) {
      const int tensor = input + 1;  // kNetworkInput (-1) maps to tensor 0
      step.inputs.push_back(tensor);
      const Shape in_shape = input == kNetworkInput ? network.input_shape() : network.ops[input].out;
      if (op.kind == OpKind::kAdd && in_shape == op.out) step.inplace_inputs.push_back(tensor);
    }
    g.ops.push_back(std::move(step));
  }
  g.graph_outputs = {static_cast<int>(network.ops.size())};
  return g;
}

Result<CostSummary> SummariseCosts(const Network& network, Accounting accounting) {
  const Totals totals = Count(network, accounting, nullptr);
  const BufferGraph graph = MakeBufferGraph(network, accounting);
  UNAS_ASSIGN_OR_RETURN(OrderPeak best, BestOrder(graph));
  UNAS_ASSIGN_OR_RETURN(OrderPeak build, PeakOfOrder(graph, BuildOrder(network)));
  CostSummary s;
  s.params = totals.params;
  s.flash_bytes = totals.flash;
  s.macs = totals.macs;
  s.peak_sram_bytes = best.peak_bytes;
  s.build_order_peak_bytes = build.peak_bytes;
  return s;
}

Result<CostReport> CostNetwork(const Network& network, Accounting accounting, const McuProfile* mcu) {
  CostReport report;
  report.accounting = accounting;
  const Totals totals = Count(network, accounting, &report.ops);
  const BufferGraph graph = MakeBufferGraph(network, accounting);
  UNAS_ASSIGN_OR_RETURN(OrderPeak best, BestOrder(graph));
  UNAS_ASSIGN_OR_RETURN(OrderPeak build, PeakOfOrder(graph, BuildOrder(network)));
  UNAS_ASSIGN_OR_RETURN(report.layout, LayoutArena(graph, best.order));
  report.summary.params = totals.params;
  report.summary.flash_bytes = totals.flash;
  report.summary.macs = totals.macs;
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
  if (mcu) {
    const LatencyEstimate latency = EstimateLatency(*mcu, network);
    report.mcu = mcu;
    report.latency_ms = latency.latency_ms;
    for (size_t i = 0; i < network.ops.size(); ++i) report.ops[i].cycles = latency.op_cycles[i];
  }
  return report;
}

}  // namespace unas
