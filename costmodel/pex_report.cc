#include "costmodel/pex_report.h"

#include "base/spelling.h"
#include "costmodel/text_format.h"

#include <algorithm>
#include <sstream>

namespace unas {
namespace {

constexpr Spelling<PexStepKind> kStepKinds[] = {
    {PexStepKind::kWhole, "whole"}, {PexStepKind::kSlice, "slice"}, {PexStepKind::kFinalize, "finalize"}};
constexpr Spelling<PexTensorKind> kTensorKinds[] = {
    {PexTensorKind::kWhole, "whole"}, {PexTensorKind::kSlice, "slice"}, {PexTensorKind::kAccumulator, "accumulator"}};

const char* StepKindName(PexStepKind kind) { return NameIn(kStepKinds, kind); }
const char* TensorKindName(PexTensorKind kind) { return NameIn(kTensorKinds, kind); }

std::string Ratio(int64_t a, int64_t b) {
  std::ostringstream os;
  os.precision(2);
  os << std::fixed << (b > 0 ? static_cast<double>(a) / b : 1.0) << "x";
  return os.str();
}

}  // namespace

nlohmann::json PexPlanToJson(const Network& network, const PexPlan& plan) {
  using nlohmann::json;
  json segments = json::array();
  for (const PexSegment& s : plan.segments) {
    segments.push_back({{"ops", s.ops},
                        {"channels", s.channels},
                        {"slice_channels", s.slice_channels},
                        {"slices", s.slices()},
                        {"accumulates", s.accumulates}});
  }
  json steps = json::array();
  for (size_t p = 0; p < plan.order.size(); ++p) {
    const PexStep& s = plan.steps[plan.order[p]];
    json row = {{"op", s.op},
                {"description", network.ops[s.op].Describe()},
                {"kind", StepKindName(s.kind)},
                {"live_bytes", plan.timeline[p]},
                {"macs", s.macs}};
    if (s.segment >= 0) row["segment"] = s.segment;
    if (s.kind == PexStepKind::kSlice) {
      row["slice"] = s.slice;
      row["channels"] = {s.channel_begin, s.channel_end};
    }
    steps.push_back(std::move(row));
  }
  json buffers = json::array();
  for (size_t t = 0; t < plan.tensors.size(); ++t) {
    const PexTensor& pt = plan.tensors[t];
    json row = {{"tensor", t},
                {"kind", TensorKindName(pt.kind)},
                {"op", pt.op},
                {"bytes", plan.graph.tensor_bytes[t]}};
    if (pt.kind == PexTensorKind::kSlice) row["channels"] = {pt.channel_begin, pt.channel_end};
    if (!plan.layout.offsets.empty()) {
      row["offset"] = plan.layout.offsets[t];
      row["first_step"] = plan.layout.first_step[t];
      row["last_step"] = plan.layout.last_step[t];
    }
    buffers.push_back(std::move(row));
  }
  return {{"accounting", AccountingName(plan.accounting)},
          {"peak_sram_bytes", plan.peak_bytes},
          {"whole_peak_sram_bytes", plan.whole_peak_bytes},
          {"build_order_peak_sram_bytes", plan.build_order_peak_bytes},
          {"arena_bytes", plan.layout.arena_bytes},
          {"macs", plan.macs},
          {"accumulator_bytes_per_element", 4},
          {"segments", std::move(segments)},
          {"steps", std::move(steps)},
          {"buffers", std::move(buffers)}};
}

std::string FormatPexPlan(const Network& network, const PexPlan& plan) {
  std::ostringstream os;
  os << "\npartial execution (channel slices; no extra MACs; " << AccountingName(plan.accounting)
     << " accounting: a feature of unas's own runtime)\n";
  os << "peak SRAM, pex    " << WithThousands(plan.peak_bytes) << " bytes ("
     << Ratio(plan.whole_peak_bytes, plan.peak_bytes) << " below the best order's "
     << WithThousands(plan.whole_peak_bytes) << ", "
     << Ratio(plan.build_order_peak_bytes, plan.peak_bytes) << " below the build order's)\n";
  os << "arena, pex        " << WithThousands(plan.layout.arena_bytes) << " bytes (greedy layout, "
     << WithThousands(plan.layout.arena_bytes - plan.peak_bytes) << " above the peak)\n";
  if (plan.segments.empty()) {
    os << "no segment lowers the peak: every operator runs whole\n";
    return os.str();
  }
  for (size_t i = 0; i < plan.segments.size(); ++i) {
    const PexSegment& s = plan.segments[i];
    os << "segment " << i << ": ops";
    for (int op : s.ops) os << " " << op;
    os << " in " << s.slices() << " slices of " << s.slice_channels << " of " << s.channels << " channels"
       << (s.accumulates ? ", int32 accumulator (4 bytes/element) in the last op" : "") << "\n";
  }
  os << "timeline (steps: what, largest live bytes; a segment's slices folded, --json lists every step)\n";
  for (size_t p = 0; p < plan.order.size();) {
    const PexStep& s = plan.steps[plan.order[p]];
    size_t q = p + 1;
    while (s.segment >= 0 && q < plan.order.size() && plan.steps[plan.order[q]].segment == s.segment) ++q;
    const int64_t live = *std::max_element(plan.timeline.begin() + p, plan.timeline.begin() + q);
    os << "  " << p;
    if (q - p > 1) os << "-" << q - 1;
    if (s.segment < 0) {
      os << ": op " << s.op << " " << network.ops[s.op].Describe() << ", whole";
    } else {
      const PexSegment& seg = plan.segments[s.segment];
      os << ": segment " << s.segment << " (ops";
      for (int op : seg.ops) os << " " << op;
      os << "), " << (q - p) << " steps";
      if (q - p < seg.slices() * seg.ops.size() + (seg.accumulates ? 1 : 0)) os << " (part)";
    }
    os << ", " << WithThousands(live) << " bytes\n";
    p = q;
  }
  return os.str();
}

}  // namespace unas
