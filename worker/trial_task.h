// What a worker is asked to do for one trial, typed: the data set, the
// training recipe of this trial's stage (its rung's epochs and subset, or the
// final round's recipe, with the job's seed, accounting, pruning and
// quantisation already applied) and how to evaluate it. The coordinator
// builds it once from the parsed job spec (server/core/job_spec.h
// TrialTaskFor); it crosses gRPC as its own message (proto/unas.proto
// TrialTask, converted in proto/proto_convert.cc) and the worker's evaluator
// runs it as it is: nothing downstream parses a job spec.
#pragma once

#include <string>

#include "base/status.h"
#include "data/dataset_spec.h"
#include "worker/train_config.h"

namespace unas::worker {

enum class EvaluatorKind {
  kTrain,      // real training by workers (the default)
  kSynthetic,  // a deterministic function of the candidate: tests and load runs only
};
const char* EvaluatorKindName(EvaluatorKind kind);  // "train", "synthetic"
// "<where>: 'x' is not one of train, synthetic" for any other name.
Result<EvaluatorKind> ParseEvaluatorKind(const std::string& name, const std::string& where = "evaluator");

struct TrialTask {
  data::DatasetSpec dataset;
  // The recipe as the worker runs it (ValidateTrainConfig holds for it);
  // threads may be replaced by the worker's own `--threads`.
  TrainConfig training;
  EvaluatorKind evaluator = EvaluatorKind::kTrain;
  // Synthetic evaluator only: how long each evaluation pretends to train, so
  // tests can kill a worker mid-trial. 0 = instant.
  int synthetic_delay_ms = 0;
  // The job's memory is partial_execution: the C library whose flash the
  // worker measures is the partial-execution one, as `unas export` writes.
  bool partial_execution = false;
};

}  // namespace unas::worker
