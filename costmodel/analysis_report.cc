// Text and SVG renderings of a ModelAnalysis (model_analysis.h).
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "costmodel/model_analysis.h"
#include "costmodel/text_format.h"

namespace unas {
namespace {

std::string ShapeText(const std::vector<int>& shape) {
  std::string s;
  for (int d : shape) s += (s.empty() ? "" : "x") + std::to_string(d);
  return s.empty() ? "-" : s;
}

std::string Bytes(int64_t b) { return WithThousands(b) + " bytes"; }

void OrderLines(std::ostringstream& os, const char* label, const OrderAnalysis& a) {
  os << label << "peak " << Bytes(a.peak_bytes) << "; TFLM arena " << WithThousands(a.tflm_arena_bytes)
     << " planned + " << WithThousands(a.tflm_persistent_bytes) << " persistent = "
     << Bytes(a.tflm_total_arena_bytes) << " (reference kernels), " << Bytes(a.tflm_cmsis_nn_total_arena_bytes)
     << " (CMSIS-NN kernels)\n";
}

}  // namespace

std::string FormatAnalysis(const ModelAnalysis& m) {
  std::ostringstream os;
  os << m.operators << " operators, " << m.tensors << " tensors, " << m.subgraphs << " subgraph(s)\n";
  for (const std::string& note : m.notes) os << "note: " << note << "\n";
  os << "\n"
     << Pad("#", 4, true) << "  " << Pad("operator", 24, false) << Pad("output", 16, false)
     << Pad("live bytes", 12, true) << Pad("running peak", 14, true) << Pad("best step", 11, true)
     << Pad("best live", 12, true) << "\n";
  for (const OperatorAnalysis& op : m.ops) {
    os << Pad(std::to_string(op.index), 4, true) << "  " << Pad(op.name, 24, false)
       << Pad(ShapeText(op.output_shape), 16, false) << Pad(WithThousands(op.file_live_bytes), 12, true)
       << Pad(WithThousands(op.file_running_peak_bytes), 14, true) << Pad(std::to_string(op.best_step), 11, true)
       << Pad(WithThousands(op.best_live_bytes), 12, true) << "\n";
  }
  os << "\n";
  OrderLines(os, "file order:  ", m.file_order);
  OrderLines(os, "best order:  ", m.best_order);
  os << "             saving " << Bytes(m.saving_bytes)
     << (m.best_order.proven_optimal ? " (optimal)" : " (not proven optimal)") << "; order";
  for (int x : m.best_order.order) os << " " << x;
  os << "\n";
  const PexAnalysis& pex = m.partial_execution;
  os << "partial execution: ";
  if (pex.applies) {
    os << "peak " << Bytes(pex.peak_bytes) << "\n";
    for (const PexSegmentAnalysis& s : pex.segments) {
      os << "  segment: ops";
      for (int x : s.ops) os << " " << x;
      os << " in " << s.slices << " slices\n";
    }
    os << "  " << pex.reason << "\n";
  } else {
    os << "none (" << pex.reason << ")\n";
  }
  return os.str();
}

std::string AnalysisSvg(const ModelAnalysis& m) {
  struct Series {
    const char* label;
    const char* colour;
    const std::vector<int64_t>* values;
  };
  const std::vector<Series> series = {{"file order", "#d62728", &m.file_order.timeline_bytes},
                                      {"best order", "#1f77b4", &m.best_order.timeline_bytes},
                                      {"partial execution", "#2ca02c", &m.partial_execution.timeline_bytes}};
  int64_t top = 1;
  size_t steps = 1;
  for (const Series& s : series) {
    for (int64_t v : *s.values) top = std::max(top, v);
    steps = std::max(steps, s.values->size());
  }
  const double width = 800, height = 400, left = 90, right = 20, upper = 40, lower = 50;
  const double plot_w = width - left - right, plot_h = height - upper - lower;
  auto x_at = [&](size_t step) { return left + plot_w * static_cast<double>(step) / static_cast<double>(steps); };
  auto y_at = [&](int64_t v) { return upper + plot_h * (1.0 - static_cast<double>(v) / static_cast<double>(top)); };
  std::ostringstream os;
  char buf[160];
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
     << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  os << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  os << "<text x=\"" << left << "\" y=\"20\" font-size=\"14\">Live bytes per operator step</text>\n";
  std::snprintf(buf, sizeof buf, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", left,
                upper + plot_h, left + plot_w, upper + plot_h);
  os << buf;
  std::snprintf(buf, sizeof buf, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", left,
                upper, left, upper + plot_h);
  os << buf;
  for (int i = 0; i <= 4; ++i) {
    const int64_t v = top * i / 4;
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", left - 6,
                  y_at(v) + 4, WithThousands(v).c_str());
    os << buf;
  }
  std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">step (%zu)</text>\n",
                left + plot_w / 2, height - 15, steps);
  os << buf;
  for (size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    std::string points;
    for (size_t i = 0; i < s.values->size(); ++i) {  // a step line: flat across each step
      std::snprintf(buf, sizeof buf, "%.1f,%.1f %.1f,%.1f ", x_at(i), y_at((*s.values)[i]), x_at(i + 1),
                    y_at((*s.values)[i]));
      points += buf;
    }
    os << "<polyline fill=\"none\" stroke=\"" << s.colour << "\" stroke-width=\"2\" points=\"" << points << "\"/>\n";
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">%s</text>\n",
                  left + 10 + 170.0 * static_cast<double>(k), height - 30, s.colour, s.label);
    os << buf;
  }
  os << "</svg>\n";
  return os.str();
}

}  // namespace unas
