// Partial execution for a ModelGraph (model_analysis.h states the rule): the
// longest mappable prefix of the file's operators becomes a Network and goes
// through PlanPartialExecution (one copy of Pex's segment rules), the rest
// runs whole after it.
//
// Thread safety: pure.
#pragma once

#include <cstdint>
#include <vector>

#include "costmodel/model_analysis.h"
#include "costmodel/model_graph.h"

namespace unas {

// `file_timeline` / `file_peak_bytes`: the file order's live bytes per step
// and peak (tflite-tools' rule), for the operators that run whole after the
// prefix and for the answer when no segment lowers the peak.
//
// Cost: finding the start is O(operators + tensors + operator inputs) (one
// sweep, SoleLiveTensors), each start tried maps at most
// `limits.max_pex_operators` operators, and the chain planned is the longest
// closed prefix whose planning stays within `limits.max_pex_work` schedule
// steps (an upper bound computed before planning); `reason` says when either
// limit shortened the chain or stopped the plan.
PexAnalysis PlanModelPex(const ModelGraph& graph, const std::vector<int64_t>& file_timeline,
                         int64_t file_peak_bytes, const AnalysisLimits& limits = {});

// For each step s of the file order, the one activation tensor (not
// constant, not variable, of known non-zero size) live between operators
// s-1 and s: -1 when none is, -2 when several are. Live: a graph input or
// written by an operator before s, and a graph output or read by one at or
// after s. O(operators + tensors + operator inputs and outputs).
std::vector<int> SoleLiveTensors(const ModelGraph& graph);

}  // namespace unas
