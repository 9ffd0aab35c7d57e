// A candidate's exact resource costs as every layer records them: the
// strategy proposes with them, the coordinator stores them with a trial, the
// worker reports the pruned network's, and both API edges (gRPC, REST) send
// them. One record so that a cost is named once.
//
// It is the cost model's own CostSummary plus the one figure the summary
// cannot know: the latency on an MCU profile (docs/architecture.md says why
// it extends CostSummary rather than copying its fields).
#pragma once

#include <optional>

#include "costmodel/cost_model.h"

namespace unas {

struct Costs : CostSummary {
  // With Pex (memory "partial_execution") peak_sram_bytes is the Pex peak;
  // build_order_peak_bytes stays the whole-tensor build-order peak.
  std::optional<double> latency_ms;  // estimated on the job's MCU profile; absent without one
};

inline Costs MakeCosts(const CostSummary& summary, std::optional<double> latency_ms = std::nullopt) {
  Costs costs;
  static_cast<CostSummary&>(costs) = summary;
  costs.latency_ms = latency_ms;
  return costs;
}

}  // namespace unas
