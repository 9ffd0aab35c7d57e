// What a job adds to its candidates' network costs: for a keyword job (data
// set speech_commands) the audio front end its models run before every
// inference (costmodel/frontend_cost.h), from the job's "audio" fields.
// Used by the search's cost function, the pruned costs a worker reports and
// a trial's cost report, so the three agree. Thread-safe (pure).
#pragma once

#include <optional>

#include "base/status.h"
#include "costmodel/frontend_cost.h"
#include "server/core/job_spec.h"

namespace unas::server {

// nullopt for a job whose data set has no front end; Invalid naming the
// "audio." field for a keyword job whose front end is out of range.
Result<std::optional<FrontendCost>> JobFrontendCost(const JobSpec& spec);

}  // namespace unas::server
