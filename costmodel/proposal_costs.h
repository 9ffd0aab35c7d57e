// The cost summary a search proposes with: SummariseCosts without the
// figures no proposal reads, for the costing of every candidate a strategy
// draws (the coordinator's largest CPU cost per trial, docs/benchmarks.md).
//
// Under kTflm the CMSIS-NN kernels' total arena
// (tflm_cmsis_nn_total_arena_bytes) is not worked out, which saves one or two
// of the three to five runs of TFLM's planner per candidate: it is 0 here.
// Every other field, and every field under the other accountings, equals
// SummariseCosts(network, accounting)'s exactly (cost_model_test checks it).
// A proposal's stored and ranked costs (params, flash, MACs, peak SRAM, the
// build order's peak) are among them.
//
// Errors: SummariseCosts's. Thread-safe (a pure function).
#pragma once

#include "costmodel/cost_model.h"

namespace unas {

Result<CostSummary> SummariseProposalCosts(const Network& network, Accounting accounting);

}  // namespace unas
