// Partial-execution benchmark: for every candidate of a JSON-lines file (the
// 60 reference candidates by default), peak SRAM under the build order, the
// best order and with partial execution, and the ratios build/pex and
// best/pex (median and best). Checks every plan's arena layout.
//
//   build/bench_pex [FILE.jsonl] [--accounting unas|tflm] [--verbose]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "bench/bench_input.h"
#include "costmodel/partial_execution.h"

namespace {

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  unas::bench::BenchArgs args;
  args.accounting = unas::Accounting::kTflm;
  if (!unas::bench::ParseBenchArgs(argc, argv, /*accepts_seconds=*/false, /*accepts_verbose=*/true, &args)) return 2;
  const std::string& path = args.path;
  const unas::Accounting accounting = args.accounting;
  const bool verbose = args.verbose;
  std::vector<unas::bench::CandidateLine> input;
  if (!unas::bench::ReadCandidateLines(path, "bench_pex", &input)) return 1;
  std::vector<double> build_ratio, best_ratio;
  int applies = 0, count = 0;
  double seconds = 0, peak_seconds = 0;
  int64_t arena_over_peak = 0;
  for (const unas::bench::CandidateLine& candidate : input) {
    auto net = unas::BuildNetwork(candidate.candidate, candidate.spec);
    if (!net.ok()) {
      std::cerr << "bench_pex: " << net.status().message() << "\n";
      return 1;
    }
    const auto start = std::chrono::steady_clock::now();
    auto plan = unas::PlanPartialExecution(*net, accounting);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto peak_start = std::chrono::steady_clock::now();
    auto peak_only = unas::PexPeakBytes(*net, accounting);
    peak_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - peak_start).count();
    if (!plan.ok() || !peak_only.ok() || *peak_only != plan->peak_bytes) {
      std::cerr << "bench_pex: line " << count << ": " << (plan.ok() ? "PexPeakBytes disagrees" : plan.status().message()) << "\n";
      return 1;
    }
    if (auto s = unas::CheckLayout(plan->graph, plan->layout); !s.ok()) {
      std::cerr << "bench_pex: line " << count << ": layout: " << s.message() << "\n";
      return 1;
    }
    if (plan->macs != [&] { int64_t m = 0; for (const auto& op : net->ops) m += op.macs(); return m; }()) {
      std::cerr << "bench_pex: line " << count << ": MACs differ\n";
      return 1;
    }
    arena_over_peak += plan->layout.arena_bytes - plan->peak_bytes;
    const double pex = static_cast<double>(std::max<int64_t>(plan->peak_bytes, 1));
    build_ratio.push_back(plan->build_order_peak_bytes / pex);
    best_ratio.push_back(plan->whole_peak_bytes / pex);
    applies += plan->peak_bytes < plan->whole_peak_bytes;
    if (verbose) {
      const size_t at = std::max_element(plan->timeline.begin(), plan->timeline.end()) - plan->timeline.begin();
      const unas::PexStep& step = plan->steps[plan->order[at]];
      const unas::Op& op = net->ops[step.op];
      std::string inputs;
      for (int i : op.inputs) {
        inputs += " " + (i == unas::kNetworkInput ? net->input_shape().ToString() : net->ops[i].out.ToString());
      }
      std::printf("    peak at op %d %s (%s, in%s, out %s)\n", step.op, op.Describe().c_str(),
                  step.segment >= 0 ? "sliced" : "whole", inputs.c_str(), op.out.ToString().c_str());
      std::printf("%3d build %8lld best %8lld pex %8lld arena %8lld  x%.2f  segments %zu\n", count,
                  static_cast<long long>(plan->build_order_peak_bytes),
                  static_cast<long long>(plan->whole_peak_bytes), static_cast<long long>(plan->peak_bytes),
                  static_cast<long long>(plan->layout.arena_bytes), best_ratio.back(), plan->segments.size());
    }
    ++count;
  }
  std::printf("candidates: %d (%s), accounting %s\n", count, path.c_str(), unas::AccountingName(accounting));
  std::printf("build order / pex: median %.2fx, best %.2fx\n", Median(build_ratio),
              *std::max_element(build_ratio.begin(), build_ratio.end()));
  std::printf("best order  / pex: median %.2fx, best %.2fx\n", Median(best_ratio),
              *std::max_element(best_ratio.begin(), best_ratio.end()));
  std::printf("pex lowers the best-order peak on %d of %d candidates\n", applies, count);
  std::printf("greedy arena above the pex peak: %lld bytes in total\n", static_cast<long long>(arena_over_peak));
  std::printf("planning time: %.1f ms per candidate (PlanPartialExecution with layout), %.1f ms (PexPeakBytes)\n",
              1e3 * seconds / std::max(count, 1), 1e3 * peak_seconds / std::max(count, 1));
  return 0;
}
