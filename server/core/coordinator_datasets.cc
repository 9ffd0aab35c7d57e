// The coordinator's side of registered data sets: jobs that name one, and
// the removal a running job forbids (dataset_registry.h owns the files).
#include <nlohmann/json.hpp>

#include "base/json_limits.h"
#include "server/core/coordinator.h"
#include "server/core/coordinator_job.h"

namespace unas::server {

Result<JobSpec> Coordinator::ParseSubmission(const std::string& spec_json) {
  auto j = ParseLimitedJson(spec_json);
  if (!j.ok()) return j.status().WithContext("job");
  if (!j->is_object()) return ParseJobSpec(*j);  // says what is wrong
  for (const char* recorded : {"dataset_name", "dataset_sha256"}) {
    if (j->contains(recorded)) {
      return Status::Invalid(std::string(recorded) + ": recorded by the coordinator, not submitted; name a " +
                             "registered data set as \"dataset\": \"data:NAME\"");
    }
  }
  auto dataset = j->find("dataset");
  if (dataset == j->end() || !dataset->is_string() || dataset->get<std::string>().rfind("data:", 0) != 0) {
    return ParseJobSpec(*j);
  }
  const std::string wanted = dataset->get<std::string>().substr(5);
  if (!datasets_) return Status::Invalid("dataset: this coordinator keeps no registered data sets");
  auto record = datasets_->Find(wanted);
  if (!record.ok()) return Status::Invalid("dataset: " + record.status().message() + " (unas data list)");
  // The job then reads as one on the coordinator's copy, and records which.
  const data::DatasetSpec copy = datasets_->SpecOf(*record);
  (*j)["dataset"] = data::DatasetSpecText(copy);
  (*j)["dataset_name"] = record->name;
  (*j)["dataset_sha256"] = record->sha256;
  return ParseJobSpec(*j);
}

void Coordinator::UseRegistryCopy(JobSpec* spec) const {
  if (spec->dataset.sha256.empty() || !datasets_) return;
  auto subpath = data::RegisteredSubpath(spec->dataset);
  if (subpath.ok()) spec->dataset.directory = datasets_->DirectoryOf(spec->dataset.sha256) + *subpath;
}

Status Coordinator::RemoveDataset(const std::string& name) {
  if (!datasets_) return Status::FailedPrecondition("this coordinator keeps no registered data sets");
  // mu_ is held across the removal: no job naming it can be submitted meanwhile
  // (Submit resolves the name before it takes mu_, and MakeJob's description
  // of the data would fail on the removed files).
  std::lock_guard<std::mutex> lock(mu_);
  UNAS_ASSIGN_OR_RETURN(DatasetRecord record, datasets_->Find(name));
  for (const auto& [id, job] : jobs_) {
    if (!IsFinal(job->record.status) && job->spec.dataset.sha256 == record.sha256) {
      return Status::FailedPrecondition("data set '" + name + "' is in use by " +
                                        std::string(JobStatusName(job->record.status)) + " job " + id +
                                        "; cancel it or wait for it to finish");
    }
  }
  return datasets_->Remove(name);
}

}  // namespace unas::server
