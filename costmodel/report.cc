#include "costmodel/report.h"

#include "base/spelling.h"
#include "base/json_limits.h"

#include "costmodel/text_format.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace unas {
namespace {

std::string InputsOf(const Op& op) {
  std::string s;
  for (int i : op.inputs) s += (s.empty() ? "" : ",") + (i == kNetworkInput ? std::string("in") : std::to_string(i));
  return s;
}

// The largest live bytes of one step (in kTflm, below the arena's total).
int64_t LivePeak(const CostReport& report) {
  int64_t peak = 0;
  for (int64_t b : report.timeline_best) peak = std::max(peak, b);
  return peak;
}

// What each accounting counts, as the text report's headline says it.
constexpr Spelling<Accounting> kAccountingNotes[] = {
    {Accounting::kUnas, " (uNAS-compatible: int8 biases, input not counted)"},
    {Accounting::kTflm, " (TFLM, reference kernels: lowered graph, nothing in place, 16-byte buffers, persistent part)"},
    {Accounting::kTflmCmsisNn, " (TFLM, CMSIS-NN kernels: as tflm, plus their scratch buffers and OpData)"},
    {Accounting::kFirmware, " (unas firmware: int32 biases, input counted, in-place Add)"}};

const char* AccountingNote(Accounting accounting) { return NameIn(kAccountingNotes, accounting, ""); }

}  // namespace

nlohmann::json CostReportToJson(const Network& network, const CostReport& report) {
  using nlohmann::json;
  json ops = json::array();
  for (size_t i = 0; i < network.ops.size(); ++i) {
    const Op& op = network.ops[i];
    const OpCost& c = report.ops[i];
    json row = {{"index", i},
                {"op", OpKindName(op.kind)},
                {"role", OpRoleName(op.role)},
                {"description", op.Describe()},
                {"inputs", op.inputs},
                {"output_shape", {op.out.h, op.out.w, op.out.c}},
                {"weights", c.weights},
                {"biases", c.biases},
                {"params", c.weights + c.biases},
                {"flash_bytes", c.flash_bytes},
                {"macs", c.macs},
                {"live_bytes_best_order", c.live_bytes_best},
                {"live_bytes_build_order", c.live_bytes_build},
                {"step_in_best_order", c.step_best},
                {"block", op.block},
                {"layer", op.layer}};
    if (c.cycles) row["cycles"] = *c.cycles;
    const int tensor = static_cast<int>(i) + 1;
    row["arena_offset"] = report.layout.offsets[tensor];
    ops.push_back(std::move(row));
  }
  const CostSummary& s = report.summary;
  json out = {{"accounting", AccountingName(report.accounting)},
              {"input_shape", {network.input.height, network.input.width, network.input.channels}},
              {"num_classes", network.input.num_classes},
              {"params", s.params},
              {"flash_bytes", s.flash_bytes},
              {"macs", s.macs},
              {"peak_sram_bytes", s.peak_sram_bytes},
              {"build_order_peak_sram_bytes", s.build_order_peak_bytes},
              {"arena_bytes", report.layout.arena_bytes},
              {"arena_overhead_bytes", report.layout.arena_bytes - LivePeak(report)},
              {"tflm_arena_bytes", s.tflm_arena_bytes},
              {"tflm_persistent_bytes", s.tflm_persistent_bytes},
              {"tflm_total_arena_bytes", s.tflm_total_arena_bytes},
              {"tflm_cmsis_nn_total_arena_bytes", s.tflm_cmsis_nn_total_arena_bytes},
              {"best_order", report.best_order},
              {"timeline_best_order", report.timeline_best},
              {"timeline_build_order", report.timeline_build},
              {"input_arena_offset", report.layout.offsets[0]},
              {"ops", std::move(ops)}};
  if (IsTflm(report.accounting)) out["tflm_order"] = report.tflm_order;
  // μNAS's names, so the batch interface and --json agree.
  out["peak_memory"] = s.peak_sram_bytes;
  out["model_size"] = s.flash_bytes;
  if (report.mcu) {
    out["mcu"] = report.mcu->name;
    out["latency_ms"] = *report.latency_ms;
    out["latency_is_estimate"] = true;
  }
  if (report.frontend) {
    // The totals above include it (costmodel/frontend_cost.h: per accounting).
    const FrontendCost& f = *report.frontend;
    json frontend = {{"instructions", f.instructions},
                     {"flash_bytes", f.flash_bytes},
                     {"scratch_bytes", f.scratch_bytes},
                     {"network_flash_bytes", report.network_summary.flash_bytes},
                     {"network_peak_sram_bytes", report.network_summary.peak_sram_bytes}};
    if (report.mcu && report.network_latency_ms) {
      frontend["latency_ms"] = *report.latency_ms - *report.network_latency_ms;
      frontend["network_latency_ms"] = *report.network_latency_ms;
    }
    out["audio_frontend"] = std::move(frontend);
  }
  return out;
}

