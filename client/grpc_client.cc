#include "client/grpc_client.h"

#include <chrono>
#include <fstream>
#include <sstream>

#include <grpcpp/grpcpp.h>

#include "proto/unas.grpc.pb.h"
#include "data/dataset_pack.h"
#include "proto/proto_convert.h"

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
    case grpc::StatusCode::UNAUTHENTICATED: code = StatusCode::kUnauthenticated; break;
    case grpc::StatusCode::PERMISSION_DENIED: code = StatusCode::kPermissionDenied; break;
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

// A context with the token and a deadline of `ms` from now.
std::unique_ptr<grpc::ClientContext> MakeContext(const ClientOptions& options, int ms) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(ms));
  if (!options.token.empty()) ctx->AddMetadata("authorization", "Bearer " + options.token);
  return ctx;
}

}  // namespace

struct Client::Stubs {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::JobService::Stub> jobs;
  std::unique_ptr<v1::WorkerService::Stub> workers;
  std::unique_ptr<v1::DataService::Stub> data;

  // One unary call with the default deadline: the stub method, its request,
  // and the response to fill.
  template <typename Stub, typename Request, typename Response>
  Status Call(const ClientOptions& options, Stub& stub,
              grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*), const Request& request,
              Response* response, const char* what, int extra_ms = 0) {
    auto ctx = MakeContext(options, options.deadline_ms + extra_ms);
    return FromGrpc((stub.*method)(ctx.get(), request, response), what);
  }

  // The same on the worker service.
  template <typename Request, typename Response>
  Status CallWorker(const ClientOptions& options,
                    grpc::Status (v1::WorkerService::Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Response* response, const char* what, int extra_ms = 0) {
    return Call(options, *workers, method, request, response, what, extra_ms);
  }

  // A JobService call answered with a Job.
  template <typename Request>
  Result<JobView> JobCall(const ClientOptions& options,
                          grpc::Status (v1::JobService::Stub::*method)(grpc::ClientContext*, const Request&, v1::Job*),
                          const Request& request, const char* what) {
    v1::Job out;
    UNAS_RETURN_IF_ERROR(Call(options, *jobs, method, request, &out, what));
    return FromProto(out);
  }
};

