// The analysis of hostile models (issue 23): writes each as a .tflite into
// DIR, for `/usr/bin/time -v build/unas analyze DIR/FILE --json`, and prints
// the in-process time of ReadTflite + AnalyzeModel and what the analysis
// said (or why it refused).
//
//   build/bench/bench_analyze DIR [NAME ...]    (default: every model)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "costmodel/model_analysis.h"
#include "tests/common/hostile_models.h"
#include "tflite/reader.h"
#include "tflite/writer.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bench_analyze DIR [NAME ...]\n";
    return 2;
  }
  const std::string dir = argv[1];
  const std::vector<std::string> only(argv + 2, argv + argc);
  using unas::testing::BranchingModel;
  using unas::testing::ChainModel;
  using unas::testing::ManyInputsModel;
  const std::vector<std::pair<std::string, unas::ModelGraph>> models = {
      {"chain2000.tflite", ChainModel(2000)},
      {"custom_chain2000.tflite", ChainModel(2000, unas::testing::ChainOf::kCustom)},
      {"custom_chain10000.tflite", ChainModel(10000, unas::testing::ChainOf::kCustom)},
      {"chain10000.tflite", ChainModel(10000)},
      {"conv_chain10000.tflite", ChainModel(10000, unas::testing::ChainOf::kConvs)},
      {"outputs4_chain10000.tflite", unas::testing::MultiOutputChainModel(10000, 4)},
      {"dw_chain64x64.tflite", unas::testing::DepthwiseChainModel(64, 64)},
      {"dw_chain64x80.tflite", unas::testing::DepthwiseChainModel(64, 80)},
      {"inputs22.tflite", ManyInputsModel(22)},
      {"branch256.tflite", BranchingModel(15, 17)},
  };
  for (const auto& [name, graph] : models) {
    if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
    auto bytes = unas::WriteTflite(graph);
    if (!bytes.ok()) {
      std::cerr << name << ": " << bytes.status().message() << "\n";
      return 1;
    }
    const std::string path = dir + "/" + name;
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes->data()),
                                                static_cast<std::streamsize>(bytes->size()));
    const auto start = std::chrono::steady_clock::now();
    auto read = unas::ReadTflite(bytes->data(), bytes->size());
    if (!read.ok()) {
      std::cerr << name << ": " << read.status().message() << "\n";
      return 1;
    }
    auto analysis = unas::AnalyzeModel(*read);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("%-24s %8zu bytes %6zu ops %9.1f ms  ", name.c_str(), bytes->size(), graph.ops.size(), ms);
    if (!analysis.ok()) {
      std::printf("refused: %s\n", analysis.status().message().c_str());
      continue;
    }
    std::printf("peak %lld best %lld pex %lld\n", static_cast<long long>(analysis->file_order.peak_bytes),
                static_cast<long long>(analysis->best_order.peak_bytes),
                static_cast<long long>(analysis->partial_execution.peak_bytes));
    for (const std::string& note : analysis->notes) std::printf("    note: %s\n", note.c_str());
    std::printf("    pex: %s\n", analysis->partial_execution.reason.c_str());
  }
  return 0;
}
