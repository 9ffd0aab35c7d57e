#include "server/core/job_costs.h"

#include "data/dataset_spec.h"

namespace unas::server {

Result<std::optional<FrontendCost>> JobFrontendCost(const JobSpec& spec) {
  if (spec.dataset.kind != data::DatasetKind::kSpeechCommands) return std::optional<FrontendCost>();
  UNAS_ASSIGN_OR_RETURN(data::audio::FrontendConfig config, data::SpeechFrontendConfig(spec.dataset.speech));
  UNAS_ASSIGN_OR_RETURN(FrontendCost cost, EstimateFrontendCost(config));
  return std::optional<FrontendCost>(cost);
}

}  // namespace unas::server
