#include "worker/train_config.h"

#include <cmath>

namespace unas::worker {

const char* OptimizerName(Optimizer optimizer) { return optimizer == Optimizer::kAdamW ? "adamw" : "sgdw"; }

Result<Optimizer> ParseOptimizer(const std::string& name, const std::string& where) {
  if (name == "sgdw") return Optimizer::kSgdw;
  if (name == "adamw") return Optimizer::kAdamW;
  return Status::Invalid(where + ": '" + name + "' is not one of sgdw, adamw");
}

const char* PruneTargetName(PruneTarget target) { return target == PruneTarget::kFlash ? "flash" : "peak_sram"; }

Result<PruneTarget> ParsePruneTarget(const std::string& name, const std::string& where) {
  if (name == "peak_sram") return PruneTarget::kPeakSram;
  if (name == "flash") return PruneTarget::kFlash;
  return Status::Invalid(where + ": '" + name + "' is not one of peak_sram, flash");
}

const char* PruneModeName(PruneMode mode) {
  return mode == PruneMode::kDuringTraining ? "during_training" : "one_shot";
}

Result<PruneMode> ParsePruneMode(const std::string& name, const std::string& where) {
  if (name == "one_shot") return PruneMode::kOneShot;
  if (name == "during_training") return PruneMode::kDuringTraining;
  return Status::Invalid(where + ": '" + name + "' is not one of one_shot, during_training");
}

namespace {

// The schedule's fields (pruning during training); one-shot ignores them.
Status ValidatePruneDuringTraining(const TrainConfig& c) {
  const PruneConfig& p = c.prune;
  if (!p.target_bytes && !p.target_ratio) {
    return Status::Invalid("prune: during training needs target_bytes or target_ratio (what the schedule reaches)");
  }
  if (p.start_epoch >= c.epochs) {
    return Status::OutOfRange("prune.start_epoch: must be in 0.." + std::to_string(c.epochs - 1) + " (or -1: 0)");
  }
  if (p.end_epoch != -1 && (p.end_epoch < 1 || p.end_epoch > 1000)) {
    return Status::OutOfRange("prune.end_epoch: must be in 1..1000 (or -1: half the epochs)");
  }
  if (p.end_epoch != -1 && p.end_epoch <= p.start_epoch) {
    return Status::Invalid("prune.end_epoch: must be after the epoch the schedule starts at");
  }
  if (p.update_steps < 1 || p.update_steps > 1'000'000) {
    return Status::OutOfRange("prune.update_steps: must be in 1..1000000");
  }
  return Status::Ok();
}

Status ValidatePruneConfig(const TrainConfig& c) {
  const PruneConfig& p = c.prune;
  if (!(p.max_fraction > 0 && p.max_fraction < 1)) return Status::OutOfRange("prune.max_fraction: must be in (0, 1)");
  if (!(p.max_group_fraction > 0 && p.max_group_fraction <= 1)) {
    return Status::OutOfRange("prune.max_group_fraction: must be in (0, 1]");
  }
  if (p.start_epoch < -1) return Status::OutOfRange("prune.start_epoch: must be >= 0 (or -1: the last epoch)");
  if (p.target_bytes && *p.target_bytes <= 0) return Status::OutOfRange("prune.target_bytes: must be > 0");
  if (p.target_ratio && !(*p.target_ratio > 0 && *p.target_ratio < 1)) {
    return Status::OutOfRange("prune.target_ratio: must be in (0, 1)");
  }
  if (p.mode == PruneMode::kDuringTraining) return ValidatePruneDuringTraining(c);
  if (c.epochs < 2) return Status::Invalid("prune: needs epochs >= 2 (train, prune, then fine-tune)");
  const int epoch = PruneEpoch(c);
  if (epoch < 1 || epoch >= c.epochs) {
    return Status::OutOfRange("prune.start_epoch: must leave at least one epoch before pruning and one after (1.." +
                              std::to_string(c.epochs - 1) + ")");
  }
  if (!c.init_weights_path.empty()) {
    return Status::Invalid(
        "init_weights_path: not with one-shot pruning (it changes the network, so the weights of a pruned "
        "trial do not fit its candidate, and pruning again would change it once more); prune during training");
  }
  return Status::Ok();
}

bool IsRate(double v) { return v > 0 && v <= 10 && std::isfinite(v); }

}  // namespace

int PruneEpoch(const TrainConfig& config) {
  return config.prune.start_epoch >= 0 ? config.prune.start_epoch : config.epochs - 1;
}

Status ValidateTrainConfig(const TrainConfig& c) {
  if (!IsRate(c.learning_rate)) return Status::OutOfRange("learning_rate: must be in (0, 10]");
  for (size_t i = 0; i < c.lr_schedule.size(); ++i) {
    const LrStep& s = c.lr_schedule[i];
    const std::string where = "lr_schedule[" + std::to_string(i) + "]";
    if (s.epoch < 0) return Status::OutOfRange(where + ".epoch: must be >= 0");
    if (i > 0 && s.epoch <= c.lr_schedule[i - 1].epoch) return Status::Invalid(where + ".epoch: epochs must increase");
    if (!IsRate(s.learning_rate)) return Status::OutOfRange(where + ".learning_rate: must be in (0, 10]");
  }
  if (!(c.momentum >= 0 && c.momentum < 1)) return Status::OutOfRange("momentum: must be in [0, 1)");
  if (!(c.weight_decay >= 0 && c.weight_decay < 1)) return Status::OutOfRange("weight_decay: must be in [0, 1)");
  if (!(c.dropout >= 0 && c.dropout <= 0.95)) return Status::OutOfRange("dropout: must be in [0, 0.95]");
  if (c.epochs < 1 || c.epochs > 1000) return Status::OutOfRange("epochs: must be in 1..1000");
  if (c.batch_size < 2 || c.batch_size > 65536) {
    return Status::OutOfRange("batch_size: must be in 2..65536 (batch norm needs two samples)");
  }
  if (c.threads < 0 || c.threads > 256) return Status::OutOfRange("threads: must be in 0..256");
  if (!(c.subset > 0 && c.subset <= 1)) return Status::OutOfRange("subset: must be in (0, 1]");
  if (c.quantization.calibration_images < 1 || c.quantization.calibration_images > 1'000'000) {
    return Status::OutOfRange("quantization.calibration_images: must be in 1..1000000");
  }
  if (c.start_epoch < 0 || c.start_epoch > c.epochs) {
    return Status::OutOfRange("start_epoch: must be in 0..epochs (" + std::to_string(c.epochs) + ")");
  }
  if (c.start_epoch > 0 && c.init_weights_path.empty()) {
    return Status::Invalid("start_epoch: " + std::to_string(c.start_epoch) +
                           " needs init_weights_path (the weights those epochs trained)");
  }
  if (c.augment.shift_px < 0 || c.augment.shift_px > 16) return Status::OutOfRange("augment.shift_px: must be in 0..16");
  if (!(c.augment.noise_sd >= 0 && c.augment.noise_sd <= 10)) {
    return Status::OutOfRange("augment.noise_sd: must be in [0, 10]");
  }
  if (c.prune.enabled) UNAS_RETURN_IF_ERROR(ValidatePruneConfig(c));
  return Status::Ok();
}

}  // namespace unas::worker
