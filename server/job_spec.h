// A search job as users write it (JSON; the same schema for `unas submit`,
// gRPC and REST), parsed once into typed options with every default filled in.
// docs/jobs.md documents each field. An invalid spec is refused with a message
// naming the field and the allowed values; nothing is stored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "costmodel/status.h"

namespace unas::server {

enum class StrategyKind { kAging, kBayesian, kRandom };
enum class EvaluatorKind {
  kTrain,      // real training by workers (the default)
  kSynthetic,  // a deterministic function of the candidate: tests and load runs only
};

struct LrStepSpec {
  int epoch = 0;
  double learning_rate = 0;
};

struct TrainingSpec {
  int epochs = 3;
  int batch_size = 128;
  std::string optimizer = "sgdw";  // "sgdw" or "adamw"
  double learning_rate = 0.01;
  std::vector<LrStepSpec> lr_schedule;
  double momentum = 0.9;
  double weight_decay = 1e-5;
  double dropout = 0.15;
  double subset = 1.0;  // fraction of the training set (fidelity)
  bool augment = false;
  int threads = 1;      // per worker trial
};

// Limits in the job's accounting; absent = unbounded.
struct LimitsSpec {
  std::optional<double> val_error;
  std::optional<double> peak_sram_bytes;
  std::optional<double> flash_bytes;
  std::optional<double> macs;
  std::optional<double> latency_ms;  // needs an MCU
};

// Structured pruning during training (worker/pruning.h), aimed at the
// resource that limits the network; absent = no pruning.
struct PruningSpec {
  std::string target = "peak_sram";  // "peak_sram" or "flash"
  double fraction = 0.3;             // at most this share of all prunable channels
  double layer_fraction = 0.5;       // and of any one layer
  int epoch = -1;                    // prune at the start of this epoch; -1 = the last
  std::optional<int64_t> target_bytes;  // stop once the target resource is this small
};

struct JobSpec {
  std::string name = "job";
  std::string dataset = "fashion-mnist";  // "fashion-mnist", "synthetic", "idx:DIR[:CLASSES]", "cifar10:DIR"
  TrainingSpec training;
  std::string accounting = "tflm";         // "tflm", "unas" or "firmware"
  std::string mcu;                         // MCU profile for latency; empty = none
  // "whole" (tensors in the best order) or "partial_execution" (Pex): the
  // peak SRAM that constraints, bounds and objectives refer to.
  std::string memory = "whole";
  std::optional<PruningSpec> pruning;
  // Soft bounds: fitness scalarisation and the hypervolume reference point.
  LimitsSpec bounds;
  // Hard constraints on resources: candidates beyond them are never trained.
  LimitsSpec constraints;
  std::vector<std::string> objectives = {"error", "peak_sram", "flash", "macs"};
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

const char* StrategyKindName(StrategyKind kind);  // "aging", "bo", "random"

}  // namespace unas::server
