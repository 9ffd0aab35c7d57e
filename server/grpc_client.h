// Client side of the gRPC API, for `unas submit|jobs|status|...` and remote
// workers. Every call has a deadline and carries the bearer token. Errors
// come back as Status with the server's message.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "proto/unas.grpc.pb.h"
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

  Result<v1::Job> Submit(const std::string& spec_json);
  Result<v1::Job> GetJob(const std::string& job_id);
  Result<std::vector<v1::Job>> ListJobs();
  Result<v1::Job> Cancel(const std::string& job_id);
  Result<v1::ListTrialsResponse> ListTrials(const std::string& job_id, v1::TrialStatus status,
                                            const std::string& page_token, int page_size);
  Result<v1::ParetoFront> Pareto(const std::string& job_id);
  Result<std::string> TrialWeights(const std::string& job_id, int64_t trial_id);
  // Streams events until JOB_DONE, the callback returns false, or
  // `max_seconds` pass.
  Status Watch(const std::string& job_id, const std::function<bool(const v1::JobEvent&)>& on_event,
               int max_seconds);

  v1::WorkerService::Stub& workers() { return *workers_; }
  // A context with the token and a deadline of `ms` from now.
  std::unique_ptr<grpc::ClientContext> Context(int ms) const;
  int deadline_ms() const { return options_.deadline_ms; }

 private:
  explicit Client(ClientOptions options) : options_(std::move(options)) {}
  ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::JobService::Stub> jobs_;
  std::unique_ptr<v1::WorkerService::Stub> workers_;
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

 private:
  Client& client_;
};

}  // namespace unas::server
