#include "server/grpc/grpc_service.h"

#include <fstream>
#include <optional>
#include <utility>
#include <sstream>

#include <grpcpp/grpcpp.h>

#include "base/json_limits.h"
#include "data/dataset_pack.h"
#include "proto/unas.grpc.pb.h"
#include "server/core/auth.h"
#include "server/core/rejection_log.h"
#include "server/core/json_convert.h"
#include "proto/proto_convert.h"
#include "server/core/result_validation.h"

namespace unas::server {
namespace {

// The message travels in trailing metadata (8 KiB by default): one that
// echoes a huge request value would arrive as "metadata size exceeds limit"
// instead, so it is cut first.
constexpr size_t kMaxStatusMessageChars = 1000;

grpc::Status ToGrpc(const Status& s) {
  const std::string message = QuotePrefix(s.message(), kMaxStatusMessageChars);
  switch (s.code()) {
    case StatusCode::kOk: return grpc::Status::OK;
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange: return {grpc::StatusCode::INVALID_ARGUMENT, message};
    case StatusCode::kNotFound: return {grpc::StatusCode::NOT_FOUND, message};
    case StatusCode::kFailedPrecondition: return {grpc::StatusCode::FAILED_PRECONDITION, message};
    case StatusCode::kResourceExhausted: return {grpc::StatusCode::RESOURCE_EXHAUSTED, message};
    case StatusCode::kInternal: return {grpc::StatusCode::INTERNAL, message};
    case StatusCode::kUnauthenticated: return {grpc::StatusCode::UNAUTHENTICATED, message};
    case StatusCode::kPermissionDenied: return {grpc::StatusCode::PERMISSION_DENIED, message};
  }
  return {grpc::StatusCode::UNKNOWN, message};
}

// A coordinator answer as the RPC's response, or its error.
template <typename T, typename Response>
grpc::Status Reply(const Result<T>& result, Response* out) {
  if (!result.ok()) return ToGrpc(result.status());
  ToProto(*result, out);
  return grpc::Status::OK;
}

// A coordinator's bytes (a trial's weights or .tflite) into the RPC's
// response through `set`, or its error.
template <typename Set>
grpc::Status ReplyBytes(Result<std::string> result, Set set) {
  if (!result.ok()) return ToGrpc(result.status());
  set(std::move(result).value());
  return grpc::Status::OK;
}

// The bearer token check of every call; a refused call is logged
// (rate-limited per source, server/core/rejection_log.h).
class Auth {
 public:
  Auth(std::string token, RejectionLog* rejections) : token_(std::move(token)), rejections_(rejections) {}
  grpc::Status Check(const grpc::ServerContext* context, const char* call) const {
    if (token_.empty()) return grpc::Status::OK;
    const auto& md = context->client_metadata();
    auto it = md.find("authorization");
    const char* refused = nullptr;
    if (it == md.end()) {
      refused = "missing bearer token (authorization metadata)";
    } else if (!BearerMatches(std::string(it->second.data(), it->second.size()), token_)) {
      refused = "invalid bearer token";
    }
    if (refused == nullptr) return grpc::Status::OK;
    rejections_->Refused("grpc", PeerAddress(context->peer()), call, refused);
    return {grpc::StatusCode::UNAUTHENTICATED, refused};
  }

 private:
  std::string token_;
  RejectionLog* rejections_;
};

// `__func__` names the RPC (the handler has its name).
#define UNAS_CHECK_AUTH(context)                      \
  do {                                                \
    grpc::Status _auth = auth_.Check(context, __func__); \
    if (!_auth.ok()) return _auth;                    \
  } while (0)

class JobServiceImpl final : public v1::JobService::Service {
 public:
  JobServiceImpl(Coordinator* c, const Auth& auth) : c_(c), auth_(auth) {}

