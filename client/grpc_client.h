// Client side of the gRPC API, for `unas submit|jobs|status|...` and remote
// workers. It speaks the project's own types (server/store/records.h,
// worker/protocol.h): protobuf messages and the gRPC stub stay in
// grpc_client.cc, so callers (cli/) include no generated or gRPC header.
// Every call has a deadline and carries the bearer token. Errors come back as
// Status with the server's message.
//
// Thread safety: one Client may be shared by threads (gRPC stubs are
// thread-safe); the worker loop's heartbeat thread does.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "server/store/records.h"
#include "worker/worker_loop.h"

namespace unas::server {

struct ClientOptions {
  std::string address = "127.0.0.1:7070";
  std::string token;
  std::string tls_ca_path;  // PEM of the CA (or self-signed cert) to trust; enables TLS
  int deadline_ms = 10'000; // per call, except long-polls (their wait + this)
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> Connect(ClientOptions options);
  ~Client();

  Result<JobView> Submit(const std::string& spec_json);
  Result<JobView> GetJob(const std::string& job_id);
  // Every job, in submission order: follows ListJobs' pages (1,000 a call).
  Result<std::vector<JobView>> ListJobs();
  Result<JobView> Cancel(const std::string& job_id);
  // Starts a final-retraining round (Coordinator::Finalize); epochs 0: the
  // job's final recipe. kFailedPrecondition for a cancelled or failed job or
  // one with no completed trial; kInvalidArgument for epochs outside 1..1000.
  Result<JobView> Finalize(const std::string& job_id, int epochs);
  // `status` absent: every status. page_token: empty, or a previous page's.
  Result<TrialPage> ListTrials(const std::string& job_id, std::optional<TrialStatus> status,
                               const std::string& page_token, int page_size);
  // The trial and the server's export document for it: the same JSON as
  // GET /api/v1/jobs/JOB/trials/N/export (format unas-trial-export/1, with the
  // server's cost report).
  Result<TrialDetail> GetTrial(const std::string& job_id, int64_t trial_id);
  Result<ParetoView> Pareto(const std::string& job_id);
  Result<std::string> TrialWeights(const std::string& job_id, int64_t trial_id);
  // The trial's int8 model (.tflite); kNotFound when it has none.
  Result<std::string> TrialModelTflite(const std::string& job_id, int64_t trial_id);
  // Registered data sets (docs/deploy.md). Upload sends the pack of `path`
  // (a directory or a CSV file, data/dataset_pack.h) under `name`; kind is
  // "folder", "idx", "csv", "cifar10" or "speech_commands"; num_classes is
  // for idx only. The deadline grows with the pack (a second per MiB).
  struct DatasetUpload {
    std::string path, name, kind;
    int num_classes = 10;
  };
  Result<DatasetRecord> UploadDataset(const DatasetUpload& upload);
  Result<std::vector<DatasetRecord>> ListDatasets();
  Status RemoveDataset(const std::string& name);
  // Streams the pack whose SHA-256 is `sha256` from `offset` to its end:
  // `on_chunk(offset, bytes, pack_bytes)` for each chunk, in order, after
  // checking it against its own SHA-256 (kInvalidArgument when it does not
  // match) and that it starts where the previous ended; an error from
  // on_chunk stops the stream. The whole pack's hash is the caller's check.
  Status FetchDataset(const std::string& sha256, int64_t offset,
                      const std::function<Status(int64_t, const std::string&, int64_t)>& on_chunk,
                      int deadline_ms);

  // Streams events until kJobDone, the callback returns false, or
  // `max_seconds` pass.
  Status Watch(const std::string& job_id, const std::function<bool(const JobEvent&)>& on_event, int max_seconds);

 private:
  friend class GrpcTrialSource;
  struct Stubs;  // channel and stubs, in grpc_client.cc
  // One JobService call whose request names a trial (job_id, trial_id).
  template <typename Request, typename Response, typename Method>
  Status CallForTrial(Method method, const char* name, const std::string& job_id, int64_t trial_id,
                      Response* out);
  explicit Client(ClientOptions options);
  ClientOptions options_;
  std::unique_ptr<Stubs> stubs_;
};

// The worker protocol over gRPC, for `unas worker`.
class GrpcTrialSource : public worker::TrialSource {
 public:
  explicit GrpcTrialSource(Client& client) : client_(client) {}
  Result<std::pair<std::string, int>> Register(const std::string& name, int threads) override;
  Result<std::optional<worker::WorkAssignment>> Acquire(const std::string& worker_id, int wait_ms) override;
  Result<worker::HeartbeatAnswer> Heartbeat(const std::string& worker_id, const std::string& lease_id,
                                            double progress) override;
  Result<bool> Complete(const std::string& worker_id, const std::string& lease_id,
                        const worker::TrialResult& result) override;
  // One CompleteTrial with acquire_next; a coordinator that predates it
  // answers without `next` (next_answered false).
  Result<worker::CompleteAnswer> CompleteAndAcquire(const std::string& worker_id, const std::string& lease_id,
                                                    const worker::TrialResult& result, int wait_ms) override;

 private:
  Client& client_;
};

}  // namespace unas::server
