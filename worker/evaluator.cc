#include "worker/evaluator.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "costmodel/cost_model.h"
#include "firmware/cortex_m_flash.h"
#include "firmware/trial_library.h"
#include "search/synthetic.h"
#include "worker/dataset.h"
#include "worker/int8_export.h"
#include "worker/step_clock.h"
#include "worker/trainer.h"

namespace unas::worker {
namespace {

// A file made by mkstemp under $TMPDIR (/tmp when unset), removed when this
// goes away, whichever way the trial ends.
class TempFile {
 public:
  explicit TempFile(const std::string& stem) {
    const char* dir = std::getenv("TMPDIR");
    std::string pattern = (dir != nullptr && *dir != '\0') ? dir : "/tmp";
    if (pattern.back() != '/') pattern += '/';
    pattern += stem + "-XXXXXX";
    fd_ = mkstemp(pattern.data());
    if (fd_ >= 0) path_ = pattern;
    else error_ = pattern + ": " + std::strerror(errno);
  }
  ~TempFile() {
    if (fd_ >= 0) close(fd_);
    if (!path_.empty()) unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  const std::string& error() const { return error_; }  // why mkstemp failed

  // Writes all of `bytes` and closes the file; false (error() says why) on failure.
  bool WriteAndClose(const std::string& bytes) {
    for (size_t done = 0; done < bytes.size();) {
      const ssize_t n = write(fd_, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error_ = path_ + ": " + std::strerror(n < 0 ? errno : ENOSPC);
        return false;
      }
      done += static_cast<size_t>(n);
    }
    const int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) {
      error_ = path_ + ": " + std::strerror(errno);
      return false;
    }
    return true;
  }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  std::string path_;
  std::string error_;
};

TrialResult Failed(const std::string& why) {
  TrialResult r;
  r.error = why;
  return r;
}

// A failure that is this worker's, not the trial's (worker/protocol.h
// FailureKind): another worker may well run the trial.
TrialResult WorkerFailed(const std::string& why) {
  TrialResult r = Failed(why);
  r.failure = FailureKind::kWorker;
  return r;
}

// The data set's files are missing here (kNotFound) or do not fit in its
// memory (kResourceExhausted): this worker's lack. Corrupt files stay the
// trial's failure (every worker reading them would fail).
TrialResult DatasetFailed(const Status& s) {
  const bool workers = s.code() == StatusCode::kNotFound || s.code() == StatusCode::kResourceExhausted;
  return workers ? WorkerFailed("dataset: " + s.message()) : Failed("dataset: " + s.message());
}

// Quantises the trained network (worker/int8_export.h) with its operators in
// the tflm accounting's planned order, so the stored .tflite runs in the order
// the trial's memory was costed with. On success fills the int8 errors and the
// model; a failure is logged and leaves them absent (the trial still counts,
// its error objective falls back to the float error).
void AddInt8(const WorkAssignment& a, const TrainedModel& model, const Dataset& dataset,
             const TrainConfig& config, TrialResult* r) {
  auto fail = [&a](const std::string& why) {
    std::fprintf(stderr, "unas worker: job %s trial %lld: int8 quantisation failed, int8 errors left absent: %s\n",
                 a.job_id.c_str(), static_cast<long long>(a.trial_id), why.c_str());
  };
  auto report = CostNetwork(model.network, Accounting::kTflm);
  if (!report.ok()) return fail("tflm order: " + report.status().message());
  Int8Options options;
  options.calibration_images = config.quantization.calibration_images;
  options.op_order = report->tflm_order;
  options.threads = std::max(1, config.threads);
  auto int8 = QuantizeTrained(model, dataset, options);
  if (!int8.ok()) return fail(int8.status().message());
  if (int8->tflite.size() > kMaxResultModelBytes) {
    return fail("model of " + std::to_string(int8->tflite.size()) + " bytes, over the " +
                std::to_string(kMaxResultModelBytes) + "-byte limit");
  }
  r->metrics.int8_val_error = int8->int8_val_error;
  r->metrics.int8_test_error = int8->int8_test_error;
  r->model_tflite.assign(int8->tflite.begin(), int8->tflite.end());
}

// The flash of the int8 model's C library: the library `unas export` writes
// (firmware/trial_library.h, the job's memory model) compiled for Cortex-M4
// (firmware/cortex_m_flash.h). Measured here, where the model is made, once
// per trial: the figure then travels with the trial's metrics to the store,
// the dashboard and the CLI, and the coordinator never runs a compiler.
// Without a figure the note says why; the trial counts either way. Returns
// the compiler's CPU seconds (its own processes, outside this one's clock).
double AddCLibraryFlash(const WorkAssignment& a, const Network& network, TrialResult* r) {
  Metrics& m = r->metrics;
  auto library = firmware::TrialLibraryFromTflite(r->model_tflite, network, a.task.partial_execution);
  if (!library.ok()) {
    m.c_library_flash_note = "the C library could not be generated: " + library.status().message();
    return 0;
  }
  auto flash = firmware::MeasureCortexM4Flash(library->library);
  if (!flash.ok()) {
    const bool missing = flash.status().code() == StatusCode::kNotFound;
    m.c_library_flash_note = missing ? flash.status().message() + " on the worker"
                                     : "the C library could not be compiled: " + flash.status().message();
    return 0;
  }
  m.c_library_flash_bytes = flash->total_bytes();
  return flash->cpu_seconds;
}

// One line per trained trial on stderr (the worker's log): where its time
// went, in the process's CPU seconds (wall seconds are distorted on a shared
// machine), from the data set lookup to the result.
void LogProfile(const WorkAssignment& a, const TrainProfile& p, const StepTime& dataset, const StepTime& weights,
                const StepTime& int8, const StepTime& whole, double c_library_cpu_seconds) {
  const double loop = p.gather.cpu_seconds + p.forward.cpu_seconds + p.backward.cpu_seconds +
                      p.optimiser.cpu_seconds + p.bookkeeping.cpu_seconds;
  std::fprintf(stderr,
               "unas worker: job %s trial %lld: %.2f CPU s (%.2f s wall): training %.2f (forward %.2f, backward "
               "%.2f, optimiser %.2f, gather %.2f, bookkeeping %.2f), setup %.2f, validation %.2f, test %.2f, "
               "weights %.2f, int8 %.2f, data set %.2f; C library's flash %.2f (compiler processes)\n",
               a.job_id.c_str(), static_cast<long long>(a.trial_id), whole.cpu_seconds, whole.wall_seconds, loop,
               p.forward.cpu_seconds, p.backward.cpu_seconds, p.optimiser.cpu_seconds, p.gather.cpu_seconds,
               p.bookkeeping.cpu_seconds, p.setup.cpu_seconds, p.validation.cpu_seconds, p.test.cpu_seconds,
               p.keep_model.cpu_seconds + p.save.cpu_seconds + weights.cpu_seconds, int8.cpu_seconds,
               dataset.cpu_seconds, c_library_cpu_seconds);
}

TrialResult Synthetic(const WorkAssignment& a, const Candidate& candidate, const std::atomic<bool>& cancel,
                      const std::function<void(double)>& progress) {
  auto shape = data::DescribeDataset(a.task.dataset);
  if (!shape.ok()) return DatasetFailed(shape.status());
  search::SyntheticConfig synthetic;
  synthetic.seed = a.task.training.seed;
  synthetic.input = InputSpec{shape->height, shape->width, shape->channels, shape->num_classes};
  search::SyntheticEvaluator evaluator(synthetic);  // noise_sd: its default, 0.01
  // Pretend to train for the configured time, in cancellable steps.
  const int delay_ms = a.task.synthetic_delay_ms;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
  while (std::chrono::steady_clock::now() < until) {
    if (cancel.load()) return Failed("cancelled");
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(delay_ms, 20)));
  }
  auto error = evaluator.ValidationError(candidate);
  if (!error.ok()) return Failed(error.status().message());
  TrialResult r;
  r.succeeded = true;
  r.metrics.val_error = *error;
  r.metrics.test_error = *error;
  r.metrics.epochs = 0;
  progress(1.0);
  return r;
}

}  // namespace

