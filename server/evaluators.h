// How a worker evaluates a trial, chosen by the job spec it came with:
// real training (worker::Train on the job's data set and recipe) or, for
// tests and load runs only, the synthetic evaluator of search/synthetic.h.
#pragma once

#include <string>

#include "costmodel/candidate.h"
#include "base/status.h"
#include "worker/worker_loop.h"

namespace unas::server {

// Input shape and classes of a data set named as in a job spec, without
// training on it: "fashion-mnist" is 28x28x1 and "cifar10:DIR" 32x32x3 (the
// CIFAR-10 binary format fixes it), 10 classes each, without reading files;
// "idx:" and "synthetic" are loaded (and then cached for the trials).
Result<InputSpec> ResolveDatasetInput(const std::string& dataset);

// `threads_override` > 0 replaces the job's training.threads.
worker::EvaluateFn MakeEvaluator(int threads_override = 0);

}  // namespace unas::server
