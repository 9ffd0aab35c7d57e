// Trains one candidate on one data set and measures it: the "trial" that a
// search asks for. Plain C++ types only (LibTorch stays in trainer.cc).
//
// Outcomes. Train() returns an error Status only when the request itself is
// wrong (bad config, candidate that cannot be built on the data set's input,
// TrainConfig::init_weights_path that does not fit the candidate).
// Everything that goes wrong while training a valid request -- NaN/inf loss,
// out of memory, a LibTorch exception, cancellation -- returns a TrainResult
// whose `outcome` says so, with a message: the trial failed, the process goes
// on.
//
// Thread safety: Train() may run on several threads at once, but LibTorch's
// thread count (TrainConfig::threads) and its global random generator (used
// for weight initialisation and dropout) are process-wide, so concurrent
// trials are not bit-for-bit reproducible. Run trials one at a time when that
// matters.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "costmodel/candidate.h"
#include "costmodel/cost_model.h"
#include "base/status.h"
#include "worker/dataset.h"
#include "worker/int8_export.h"
#include "worker/pruning.h"
#include "worker/step_clock.h"
#include "worker/train_config.h"

namespace unas::worker {

// TrainConfig, Optimizer, LrStep: worker/train_config.h.

// ValidateTrainConfig: worker/train_config.h.

// μNAS's Fashion-MNIST configuration (spec/search-space.md section 5) with
// the epoch count given: SGDW lr 0.01, 0.005 from epoch 25, 0.001 from 35,
// momentum 0.9, weight decay 1e-5, dropout 0.15, batch 128.
TrainConfig FashionMnistConfig(int epochs);

struct TrainProgress {
  enum class Event { kBatch, kEpochEnd };
  Event event = Event::kBatch;
  int epoch = 0;                 // 0-based, absolute: from start_epoch on when resuming
  int epochs = 0;                // TrainConfig::epochs
  int64_t batch = 0;             // 1-based within the epoch
  int64_t batches_per_epoch = 0;
  int64_t epoch_samples = 0;     // samples seen so far in this epoch
  double learning_rate = 0.0;
  double train_loss = 0.0;       // mean over the epoch so far
  double train_accuracy = 0.0;   // over the epoch so far, 0..1
  double samples_per_second = 0.0;  // this epoch so far
  double validation_error = -1;  // kEpochEnd only: 1 - accuracy, 0..1
};

// Called on the training thread; keep it cheap.
using ProgressCallback = std::function<void(const TrainProgress&)>;

struct TrainHooks {
  ProgressCallback on_progress;               // optional
  const std::atomic<bool>* cancel = nullptr;  // checked between batches
};

enum class TrialOutcome { kCompleted, kFailed, kCancelled };
const char* TrialOutcomeName(TrialOutcome outcome);  // "completed", "failed", "cancelled"

// What pruning did (TrainConfig::prune.enabled only).
struct PruningResult {
  PruneMode mode = PruneMode::kOneShot;
  PruneTarget target = PruneTarget::kPeakSram;
  Accounting accounting = Accounting::kTflm;
  // One-shot: pruned at the start of this epoch (0-based). During training:
  // the epoch at whose start the schedule reached the final target.
  int epoch = 0;
  Candidate candidate;              // as pruned; the proposed one if nothing was removed
  CostSummary proposed_costs;       // the candidate as proposed, exact
  CostSummary pruned_costs;         // the candidate as pruned, exact
  int prunable_channels = 0;
  int channels_removed = 0;
  int64_t proposed_params = 0;      // LibTorch count before pruning
  // One-shot: at the end of the epoch before pruning, and right after
  // pruning, before fine-tuning. During training: the dense network without
  // masks, and the pruned network (the trial's validation error) at the end.
  double validation_error_before = 1;
  double validation_error_pruned = 1;
  // The resource the target is measured on (PrunedResourceBytes: for peak
  // SRAM the best order's peak, without TFLM's persistent arena part) of
  // the proposed and of the pruned candidate, and the target
  // (FinalTargetBytes; 0 when there is none).
  int64_t initial_target_bytes = 0;
  int64_t pruned_target_bytes = 0;
  int64_t final_target_bytes = 0;
  // During training only: how often the masks were recomputed, and how
  // many channels came back over all updates (masked by one update, kept
  // by the next).
  int mask_updates = 0;
  int channels_restored = 0;
};

// Where a Train() call's time went, step by step (docs/worker-benchmark.md
// shows a profile). gather .. bookkeeping add up to the training loop
// (TrainResult::train_seconds); the other steps are outside it.
struct TrainProfile {
  StepTime setup;        // network built, initial weights loaded, fidelity subset, optimiser
  StepTime gather;       // each batch gathered from the shuffled order (and augmented)
  StepTime forward;      // forward pass and loss, up to loss.item()
  StepTime backward;     // loss.backward()
  StepTime optimiser;    // zero_grad, decoupled weight decay, the optimiser's step
  StepTime bookkeeping;  // training accuracy, progress callbacks, cancellation checks
  StepTime validation;   // validation error after each epoch (and pruning's)
  StepTime test;         // test error of the delivered weights
  StepTime keep_model;   // folded weights for the int8 export (TrainConfig::keep_model)
  StepTime save;         // torch::save to TrainConfig::save_path
  StepTime prune;        // choosing channels and building the pruned network
};

struct TrainResult {
  TrialOutcome outcome = TrialOutcome::kCompleted;
  std::string message;               // why it failed or was cancelled
  int64_t params = 0;                // trainable weights + biases, BN excluded;
                                     // the pruned network's when pruning ran
  // Epochs run by this call: epochs - start_epoch when it completes.
  int epochs_completed = 0;
  std::vector<double> validation_error_per_epoch;  // the epochs run by this call
  // The delivered (final) weights' validation error, 0..1: the last epoch's,
  // or with none to run (start_epoch == epochs) the loaded network's. This is
  // the trial's figure: its test error, saved weights, kept model and so its
  // int8 export are the same weights'. Not the best epoch's: restoring the
  // best epoch (Keras's restore_best_weights) would hand a promotion weights
  // its learning-rate schedule has moved past, and across pruning the best
  // epoch can be the unpruned network, which is not the trial's candidate.
  double validation_error = 1;
  // Min over the epochs run by this call (for the training curve only).
  double best_validation_error = 1;
  double test_error = 1;             // final weights, 0..1 (completed only)
  double train_seconds = 0;          // the training loop, excluding evaluation
  double samples_per_second = 0;     // training samples / train_seconds
  int64_t train_samples_per_epoch = 0;
  // Errors after pruning are the pruned network's.
  std::optional<PruningResult> pruning;
  // TrainConfig::keep_model and a completed trial only.
  std::optional<TrainedModel> model;
  TrainProfile profile;
};

// The profile as {"setup": {"wall_seconds": .., "cpu_seconds": ..}, ...}.
nlohmann::json TrainProfileToJson(const TrainProfile& profile);

nlohmann::json TrainResultToJson(const TrainResult& result);

Result<TrainResult> Train(const Candidate& candidate, const Dataset& dataset, const TrainConfig& config,
                          const TrainHooks& hooks = {});

}  // namespace unas::worker
