// A trial's training recipe as the worker runs it: optimiser, schedule,
// regularisation, fidelity, and the optional pruning and quantisation steps.
// The one set of defaults and the one set of valid ranges: a job spec's
// "training", "pruning" and "quantization" objects (server/core/job_spec.h)
// and `unas train`'s flags start from these values, and ValidateTrainConfig
// is the rule both the job spec (at submission) and the trainer (before a
// trial runs) apply, so a job that is accepted can train. Plain C++ types;
// the trainer (trainer.h) and the pruner (pruning.h) consume them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "costmodel/cost_model.h"

namespace unas::worker {

enum class Optimizer {
  kSgdw,   // SGD with momentum and decoupled weight decay (μNAS's SGDW)
  kAdamW,  // Adam with decoupled weight decay
};
const char* OptimizerName(Optimizer optimizer);  // "sgdw", "adamw"
// Errors name `where`: "<where>: 'sgd' is not one of sgdw, adamw".
Result<Optimizer> ParseOptimizer(const std::string& name, const std::string& where = "optimizer");

enum class PruneTarget { kPeakSram, kFlash };
const char* PruneTargetName(PruneTarget target);  // "peak_sram", "flash"
Result<PruneTarget> ParsePruneTarget(const std::string& name, const std::string& where = "prune target");

// kOneShot: prune once, at one epoch, and fine-tune the smaller network.
// kDuringTraining: DPF-style masks over output channels, recomputed every
// update_steps steps while the dense network trains (docs/pruning.md).
enum class PruneMode { kOneShot, kDuringTraining };
const char* PruneModeName(PruneMode mode);  // "one_shot", "during_training"
Result<PruneMode> ParsePruneMode(const std::string& name, const std::string& where = "prune mode");

// From `epoch` (0-based) on, the learning rate is `learning_rate`.
struct LrStep {
  int epoch = 0;
  double learning_rate = 0.0;
};

// Structured pruning aimed at the cost model's bottleneck (pruning.h).
struct PruneConfig {
  bool enabled = false;
  PruneMode mode = PruneMode::kOneShot;
  PruneTarget target = PruneTarget::kPeakSram;
  // Ranges: max_fraction (0, 1), max_group_fraction (0, 1], start_epoch -1
  // or 1 .. epochs - 1 (one-shot; during training -1 or 0 .. epochs - 1),
  // target_bytes > 0, target_ratio (0, 1), end_epoch -1 or 1 .. 1000,
  // update_steps 1 .. 1000000.
  // At most this fraction (0, 1) of all prunable channels is removed. 0.3,
  // not more: at 0.3 the worked example in docs/pruning.md already goes from
  // 0.307 to 0.372 validation error; a job that wants more asks for it (or
  // for target_bytes).
  double max_fraction = 0.3;
  // And at most this fraction (0, 1] of any one group: without it the layer
  // that sets the peak is cut to a single channel, which costs accuracy that
  // fine-tuning for an epoch or two does not win back.
  double max_group_fraction = 0.5;
  // One-shot: the epoch (0-based) at whose start the network is pruned; the
  // epochs from it on fine-tune the pruned network. -1: the last epoch
  // (epochs - 1). Must leave at least one epoch before and one after.
  // During training: the epoch at whose start the sparsity schedule begins
  // (-1: 0).
  int start_epoch = -1;
  // Stop as soon as the target resource is at most this many bytes.
  std::optional<int64_t> target_bytes;
  // Or at most this fraction of the proposed candidate's resource (both
  // set: the smaller). A ratio suits a search, whose candidates differ.
  std::optional<double> target_ratio;
  // During training only. The schedule reaches the target at the start of
  // this epoch (-1: half the epochs, rounded up), or at the end of the
  // trial if it has fewer epochs, or at the end of its first rung
  // (TrainPruneSchedule in pruning.h); the masks keep being recomputed
  // after it at the final target. Needs target_bytes or target_ratio.
  int end_epoch = -1;
  // During training only: the masks are recomputed every this many
  // optimiser steps (DPF's k; 16 in Lin et al. 2020).
  int update_steps = 16;
  Accounting accounting = Accounting::kTflm;
};

// Post-training int8 quantisation of the trained network, measured as
// Metrics::int8_val_error / int8_test_error. The server's training evaluator
// (worker/evaluator.cc) sets keep_model from `enabled` and quantises with
// worker::QuantizeTrained after training; the .tflite travels back in
// TrialResult::model_tflite.
struct QuantizationConfig {
  bool enabled = true;
  int calibration_images = 1000;  // training images the activation ranges are calibrated on; 1..1,000,000
};

// Training-time augmentation, seeded by the recipe's seed (docs/data.md).
// JSON "training.augment": an object of these fields, or the old boolean
// (true: shift_px 2 and flip, what it always meant; false: none).
struct AugmentConfig {
  // Random shift by -shift_px..shift_px in height and width, zero padded
  // (0 is the channel mean after normalisation); width only when the input
  // is wider than 1, so sensor windows (W = 1) get a time shift. 0..16.
  int shift_px = 0;
  bool flip = false;      // horizontal flip with probability 1/2 (off: digits and letters must not flip)
  double noise_sd = 0;    // additive Gaussian noise, in normalised units (channel std); 0..10
  bool enabled() const { return shift_px > 0 || flip || noise_sd > 0; }
};

struct TrainConfig {
  Optimizer optimizer = Optimizer::kSgdw;
  double learning_rate = 0.01;      // until the first LrStep that applies; (0, 10]
  std::vector<LrStep> lr_schedule;  // epochs >= 0 and increasing, rates in (0, 10]
  double momentum = 0.9;            // SGDW only; [0, 1)
  // Decoupled: after each step, w -= learning_rate * weight_decay * w
  // (SGDW); AdamW uses LibTorch's AdamW, which does the same. [0, 1): at 1
  // every step would zero the weights.
  double weight_decay = 1e-5;
  double dropout = 0.15;            // rate, before each dense block; [0, 0.95]
  int epochs = 3;                   // 1..1000
  // 2..65536: batch norm needs two samples (a batch of one has no variance).
  int batch_size = 128;
  uint64_t seed = 0;                // weights, shuffling, dropout, augmentation
  int threads = 0;                  // torch::set_num_threads; 0 leaves it alone; 0..256
  // Fraction (0, 1] of the training part used, for cheap low-fidelity
  // trials: always the same images for a given data set (a fixed seed-0
  // order), so trials at one fidelity are comparable.
  double subset = 1.0;
  AugmentConfig augment;            // training part only; off by default
  std::string save_path;            // if set, the final weights (torch::save)
  // Continue training instead of starting from scratch (a promotion to a
  // higher rung): a torch::save archive of this candidate's network as
  // save_path writes it. Train() loads it into the network built for the
  // candidate; a file that does not fit (another candidate, missing, corrupt)
  // is an error Status naming the path and what did not match. Then epochs
  // start_epoch .. epochs - 1 of this recipe run: the learning-rate schedule
  // applies at the absolute epoch index and progress reports absolute epochs,
  // while TrainResult::epochs_completed, validation_error_per_epoch and
  // best_validation_error cover only the epochs run here. start_epoch ==
  // epochs trains nothing and measures the loaded network. The optimiser's
  // state (SGDW momentum, AdamW moments) starts fresh, as does the shuffling
  // order (from `seed`, as a fresh run's epoch 0); `subset` is this run's.
  // Not with one-shot pruning: it changes the network the weights fit.
  // Pruning during training keeps (and saves) the dense network, so a
  // promotion continues from it and recomputes its masks.
  std::string init_weights_path;
  int start_epoch = 0;              // epochs init_weights_path has had; 0..epochs
  // Train until prune.start_epoch, choose channels by importance and cost,
  // copy the survivors into a network built for the smaller candidate and
  // fine-tune it for the remaining epochs. Needs epochs >= 2.
  PruneConfig prune;
  QuantizationConfig quantization;
  // Fill TrainResult::model (the trained weights, batch norm folded, for
  // int8 export with QuantizeTrained in int8_export.h).
  bool keep_model = false;
};

// Checks every range and combination above; the message starts with the
// field's name as written here ("batch_size: must be in 2..65536",
// "prune.max_fraction: ..."), so a caller that names fields differently
// (the job spec) can map it.
Status ValidateTrainConfig(const TrainConfig& config);

// The epoch (0-based) at whose start the network is pruned: start_epoch, or
// the last epoch for -1.
int PruneEpoch(const TrainConfig& config);

}  // namespace unas::worker
