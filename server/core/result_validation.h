// Checks on what a worker reports, made by the coordinator before anything
// is stored. A worker is another process on another machine: a bug, a
// version mismatch or a hostile client must not put an error of -5, a NaN,
// negative costs or an oversized blob into the store, where it would skew
// the Pareto front and the hypervolume of every later view.
//
// What is checked (succeeded results; a failure's message is only trimmed):
//   - val_error finite, in [0, 1]; test_error -1 (unknown) or in [0, 1];
//     train_seconds and samples_per_second finite and >= 0; epochs >= 0;
//   - weights at most kMaxResultWeightsBytes (the proto's stated 3 MiB), and
//     the int8 model (model_tflite) at most kMaxResultModelBytes;
//   - a pruned network only when the job prunes; its JSON within the JSON
//     limits (base/json_limits.h) and a valid candidate; its costs
//     non-negative and equal to the coordinator's own costing of it
//     (BuildNetwork + SummariseCosts in the job's accounting, which is what
//     the worker's pruning reports).
// Worker names: 1..kMaxWorkerNameBytes bytes, no control characters.
//
// Errors: kInvalidArgument naming the field and the rule, quoting at most a
// short prefix of the offending value.
// Thread safety: plain functions, no shared state.
#pragma once

#include <cstddef>
#include <string>

#include "costmodel/cost_model.h"
#include "base/status.h"
#include "server/core/coordinator.h"

namespace unas::server {

// The weight and model limits are the protocol's (worker/protocol.h), so the
// worker never sends what this refuses.
using worker::kMaxResultModelBytes;
using worker::kMaxResultWeightsBytes;
inline constexpr size_t kMaxWorkerNameBytes = 128;
inline constexpr size_t kMaxWorkerErrorChars = 2000;  // a failure's message is cut to this

// What the coordinator knows about the trial's job.
struct ResultCheckContext {
  InputSpec input;
  Accounting accounting = Accounting::kTflm;
  bool job_prunes = false;
};

// The result as it may be stored (a failure's message trimmed), or why it is
// refused.
Result<TrialResult> ValidateTrialResult(const TrialResult& result, const ResultCheckContext& context);

Status ValidateWorkerName(const std::string& name);

}  // namespace unas::server
