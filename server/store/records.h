// The coordinator's own types for jobs and trials: what the store keeps and
// what the gRPC and REST layers convert to and from (in one place each).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "costmodel/costs.h"
#include "worker/protocol.h"

namespace unas::server {

enum class JobStatus { kQueued = 1, kRunning = 2, kSucceeded = 3, kFailed = 4, kCancelled = 5 };
enum class TrialStatus { kPending = 1, kLeased = 2, kCompleted = 3, kFailed = 4, kCancelled = 5 };

const char* JobStatusName(JobStatus s);      // "queued", "running", ...
const char* TrialStatusName(TrialStatus s);  // "pending", "leased", ...
bool IsFinal(JobStatus s);
bool IsFinal(TrialStatus s);

// A trial's costs and measurements are the lower layers' records: Costs
// (costmodel/costs.h) and Metrics (worker/protocol.h).
using worker::Metrics;

struct JobRecord {
  std::string job_id;
  std::string name;
  JobStatus status = JobStatus::kQueued;
  std::string spec_json;  // normalised spec, defaults filled in
  int64_t infeasible_rejected = 0;
  // Final retraining (job spec "final", or `unas finalize`): the latest
  // round (1, 2, ...; 0 = never finalised) and its epochs (0 = the job's
  // final recipe as written).
  int final_round = 0;
  int final_epochs = 0;
  std::string error;
  int64_t created_unix_ms = 0;
  int64_t finished_unix_ms = 0;
};

struct TrialRecord {
  std::string job_id;
  int64_t trial_id = 0;
  TrialStatus status = TrialStatus::kPending;
  std::string candidate_json;
  std::string candidate_hash;
  // The strategy's id of the candidate (0, 1, ...), shared by the trial that
  // proposed it, its promotions and its final retraining.
  int64_t proposal_id = 0;
  // Multi-fidelity: the search rung it was trained at (0 = the lowest, or the
  // only one) and the lower-rung trial it continues (0 = none: proposed).
  int rung = 0;
  int64_t promoted_from = 0;
  // > 0: a final-retraining trial of that round (JobRecord::final_round),
  // trained from scratch with the final recipe; 0: a search trial.
  int final_round = 0;
  Costs costs;  // as proposed: the figures the strategy saw
  std::optional<Metrics> metrics;
  // The validation error the job's error objective names (ObjectiveError in
  // server/core/job_spec.h: int8 when the job asks for it and the worker
  // measured it, else float), fixed when the trial completes. The one error
  // the front, "best", sorting, the CLI and the dashboard's error axis use.
  std::optional<double> objective_error;
  int attempts = 0;
  std::string worker_id;
  std::string lease_id;
  int64_t lease_expires_unix_ms = 0;
  double progress = 0;  // fraction of training done, from the last heartbeat (in memory, not stored)
  std::string error;
  // With pruning: the network actually trained and measured (metrics refer to
  // it) and its exact costs; empty when the job does not prune.
  std::string pruned_candidate_json;
  std::optional<Costs> pruned_costs;
  // The trial's int8 model (.tflite) is stored (Store::GetModelTflite).
  bool has_tflite = false;
  int rejected_before = 0;  // hard-constraint rejections while proposing it
  int64_t told_seq = 0;     // 1, 2, ...: order its outcome reached the strategy; 0 = not yet
  int64_t created_unix_ms = 0;
  int64_t started_unix_ms = 0;
  int64_t finished_unix_ms = 0;
};

// What the coordinator answers about a job: its record and live counts.
struct JobView {
  JobRecord record;
  bool finalizing = false;  // the search is over; the final retraining runs
  int64_t completed = 0;
  int64_t failed = 0;
  int64_t running = 0;  // pending + leased
  int64_t budget = 0;    // search proposals the job may make (budget.trials)
  int64_t proposed = 0;  // search proposals made: what the budget counts; promotions and final retraining are not
  // The lowest objective error (TrialRecord::objective_error) of a completed
  // search trial within the hard constraints, at any rung; -1 if none. Never
  // rises during a job.
  double best_val_error = -1;
  double hypervolume = 0;
};

// One page of the job list (Coordinator::ListJobPage).
struct JobPage {
  std::vector<JobView> jobs;
  int64_t total = 0;            // jobs in all
  std::string next_page_token;  // empty on the last page
};

struct TrialPage {
  std::vector<TrialRecord> trials;
  std::string next_page_token;  // empty on the last page
};

struct ParetoView {
  std::vector<std::string> objectives;
  std::vector<TrialRecord> trials;  // the search's front (any rung)
  double hypervolume = 0;
  // The final front: the latest final round's completed trials that no other
  // of that round dominates (error objective, then the resources), best
  // error first; empty before a final round has completed a trial.
  int final_round = 0;
  std::vector<TrialRecord> final_front;
  double final_hypervolume = 0;  // of final_front, against the same reference
};

// The accuracy a user reads first for a trial: 1 - the int8 test error when
// it was quantised, else 1 - the float test error; nullopt when the trial
// measured no test error.
inline std::optional<double> FinalTestAccuracy(const TrialRecord& t) {
  if (!t.metrics) return std::nullopt;
  if (t.metrics->int8_test_error) return 1.0 - *t.metrics->int8_test_error;
  if (t.metrics->test_error >= 0) return 1.0 - t.metrics->test_error;
  return std::nullopt;
}

struct HypervolumePoint {
  int64_t trials_finished = 0;
  int64_t unix_ms = 0;
  double hypervolume = 0;
};

struct JobEvent {
  enum class Kind { kTrialStarted, kTrialFinished, kTrialFailed, kParetoPoint, kJobDone };
  Kind kind = Kind::kTrialStarted;
  JobView job;
  std::optional<TrialRecord> trial;
};

// A registered data set (`unas data add`, docs/deploy.md): a name for the
// bytes whose SHA-256 is `sha256` (data/dataset_pack.h), kept unpacked in the
// coordinator's DATA_DIR/datasets/<sha256>. Several names may share a hash.
struct DatasetRecord {
  std::string name;       // 1..64 of [A-Za-z0-9._-], not starting with '.'
  std::string sha256;     // 64 lowercase hex characters
  std::string kind;       // its DatasetSpec form's prefix: "folder", "idx", "csv", "cifar10", "speech_commands"
  std::string entry;      // "" (a directory) or the name of the one file a single-file pack holds
  int num_classes = 0;
  std::vector<std::string> class_names;  // label order; empty when the format names none (idx, cifar10)
  int input_height = 0, input_width = 0, input_channels = 0;  // what a network trained on it takes
  int64_t file_count = 0;
  int64_t content_bytes = 0;  // the files' bytes
  int64_t pack_bytes = 0;     // the pack's length: what a worker fetches
  int64_t created_unix_ms = 0;
};

// What an upload of a data set declares before its bytes (DatasetRegistry::Add
// checks it; DataService.UploadDataset's first message carries it). Here,
// beside the record it becomes, so that proto_convert can map it.
struct DatasetUploadHeader {
  std::string name;
  std::string sha256;     // of the whole pack; checked when it has arrived
  std::string kind;       // "folder", "idx", "csv", "cifar10", "speech_commands"
  std::string entry;      // "" or the single file's name (PackReader::entry)
  int num_classes = 10;   // idx only (its labels are below it): 2..256
  int64_t pack_bytes = 0; // the pack's length; more or fewer bytes are refused
};

// One trial and the server's export document for it (TrialExportJson in
// server/core/json_convert.h), as GetTrial returns it.
struct TrialDetail {
  TrialRecord trial;
  std::string export_json;
};

}  // namespace unas::server
