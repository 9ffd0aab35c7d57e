// Runs a strategy against the synthetic evaluator (a stand-in for training)
// and tracks the hypervolume of the feasible Pareto front: what
// `unas simulate` and the strategy benchmark use. A test tool, not a job.
//
// Workers: `in_flight` trials are kept in flight; whenever one must finish,
// a uniformly random one does (seeded), so results arrive out of order as in
// a real cluster. The front is over every objective that has a bound
// (normalised by it, so the hypervolume is a fraction of the bounded box).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "costmodel/cost_model.h"
#include "base/status.h"
#include "search/objectives.h"
#include "search/strategy.h"

namespace unas::search {

// "random", "aging" or "bo"; kInvalidArgument otherwise.
Result<std::unique_ptr<Strategy>> MakeStrategy(const std::string& name, StrategyConfig config,
                                               const InputSpec& input);

struct SimulationOptions {
  std::string strategy = "aging";
  int trials = 500;
  uint64_t seed = 0;
  int in_flight = 1;
  Limits bounds;       // soft bounds: scalarisation and the hypervolume box
  Limits constraints;  // hard constraints
  Accounting accounting = Accounting::kTflm;
  InputSpec input;
  const McuProfile* mcu = nullptr;  // enables latency
  double noise_sd = 0.01;
};

struct SimulationPoint {
  int trials = 0;             // completed so far
  double hypervolume = 0;     // normalised, 0..1
  int front_size = 0;
  int64_t rejected = 0;       // hard-constraint rejections so far
  int failed = 0;
};

// Calls on_report after every `report_every` completed trials and at the end;
// returns all reported points (the last one is the final state).
Result<std::vector<SimulationPoint>> Simulate(
    const SimulationOptions& options, int report_every,
    const std::function<void(const SimulationPoint&)>& on_report = nullptr);

}  // namespace unas::search