Client::Client(ClientOptions options) : options_(std::move(options)), stubs_(std::make_unique<Stubs>()) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Connect(ClientOptions options) {
  std::unique_ptr<Client> c(new Client(options));
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (!options.tls_ca_path.empty()) {
    std::ifstream in(options.tls_ca_path);
    if (!in) return Status::NotFound("cannot read " + options.tls_ca_path);
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
  // gRPC's default receive limit is 4 MiB. A promotion's TrialAssignment
  // carries init weights (at most 3 MiB, server/core/result_validation.h) beside
  // its job spec and candidate (JSON, each at most 4 MiB by
  // base/json_limits.h); TrialWeights and TrialModel carry up to 3 MiB.
  args.SetMaxReceiveMessageSize(12 << 20);
  c->stubs_->channel = grpc::CreateCustomChannel(options.address, creds, args);
  c->stubs_->jobs = v1::JobService::NewStub(c->stubs_->channel);
  c->stubs_->workers = v1::WorkerService::NewStub(c->stubs_->channel);
  c->stubs_->data = v1::DataService::NewStub(c->stubs_->channel);
  return c;
}

Result<JobView> Client::Submit(const std::string& spec_json) {
  v1::SubmitJobRequest req;
  req.set_spec_json(spec_json);
  return stubs_->JobCall(options_, &v1::JobService::Stub::SubmitJob, req, "SubmitJob");
}

Result<JobView> Client::GetJob(const std::string& job_id) {
  v1::GetJobRequest req;
  req.set_job_id(job_id);
  return stubs_->JobCall(options_, &v1::JobService::Stub::GetJob, req, "GetJob");
}

Result<std::vector<JobView>> Client::ListJobs() {
  std::vector<JobView> jobs;
  v1::ListJobsRequest req;
  req.set_page_size(1000);
  // Bounded: a page of 1,000 per call, and no more calls than the first
  // answer's total needs (plus one, for jobs submitted meanwhile).
  int64_t pages_left = 1;
  for (bool first = true; first || (!req.page_token().empty() && pages_left-- > 0); first = false) {
    v1::ListJobsResponse out;
    UNAS_RETURN_IF_ERROR(stubs_->Call(options_, *stubs_->jobs, &v1::JobService::Stub::ListJobs, req, &out, "ListJobs"));
    if (first) pages_left = out.total() / 1000 + 1;
    for (const v1::Job& j : out.jobs()) jobs.push_back(FromProto(j));
    req.set_page_token(out.next_page_token());
  }
  return jobs;
}

Result<JobView> Client::Cancel(const std::string& job_id) {
  v1::CancelJobRequest req;
  req.set_job_id(job_id);
  return stubs_->JobCall(options_, &v1::JobService::Stub::CancelJob, req, "CancelJob");
}

Result<JobView> Client::Finalize(const std::string& job_id, int epochs) {
  v1::FinalizeJobRequest req;
  req.set_job_id(job_id);
  req.set_epochs(epochs);
  return stubs_->JobCall(options_, &v1::JobService::Stub::FinalizeJob, req, "FinalizeJob");
}

Result<TrialPage> Client::ListTrials(const std::string& job_id, std::optional<TrialStatus> status,
                                     const std::string& page_token, int page_size) {
  v1::ListTrialsRequest req;
  req.set_job_id(job_id);
  req.set_status(status ? static_cast<v1::TrialStatus>(static_cast<int>(*status)) : v1::TRIAL_STATUS_UNSPECIFIED);
  req.set_page_token(page_token);
  req.set_page_size(page_size);
  v1::ListTrialsResponse out;
  UNAS_RETURN_IF_ERROR(
      stubs_->Call(options_, *stubs_->jobs, &v1::JobService::Stub::ListTrials, req, &out, "ListTrials"));
  TrialPage page;
  for (const v1::Trial& t : out.trials()) page.trials.push_back(FromProto(t));
  page.next_page_token = out.next_page_token();
  return page;
}

template <typename Request, typename Response, typename Method>
Status Client::CallForTrial(Method method, const char* name, const std::string& job_id, int64_t trial_id,
                            Response* out) {
  Request req;
  req.set_job_id(job_id);
  req.set_trial_id(trial_id);
  return stubs_->Call(options_, *stubs_->jobs, method, req, out, name);
}

Result<TrialDetail> Client::GetTrial(const std::string& job_id, int64_t trial_id) {
  v1::TrialDetail out;
  UNAS_RETURN_IF_ERROR(
      CallForTrial<v1::GetTrialRequest>(&v1::JobService::Stub::GetTrial, "GetTrial", job_id, trial_id, &out));
  TrialDetail detail;
  detail.trial = FromProto(out.trial());
  detail.export_json = out.export_json();
  return detail;
}

Result<ParetoView> Client::Pareto(const std::string& job_id) {
  v1::GetParetoFrontRequest req;
  req.set_job_id(job_id);
  v1::ParetoFront out;
  UNAS_RETURN_IF_ERROR(
      stubs_->Call(options_, *stubs_->jobs, &v1::JobService::Stub::GetParetoFront, req, &out, "GetParetoFront"));
  return FromProto(out);
}

Result<std::string> Client::TrialWeights(const std::string& job_id, int64_t trial_id) {
  v1::TrialWeights out;
  UNAS_RETURN_IF_ERROR(CallForTrial<v1::GetTrialWeightsRequest>(&v1::JobService::Stub::GetTrialWeights,
                                                                "GetTrialWeights", job_id, trial_id, &out));
  return out.weights();
}

Result<std::string> Client::TrialModelTflite(const std::string& job_id, int64_t trial_id) {
  v1::TrialModel out;
  UNAS_RETURN_IF_ERROR(CallForTrial<v1::GetTrialModelRequest>(&v1::JobService::Stub::GetTrialModel, "GetTrialModel",
                                                              job_id, trial_id, &out));
  return out.tflite();
}

Status Client::Watch(const std::string& job_id, const std::function<bool(const JobEvent&)>& on_event,
                     int max_seconds) {
  v1::WatchJobRequest req;
  req.set_job_id(job_id);
  auto ctx = MakeContext(options_, max_seconds * 1000);
  auto reader = stubs_->jobs->WatchJob(ctx.get(), req);
  v1::JobEvent event;
  while (reader->Read(&event)) {
    if (!on_event(FromProto(event))) {
      ctx->TryCancel();
      break;
    }
    if (event.kind() == v1::JobEvent::JOB_DONE) break;
  }
  const grpc::Status s = reader->Finish();
  if (s.error_code() == grpc::StatusCode::CANCELLED) return Status::Ok();
  return FromGrpc(s, "WatchJob");
}

Result<DatasetRecord> Client::UploadDataset(const DatasetUpload& upload) {
  UNAS_ASSIGN_OR_RETURN(data::PackReader pack, data::PackReader::Open(upload.path));
  UNAS_ASSIGN_OR_RETURN(std::string sha256, pack.Sha256Hex());
  constexpr int64_t kChunkBytes = 1 << 20;
  auto ctx = MakeContext(options_, options_.deadline_ms + static_cast<int>(pack.total_bytes() / kChunkBytes) * 1000);
  v1::Dataset out;
  auto writer = stubs_->data->UploadDataset(ctx.get(), &out);
  DatasetUploadHeader declared;
  declared.name = upload.name;
  declared.sha256 = sha256;
  declared.kind = upload.kind;
  declared.entry = pack.entry();
  declared.num_classes = upload.num_classes;
  declared.pack_bytes = pack.total_bytes();
  v1::UploadDatasetRequest header;
  ToProto(declared, &header);
  Status read = Status::Ok();
  // A Write refused means the server has answered (an error, or content it
  // already holds): Finish says which.
  if (writer->Write(header)) {
    for (int64_t offset = 0; offset < pack.total_bytes(); offset += kChunkBytes) {
      auto bytes = pack.Read(offset, kChunkBytes);
      if (!bytes.ok()) {
        read = bytes.status();
        ctx->TryCancel();
        break;
      }
      v1::UploadDatasetRequest chunk;
      chunk.set_chunk(std::move(*bytes));
      if (!writer->Write(chunk)) break;
    }
    writer->WritesDone();
  }
  const grpc::Status s = writer->Finish();
  UNAS_RETURN_IF_ERROR(read);
  UNAS_RETURN_IF_ERROR(FromGrpc(s, "UploadDataset"));
  return FromProto(out);
}

Result<std::vector<DatasetRecord>> Client::ListDatasets() {
  v1::ListDatasetsResponse out;
  UNAS_RETURN_IF_ERROR(stubs_->Call(options_, *stubs_->data, &v1::DataService::Stub::ListDatasets,
                                    v1::ListDatasetsRequest(), &out, "ListDatasets"));
  std::vector<DatasetRecord> all;
  for (const v1::Dataset& d : out.datasets()) all.push_back(FromProto(d));
  return all;
}

Status Client::RemoveDataset(const std::string& name) {
  v1::RemoveDatasetRequest req;
  req.set_name(name);
  v1::RemoveDatasetResponse out;
  return stubs_->Call(options_, *stubs_->data, &v1::DataService::Stub::RemoveDataset, req, &out, "RemoveDataset");
}

Status Client::FetchDataset(const std::string& sha256, int64_t offset,
                            const std::function<Status(int64_t, const std::string&, int64_t)>& on_chunk,
                            int deadline_ms) {
  v1::FetchDatasetRequest req;
  req.set_sha256(sha256);
  req.set_offset(offset);
  auto ctx = MakeContext(options_, deadline_ms);
  auto reader = stubs_->data->FetchDataset(ctx.get(), req);
  v1::DatasetChunk chunk;
  Status failed = Status::Ok();
  while (failed.ok() && reader->Read(&chunk)) {
    if (chunk.offset() != offset) {
      failed = Status::Invalid("fetch: a chunk at " + std::to_string(chunk.offset()) + ", expected " +
                               std::to_string(offset));
    } else if (data::Sha256Hex(chunk.data()) != chunk.data_sha256()) {
      failed = Status::Invalid("fetch: the chunk at " + std::to_string(offset) + " does not match its SHA-256");
    } else {
      failed = on_chunk(offset, chunk.data(), chunk.pack_bytes());
      offset += static_cast<int64_t>(chunk.data().size());
    }
  }
  if (!failed.ok()) ctx->TryCancel();
  const grpc::Status s = reader->Finish();
  UNAS_RETURN_IF_ERROR(failed);
  return FromGrpc(s, "FetchDataset");
}

Result<std::pair<std::string, int>> GrpcTrialSource::Register(const std::string& name, int threads) {
  v1::RegisterWorkerRequest req;
  req.set_name(name);
  req.set_threads(threads);
  v1::RegisterWorkerResponse out;
  UNAS_RETURN_IF_ERROR(client_.stubs_->CallWorker(client_.options_, &v1::WorkerService::Stub::RegisterWorker, req,
                                                  &out, "RegisterWorker"));
  return std::make_pair(out.worker_id(), out.heartbeat_interval_ms());
}

Result<std::optional<worker::WorkAssignment>> GrpcTrialSource::Acquire(const std::string& worker_id, int wait_ms) {
  v1::AcquireTrialRequest req;
  req.set_worker_id(worker_id);
  req.set_wait_ms(wait_ms);
  v1::AcquireTrialResponse out;
  UNAS_RETURN_IF_ERROR(client_.stubs_->CallWorker(client_.options_, &v1::WorkerService::Stub::AcquireTrial, req, &out,
                                                  "AcquireTrial", wait_ms));
  if (!out.has_trial()) return std::optional<worker::WorkAssignment>();
  UNAS_ASSIGN_OR_RETURN(worker::WorkAssignment assignment, FromProto(out.assignment()));
  return std::optional<worker::WorkAssignment>(std::move(assignment));
}

Result<worker::HeartbeatAnswer> GrpcTrialSource::Heartbeat(const std::string& worker_id,
                                                           const std::string& lease_id, double progress) {
  v1::HeartbeatRequest req;
  req.set_worker_id(worker_id);
  req.set_lease_id(lease_id);
  req.set_progress(progress);
  v1::HeartbeatResponse out;
  UNAS_RETURN_IF_ERROR(
      client_.stubs_->CallWorker(client_.options_, &v1::WorkerService::Stub::Heartbeat, req, &out, "Heartbeat"));
  worker::HeartbeatAnswer answer;
  answer.keep_going = out.keep_going();
  return answer;
}

Result<bool> GrpcTrialSource::Complete(const std::string& worker_id, const std::string& lease_id,
                                       const worker::TrialResult& result) {
  v1::CompleteTrialRequest req;
  ToProto(result, &req);
  req.set_worker_id(worker_id);
  req.set_lease_id(lease_id);
  v1::CompleteTrialResponse out;
  UNAS_RETURN_IF_ERROR(
      client_.stubs_->CallWorker(client_.options_, &v1::WorkerService::Stub::CompleteTrial, req, &out, "CompleteTrial"));
  return out.accepted();
}

Result<worker::CompleteAnswer> GrpcTrialSource::CompleteAndAcquire(const std::string& worker_id,
                                                                   const std::string& lease_id,
                                                                   const worker::TrialResult& result, int wait_ms) {
  v1::CompleteTrialRequest req;
  ToProto(result, &req);
  req.set_worker_id(worker_id);
  req.set_lease_id(lease_id);
  req.set_acquire_next(true);
  req.set_next_wait_ms(wait_ms);
  v1::CompleteTrialResponse out;
  UNAS_RETURN_IF_ERROR(client_.stubs_->CallWorker(client_.options_, &v1::WorkerService::Stub::CompleteTrial, req,
                                                  &out, "CompleteTrial", wait_ms));
  worker::CompleteAnswer answer;
  answer.accepted = out.accepted();
  if (!out.has_next()) return answer;
  answer.next_answered = true;
  if (!out.next().has_trial()) return answer;
  UNAS_ASSIGN_OR_RETURN(worker::WorkAssignment assignment, FromProto(out.next().assignment()));
  answer.next = std::move(assignment);
  return answer;
}

}  // namespace unas::server
