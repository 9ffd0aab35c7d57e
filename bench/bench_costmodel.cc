// Cost-model throughput: costs every line of a JSON-lines file of candidates
// (the reference file by default) repeatedly, single-threaded, and prints
// candidates per second, with and without JSON parsing.
//
//   build/bench_costmodel [FILE.jsonl] [--seconds S] [--accounting unas|tflm]
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "costmodel/cost_model.h"
#include "costmodel/report.h"

using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  std::string path = "../shared/testdata/unas_reference_costs.jsonl";
  double seconds = 3.0;
  unas::Accounting accounting = unas::Accounting::kUnas;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (a == "--accounting" && i + 1 < argc) {
      auto parsed = unas::ParseAccounting(argv[++i]);
      if (!parsed.ok()) {
        std::cerr << parsed.status().message() << "\n";
        return 2;
      }
      accounting = *parsed;
    } else {
      path = a;
    }
  }
  std::ifstream in(path);
  if (!in) {
    std::cerr << "bench_costmodel: cannot open " << path << "\n";
    return 1;
  }
  std::vector<std::string> lines;
  std::vector<unas::Candidate> candidates;
  std::vector<unas::InputSpec> specs;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    auto spec = unas::InputSpecFromJson(j["input_shape"], j["num_classes"]);
    auto c = unas::CandidateFromJson(j["architecture"]);
    if (!spec.ok() || !c.ok()) {
      std::cerr << "bench_costmodel: bad line: " << (spec.ok() ? c.status() : spec.status()).message() << "\n";
      return 1;
    }
    lines.push_back(line);
    candidates.push_back(*c);
    specs.push_back(*spec);
  }
  const size_t n = candidates.size();
  int64_t checksum = 0;

  auto run = [&](bool parse) {
    size_t done = 0;
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::duration<double>(seconds);
    while (Clock::now() < deadline) {
      for (size_t i = 0; i < n; ++i) {
        if (parse) {
          const auto out = unas::CostBatchLine(lines[i], accounting);
          checksum += out.value("peak_memory", int64_t{0});
        } else {
          auto net = unas::BuildNetwork(candidates[i], specs[i]);
          auto s = unas::SummariseCosts(*net, accounting);
          checksum += s->peak_sram_bytes;
        }
      }
      done += n;
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    return done / elapsed;
  };
  const double costing = run(false);
  const double with_json = run(true);
  std::cout << "candidates:                  " << n << " (" << path << ")\n";
  std::cout << "accounting:                  " << unas::AccountingName(accounting) << "\n";
  std::cout << "cost only (network + costs + best order): " << static_cast<int64_t>(costing)
            << " candidates/s\n";
  std::cout << "batch line (JSON parse + cost + JSON out): " << static_cast<int64_t>(with_json)
            << " candidates/s\n";
  std::cout << "checksum " << checksum << "\n";
  return 0;
}
