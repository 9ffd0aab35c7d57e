// A search job as users write it (JSON; the same schema for `unas submit`,
// gRPC and REST), parsed once into typed options with every default filled
// in: enums and numbers, no option travels further as a string. The training
// recipe is the worker's own TrainConfig (worker/train_config.h), so the job
// and the worker share one set of defaults and one validation
// (ValidateTrainConfig, applied here to every recipe a trial can get);
// TrialTaskFor() derives the typed task a worker runs. docs/jobs.md documents
// each field. An invalid spec is refused with a message naming the field and
// the allowed values; nothing is stored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"
#include "costmodel/boards.h"
#include "costmodel/cost_model.h"
#include "costmodel/mcu.h"
#include "data/dataset_spec.h"
#include "search/objectives.h"
#include "worker/protocol.h"
#include "worker/train_config.h"
#include "worker/trial_task.h"

namespace unas::server {

enum class StrategyKind { kAging, kBayesian, kRandom };
// Which validation error the `error` objective uses (quantization.error_objective).
enum class ErrorObjective { kInt8, kFloat };
const char* ErrorObjectiveName(ErrorObjective e);  // "int8", "float"

// One search rung (multi-fidelity, docs/multi-fidelity.md): the training a
// candidate has had when the rung ends. A promoted candidate continues from
// its lower rung's weights for the difference in epochs, on `subset` of the
// training part.
struct Rung {
  int epochs = 1;
  double subset = 1.0;
};

// Final retraining of the front (docs/multi-fidelity.md): when the search's
// budget is spent (`enabled`), or on demand (`unas finalize`), the front of
// each candidate's highest-rung results and its near neighbours are trained
// from scratch with `training` and quantised.
struct FinalConfig {
  bool enabled = false;
  int networks = 6;    // at most this many networks; a larger front is thinned evenly along its error
  int neighbours = 2;  // this many more from just behind the front (search::SelectForFinal)
  // The most seconds one network's final training may take, projected from
  // the training seconds its search trials measured (ProjectedFinalSeconds);
  // 0 = no limit. A candidate projected over it is neither retrained nor
  // promoted to a higher rung: the round has a time budget, and training
  // time follows a network's activations, not its MACs
  // (docs/multi-fidelity.md, "The README's main job").
  double max_train_seconds = 0;
  // The search's own recipe at its top rung (SearchEpochs), on the whole
  // training part; final.training's keys override it (ParseJobSpec).
  worker::TrainConfig training;
};

struct JobSpec {
  std::string name = "job";
  // JSON "dataset": its text form (data/dataset_spec.h), default "fashion-mnist";
  // beside it "input_shape": [H, W, C] (default null: the data's own shape)
  // and "bad_files": "fail" (the default) or "skip" (docs/data.md).
  data::DatasetSpec dataset;
  // A registered data set ("dataset": "data:NAME" as submitted): the
  // coordinator writes its own copy's form into "dataset" and records
  // "dataset_name" and "dataset_sha256" (dataset.sha256) beside it, so the
  // stored job says which bytes it trained on. Empty otherwise.
  std::string dataset_name;
  // JSON "training" sets the recipe, "pruning" its prune part (absent:
  // prune.enabled false), "quantization" its quantization part. Its seed and prune.accounting are the job's
  // (TrialTaskFor). threads: 1 per trial in a job, where TrainConfig's own
  // default (0) leaves LibTorch's choice: a worker runs one trial at a time
  // on the cores it was given (`unas worker --threads` overrides).
  worker::TrainConfig training = [] {
    worker::TrainConfig t;
    t.threads = 1;
    return t;
  }();
  // Search rungs, lowest fidelity first; empty: one rung, `training` as is.
  // With rungs, rung k trains with `training` but rungs[k]'s epochs and
  // subset; the best 1/reduction_factor of each rung is promoted (ASHA,
  // search/promotion.h). Low rungs are quantised only with
  // quantize_every_rung: the top rung and final retraining always are (when
  // quantization is enabled).
  std::vector<Rung> rungs;
  int reduction_factor = 3;
  bool quantize_every_rung = false;
  FinalConfig final;
  // int8: the quantised network's error when a worker measured it, else the
  // float one (ObjectiveError).
  ErrorObjective error_objective = ErrorObjective::kInt8;
  Accounting accounting = Accounting::kTflm;
  const McuProfile* mcu = nullptr;  // MCU profile for latency; null = none
  // The board the model must run on: its memory less the runtime's reserve
  // is already in `constraints`, and `mcu` defaults to its core's profile.
  std::optional<Board> board;
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
  worker::EvaluatorKind evaluator = worker::EvaluatorKind::kTrain;
  // Synthetic evaluator only: how long each evaluation pretends to train, so
  // tests can kill a worker mid-trial. 0 = instant.
  int synthetic_delay_ms = 0;
};

// Parses and validates; `json` must be an object. Unknown keys are errors.
Result<JobSpec> ParseJobSpec(const nlohmann::json& json);
Result<JobSpec> ParseJobSpecText(const std::string& text);

// How many job specs this process has parsed (calls of ParseJobSpec, valid
// or not): the tests' check that a job's spec is parsed once per submission
// (and once per coordinator start), never again per trial or per view.
int64_t JobSpecsParsed();

// The normalised form (every field, defaults included), as stored with the job.
nlohmann::json JobSpecToJson(const JobSpec& spec);

// The epochs the search trained its best candidates for: the top rung's, or
// the training recipe's without rungs. The final recipe's default, and the
// fewest a final round may train (Coordinator::Finalize).
int SearchEpochs(const JobSpec& spec);

// A final round of `epochs` (0: the job's final recipe) is refused when it
// is fewer than SearchEpochs(spec): it trains from scratch, so it would
// retrain the candidates worse than the search measured them (issue 30).
// kInvalidArgument naming `field` and the top rung's epochs; `omitted` says
// what leaving the field out gives ("the job's final recipe").
Status CheckFinalEpochs(const JobSpec& spec, int epochs, const std::string& field, const std::string& omitted);

// A validation error no better than guessing, with a margin: an accuracy of
// at most min(1.5 / classes, 1 / classes + 0.05), so an error of at least
// 0.85 for 10 classes, 0.70 for 4, 0.45 for 2. Such a network is never
// chosen for a final round, however small it is.
bool AtChanceLevel(double error, int num_classes);

// Where a trial stands: its rung (search trials) or its final round (> 0).
struct TrialStage {
  int rung = 0;
  int final_round = 0;
  int final_epochs = 0;  // final rounds: epochs override (0 = final.training.epochs)
};

// The number of search rungs (1 without "rungs").
int RungCount(const JobSpec& spec);

// The recipe a trial at `stage` trains with (before TrialTaskFor's seed and
// accounting): the rung's epochs and subset, or the final recipe (an epochs
// override scales its learning-rate steps in proportion), and whether it is
// quantised.
worker::TrainConfig RecipeFor(const JobSpec& spec, const TrialStage& stage);

// The task a worker gets for a trial at `stage` (WorkAssignment::task): the
// data set, the stage's recipe (RecipeFor) with the job's seed and
// accounting, and the evaluator; the worker trains exactly that and knows
// no rungs.
worker::TrialTask TrialTaskFor(const JobSpec& spec, const TrialStage& stage);

// The seconds one final-round training of a search trial's candidate is
// projected to take: the trial's measured training seconds per pass over the
// whole training part (metrics.train_seconds over metrics.epochs times its
// rung's subset), times the final recipe's passes (its epochs, or
// `final_epochs` when > 0, times its subset). 0 when the trial measured no
// training time (the synthetic evaluator). Wall seconds of the worker that
// ran it: on a machine as loaded as then, and with the same threads.
double ProjectedFinalSeconds(const JobSpec& spec, int rung, const worker::Metrics& metrics, int final_epochs);

// Whether final.max_train_seconds rules a search trial's candidate out of the
// final round and of promotion (false without a limit).
bool TooSlowForFinal(const JobSpec& spec, int rung, const worker::Metrics& metrics, int final_epochs);

// The validation error the search optimises for a trial's metrics: int8 when
// the job asks for it and the worker measured it, otherwise float.
double ObjectiveError(const JobSpec& spec, const worker::Metrics& metrics);

// The input shape and classes of a data set (data::DescribeDataset, which
// reads at most a header): what a job's networks take and predict.
Result<InputSpec> DatasetInput(const data::DatasetSpec& dataset);

// The objectives' names, as the Pareto front reports them ("error", ...).
std::vector<std::string> ObjectiveNames(const JobSpec& spec);

const char* StrategyKindName(StrategyKind kind);  // "aging", "bo", "random"

}  // namespace unas::server
