#include "server/grpc_client.h"

#include <chrono>
#include <fstream>
#include <sstream>

#include <grpcpp/grpcpp.h>

namespace unas::server {
namespace {

Status FromGrpc(const grpc::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  StatusCode code = StatusCode::kInternal;
  switch (s.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT: code = StatusCode::kInvalidArgument; break;
    case grpc::StatusCode::NOT_FOUND: code = StatusCode::kNotFound; break;
    case grpc::StatusCode::FAILED_PRECONDITION: code = StatusCode::kFailedPrecondition; break;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: code = StatusCode::kResourceExhausted; break;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED: code = StatusCode::kFailedPrecondition; break;
    default: break;
  }
  std::string message = s.error_message();
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE) message = "coordinator unavailable: " + message;
  if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) message = what + ": deadline exceeded";
  if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) message = "authentication failed: " + message;
  return Status(code, message);
}

}  // namespace

Result<std::unique_ptr<Client>> Client::Connect(ClientOptions options) {
  std::unique_ptr<Client> c(new Client(options));
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (!options.tls_ca_path.empty()) {
    std::ifstream in(options.tls_ca_path);
    if (!in) return Status(StatusCode::kNotFound, "cannot read " + options.tls_ca_path);
    std::stringstream ss;
    ss << in.rdbuf();
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ss.str();
    creds = grpc::SslCredentials(ssl);
  }
  // gRPC's own reconnect backoff grows to 120 s by default, so after a
  // coordinator restart a worker's channel could stay down long after the
  // server is back. Cap it at 2 s, like the worker loop's retries (gRPC
  // jitters each wait by +-20%). The minimum stays at its default: it is
  // also the connect timeout.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  c->channel_ = grpc::CreateCustomChannel(options.address, creds, args);
  c->jobs_ = v1::JobService::NewStub(c->channel_);
  c->workers_ = v1::WorkerService::NewStub(c->channel_);
  return c;
}

std::unique_ptr<grpc::ClientContext> Client::Context(int ms) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(ms));
  if (!options_.token.empty()) ctx->AddMetadata("authorization", "Bearer " + options_.token);
  return ctx;
}

Result<v1::Job> Client::Submit(const std::string& spec_json) {
  v1::SubmitJobRequest req;
  req.set_spec_json(spec_json);
  v1::Job out;
  auto ctx = Context(options_.deadline_ms);
  UNAS_RETURN_IF_ERROR(FromGrpc(jobs_->SubmitJob(ctx.get(), req, &out), "SubmitJob"));
  return out;
}

Result<v1::Job> Client::GetJob(const std::string& job_id) {
  v1::GetJobRequest req;
  req.set_job_id(job_id);
  v1::Job out;
  auto ctx = Context(options_.deadline_ms);
  UNAS_RETURN_IF_ERROR(FromGrpc(jobs_->GetJob(ctx.get(), req, &out), "GetJob"));
  return out;
}

Result<std::vector<v1::Job>> Client::ListJobs() {
  v1::ListJobsResponse out;
  auto ctx = Context(options_.deadline_ms);
  UNAS_RETURN_IF_ERROR(FromGrpc(jobs_->ListJobs(ctx.get(), v1::ListJobsRequest(), &out), "ListJobs"));
  return std::vector<v1::Job>(out.jobs().begin(), out.jobs().end());
}

Result<v1::Job> Client::Cancel(const std::string& job_id) {
  v1::CancelJobRequest req;
  req.set_job_id(job_id);
  v1::Job out;
  auto ctx = Context(options_.deadline_ms);
  UNAS_RETURN_IF_ERROR(FromGrpc(jobs_->CancelJob(ctx.get(), req, &out), "CancelJob"));
  return out;
}

Result<v1::ListTrialsResponse> Client::ListTrials(const std::string& job_id, v1::TrialStatus status,
                                                  const std::string& page_token, int page_size) {
  v1::ListTrialsRequest req;
  req.set_job_id(job_id);
  req.set_status(status);
  req.set_page_token(page_token);
  req.set_page_size(page_size);
  v1::ListTrialsResponse out;
  auto ctx = Context(options_.deadline_ms);
  UNAS_RETURN_IF_ERROR(FromGrpc(jobs_->ListTrials(ctx.get(), req, &out), "ListTrials"));
  return out;
}

Result<v1::ParetoFront> Client::Pareto(const std::string& job_id) {
  v1::GetParetoFrontRequest req;
  req.set_job_id(job_id);
  v1::ParetoFront out;
  auto ctx = Context(options_.deadline_ms);
  UNAS_RETURN_IF_ERROR(FromGrpc(jobs_->GetParetoFront(ctx.get(), req, &out), "GetParetoFront"));
  return out;
}

