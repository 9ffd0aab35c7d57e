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
PexAnalysis PlanModelPex(const ModelGraph& graph, const std::vector<int64_t>& file_timeline,
                         int64_t file_peak_bytes);

}  // namespace unas
