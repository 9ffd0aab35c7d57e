// unas analyze: where a .tflite model's SRAM goes, its best operator order,
// TFLM's arena and partial execution (costmodel/model_analysis.h).
#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/write_file.h"
#include "costmodel/model_analysis.h"
#include "tflite/reader.h"
#include "tflite/reorder.h"

namespace unas::cli {

int RunAnalyze(const std::vector<std::string>& argv) {
  Args args("analyze", "MODEL.tflite [--json] [--reorder OUT.tflite] [--plot FILE.svg]",
            "Reads any TensorFlow Lite model (first subgraph) and shows where its SRAM goes: the\n"
            "bytes live at each operator in file order (tflite-tools' rule), TFLM's planned arena and\n"
            "persistent estimate, the operator order with the smallest peak (exact planner), and a\n"
            "partial-execution plan. --reorder writes the model with its operators in the best order\n"
            "(everything else byte for byte), which TFLM then runs in that order (docs/analyze.md).");
  args.Switch("json", "print the analysis as JSON");
  args.Flag("reorder", "OUT.tflite", "write the model reordered into the best order");
  args.Flag("plot", "FILE.svg", "write an SVG chart of the file-order, best-order and Pex timelines");
  if (Status s = args.Parse(argv); !s.ok()) {
    if (s.code() == StatusCode::kFailedPrecondition) {
      std::cout << args.Help();
      return 0;
    }
    std::cerr << "unas analyze: " << s.message() << "\n";
    return 2;
  }
  if (args.positional().size() != 1) {
    std::cerr << "unas analyze: expected one .tflite file (see 'unas analyze --help')\n";
    return 2;
  }
  const std::string path = args.positional()[0];
  // The size limit before a byte is read, and devices refused (issue 23:
  // /dev/zero grew without bound); the analysis' own limits while reading.
  auto file = ReadTfliteFileBytes(path);
  if (!file.ok()) {
    std::cerr << "unas analyze: " << file.status().message() << "\n";
    return 1;
  }
  const AnalysisLimits limits;
  TfliteReadLimits read_limits;
  read_limits.max_operators = limits.max_operators;
  read_limits.max_tensors = limits.max_tensors;
  const auto start = std::chrono::steady_clock::now();
  auto graph = ReadTflite(file->data(), file->size(), read_limits);
  if (!graph.ok()) {
    std::cerr << "unas analyze: " << path << ": " << graph.status().message() << "\n";
    return 1;
  }
  auto analysis = AnalyzeModel(*graph, limits);
  if (!analysis.ok()) {
    std::cerr << "unas analyze: " << path << ": " << analysis.status().message() << "\n";
    return 1;
  }
  const double analysis_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (args.Has("reorder")) {
    auto reordered = ReorderOperators(*file, analysis->best_order.order);
    if (!reordered.ok()) {
      std::cerr << "unas analyze: --reorder: " << reordered.status().message() << "\n";
      return 1;
    }
    if (Status s = WriteFile(args.Get("reorder"), "reordered model", reordered->data(), reordered->size());
        !s.ok()) {
      std::cerr << "unas analyze: --reorder: " << s.message() << "\n";
      return 1;
    }
  }
  if (args.Has("plot")) {
    const std::string svg = AnalysisSvg(*analysis);
    if (Status s = WriteFile(args.Get("plot"), "plot", svg); !s.ok()) {
      std::cerr << "unas analyze: --plot: " << s.message() << "\n";
      return 1;
    }
  }
  if (args.On("json")) {
    nlohmann::json out = AnalysisToJson(*analysis);
    out["analysis_ms"] = analysis_ms;
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << path << ": " << FormatAnalysis(*analysis);
    char buf[64];
    std::snprintf(buf, sizeof buf, "analysis took %.1f ms (reading included)\n", analysis_ms);
    std::cout << buf;
  }
  return 0;
}

}  // namespace unas::cli