Result<std::string> Client::TrialWeights(const std::string& job_id, int64_t trial_id) {
  v1::GetTrialWeightsRequest req;
  req.set_job_id(job_id);
  req.set_trial_id(trial_id);
  v1::TrialWeights out;
  auto ctx = Context(options_.deadline_ms);
  UNAS_RETURN_IF_ERROR(FromGrpc(jobs_->GetTrialWeights(ctx.get(), req, &out), "GetTrialWeights"));
  return out.weights();
}

Status Client::Watch(const std::string& job_id, const std::function<bool(const v1::JobEvent&)>& on_event,
                     int max_seconds) {
  v1::WatchJobRequest req;
  req.set_job_id(job_id);
  auto ctx = Context(max_seconds * 1000);
  auto reader = jobs_->WatchJob(ctx.get(), req);
  v1::JobEvent event;
  while (reader->Read(&event)) {
    if (!on_event(event)) {
      ctx->TryCancel();
      break;
    }
    if (event.kind() == v1::JobEvent::JOB_DONE) break;
  }
  const grpc::Status s = reader->Finish();
  if (s.error_code() == grpc::StatusCode::CANCELLED) return Status::Ok();
  return FromGrpc(s, "WatchJob");
}

Result<std::pair<std::string, int>> GrpcTrialSource::Register(const std::string& name, int threads) {
  v1::RegisterWorkerRequest req;
  req.set_name(name);
  req.set_threads(threads);
  v1::RegisterWorkerResponse out;
  auto ctx = client_.Context(client_.deadline_ms());
  UNAS_RETURN_IF_ERROR(FromGrpc(client_.workers().RegisterWorker(ctx.get(), req, &out), "RegisterWorker"));
  return std::make_pair(out.worker_id(), out.heartbeat_interval_ms());
}

Result<std::optional<worker::WorkAssignment>> GrpcTrialSource::Acquire(const std::string& worker_id, int wait_ms) {
  v1::AcquireTrialRequest req;
  req.set_worker_id(worker_id);
  req.set_wait_ms(wait_ms);
  v1::AcquireTrialResponse out;
  auto ctx = client_.Context(wait_ms + client_.deadline_ms());
  UNAS_RETURN_IF_ERROR(FromGrpc(client_.workers().AcquireTrial(ctx.get(), req, &out), "AcquireTrial"));
  if (!out.has_trial()) return std::optional<worker::WorkAssignment>();
  const v1::TrialAssignment& a = out.assignment();
  return std::optional<worker::WorkAssignment>(worker::WorkAssignment{
      a.job_id(), a.trial_id(), a.lease_id(), a.candidate_json(), a.job_spec_json(), a.attempt()});
}

Result<worker::HeartbeatAnswer> GrpcTrialSource::Heartbeat(const std::string& worker_id,
                                                           const std::string& lease_id, double progress) {
  v1::HeartbeatRequest req;
  req.set_worker_id(worker_id);
  req.set_lease_id(lease_id);
  req.set_progress(progress);
  v1::HeartbeatResponse out;
  auto ctx = client_.Context(client_.deadline_ms());
  UNAS_RETURN_IF_ERROR(FromGrpc(client_.workers().Heartbeat(ctx.get(), req, &out), "Heartbeat"));
  return worker::HeartbeatAnswer{out.keep_going(), 0};
}

Result<bool> GrpcTrialSource::Complete(const std::string& worker_id, const std::string& lease_id,
                                       const worker::WorkResult& r) {
  v1::CompleteTrialRequest req;
  req.set_worker_id(worker_id);
  req.set_lease_id(lease_id);
  req.set_succeeded(r.succeeded);
  req.set_released(r.released);
  req.set_error(r.error);
  req.set_weights(r.weights);
  if (!r.pruned_candidate_json.empty()) {
    req.set_pruned_candidate_json(r.pruned_candidate_json);
    v1::Costs* pc = req.mutable_pruned_costs();
    pc->set_params(r.pruned_params);
    pc->set_flash_bytes(r.pruned_flash_bytes);
    pc->set_macs(r.pruned_macs);
    pc->set_peak_sram_bytes(r.pruned_peak_sram_bytes);
    pc->set_build_order_peak_sram_bytes(r.pruned_build_order_peak_sram_bytes);
  }
  v1::Metrics* m = req.mutable_metrics();
  m->set_val_error(r.val_error);
  m->set_test_error(r.test_error);
  m->set_train_seconds(r.train_seconds);
  m->set_samples_per_second(r.samples_per_second);
  m->set_epochs(r.epochs);
  v1::CompleteTrialResponse out;
  auto ctx = client_.Context(client_.deadline_ms());
  UNAS_RETURN_IF_ERROR(FromGrpc(client_.workers().CompleteTrial(ctx.get(), req, &out), "CompleteTrial"));
  return out.accepted();
}

}  // namespace unas::server
