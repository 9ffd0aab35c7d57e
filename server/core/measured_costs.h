// The costs of the network a trial's metrics describe: the pruned network's
// when the job pruned it (latency kept from the proposal: it is not
// re-estimated for a pruned network), else the proposed one's. The one rule
// the coordinator (which ranks by it) and the edges (CLI, REST, which show
// it) share.
#pragma once

#include "server/store/records.h"

namespace unas::server {

inline Costs MeasuredTrialCosts(const TrialRecord& trial) {
  if (!trial.pruned_costs) return trial.costs;
  Costs c = *trial.pruned_costs;
  c.latency_ms = trial.costs.latency_ms;
  return c;
}

}  // namespace unas::server
