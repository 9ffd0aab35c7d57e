#include "server/evaluators.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "costmodel/cost_model.h"
#include "search/synthetic.h"
#include "server/job_spec.h"
#include "worker/dataset.h"
#include "worker/int8_export.h"
#include "worker/trainer.h"

namespace unas::server {
namespace {

// Weights above this are not sent back (the gRPC message limit is 4 MiB).
constexpr size_t kMaxWeightBytes = 3 << 20;
// Likewise the int8 model (server/result_validation.h checks the same limit).
constexpr size_t kMaxModelBytes = 3 << 20;

worker::TrialResult Failed(const std::string& why) {
  worker::TrialResult r;
  r.error = why;
  return r;
}

// Quantises the trained network (worker/int8_export.h) with its operators in
// the tflm accounting's planned order, so the stored .tflite runs in the order
// the trial's memory was costed with. On success fills the int8 errors and the
// model; a failure is logged and leaves them absent (the trial still counts,
// its error objective falls back to the float error).
void AddInt8(const worker::WorkAssignment& a, const worker::TrainedModel& model, const worker::Dataset& dataset,
             const worker::TrainConfig& config, worker::TrialResult* r) {
  auto fail = [&a](const std::string& why) {
    std::fprintf(stderr, "unas worker: job %s trial %lld: int8 quantisation failed, int8 errors left absent: %s\n",
                 a.job_id.c_str(), static_cast<long long>(a.trial_id), why.c_str());
  };
  auto report = CostNetwork(model.network, Accounting::kTflm);
  if (!report.ok()) return fail("tflm order: " + report.status().message());
  worker::Int8Options options;
  options.calibration_images = config.quantization.calibration_images;
  options.op_order = report->tflm_order;
  options.threads = std::max(1, config.threads);
  auto int8 = worker::QuantizeTrained(model, dataset, options);
  if (!int8.ok()) return fail(int8.status().message());
  if (int8->tflite.size() > kMaxModelBytes) {
    return fail("model of " + std::to_string(int8->tflite.size()) + " bytes, over the " +
                std::to_string(kMaxModelBytes) + "-byte limit");
  }
  r->metrics.int8_val_error = int8->int8_val_error;
  r->metrics.int8_test_error = int8->int8_test_error;
  r->model_tflite.assign(int8->tflite.begin(), int8->tflite.end());
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
                            const std::function<void(double)>& progress) -> worker::TrialResult {
    auto spec = ParseJobSpecText(a.job_spec_json);
    if (!spec.ok()) return Failed("job spec: " + spec.status().message());
    auto candidate = ParseCandidate(a.candidate_json);
    if (!candidate.ok()) return Failed("candidate: " + candidate.status().message());
    if (spec->evaluator == EvaluatorKind::kSynthetic) {
      auto input = ResolveDatasetInput(spec->dataset);
      if (!input.ok()) return Failed("dataset: " + input.status().message());
      search::SyntheticConfig synthetic;
      synthetic.seed = spec->seed;
      synthetic.input = *input;  // noise_sd: its default, 0.01
      search::SyntheticEvaluator evaluator(synthetic);
      // Pretend to train for the configured time, in cancellable steps.
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(spec->synthetic_delay_ms);
      while (std::chrono::steady_clock::now() < until) {
        if (cancel.load()) return Failed("cancelled");
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(spec->synthetic_delay_ms, 20)));
      }
      auto error = evaluator.ValidationError(*candidate);
      if (!error.ok()) return Failed(error.status().message());
      worker::TrialResult r;
      r.succeeded = true;
      r.metrics.val_error = *error;
      r.metrics.test_error = *error;
      r.metrics.epochs = 0;
      progress(1.0);
      return r;
    }
    auto dataset_spec = worker::ParseDatasetSpec(spec->dataset);
    if (!dataset_spec.ok()) return Failed("dataset: " + dataset_spec.status().message());
    auto dataset = worker::LoadDataset(*dataset_spec);
    if (!dataset.ok()) return Failed("dataset: " + dataset.status().message());
    worker::TrainConfig config = TrainConfigFor(*spec, threads_override);
    config.keep_model = config.quantization.enabled;
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
    worker::TrialResult r;
    r.succeeded = trained->outcome == worker::TrialOutcome::kCompleted;
    r.error = trained->message;
    r.metrics.val_error = trained->best_validation_error;
    r.metrics.test_error = trained->test_error;
    r.metrics.train_seconds = trained->train_seconds;
    r.metrics.samples_per_second = trained->samples_per_second;
    r.metrics.epochs = trained->epochs_completed;
    if (r.succeeded && weights.size() <= kMaxWeightBytes) r.weights = std::move(weights);
    if (r.succeeded && config.quantization.enabled && trained->model) AddInt8(a, *trained->model, **dataset, config, &r);
    if (trained->pruning) {
      const worker::PruningResult& p = *trained->pruning;
      r.pruned_candidate_json = CandidateToJson(p.candidate).dump();
      r.pruned_costs = MakeCosts(p.pruned_costs);
    }
    return r;
  };
}

}  // namespace unas::server
