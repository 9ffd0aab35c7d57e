// unas simulate: a search strategy against the synthetic evaluator (no
// training), printing the hypervolume of the feasible Pareto front.
#include <cstdio>
#include <iostream>

#include "cli/args.h"
#include "cli/commands.h"
#include "search/simulation.h"

namespace unas::cli {

int RunSimulate(const std::vector<std::string>& argv) {
  Args args("simulate", "--strategy aging|bo|random [options]",
            "Runs a search strategy against the SYNTHETIC evaluator (a documented stand-in for\n"
            "training; see search/synthetic.h) and prints the normalised hypervolume of the\n"
            "feasible Pareto front every 50 trials and at the end, and how many candidates the\n"
            "hard constraints rejected.");
  args.Flag("strategy", "NAME", "aging, bo or random", "aging");
  args.Flag("trials", "N", "trials to run", "500");
  args.Flag("seed", "S", "seed of the strategy and the synthetic evaluator", "0");
  args.Flag("constraints", "LIST", "hard constraints, e.g. peak_sram=64000,flash=64000,macs=30000000", "");
  args.Flag("bounds", "LIST", "objective bounds (scalarisation, hypervolume box)",
            "error=0.25,peak_sram=64000,flash=64000,macs=30000000");
  args.Flag("accounting", "unas|tflm|firmware", "memory accounting of the costs", "tflm");
  args.Flag("in-flight", "K", "trials in flight at once (results arrive in random order)", "1");
  AddInputSpecFlags(args);
  args.Flag("report-every", "N", "print the hypervolume every N completed trials", "50");
  args.Flag("mcu", "NAME", "add latency on this MCU profile as an objective (needs a latency bound)");
  if (auto rc = args.ParseOrExit(argv)) return *rc;
  auto fail = [](const Status& s) {
    std::cerr << "unas simulate: " << s.message() << "\n";
    return 2;
  };
  search::SimulationOptions options;
  options.strategy = args.Get("strategy");
  int every = 0;
  auto accounting = ParseAccounting(args.Get("accounting"));
  auto constraints = search::ParseLimits(args.Get("constraints"));
  auto bounds = search::ParseLimits(args.Get("bounds"));
  for (const Status& s : {args.ReadInt("trials", 1, 1000000, &options.trials),
                          args.ReadInt("seed", 0, (1LL << 62), &options.seed),
                          args.ReadInt("in-flight", 1, 1000, &options.in_flight),
                          args.ReadInt("report-every", 1, 1000000, &every), accounting.status()}) {
    if (!s.ok()) return fail(s);
  }
  if (!constraints.ok()) return fail(constraints.status().WithContext("--constraints"));
  if (!bounds.ok()) return fail(bounds.status().WithContext("--bounds"));
  auto input = GetInputSpec(args);
  if (!input.ok()) return fail(input.status());
  if (args.Has("mcu")) {
    auto mcu = FindMcu(args.Get("mcu"));
    if (!mcu.ok()) return fail(mcu.status().WithContext("--mcu"));
    options.mcu = *mcu;
  }
  options.accounting = *accounting;
  options.constraints = *constraints;
  options.bounds = *bounds;
  options.input = *input;

  std::printf("strategy %s, seed %llu, %d trials, %d in flight, accounting %s (synthetic evaluator)\n",
              options.strategy.c_str(), static_cast<unsigned long long>(options.seed), options.trials,
              options.in_flight, AccountingName(options.accounting));
  std::printf("%8s %12s %6s %9s\n", "trials", "hypervolume", "front", "rejected");
  auto result = search::Simulate(options, every, [](const search::SimulationPoint& p) {
    std::printf("%8d %12.6f %6d %9lld\n", p.trials, p.hypervolume, p.front_size,
                static_cast<long long>(p.rejected));
    std::fflush(stdout);
  });
  if (!result.ok()) {
    std::cerr << "unas simulate: " << result.status().message() << "\n";
    return result.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  const search::SimulationPoint& last = result->back();
  std::printf("final hypervolume %.6f, front %d, rejected by hard constraints %lld, failed %d\n",
              last.hypervolume, last.front_size, static_cast<long long>(last.rejected), last.failed);
  return 0;
}

}  // namespace unas::cli
