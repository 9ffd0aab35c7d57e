// The worker protocol's own types, independent of transport: what the
// coordinator hands a worker (WorkAssignment) and what the worker reports
// back (TrialResult, with the Metrics it measured). The coordinator core, the
// store, the gRPC edge (proto/proto_convert.h) and the REST edge
// (server/core/json_convert.h) all use these records; each edge converts them in
// one place. Plain C++ types; no training code comes with this header.
//
// Adding a measured quantity to a trial: one field in Metrics, one in the
// proto's Metrics, one column in a store migration, and one line in each
// converter (proto_convert.cc, json_convert.cc, the store's column table).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "costmodel/costs.h"
#include "worker/trial_task.h"

namespace unas::worker {

// What a result may carry (the gRPC message limit is 4 MiB): a worker keeps
// weights and models within these, the coordinator refuses more
// (server/core/result_validation.h).
inline constexpr size_t kMaxResultWeightsBytes = size_t{3} << 20;  // proto: weights "at most 3 MiB"
inline constexpr size_t kMaxResultModelBytes = size_t{3} << 20;    // proto: model_tflite "at most 3 MiB"

struct WorkAssignment {
  std::string job_id;
  int64_t trial_id = 0;  // 1, 2, ... within the job
  std::string lease_id;  // quoted in Heartbeat and Complete
  std::string candidate_json;
  // What to do: the data set, this trial's recipe (its rung's, or the final
  // one) and the evaluator, so a worker trains exactly what it is given and
  // knows no rungs (worker/trial_task.h).
  TrialTask task;
  int attempt = 1;            // 1 for the first lease of this trial
  // A promotion that continues training: the lower-rung trial's weights
  // (the trainer's serialised form, TrialResult::weights) and the epochs
  // they had; training runs epochs init_epochs .. training.epochs - 1 of the
  // recipe. Empty / 0: train from scratch.
  std::string init_weights;
  int init_epochs = 0;
};

// What a worker measured for a trial; errors are fractions in [0, 1].
struct Metrics {
  double val_error = 1;            // 1 - best validation accuracy over epochs
  double test_error = -1;          // 1 - test accuracy with the final weights; -1 if not measured
  double train_seconds = 0;        // wall time of the training loop, excluding evaluation
  double samples_per_second = 0;   // training samples / train_seconds
  int epochs = 0;                  // epochs actually run
  // The int8-quantised network's errors; absent when the trial was not
  // quantised (quantization disabled, synthetic, or quantisation failed).
  std::optional<double> int8_val_error;
  std::optional<double> int8_test_error;
  // The int8 model's C library (firmware/trial_library.h, as `unas export`
  // writes it) compiled for Cortex-M4 (firmware/cortex_m_flash.h): text +
  // data of its objects before linking. Absent when the trial has no int8
  // model or the worker could not measure it; c_library_flash_note then
  // says why when there was a model (e.g. "arm-none-eabi-gcc not found on
  // the worker"), and is empty when the figure is there.
  std::optional<int64_t> c_library_flash_bytes;
  std::string c_library_flash_note;
};

// Why a trial failed: the trial itself (its training diverged, LibTorch
// refused the network; another worker would fail the same way), or the
// worker (its copy of the data set is missing, it ran out of memory; another
// worker may succeed). The coordinator fails a trial for the first and gives
// it to another worker for the second (server/core/coordinator.h, Failures).
enum class FailureKind { kTrial, kWorker };

// A trial's outcome as the worker reports it.
struct TrialResult {
  bool succeeded = false;
  bool released = false;  // given back unfinished (the worker is shutting down); not an attempt
  FailureKind failure = FailureKind::kTrial;  // when not succeeded
  Metrics metrics;        // when succeeded
  std::string error;      // when not: why
  std::string weights;    // serialised trained weights; empty if not kept
  // The int8 model (.tflite flatbuffer, ops in the tflm accounting's planned
  // order) when the job quantises and quantisation succeeded; empty otherwise.
  std::string model_tflite;
  // With pruning: the network actually trained and measured (uNAS JSON) and
  // its exact costs (latency not re-estimated); empty / absent otherwise.
  std::string pruned_candidate_json;
  std::optional<Costs> pruned_costs;
};

}  // namespace unas::worker