  grpc::Status SubmitJob(grpc::ServerContext* ctx, const v1::SubmitJobRequest* req, v1::Job* out) override {
    UNAS_CHECK_AUTH(ctx);
    return Reply(c_->Submit(req->spec_json()), out);
  }
  grpc::Status GetJob(grpc::ServerContext* ctx, const v1::GetJobRequest* req, v1::Job* out) override {
    UNAS_CHECK_AUTH(ctx);
    return Reply(c_->GetJob(req->job_id()), out);
  }
  grpc::Status ListJobs(grpc::ServerContext* ctx, const v1::ListJobsRequest* req,
                        v1::ListJobsResponse* out) override {
    UNAS_CHECK_AUTH(ctx);
    auto page = c_->ListJobPage(req->page_token(), req->page_size(), req->newest_first());
    if (!page.ok()) return ToGrpc(page.status());
    for (const JobView& v : page->jobs) ToProto(v, out->add_jobs());
    out->set_next_page_token(page->next_page_token);
    out->set_total(page->total);
    return grpc::Status::OK;
  }
  grpc::Status CancelJob(grpc::ServerContext* ctx, const v1::CancelJobRequest* req, v1::Job* out) override {
    UNAS_CHECK_AUTH(ctx);
    return Reply(c_->Cancel(req->job_id()), out);
  }
  grpc::Status FinalizeJob(grpc::ServerContext* ctx, const v1::FinalizeJobRequest* req, v1::Job* out) override {
    UNAS_CHECK_AUTH(ctx);
    FinalizeOptions options;
    options.epochs = req->epochs();
    return Reply(c_->Finalize(req->job_id(), options), out);
  }
  grpc::Status WatchJob(grpc::ServerContext* ctx, const v1::WatchJobRequest* req,
                        grpc::ServerWriter<v1::JobEvent>* writer) override {
    UNAS_CHECK_AUTH(ctx);
    auto sub = c_->Watch(req->job_id());
    if (!sub.ok()) return ToGrpc(sub.status());
    JobEvent event;
    while (!ctx->IsCancelled()) {
      if (!(*sub)->Next(&event, 500)) {
        if ((*sub)->closed()) break;
        continue;
      }
      v1::JobEvent out;
      ToProto(event, &out);
      if (!writer->Write(out)) break;
      if (event.kind == JobEvent::Kind::kJobDone) break;
    }
    return grpc::Status::OK;
  }
  grpc::Status ListTrials(grpc::ServerContext* ctx, const v1::ListTrialsRequest* req,
                          v1::ListTrialsResponse* out) override {
    UNAS_CHECK_AUTH(ctx);
    auto page = c_->ListTrials(req->job_id(), static_cast<int>(req->status()), req->page_token(), req->page_size());
    if (!page.ok()) return ToGrpc(page.status());
    for (const TrialRecord& t : page->trials) ToProto(t, out->add_trials());
    out->set_next_page_token(page->next_page_token);
    return grpc::Status::OK;
  }
  grpc::Status GetTrial(grpc::ServerContext* ctx, const v1::GetTrialRequest* req, v1::TrialDetail* out) override {
    UNAS_CHECK_AUTH(ctx);
    auto job = c_->GetJob(req->job_id());
    if (!job.ok()) return ToGrpc(job.status());
    auto trial = c_->GetTrial(req->job_id(), req->trial_id());
    if (!trial.ok()) return ToGrpc(trial.status());
    auto spec = c_->GetSpec(req->job_id());
    if (!spec.ok()) return ToGrpc(spec.status());
    std::string model;  // the export's input contract is read from the trial's model
    if (trial->has_tflite) {
      auto stored = c_->TrialModelTflite(req->job_id(), req->trial_id());
      if (!stored.ok()) return ToGrpc(stored.status());
      model = std::move(*stored);
    }
    auto document = TrialExportJson(*job, *spec, *trial, c_->options(), model);
    if (!document.ok()) return ToGrpc(document.status());
    ToProto(*trial, out->mutable_trial());
    out->set_export_json(document->dump(2));
    return grpc::Status::OK;
  }
  grpc::Status GetParetoFront(grpc::ServerContext* ctx, const v1::GetParetoFrontRequest* req,
                              v1::ParetoFront* out) override {
    UNAS_CHECK_AUTH(ctx);
    return Reply(c_->Pareto(req->job_id()), out);
  }
  grpc::Status GetTrialWeights(grpc::ServerContext* ctx, const v1::GetTrialWeightsRequest* req,
                               v1::TrialWeights* out) override {
    UNAS_CHECK_AUTH(ctx);
    return ReplyBytes(c_->TrialWeights(req->job_id(), req->trial_id()),
                      [out](std::string weights) { out->set_weights(std::move(weights)); });
  }
  grpc::Status GetTrialModel(grpc::ServerContext* ctx, const v1::GetTrialModelRequest* req,
                             v1::TrialModel* out) override {
    UNAS_CHECK_AUTH(ctx);
    return ReplyBytes(c_->TrialModelTflite(req->job_id(), req->trial_id()),
                      [out](std::string tflite) { out->set_tflite(std::move(tflite)); });
  }

 private:
  Coordinator* c_;
  const Auth& auth_;
};

class WorkerServiceImpl final : public v1::WorkerService::Service {
 public:
  WorkerServiceImpl(Coordinator* c, const Auth& auth) : c_(c), auth_(auth) {}

