// How a worker evaluates a trial, chosen by the job spec it came with:
// real training (worker::Train on the job's data set and recipe) or, for
// tests and load runs only, the synthetic evaluator of search/synthetic.h.
#pragma once

#include <string>

#include "costmodel/candidate.h"
#include "base/status.h"
#include "worker/worker_loop.h"

namespace unas::server {

// `threads_override` > 0 replaces the job's training.threads.
worker::EvaluateFn MakeEvaluator(int threads_override = 0);

}  // namespace unas::server
