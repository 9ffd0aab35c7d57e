#include "server/evaluators.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "search/synthetic.h"
#include "server/job_spec.h"
#include "worker/dataset.h"
#include "worker/trainer.h"

namespace unas::server {
namespace {

// Weights above this are not sent back (the gRPC message limit is 4 MiB).
constexpr size_t kMaxWeightBytes = 3 << 20;

worker::WorkResult Failed(const std::string& why) {
  worker::WorkResult r;
  r.error = why;
  return r;
}

worker::TrainConfig ToTrainConfig(const JobSpec& spec, int threads_override) {
  const TrainingSpec& t = spec.training;
  worker::TrainConfig c;
  c.optimiser = t.optimizer == "adamw" ? worker::Optimiser::kAdamW : worker::Optimiser::kSgdw;
  c.learning_rate = t.learning_rate;
  for (const LrStepSpec& s : t.lr_schedule) c.lr_schedule.push_back({s.epoch, s.learning_rate});
  c.momentum = t.momentum;
  c.weight_decay = t.weight_decay;
  c.dropout_rate = t.dropout;
  c.epochs = t.epochs;
  c.batch_size = t.batch_size;
  c.seed = spec.seed;
  c.threads = threads_override > 0 ? threads_override : t.threads;
  c.fidelity = t.subset;
  c.augment = t.augment;
  if (spec.pruning) {
    c.prune.enabled = true;
    c.prune.target = spec.pruning->target == "flash" ? worker::PruneTarget::kFlash : worker::PruneTarget::kPeakSram;
    c.prune.max_fraction = spec.pruning->fraction;
    c.prune.max_group_fraction = spec.pruning->layer_fraction;
    c.prune.start_epoch = spec.pruning->epoch;
    c.prune.target_bytes = spec.pruning->target_bytes;
    const auto accounting = ParseAccounting(spec.accounting);  // validated with the job spec
    c.prune.accounting = accounting.ok() ? *accounting : Accounting::kTflm;
  }
  return c;
}

}  // namespace

Result<InputSpec> ResolveDatasetInput(const std::string& dataset) {
  if (dataset == "fashion-mnist") return InputSpec{28, 28, 1, 10};
  if (dataset.rfind("cifar10:", 0) == 0) return InputSpec{32, 32, 3, 10};
  UNAS_ASSIGN_OR_RETURN(worker::DatasetSpec spec, worker::ParseDatasetSpec(dataset));
  UNAS_ASSIGN_OR_RETURN(std::shared_ptr<const worker::Dataset> data, worker::LoadDataset(spec));
  return data->info().input;
}

worker::EvaluateFn MakeEvaluator(int threads_override) {
  return [threads_override](const worker::WorkAssignment& a, const std::atomic<bool>& cancel,
                            const std::function<void(double)>& progress) -> worker::WorkResult {
    auto spec = ParseJobSpecText(a.job_spec_json);
    if (!spec.ok()) return Failed("job spec: " + spec.status().message());
    auto candidate = ParseCandidate(a.candidate_json);
    if (!candidate.ok()) return Failed("candidate: " + candidate.status().message());
    if (spec->evaluator == EvaluatorKind::kSynthetic) {
      auto input = ResolveDatasetInput(spec->dataset);
      if (!input.ok()) return Failed("dataset: " + input.status().message());
      search::SyntheticEvaluator evaluator(search::SyntheticConfig{spec->seed, 0.01, *input});
      // Pretend to train for the configured time, in cancellable steps.
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(spec->synthetic_delay_ms);
      while (std::chrono::steady_clock::now() < until) {
        if (cancel.load()) return Failed("cancelled");
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(spec->synthetic_delay_ms, 20)));
      }
      auto error = evaluator.ValidationError(*candidate);
      if (!error.ok()) return Failed(error.status().message());
      worker::WorkResult r;
      r.succeeded = true;
      r.val_error = *error;
      r.test_error = *error;
      r.epochs = 0;
      progress(1.0);
      return r;
    }
    auto dataset_spec = worker::ParseDatasetSpec(spec->dataset);
    if (!dataset_spec.ok()) return Failed("dataset: " + dataset_spec.status().message());
    auto dataset = worker::LoadDataset(*dataset_spec);
    if (!dataset.ok()) return Failed("dataset: " + dataset.status().message());
    worker::TrainConfig config = ToTrainConfig(*spec, threads_override);
    // The trained weights travel back with the result (small networks only).
    char weights_path[] = "/tmp/unas-weights-XXXXXX";
    const int fd = mkstemp(weights_path);
    if (fd >= 0) {
      close(fd);
      config.save_path = weights_path;
    }
    worker::TrainHooks hooks;
    hooks.cancel = &cancel;
    const int epochs = config.epochs;
    hooks.on_progress = [&progress, epochs](const worker::TrainProgress& p) {
      if (p.batches_per_epoch > 0) {
        progress((p.epoch + static_cast<double>(p.batch) / p.batches_per_epoch) / epochs);
      }
    };
    auto trained = worker::Train(*candidate, **dataset, config, hooks);
    std::string weights;
    if (!config.save_path.empty()) {
      std::ifstream in(config.save_path, std::ios::binary);
      std::stringstream bytes;
      bytes << in.rdbuf();
      weights = bytes.str();
      unlink(config.save_path.c_str());
    }
    if (!trained.ok()) return Failed(trained.status().message());
    worker::WorkResult r;
    r.succeeded = trained->outcome == worker::TrialOutcome::kCompleted;
    r.error = trained->message;
    r.val_error = trained->best_validation_error;
    r.test_error = trained->test_error;
    r.train_seconds = trained->train_seconds;
    r.samples_per_second = trained->samples_per_second;
    r.epochs = trained->epochs_completed;
    if (r.succeeded && weights.size() <= kMaxWeightBytes) r.weights = std::move(weights);
    if (trained->pruning) {
      const worker::PruningResult& p = *trained->pruning;
      r.pruned_candidate_json = CandidateToJson(p.candidate).dump();
      r.pruned_params = p.pruned_costs.params;
      r.pruned_flash_bytes = p.pruned_costs.flash_bytes;
      r.pruned_macs = p.pruned_costs.macs;
      r.pruned_peak_sram_bytes = p.pruned_costs.peak_sram_bytes;
      r.pruned_build_order_peak_sram_bytes = p.pruned_costs.build_order_peak_bytes;
    }
    return r;
  };
}

}  // namespace unas::server