std::string FormatCostTable(const Network& network, const CostReport& report) {
  std::ostringstream os;
  const bool cycles = report.mcu != nullptr;
  os << Pad("#", 3, true) << "  " << Pad("operator", 26, false) << Pad("inputs", 8, false)
     << Pad("output", 11, false) << Pad("params", 10, true) << Pad("MACs", 13, true)
     << Pad("live bytes", 12, true) << Pad("step", 6, true);
  if (cycles) os << Pad("kcycles", 10, true);
  os << "\n";
  for (size_t i = 0; i < network.ops.size(); ++i) {
    const Op& op = network.ops[i];
    const OpCost& c = report.ops[i];
    os << Pad(std::to_string(i), 3, true) << "  " << Pad(op.Describe(), 26, false) << Pad(InputsOf(op), 8, false)
       << Pad(op.out.ToString(), 11, false) << Pad(WithThousands(c.weights + c.biases), 10, true)
       << Pad(WithThousands(c.macs), 13, true) << Pad(WithThousands(c.live_bytes_best), 12, true)
       << Pad(std::to_string(c.step_best), 6, true);
    if (cycles) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f", *c.cycles / 1e3);
      os << Pad(buf, 10, true);
    }
    os << "\n";
  }
  const CostSummary& s = report.summary;
  const bool frontend = report.frontend.has_value();
  // The arena is the network's layout: compare it with the network's own peak.
  const int64_t network_peak = frontend ? report.network_summary.peak_sram_bytes : s.peak_sram_bytes;
  os << "\naccounting        " << AccountingName(report.accounting) << AccountingNote(report.accounting) << "\n";
  os << "parameters        " << WithThousands(s.params) << "\n";
  os << "flash (model)     " << WithThousands(s.flash_bytes) << " bytes";
  if (frontend) {
    os << " (network " << WithThousands(report.network_summary.flash_bytes) << " + audio front end "
       << WithThousands(s.flash_bytes - report.network_summary.flash_bytes) << ")";
  }
  os << "\n";
  os << "MACs              " << WithThousands(s.macs) << "\n";
  os << "peak SRAM         " << WithThousands(s.peak_sram_bytes) << " bytes (best order: ";
  for (size_t i = 0; i < report.best_order.size(); ++i) os << (i ? " " : "") << report.best_order[i];
  os << ")\n";
  os << "peak SRAM, build  " << WithThousands(s.build_order_peak_bytes) << " bytes (operators in build order)\n";
  if (IsTflm(report.accounting)) {
    const bool cmsis = report.accounting == Accounting::kTflmCmsisNn;
    os << "TFLM arena        " << WithThousands(s.tflm_arena_bytes) << " planned + "
       << WithThousands(s.tflm_persistent_bytes) << " persistent = " << WithThousands(s.tflm_total_arena_bytes)
       << " bytes with reference kernels" << (cmsis ? "" : " (peak SRAM above)") << "; live peak "
       << WithThousands(LivePeak(report)) << "\n";
    os << "TFLM + CMSIS-NN   " << WithThousands(s.tflm_cmsis_nn_total_arena_bytes)
       << " bytes (scratch buffers and OpData of CMSIS-NN's kernels" << (cmsis ? "; peak SRAM above" : "")
       << ")\n";
  } else {
    os << "arena             " << WithThousands(report.layout.arena_bytes) << " bytes (greedy layout, "
       << WithThousands(report.layout.arena_bytes - network_peak) << " above the peak)\n";
  }
  if (frontend) {
    const FrontendCost& f = *report.frontend;
    os << "audio front end   " << WithThousands(f.instructions) << " instructions per inference (Cortex-M4, est.), "
       << WithThousands(f.flash_bytes) << " bytes flash, " << WithThousands(f.scratch_bytes)
       << " bytes scratch (in the totals; network alone: peak SRAM "
       << WithThousands(report.network_summary.peak_sram_bytes) << " bytes)\n";
  }
  if (report.mcu) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", *report.latency_ms);
    os << "latency (est.)    " << buf << " ms on " << report.mcu->description;
    if (frontend && report.network_latency_ms) {
      std::snprintf(buf, sizeof buf, "%.3f", *report.latency_ms - *report.network_latency_ms);
      os << " (audio front end " << buf << " ms)";
    }
    os << "\n";
  }
  return os.str();
}

nlohmann::json CostBatchLine(const std::string& line, Accounting accounting) {
  using nlohmann::json;
  // ParseLimitedJson, the one parser: its limits and its refusal of a key given twice.
  auto parsed = ParseLimitedJson(line);
  if (!parsed.ok()) {
    const std::string& why = parsed.status().message();
    return {{"error", why.rfind("not valid JSON", 0) == 0 ? std::string("line is not valid JSON") : "line: " + why}};
  }
  const json in = std::move(parsed).value();
  if (!in.is_object()) return {{"error", "line must be a JSON object"}};
  for (const char* key : {"input_shape", "num_classes", "architecture"}) {
    if (!in.contains(key)) return {{"error", std::string("missing key '") + key + "'"}};
  }
  auto spec = InputSpecFromJson(in["input_shape"], in["num_classes"]);
  if (!spec.ok()) return {{"error", spec.status().message()}};
  auto candidate = CandidateFromJson(in["architecture"]);
  if (!candidate.ok()) return {{"error", "architecture: " + candidate.status().message()}};
  auto network = BuildNetwork(*candidate, *spec);
  if (!network.ok()) return {{"error", network.status().message()}};
  auto summary = SummariseCosts(*network, accounting);
  if (!summary.ok()) return {{"error", summary.status().message()}};
  return {{"peak_memory", summary->peak_sram_bytes},
          {"model_size", summary->flash_bytes},
          {"macs", summary->macs},
          {"params", summary->params},
          {"build_order_peak_memory", summary->build_order_peak_bytes},
          {"tflm_arena_bytes", summary->tflm_arena_bytes},
          {"tflm_total_arena_bytes", summary->tflm_total_arena_bytes},
          {"tflm_cmsis_nn_total_arena_bytes", summary->tflm_cmsis_nn_total_arena_bytes},
          {"accounting", AccountingName(accounting)}};
}

}  // namespace unas
