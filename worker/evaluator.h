// How a worker evaluates a trial, as its typed task says (worker/trial_task.h):
// real training (worker::Train on the task's data set and recipe, then int8
// quantisation when the recipe asks) or, for tests and load runs only, the
// synthetic evaluator of search/synthetic.h. Every failure is a TrialResult
// with the reason, never an exception.
#pragma once

#include "worker/worker_loop.h"

namespace unas::worker {

// `threads_override` > 0 replaces the task's training.threads (`unas worker
// --threads`, the embedded workers' share of the cores).
EvaluateFn MakeEvaluator(int threads_override = 0);

}  // namespace unas::worker