EvaluateFn MakeEvaluator(int threads_override) {
  return [threads_override](const WorkAssignment& a, const std::atomic<bool>& cancel,
                            const std::function<void(double)>& progress) -> TrialResult {
    auto candidate = ParseCandidate(a.candidate_json);
    if (!candidate.ok()) return Failed("candidate: " + candidate.status().message());
    if (a.task.evaluator == EvaluatorKind::kSynthetic) return Synthetic(a, *candidate, cancel, progress);
    StepClock clock, whole_clock;
    StepTime dataset_time, weights_time, int8_time, whole_time;
    TrainConfig config = a.task.training;
    if (threads_override > 0) config.threads = threads_override;
    config.keep_model = config.quantization.enabled;
    auto dataset = LoadDataset(a.task.dataset);
    if (!dataset.ok()) return DatasetFailed(dataset.status());
    clock.Lap(&dataset_time);
    // A promotion continues from the lower rung's weights: the trainer reads
    // them from a file, removed with `init_file` on every path.
    std::optional<TempFile> init_file;
    if (!a.init_weights.empty()) {
      init_file.emplace("unas-init-weights");
      if (!init_file->ok() || !init_file->WriteAndClose(a.init_weights)) {
        return WorkerFailed("init weights: cannot write " + init_file->error());
      }
      config.init_weights_path = init_file->path();
      config.start_epoch = a.init_epochs;
    }
    // The trained weights travel back with the result (small networks only).
    TempFile weights_file("unas-weights");
    if (weights_file.ok()) {
      weights_file.Close();
      config.save_path = weights_file.path();
    }
    TrainHooks hooks;
    hooks.cancel = &cancel;
    // Progress of this run's epochs (start_epoch .. epochs - 1), 0..1.
    const int start_epoch = config.start_epoch;
    const int epochs_to_run = config.epochs - config.start_epoch;
    hooks.on_progress = [&progress, start_epoch, epochs_to_run](const TrainProgress& p) {
      if (p.batches_per_epoch > 0 && epochs_to_run > 0) {
        progress((p.epoch - start_epoch + static_cast<double>(p.batch) / p.batches_per_epoch) / epochs_to_run);
      }
    };
    clock.Lap(&weights_time);
    auto trained = Train(*candidate, **dataset, config, hooks);
    StepTime train_time;
    clock.Lap(&train_time);
    std::string weights;
    if (!config.save_path.empty()) {
      std::ifstream in(config.save_path, std::ios::binary);
      std::stringstream bytes;
      bytes << in.rdbuf();
      weights = bytes.str();
    }
    clock.Lap(&weights_time);
    if (!trained.ok()) return Failed(trained.status().message());
    TrialResult r;
    r.succeeded = trained->outcome == TrialOutcome::kCompleted;
    r.error = trained->message;
    // worker/trainer.cc says "out of memory" when LibTorch could not allocate.
    if (!r.succeeded && r.error.rfind("out of memory", 0) == 0) r.failure = FailureKind::kWorker;
    // Every figure is the delivered weights' (the last epoch's): validation,
    // test, int8 and the stored model (worker/trainer.h TrainResult).
    r.metrics.val_error = trained->validation_error;
    r.metrics.test_error = trained->test_error;
    r.metrics.train_seconds = trained->train_seconds;
    r.metrics.samples_per_second = trained->samples_per_second;
    r.metrics.epochs = trained->epochs_completed;
    if (r.succeeded && weights.size() <= kMaxResultWeightsBytes) r.weights = std::move(weights);
    if (r.succeeded && config.quantization.enabled && trained->model) AddInt8(a, *trained->model, **dataset, config, &r);
    clock.Lap(&int8_time);
    const double c_library_cpu_seconds = r.model_tflite.empty() ? 0 : AddCLibraryFlash(a, trained->model->network, &r);
    if (trained->pruning) {
      const PruningResult& p = *trained->pruning;
      r.pruned_candidate_json = CandidateToJson(p.candidate).dump();
      r.pruned_costs = MakeCosts(p.pruned_costs);
    }
    whole_clock.Lap(&whole_time);
    LogProfile(a, trained->profile, dataset_time, weights_time, int8_time, whole_time, c_library_cpu_seconds);
    return r;
  };
}

}  // namespace unas::worker