  grpc::Status RegisterWorker(grpc::ServerContext* ctx, const v1::RegisterWorkerRequest* req,
                              v1::RegisterWorkerResponse* out) override {
    UNAS_CHECK_AUTH(ctx);
    if (Status name = ValidateWorkerName(req->name()); !name.ok()) return ToGrpc(name);
    out->set_worker_id(c_->RegisterWorker(req->name()));
    out->set_heartbeat_interval_ms(static_cast<int32_t>(c_->options().heartbeat_interval_ms));
    out->set_lease_timeout_ms(static_cast<int32_t>(c_->options().lease_timeout_ms));
    return grpc::Status::OK;
  }
  grpc::Status AcquireTrial(grpc::ServerContext* ctx, const v1::AcquireTrialRequest* req,
                            v1::AcquireTrialResponse* out) override {
    UNAS_CHECK_AUTH(ctx);
    if (req->wait_ms() < 0 || req->wait_ms() > 30000) {
      return {grpc::StatusCode::INVALID_ARGUMENT, "wait_ms: must be within 0..30000"};
    }
    // NOT_FOUND makes a worker register again (after a coordinator restart);
    // PERMISSION_DENIED tells it to stop, saying why.
    if (Status may = c_->CheckWorker(req->worker_id()); !may.ok()) return ToGrpc(may);
    AcquireInto(ctx, req->worker_id(), req->wait_ms(), out);
    return grpc::Status::OK;
  }
  grpc::Status Heartbeat(grpc::ServerContext* ctx, const v1::HeartbeatRequest* req,
                         v1::HeartbeatResponse* out) override {
    UNAS_CHECK_AUTH(ctx);
    const HeartbeatReply r = c_->Heartbeat(req->worker_id(), req->lease_id(), req->progress());
    out->set_keep_going(r.keep_going);
    out->set_lease_expires_unix_ms(r.lease_expires_unix_ms);
    return grpc::Status::OK;
  }
  grpc::Status CompleteTrial(grpc::ServerContext* ctx, const v1::CompleteTrialRequest* req,
                             v1::CompleteTrialResponse* out) override {
    UNAS_CHECK_AUTH(ctx);
    if (req->acquire_next() && (req->next_wait_ms() < 0 || req->next_wait_ms() > 30000)) {
      return {grpc::StatusCode::INVALID_ARGUMENT, "next_wait_ms: must be within 0..30000"};
    }
    auto accepted = c_->Complete(req->worker_id(), req->lease_id(), FromProto(*req));
    if (!accepted.ok()) return ToGrpc(accepted.status());
    out->set_accepted(*accepted);
    // The next trial in the same round trip. A worker that may not take work
    // gets no `next` and learns why from its AcquireTrial; the result above
    // stands either way.
    if (req->acquire_next() && c_->CheckWorker(req->worker_id()).ok()) {
      AcquireInto(ctx, req->worker_id(), req->next_wait_ms(), out->mutable_next());
    }
    return grpc::Status::OK;
  }

 private:
  // Waits up to wait_ms (0..30000), bounded by the client's own deadline so
  // the answer arrives in time, for a trial for `worker_id`.
  void AcquireInto(const grpc::ServerContext* ctx, const std::string& worker_id, int64_t wait_ms,
                   v1::AcquireTrialResponse* out) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(ctx->deadline() -
                                                                            std::chrono::system_clock::now());
    const int64_t wait = std::max<int64_t>(0, std::min<int64_t>(wait_ms, left.count() - 200));
    auto a = c_->Acquire(worker_id, wait);
    out->set_has_trial(a.has_value());
    if (a) ToProto(*a, out->mutable_assignment());
  }

  Coordinator* c_;
  const Auth& auth_;
};

// Registered data sets: upload, list, remove, and the chunked, resumable
// download remote workers fetch them with (dataset_registry.h).
class DataServiceImpl final : public v1::DataService::Service {
 public:
  DataServiceImpl(Coordinator* c, const Auth& auth) : c_(c), auth_(auth) {}

