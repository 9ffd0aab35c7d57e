// A search job as users write it (JSON; the same schema for `unas submit`,
// gRPC and REST), parsed once into typed options with every default filled
// in: enums and numbers, no option travels further as a string. The training
// recipe is the worker's own TrainConfig (worker/train_config.h), so the job
// and the worker share one set of defaults; TrainConfigFor() derives the
// config a worker runs. docs/jobs.md documents each field. An invalid spec is
// refused with a message naming the field and the allowed values; nothing is
// stored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"
#include "costmodel/cost_model.h"
#include "costmodel/mcu.h"
#include "search/objectives.h"
#include "worker/protocol.h"
#include "worker/train_config.h"

namespace unas::server {

enum class StrategyKind { kAging, kBayesian, kRandom };
// Which validation error the `error` objective uses (quantization.error_objective).
enum class ErrorObjective { kInt8, kFloat };
const char* ErrorObjectiveName(ErrorObjective e);  // "int8", "float"
enum class EvaluatorKind {
  kTrain,      // real training by workers (the default)
  kSynthetic,  // a deterministic function of the candidate: tests and load runs only
};

struct JobSpec {
  std::string name = "job";
  std::string dataset = "fashion-mnist";  // "fashion-mnist", "synthetic", "idx:DIR[:CLASSES]", "cifar10:DIR"
  // JSON "training" sets the recipe, "pruning" its prune part (absent:
  // prune.enabled false), "quantization" its quantization part. Its seed and prune.accounting are the job's
  // (TrainConfigFor). threads: 1 per trial in a job, where TrainConfig's own
  // default (0) leaves LibTorch's choice: a worker runs one trial at a time
  // on the cores it was given (`unas worker --threads` overrides).
  worker::TrainConfig training = [] {
    worker::TrainConfig t;
    t.threads = 1;
    return t;
  }();
  // int8: the quantised network's error when a worker measured it, else the
  // float one (ObjectiveError).
  ErrorObjective error_objective = ErrorObjective::kInt8;
  Accounting accounting = Accounting::kTflm;
  const McuProfile* mcu = nullptr;  // MCU profile for latency; null = none
  // Whole tensors in the best order, or Pex: the peak SRAM that constraints,
  // bounds and objectives refer to.
  search::MemoryModel memory = search::MemoryModel::kWholeTensor;
  // Soft bounds: fitness scalarisation and the hypervolume reference point.
  search::Limits bounds;
  // Hard constraints on resources: candidates beyond them are never trained.
  search::Limits constraints;
  std::vector<search::Objective> objectives = {search::Objective::kError, search::Objective::kPeakSram,
                                               search::Objective::kFlash, search::Objective::kMacs};
  StrategyKind strategy = StrategyKind::kAging;
  int population = 100;     // aging evolution
  int sample_size = 25;     // aging evolution
  int max_trials = 100;     // budget: trials proposed (completed or failed)
  double max_wall_seconds = 0;  // budget: 0 = none
  uint64_t seed = 0;
  EvaluatorKind evaluator = EvaluatorKind::kTrain;
  // Synthetic evaluator only: how long each evaluation pretends to train, so
  // tests can kill a worker mid-trial. 0 = instant.
  int synthetic_delay_ms = 0;
};

// Parses and validates; `json` must be an object. Unknown keys are errors.
Result<JobSpec> ParseJobSpec(const nlohmann::json& json);
Result<JobSpec> ParseJobSpecText(const std::string& text);

// The normalised form (every field, defaults included), as stored with the job.
nlohmann::json JobSpecToJson(const JobSpec& spec);

// The config a worker trains a trial of this job with: the job's recipe with
// its seed and accounting; `threads_override` > 0 replaces training.threads.
worker::TrainConfig TrainConfigFor(const JobSpec& spec, int threads_override = 0);

// The validation error the search optimises for a trial's metrics: int8 when
// the job asks for it and the worker measured it, otherwise float.
double ObjectiveError(const JobSpec& spec, const worker::Metrics& metrics);

// The objectives' names, as the Pareto front reports them ("error", ...).
std::vector<std::string> ObjectiveNames(const JobSpec& spec);

const char* StrategyKindName(StrategyKind kind);  // "aging", "bo", "random"

}  // namespace unas::server
