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

// The SVG chart of AnalysisSvg: live bytes at each step, one line per
// order, drawn as header, legend, axes and lines. The constructor fixes the
// scales from the data; each step appends its elements to `os`.
class TimelineChart {
 public:
  explicit TimelineChart(const ModelAnalysis& m)
      // Lines that coincide stay apart: each has its own colour and dash
      // pattern, and the wider ones are drawn first, under the narrower.
      : series_{{"file order", "#d62728", "", 4.5, &m.file_order.timeline_bytes, m.file_order.peak_bytes},
                {"best order", "#1f77b4", "9 4", 3, &m.best_order.timeline_bytes, m.best_order.peak_bytes},
                {"partial execution", "#2ca02c", "2 3", 1.75, &m.partial_execution.timeline_bytes,
                 m.partial_execution.peak_bytes}} {
    for (const Series& s : series_) {
      for (int64_t v : *s.values) top_ = std::max(top_, v);
      steps_ = std::max(steps_, s.values->size());
    }
    // About 5 y ticks and at most about 12 x ticks, at round numbers; the y
    // axis ends at the tick above the peak.
    y_step_ = NiceStep(static_cast<double>(top_) / 5);
    top_ = (top_ + y_step_ - 1) / y_step_ * y_step_;
    x_step_ = NiceStep(static_cast<double>(steps_) / 12);
  }

  std::string Svg() const {
    std::ostringstream os;
    Header(os);
    Legend(os);
    YAxis(os);
    XAxis(os);
    Lines(os);
    os << "</svg>\n";
    return os.str();
  }

 private:
  struct Series {
    const char* label;
    const char* colour;
    const char* dash;  // SVG stroke-dasharray; "" for solid
    double width;
    const std::vector<int64_t>* values;
    int64_t peak;
  };

  double XAt(double step) const { return kLeft + kPlotW * step / static_cast<double>(steps_); }
  double YAt(int64_t v) const {
    return kUpper + kPlotH * (1.0 - static_cast<double>(v) / static_cast<double>(top_));
  }

  void Header(std::ostringstream& os) const {
    os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
       << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
    os << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    os << "<text x=\"" << kLeft << "\" y=\"22\" font-size=\"15\">SRAM live at each operator step</text>\n";
  }

  // One entry per line: a sample of its stroke, its name, its peak.
  void Legend(std::ostringstream& os) const {
    char buf[256];
    for (size_t k = 0; k < series_.size(); ++k) {
      const Series& s = series_[k];
      const double x = kLeft + 260.0 * static_cast<double>(k), y = 48;
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
  }

  // Bytes, with a grid line at each tick.
  void YAxis(std::ostringstream& os) const {
    char buf[256];
    for (int64_t v = 0; v <= top_; v += y_step_) {
      std::snprintf(buf, sizeof buf,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                    kLeft, YAt(v), kLeft + kPlotW, YAt(v), kLeft - 6, YAt(v) + 4, WithThousands(v).c_str());
      os << buf;
    }
    std::snprintf(buf, sizeof buf,
                  "<text transform=\"translate(%.1f %.1f) rotate(-90)\" text-anchor=\"middle\">live bytes</text>\n",
                  22.0, kUpper + kPlotH / 2);
    os << buf;
  }

  // Steps, each tick under the middle of its step; then both axis lines.
  void XAxis(std::ostringstream& os) const {
    char buf[256];
    for (size_t i = 0; i < steps_; i += static_cast<size_t>(x_step_)) {
      const double x = XAt(static_cast<double>(i) + 0.5);
      std::snprintf(buf, sizeof buf,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%zu</text>\n",
                    x, kUpper + kPlotH, x, kUpper + kPlotH + 5, x, kUpper + kPlotH + 19, i);
      os << buf;
    }
    std::snprintf(buf, sizeof buf,
                  "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">operator step (file order: the operator's "
                  "index; partial execution runs sliced operators as several steps)</text>\n",
                  kLeft + kPlotW / 2, kHeight - 16);
    os << buf;
    std::snprintf(buf, sizeof buf, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", kLeft,
                  kUpper + kPlotH, kLeft + kPlotW, kUpper + kPlotH);
    os << buf;
    std::snprintf(buf, sizeof buf, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", kLeft,
                  kUpper, kLeft, kUpper + kPlotH);
    os << buf;
  }

  // A step line per series: flat across each step.
  void Lines(std::ostringstream& os) const {
    char buf[256];
    for (const Series& s : series_) {
      std::string points;
      for (size_t i = 0; i < s.values->size(); ++i) {
        std::snprintf(buf, sizeof buf, "%.1f,%.1f %.1f,%.1f ", XAt(static_cast<double>(i)), YAt((*s.values)[i]),
                      XAt(static_cast<double>(i + 1)), YAt((*s.values)[i]));
        points += buf;
      }
      os << "<polyline fill=\"none\" stroke=\"" << s.colour << "\" stroke-width=\"" << s.width << "\"";
      if (*s.dash) os << " stroke-dasharray=\"" << s.dash << "\"";
      os << " points=\"" << points << "\"/>\n";
    }
  }

  // The page and the plot inside it, in SVG user units.
  static constexpr double kWidth = 900, kHeight = 470, kLeft = 100, kRight = 20, kUpper = 80, kLower = 60;
  static constexpr double kPlotW = kWidth - kLeft - kRight, kPlotH = kHeight - kUpper - kLower;

  const std::vector<Series> series_;
  int64_t top_ = 1;    // the y axis' top, bytes
  size_t steps_ = 1;   // the longest line's steps
  int64_t y_step_ = 1;  // bytes between y ticks
  int64_t x_step_ = 1;  // steps between x ticks
};

}  // namespace

std::string AnalysisSvg(const ModelAnalysis& m) { return TimelineChart(m).Svg(); }

}  // namespace unas
