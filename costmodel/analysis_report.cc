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

namespace {

// The smallest of 1, 2 or 5 times a power of ten that is at least `raw`
// (axis ticks at round numbers).
int64_t NiceStep(double raw) {
  int64_t power = 1;
  while (true) {
    for (int64_t m : {1, 2, 5}) {
      if (static_cast<double>(m * power) >= raw) return m * power;
    }
    power *= 10;
  }
}

}  // namespace

std::string AnalysisSvg(const ModelAnalysis& m) {
  // Lines that coincide stay apart: each has its own colour and dash
  // pattern, and the wider ones are drawn first, under the narrower.
  struct Series {
    const char* label;
    const char* colour;
    const char* dash;  // SVG stroke-dasharray; "" for solid
    double width;
    const std::vector<int64_t>* values;
    int64_t peak;
  };
  const std::vector<Series> series = {
      {"file order", "#d62728", "", 4.5, &m.file_order.timeline_bytes, m.file_order.peak_bytes},
      {"best order", "#1f77b4", "9 4", 3, &m.best_order.timeline_bytes, m.best_order.peak_bytes},
      {"partial execution", "#2ca02c", "2 3", 1.75, &m.partial_execution.timeline_bytes,
       m.partial_execution.peak_bytes}};
  int64_t top = 1;
  size_t steps = 1;
  for (const Series& s : series) {
    for (int64_t v : *s.values) top = std::max(top, v);
    steps = std::max(steps, s.values->size());
  }
  // About 5 y ticks and at most about 12 x ticks, at round numbers; the y
  // axis ends at the tick above the peak.
  const int64_t y_step = NiceStep(static_cast<double>(top) / 5);
  top = (top + y_step - 1) / y_step * y_step;
  const int64_t x_step = NiceStep(static_cast<double>(steps) / 12);
  const double width = 900, height = 470, left = 100, right = 20, upper = 80, lower = 60;
  const double plot_w = width - left - right, plot_h = height - upper - lower;
  auto x_at = [&](double step) { return left + plot_w * step / static_cast<double>(steps); };
  auto y_at = [&](int64_t v) { return upper + plot_h * (1.0 - static_cast<double>(v) / static_cast<double>(top)); };
  std::ostringstream os;
  char buf[256];
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
     << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  os << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  os << "<text x=\"" << left << "\" y=\"22\" font-size=\"15\">SRAM live at each operator step</text>\n";
  // The legend, one entry per line: a sample of its stroke, its name, its peak.
  for (size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    const double x = left + 260.0 * static_cast<double>(k), y = 48;
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%.2f\"%s%s%s/>\n",
                  x, y, x + 36, y, s.colour, s.width, *s.dash ? " stroke-dasharray=\"" : "", s.dash,
                  *s.dash ? "\"" : "");
    os << buf;
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", x + 44, y + 4, s.label);
    os << buf;
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#555\">peak %s B, %zu steps</text>\n",
                  x + 44, y + 19, WithThousands(s.peak).c_str(), s.values->size());
    os << buf;
  }
  // y: bytes, grid lines at each tick.
  for (int64_t v = 0; v <= top; v += y_step) {
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
                  "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                  left, y_at(v), left + plot_w, y_at(v), left - 6, y_at(v) + 4, WithThousands(v).c_str());
    os << buf;
  }
  std::snprintf(buf, sizeof buf,
                "<text transform=\"translate(%.1f %.1f) rotate(-90)\" text-anchor=\"middle\">live bytes</text>\n",
                22.0, upper + plot_h / 2);
  os << buf;
  // x: steps, each tick under the middle of its step.
  for (size_t i = 0; i < steps; i += static_cast<size_t>(x_step)) {
    const double x = x_at(static_cast<double>(i) + 0.5);
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n"
                  "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%zu</text>\n",
                  x, upper + plot_h, x, upper + plot_h + 5, x, upper + plot_h + 19, i);
    os << buf;
  }
  std::snprintf(buf, sizeof buf,
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">operator step (file order: the operator's "
                "index; partial execution runs sliced operators as several steps)</text>\n",
                left + plot_w / 2, height - 16);
  os << buf;
  std::snprintf(buf, sizeof buf, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", left,
                upper + plot_h, left + plot_w, upper + plot_h);
  os << buf;
  std::snprintf(buf, sizeof buf, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", left,
                upper, left, upper + plot_h);
  os << buf;
  for (const Series& s : series) {
    std::string points;
    for (size_t i = 0; i < s.values->size(); ++i) {  // a step line: flat across each step
      std::snprintf(buf, sizeof buf, "%.1f,%.1f %.1f,%.1f ", x_at(static_cast<double>(i)), y_at((*s.values)[i]),
                    x_at(static_cast<double>(i + 1)), y_at((*s.values)[i]));
      points += buf;
    }
    os << "<polyline fill=\"none\" stroke=\"" << s.colour << "\" stroke-width=\"" << s.width << "\"";
    if (*s.dash) os << " stroke-dasharray=\"" << s.dash << "\"";
    os << " points=\"" << points << "\"/>\n";
  }
  os << "</svg>\n";
  return os.str();
}

}  // namespace unas
