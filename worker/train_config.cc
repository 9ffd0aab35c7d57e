#include "worker/train_config.h"

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

}  // namespace unas::worker
