#include "search/simulation.h"

#include "search/bayes_opt.h"
#include "search/pareto.h"
#include "search/synthetic.h"

namespace unas::search {

Result<std::unique_ptr<Strategy>> MakeStrategy(const std::string& name, StrategyConfig config,
                                               const InputSpec& input) {
  if (name == "random") return std::unique_ptr<Strategy>(new RandomSearch(std::move(config)));
  if (name == "aging") return std::unique_ptr<Strategy>(new AgingEvolution(std::move(config)));
  if (name == "bo") {
    BayesOptConfig bo;
    bo.input = input;
    return std::unique_ptr<Strategy>(new BayesOpt(std::move(config), bo));
  }
  return Status::Invalid("unknown strategy '" + name + "' (aging, bo or random)");
}

Result<std::vector<SimulationPoint>> Simulate(const SimulationOptions& options, int report_every,
                                              const std::function<void(const SimulationPoint&)>& on_report) {
  if (options.trials < 1 || options.in_flight < 1 || report_every < 1) {
    return Status::Invalid("trials, in-flight and the report interval must be positive");
  }
  FrontSpec front;
  front.bounds = options.bounds;
  for (int k = 0; k < kNumObjectives; ++k) {
    const auto o = static_cast<Objective>(k);
    if (o == Objective::kLatency && options.mcu == nullptr) continue;
    if (options.bounds[o]) front.objectives.push_back(o);
  }
  if (front.objectives.empty()) return Status::Invalid("no objective has a bound");
  UNAS_ASSIGN_OR_RETURN(Point reference, front.Reference());
  ParetoArchive archive(reference);

  StrategyConfig config;
  config.seed = options.seed;
  config.bounds = options.bounds;
  config.constraints = options.constraints;
  config.costs = MakeCostFunction(options.input, options.accounting, options.mcu);
  UNAS_ASSIGN_OR_RETURN(std::unique_ptr<Strategy> strategy,
                        MakeStrategy(options.strategy, std::move(config), options.input));
  SyntheticConfig synthetic;
  synthetic.seed = options.seed;
  synthetic.noise_sd = options.noise_sd;
  synthetic.input = options.input;
  const SyntheticEvaluator evaluator(synthetic);
  Rng order(DeriveSeed(options.seed, 0x73696d756c617465ULL /* "simulate" */, 0));

  std::vector<SimulationPoint> points;
  std::vector<Proposal> flying;
  int done = 0, failed = 0, asked = 0;
  auto report = [&] {
    SimulationPoint p{done, archive.hypervolume(), static_cast<int>(archive.points().size()),
                      strategy->rejected_count(), failed};
    points.push_back(p);
    if (on_report) on_report(p);
  };
  while (done < options.trials) {
    while (static_cast<int>(flying.size()) < options.in_flight && asked < options.trials) {
      UNAS_ASSIGN_OR_RETURN(Proposal p, strategy->Ask());
      flying.push_back(std::move(p));
      ++asked;
    }
    const int pick = UniformInt(order, 0, static_cast<int>(flying.size()));
    const Proposal p = flying[pick];
    flying.erase(flying.begin() + pick);
    auto error = evaluator.ValidationError(p.candidate);
    const Outcome outcome = error.ok() ? Outcome::Success(*error) : Outcome::Failure(error.status().message());
    UNAS_RETURN_IF_ERROR(strategy->Tell(p.trial_id, outcome));
    ++done;
    if (outcome.ok) {
      archive.Insert(p.trial_id, front.Project(MakeObjectives(outcome.validation_error, p.costs)));
    } else {
      ++failed;
    }
    if (done % report_every == 0 || done == options.trials) report();
  }
  return points;
}

}  // namespace unas::search