  grpc::Status UploadDataset(grpc::ServerContext* ctx, grpc::ServerReader<v1::UploadDatasetRequest>* reader,
                             v1::Dataset* out) override {
    UNAS_CHECK_AUTH(ctx);
    if (!c_->datasets()) return ToGrpc(Status::FailedPrecondition("this coordinator keeps no data sets"));
    v1::UploadDatasetRequest first;
    if (!reader->Read(&first)) return ToGrpc(Status::Invalid("upload: no header message"));
    const DatasetUploadHeader header = FromProto(first);
    std::optional<std::string> pending;
    if (!first.chunk().empty()) pending = first.chunk();
    ChunkSource next = [&]() -> Result<std::optional<std::string>> {
      if (pending) return std::exchange(pending, std::nullopt);
      if (ctx->IsCancelled()) return Status::Invalid("upload: cancelled by the client");
      v1::UploadDatasetRequest message;
      if (!reader->Read(&message)) return std::optional<std::string>();
      return std::optional<std::string>(std::move(*message.mutable_chunk()));
    };
    return Reply(c_->datasets()->Add(header, next, SystemClock().NowUnixMs()), out);
  }
  grpc::Status ListDatasets(grpc::ServerContext* ctx, const v1::ListDatasetsRequest*,
                            v1::ListDatasetsResponse* out) override {
    UNAS_CHECK_AUTH(ctx);
    if (!c_->datasets()) return grpc::Status::OK;
    auto all = c_->datasets()->List();
    if (!all.ok()) return ToGrpc(all.status());
    for (const DatasetRecord& d : *all) ToProto(d, out->add_datasets());
    return grpc::Status::OK;
  }
  grpc::Status RemoveDataset(grpc::ServerContext* ctx, const v1::RemoveDatasetRequest* req,
                             v1::RemoveDatasetResponse*) override {
    UNAS_CHECK_AUTH(ctx);
    return ToGrpc(c_->RemoveDataset(req->name()));
  }
  grpc::Status FetchDataset(grpc::ServerContext* ctx, const v1::FetchDatasetRequest* req,
                            grpc::ServerWriter<v1::DatasetChunk>* writer) override {
    UNAS_CHECK_AUTH(ctx);
    if (!c_->datasets()) return ToGrpc(Status::NotFound("this coordinator keeps no data sets"));
    constexpr int64_t kChunkBytes = 1 << 20;
    int64_t offset = req->offset();
    int64_t pack_bytes = 0;
    do {  // bounded: offset grows by a chunk each pass up to the pack's length
      if (ctx->IsCancelled()) return grpc::Status::CANCELLED;
      auto bytes = c_->datasets()->ReadPack(req->sha256(), offset, kChunkBytes, &pack_bytes);
      if (!bytes.ok()) return ToGrpc(bytes.status());
      if (bytes->empty()) break;
      v1::DatasetChunk chunk;
      chunk.set_offset(offset);
      chunk.set_data_sha256(data::Sha256Hex(*bytes));
      chunk.set_pack_bytes(pack_bytes);
      offset += static_cast<int64_t>(bytes->size());
      chunk.set_data(std::move(*bytes));
      if (!writer->Write(chunk)) return grpc::Status::CANCELLED;
    } while (offset < pack_bytes);
    return grpc::Status::OK;
  }

 private:
  Coordinator* c_;
  const Auth& auth_;
};

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status(StatusCode::kNotFound, "cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

struct GrpcServer::Impl {
  Impl(Coordinator* c, std::string token, RejectionLogOptions rejection_options)
      : rejections(&clock, std::move(rejection_options)),
        auth(std::move(token), &rejections),
        jobs(c, auth),
        workers(c, auth),
        data(c, auth) {}
  SystemClock clock;
  RejectionLog rejections;
  Auth auth;
  JobServiceImpl jobs;
  WorkerServiceImpl workers;
  DataServiceImpl data;
  std::unique_ptr<grpc::Server> server;
};

GrpcServer::GrpcServer() = default;

Result<std::unique_ptr<GrpcServer>> GrpcServer::Start(Coordinator* coordinator, GrpcServerOptions options) {
  std::unique_ptr<GrpcServer> server(new GrpcServer());
  server->impl_ = std::make_unique<Impl>(coordinator, options.token, options.rejections);
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
  if (!options.tls_cert_path.empty() || !options.tls_key_path.empty()) {
    UNAS_ASSIGN_OR_RETURN(std::string cert, ReadFile(options.tls_cert_path));
    UNAS_ASSIGN_OR_RETURN(std::string key, ReadFile(options.tls_key_path));
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({key, cert});
    creds = grpc::SslServerCredentials(ssl);
  }
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.address, creds, &server->port_);
  builder.RegisterService(&server->impl_->jobs);
  builder.RegisterService(&server->impl_->workers);
  builder.RegisterService(&server->impl_->data);
  // Request size limit: a CompleteTrial carries weights and the int8 model,
  // each at most 3 MiB (server/core/result_validation.h), plus small fields;
  // a data set upload's chunks are at most 4 MiB.
  builder.SetMaxReceiveMessageSize(7 << 20);
  server->impl_->server = builder.BuildAndStart();
  if (!server->impl_->server || server->port_ == 0) {
    return Status(StatusCode::kFailedPrecondition, "cannot listen on " + options.address);
  }
  return server;
}

GrpcServer::~GrpcServer() { Shutdown(); }

void GrpcServer::Shutdown() {
  if (impl_ && impl_->server) {
    impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    impl_->server->Wait();
    impl_->server.reset();
  }
}

}  // namespace unas::server
