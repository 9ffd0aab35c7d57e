// Cost-model throughput: costs every line of a JSON-lines file of candidates
// (the reference file by default) repeatedly, single-threaded, and prints
// candidates per second, with and without JSON parsing: per second of wall
// time and per second of this process's CPU time (the figure to trust when
// other programs share the cores). A third figure costs as a search's
// proposals are costed (SummariseProposalCosts, costmodel/proposal_costs.h).
//
//   build/bench_costmodel [FILE.jsonl] [--seconds S] [--accounting unas|tflm]
#include <chrono>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

#include "bench/bench_input.h"
#include "costmodel/cost_model.h"
#include "costmodel/proposal_costs.h"
#include "costmodel/report.h"

using Clock = std::chrono::steady_clock;

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Rate {
  double per_second = 0;      // wall clock
  double per_cpu_second = 0;  // this process's CPU time
};

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

  enum class Mode { kSummary, kBatchLine, kProposal };
  auto run = [&](Mode mode) {
    size_t done = 0;
    const double cpu_start = CpuSeconds();
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::duration<double>(seconds);
    while (Clock::now() < deadline) {
      for (size_t i = 0; i < n; ++i) {
        if (mode == Mode::kBatchLine) {
          const auto out = unas::CostBatchLine(input[i].line, accounting);
          checksum += out.value("peak_memory", int64_t{0});
        } else {
          auto net = unas::BuildNetwork(input[i].candidate, input[i].spec);
          auto s = mode == Mode::kProposal ? unas::SummariseProposalCosts(*net, accounting)
                                           : unas::SummariseCosts(*net, accounting);
          checksum += s->peak_sram_bytes;
        }
      }
      done += n;
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const double cpu = CpuSeconds() - cpu_start;
    return Rate{done / elapsed, done / cpu};
  };
  const Rate costing = run(Mode::kSummary);
  const Rate with_json = run(Mode::kBatchLine);
  const Rate proposal = run(Mode::kProposal);
  std::cout << "candidates:                  " << n << " (" << path << ")\n";
  std::cout << "accounting:                  " << unas::AccountingName(accounting) << "\n";
  std::cout << "cost only (network + costs + best order): " << static_cast<int64_t>(costing.per_second)
            << " candidates/s, " << static_cast<int64_t>(costing.per_cpu_second) << " per CPU second\n";
  std::cout << "batch line (JSON parse + cost + JSON out): " << static_cast<int64_t>(with_json.per_second)
            << " candidates/s, " << static_cast<int64_t>(with_json.per_cpu_second) << " per CPU second\n";
  std::cout << "proposal costing (as a search costs each candidate): " << static_cast<int64_t>(proposal.per_second)
            << " candidates/s, " << static_cast<int64_t>(proposal.per_cpu_second) << " per CPU second\n";
  std::cout << "checksum " << checksum << "\n";
  return 0;
}
