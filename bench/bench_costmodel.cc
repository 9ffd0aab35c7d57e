// Cost-model throughput: costs every line of a JSON-lines file of candidates
// (the reference file by default) repeatedly, single-threaded, and prints
// candidates per second, with and without JSON parsing.
//
//   build/bench_costmodel [FILE.jsonl] [--seconds S] [--accounting unas|tflm]
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "bench/bench_input.h"
#include "costmodel/cost_model.h"
#include "costmodel/report.h"

using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  unas::bench::BenchArgs args;
  if (!unas::bench::ParseBenchArgs(argc, argv, /*accepts_seconds=*/true, /*accepts_verbose=*/false, &args)) return 2;
  const std::string& path = args.path;
  const double seconds = args.seconds;
  const unas::Accounting accounting = args.accounting;
  std::vector<unas::bench::CandidateLine> input;
  if (!unas::bench::ReadCandidateLines(path, "bench_costmodel", &input)) return 1;
  const size_t n = input.size();
  int64_t checksum = 0;

  auto run = [&](bool parse) {
    size_t done = 0;
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::duration<double>(seconds);
    while (Clock::now() < deadline) {
      for (size_t i = 0; i < n; ++i) {
        if (parse) {
          const auto out = unas::CostBatchLine(input[i].line, accounting);
          checksum += out.value("peak_memory", int64_t{0});
        } else {
          auto net = unas::BuildNetwork(input[i].candidate, input[i].spec);
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
