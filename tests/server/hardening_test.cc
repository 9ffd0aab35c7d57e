// Hostile input at the coordinator's edges, in one process: a real gRPC
// server and a fake worker (a real gRPC client sending each kind of bad
// result), 100,000-deep JSON over gRPC, a deep candidate stored by an older
// coordinator read back through the REST handlers, and CSRF with --no-auth.
#include <chrono>
#include <cmath>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "costmodel/cost_model.h"
#include "costmodel/network.h"
#include "server/core/coordinator.h"
#include "client/grpc_client.h"
#include "server/grpc/grpc_service.h"
#include "proto/unas.grpc.pb.h"
#include "server/http/http_api.h"
#include "tests/temp_dir.h"
#include "worker/worker_loop.h"

namespace unas::server {
namespace {

const std::string kToken = "hardening-token-0123456789";
const InputSpec kInput{8, 8, 1, 10};

std::string Nested(int depth) { return std::string(depth, '[') + "1" + std::string(depth, ']'); }

std::string Spec(bool prune) {
  return std::string(R"({"name":"h","dataset":"synthetic","seed":3,"budget":{"trials":20},)") +
         (prune ? R"("training":{"epochs":3},"pruning":{"target":"peak_sram","fraction":0.5,"epoch":1},)"
                : R"("evaluator":"synthetic",)") +
         R"("bounds":{"val_error":0.5,"peak_sram_bytes":64000,"flash_bytes":64000,"macs":30000000},
            "constraints":{"peak_sram_bytes":64000,"flash_bytes":64000}})";
}

// A worker's evaluator that counts its calls in `*calls` and answers
// `result` to each.
worker::EvaluateFn Counting(int* calls, TrialResult result) {
  return [calls, result](const worker::WorkAssignment&, const std::atomic<bool>&, const std::function<void(double)>&) {
    ++*calls;
    return result;
  };
}

class HardeningTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void TearDown() override { Stop(); }

  void Start() {
    auto store = Store::Open(dir_ / "unas.db");
    ASSERT_TRUE(store.ok()) << store.status().message();
    CoordinatorOptions o;
    o.max_attempts = 3;
    o.max_unfinished_jobs = max_unfinished_jobs_;
    o.expiry_check_interval_ms = 3'600'000;
    o.resolve_input = [](const data::DatasetSpec&) -> Result<InputSpec> { return kInput; };
    auto c = Coordinator::Open(std::move(store).value(), &clock_, o);
    ASSERT_TRUE(c.ok()) << c.status().message();
    coordinator_ = std::move(c).value();
    GrpcServerOptions g;
    g.address = "127.0.0.1:0";
    g.token = kToken;
    auto grpc = GrpcServer::Start(coordinator_.get(), g);
    ASSERT_TRUE(grpc.ok()) << grpc.status().message();
    grpc_ = std::move(grpc).value();
    ClientOptions co;
    co.address = "127.0.0.1:" + std::to_string(grpc_->port());
    co.token = kToken;
    co.deadline_ms = 10000;
    client_ = Client::Connect(co).value();
    // The fake worker speaks the wire protocol itself, with its own stub.
    channel_ = grpc::CreateChannel(co.address, grpc::InsecureChannelCredentials());
    workers_ = v1::WorkerService::NewStub(channel_);
  }
  void Stop() {
    workers_.reset();
    channel_.reset();
    client_.reset();
    if (grpc_) grpc_->Shutdown();
    grpc_.reset();
    coordinator_.reset();
  }

  v1::WorkerService::Stub& workers() { return *workers_; }
  std::unique_ptr<grpc::ClientContext> Context(int deadline_ms) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
    ctx->AddMetadata("authorization", "Bearer " + kToken);
    return ctx;
  }

  std::string Register(const std::string& name = "fake") {
    v1::RegisterWorkerRequest req;
    req.set_name(name);
    v1::RegisterWorkerResponse out;
    const grpc::Status s = workers().RegisterWorker(Context(5000).get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.worker_id();
  }
  grpc::Status Acquire(const std::string& worker_id, v1::AcquireTrialResponse* out) {
    v1::AcquireTrialRequest req;
    req.set_worker_id(worker_id);
    req.set_wait_ms(0);
    return workers().AcquireTrial(Context(5000).get(), req, out);
  }
  // A result the synthetic evaluator would give: plausible in every field.
  v1::CompleteTrialRequest GoodResult(const std::string& worker_id, const v1::TrialAssignment& a) {
    v1::CompleteTrialRequest req;
    req.set_worker_id(worker_id);
    req.set_lease_id(a.lease_id());
    req.set_succeeded(true);
    req.mutable_metrics()->set_val_error(0.25);
    req.mutable_metrics()->set_test_error(0.3);
    req.mutable_metrics()->set_train_seconds(1.5);
    req.mutable_metrics()->set_samples_per_second(100);
    req.mutable_metrics()->set_epochs(3);
    return req;
  }
  // Sets the pruned network to the candidate itself with the costs the
  // coordinator computes for it.
  void PrunedAsIs(const v1::TrialAssignment& a, v1::CompleteTrialRequest* req) {
    const Network net = BuildNetwork(ParseCandidate(a.candidate_json()).value(), kInput).value();
    const CostSummary c = SummariseCosts(net, Accounting::kTflm).value();
    req->set_pruned_candidate_json(a.candidate_json());
    v1::Costs* p = req->mutable_pruned_costs();
    p->set_params(c.params);
    p->set_flash_bytes(c.flash_bytes);
    p->set_macs(c.macs);
    p->set_peak_sram_bytes(c.peak_sram_bytes);
    p->set_build_order_peak_sram_bytes(c.build_order_peak_bytes);
  }
  grpc::Status Complete(const v1::CompleteTrialRequest& req, v1::CompleteTrialResponse* out) {
    return workers().CompleteTrial(Context(10000).get(), req, out);
  }

  testing::TempDir dir_{"hardening"};
  int64_t max_unfinished_jobs_ = 100;
  ManualClock clock_;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<GrpcServer> grpc_;
  std::unique_ptr<Client> client_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::WorkerService::Stub> workers_;
};

TEST_F(HardeningTest, HundredThousandDeepSpecOverGrpcIsRefusedNamingTheLimit) {
  auto job = client_->Submit(R"({"objectives":)" + Nested(100000) + "}");
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), StatusCode::kInvalidArgument);
  // The message names the limit and quotes nothing of the nesting.
  EXPECT_EQ(job.status().message(), "job: JSON nests deeper than 64 levels (at byte 77)");
  // 200,000 deep (the size that used to crash gRPC's SubmitJob) too.
  EXPECT_EQ(client_->Submit(Nested(200000)).status().message(), "job: JSON nests deeper than 64 levels (at byte 64)");
  // A long bad value is quoted as a short prefix, so the message fits gRPC's metadata.
  auto long_name = client_->Submit(R"({"dataset":")" + std::string(1 << 20, 'd') + R"("})");
  EXPECT_EQ(long_name.status().message(), "dataset: '" + std::string(80, 'd') +
                                              "...' is not one of fashion-mnist, synthetic, idx:DIR[:CLASSES], cifar10:DIR, "
                                              "folder:DIR, csv:FILE, csv:DIR, speech_commands:DIR");
  // Any message that echoes a request value is cut to fit gRPC's metadata.
  auto no_job = client_->GetJob(std::string(1 << 20, 'j'));
  EXPECT_EQ(no_job.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(no_job.status().message(), "no job '" + std::string(992, 'j') + "...");
  // The coordinator still serves.
  EXPECT_TRUE(client_->ListJobs()->empty());
  EXPECT_TRUE(client_->Submit(Spec(false)).ok());
}

TEST_F(HardeningTest, WorkerNamesAreLimitedAndOnlyRegisteredWorkersGetTrials) {
  ASSERT_TRUE(client_->Submit(Spec(false)).ok());
  v1::RegisterWorkerRequest req;
  req.set_name(std::string(3 << 20, 'n'));
  v1::RegisterWorkerResponse reg;
  grpc::Status s = workers().RegisterWorker(Context(5000).get(), req, &reg);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "name: must be 1 to 128 bytes, got 3145728");
  req.set_name("bad\nname");
  s = workers().RegisterWorker(Context(5000).get(), req, &reg);
  EXPECT_EQ(s.error_message(), "name: 'bad\nname' contains a control character");

  v1::AcquireTrialResponse out;
  s = Acquire("w-never-registered", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "worker 'w-never-registered' is not registered (call RegisterWorker first)");
  EXPECT_FALSE(out.has_trial());
  EXPECT_FALSE(coordinator_->Acquire("w-never-registered", 0).has_value());  // the core refuses too
  ASSERT_TRUE(Acquire(Register(), &out).ok());
  EXPECT_TRUE(out.has_trial());
}

struct BadResult {
  const char* what;
  std::function<void(v1::CompleteTrialRequest*)> spoil;
  std::string expected;
};

TEST_F(HardeningTest, EachKindOfBadResultIsRefusedAndNothingOfItIsStored) {
  ASSERT_TRUE(client_->Submit(Spec(false)).ok());
  const std::string w = Register();
  const std::vector<BadResult> cases = {
      {"negative error", [](auto* r) { r->mutable_metrics()->set_val_error(-5); },
       "metrics.val_error: -5 is not a fraction in [0, 1]"},
      {"NaN error", [](auto* r) { r->mutable_metrics()->set_val_error(std::nan("")); },
       "metrics.val_error: NaN is not a fraction in [0, 1]"},
      {"error over 1", [](auto* r) { r->mutable_metrics()->set_val_error(1.5); },
       "metrics.val_error: 1.5 is not a fraction in [0, 1]"},
      {"test error", [](auto* r) { r->mutable_metrics()->set_test_error(INFINITY); },
       "metrics.test_error: inf is not a fraction in [0, 1]"},
      {"seconds", [](auto* r) { r->mutable_metrics()->set_train_seconds(-1); },
       "metrics.train_seconds: -1 must be finite and non-negative"},
      {"epochs", [](auto* r) { r->mutable_metrics()->set_epochs(-2); }, "metrics.epochs: -2 is negative"},
      {"weights", [](auto* r) { r->set_weights(std::string((3 << 20) + 1, 'w')); },
       "weights: 3145729 bytes, over the 3145728-byte limit"},
      {"model_tflite", [](auto* r) { r->set_model_tflite(std::string((3 << 20) + 1, 'm')); },
       "model_tflite: 3145729 bytes, over the 3145728-byte limit"},
      {"pruned without pruning", [](auto* r) { r->set_pruned_candidate_json("{}"); },
       "pruned_candidate_json: the job does not prune"},
  };
  for (const BadResult& bad : cases) {
    SCOPED_TRACE(bad.what);
    v1::AcquireTrialResponse a;
    ASSERT_TRUE(Acquire(w, &a).ok());
    ASSERT_TRUE(a.has_trial());
    v1::CompleteTrialRequest req = GoodResult(w, a.assignment());
    bad.spoil(&req);
    v1::CompleteTrialResponse out;
    const grpc::Status s = Complete(req, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(), "result refused: " + bad.expected);
    // Back in the queue (or failed after its third attempt), never completed.
    const TrialRecord t = coordinator_->GetTrial(a.assignment().job_id(), a.assignment().trial_id()).value();
    EXPECT_FALSE(t.metrics.has_value());
    EXPECT_TRUE(t.lease_id.empty());
    if (a.assignment().attempt() < 3) {
      EXPECT_EQ(t.status, TrialStatus::kPending);
    } else {
      EXPECT_EQ(t.status, TrialStatus::kFailed);
      EXPECT_EQ(t.error, "result refused: " + bad.expected + " (attempt 3 of 3)");
    }
    // A retry of the same report finds its lease gone: ignored, not stored.
    ASSERT_TRUE(Complete(GoodResult(w, a.assignment()), &out).ok());
    EXPECT_FALSE(out.accepted());
  }
  // Three trials took the nine bad results: each failed after 3 attempts.
  const std::string job_id = coordinator_->ListJobs()[0].record.job_id;
  EXPECT_EQ(coordinator_->GetTrial(job_id, 1)->status, TrialStatus::kFailed);
  EXPECT_EQ(coordinator_->GetTrial(job_id, 2)->status, TrialStatus::kFailed);
  EXPECT_EQ(coordinator_->GetTrial(job_id, 3)->status, TrialStatus::kFailed);
  EXPECT_EQ(coordinator_->GetTrial(job_id, 3)->attempts, 3);
  // The store agrees after a restart: no metrics, no weights kept.
  Stop();
  Start();
  for (int64_t id : {1, 2, 3}) {
    const TrialRecord t = coordinator_->GetTrial(job_id, id).value();
    EXPECT_FALSE(t.metrics.has_value()) << id;
    EXPECT_EQ(coordinator_->TrialWeights(job_id, id).status().code(), StatusCode::kNotFound) << id;
    EXPECT_EQ(coordinator_->TrialModelTflite(job_id, id).status().code(), StatusCode::kNotFound) << id;
    EXPECT_FALSE(t.has_tflite) << id;
  }
  EXPECT_EQ(coordinator_->GetJob(job_id)->failed, 3);
  EXPECT_EQ(coordinator_->GetJob(job_id)->completed, 0);
}

TEST_F(HardeningTest, PrunedNetworksAreRecostedAndMustMatch) {
  ASSERT_TRUE(client_->Submit(Spec(true)).ok());
  const std::string w = Register();
  const std::vector<BadResult> cases = {
      {"deep pruned candidate", [](auto* r) { r->set_pruned_candidate_json(Nested(100000)); },
       "pruned_candidate_json: JSON nests deeper than 64 levels (at byte 64)"},
      {"negative cost", [](auto* r) { r->mutable_pruned_costs()->set_params(-1); },
       "pruned_costs.params: -1 is negative"},
      {"costs that lie", [](auto* r) { r->mutable_pruned_costs()->set_macs(r->pruned_costs().macs() - 1); },
       ""},  // message checked below: it quotes both figures
  };
  for (const BadResult& bad : cases) {
    SCOPED_TRACE(bad.what);
    v1::AcquireTrialResponse a;
    ASSERT_TRUE(Acquire(w, &a).ok() && a.has_trial());
    v1::CompleteTrialRequest req = GoodResult(w, a.assignment());
    PrunedAsIs(a.assignment(), &req);
    const int64_t macs = req.pruned_costs().macs();
    bad.spoil(&req);
    v1::CompleteTrialResponse out;
    const grpc::Status s = Complete(req, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    const std::string expected = bad.expected.empty() ? "pruned_costs.macs: " + std::to_string(macs - 1) +
                                                            " does not match the pruned network (" +
                                                            std::to_string(macs) + ")"
                                                      : bad.expected;
    EXPECT_EQ(s.error_message(), "result refused: " + expected);
    // One trial takes the three: back in the queue twice, failed at its third attempt.
    EXPECT_EQ(coordinator_->GetTrial(a.assignment().job_id(), a.assignment().trial_id())->status,
              a.assignment().attempt() < 3 ? TrialStatus::kPending : TrialStatus::kFailed);
  }
  // The honest report is accepted and stored with its pruned costs.
  v1::AcquireTrialResponse a;
  ASSERT_TRUE(Acquire(w, &a).ok() && a.has_trial());
  v1::CompleteTrialRequest req = GoodResult(w, a.assignment());
  PrunedAsIs(a.assignment(), &req);
  v1::CompleteTrialResponse out;
  ASSERT_TRUE(Complete(req, &out).ok());
  EXPECT_TRUE(out.accepted());
  const TrialRecord t = coordinator_->GetTrial(a.assignment().job_id(), a.assignment().trial_id()).value();
  EXPECT_EQ(t.status, TrialStatus::kCompleted);
  ASSERT_TRUE(t.pruned_costs.has_value());
  EXPECT_EQ(t.pruned_costs->macs, req.pruned_costs().macs());
}

TEST_F(HardeningTest, StoredDeepCandidateIsListedAndShownNotCrashedOn) {
  // A trial stored before these checks existed, with a 100,000-deep pruned
  // candidate: the store holds whatever an older coordinator accepted.
  ASSERT_TRUE(client_->Submit(Spec(true)).ok());
  const std::string w = Register();
  v1::AcquireTrialResponse a;
  ASSERT_TRUE(Acquire(w, &a).ok() && a.has_trial());
  v1::CompleteTrialRequest req = GoodResult(w, a.assignment());
  PrunedAsIs(a.assignment(), &req);
  v1::CompleteTrialResponse out;
  ASSERT_TRUE(Complete(req, &out).ok() && out.accepted());
  const std::string job_id = a.assignment().job_id();
  Stop();
  {
    auto store = Store::Open(dir_ / "unas.db").value();
    TrialRecord t = store->GetTrial(job_id, 1).value();
    t.pruned_candidate_json = Nested(100000);
    ASSERT_TRUE(store->UpdateTrial(t).ok());
  }
  Start();
  ApiContext api;
  api.coordinator = coordinator_.get();
  HttpRequest list{"GET", "/api/v1/jobs/" + job_id + "/trials", "", "", "", "", ""};
  const HttpResponse listed = HandleApi(api, list);
  ASSERT_EQ(listed.status, 200) << listed.body.substr(0, 200);
  const auto j = nlohmann::json::parse(listed.body);
  EXPECT_EQ(j["trials"][0]["pruned_candidate"], std::string(80, '[') + "...");
  HttpRequest one{"GET", "/api/v1/jobs/" + job_id + "/trials/1", "", "", "", "", ""};
  const HttpResponse shown = HandleApi(api, one);
  EXPECT_EQ(shown.status, 200) << shown.body.substr(0, 200);
  EXPECT_EQ(nlohmann::json::parse(shown.body)["pruned_candidate"], std::string(80, '[') + "...");
  // Over gRPC too.
  auto page = client_->ListTrials(job_id, std::nullopt, "", 10);
  ASSERT_TRUE(page.ok()) << page.status().message();
  EXPECT_EQ(page->trials.at(0).pruned_candidate_json.size(), 200001u);
}

// A job whose data set is gone at restart: failed, saying why in the log and
// on the job, and still served (not a 404), after this restart and the next.
TEST(UnresumableJobTest, MissingDataSetAtRestartFailsTheJobVisiblySayingWhy) {
  testing::TempDir dir("unresumable");
  const std::string db = dir / "unas.db";
  ManualClock clock;
  bool data_present = true;
  CoordinatorOptions o;
  o.expiry_check_interval_ms = 3'600'000;
  o.resolve_input = [&](const data::DatasetSpec& dataset) -> Result<InputSpec> {
    if (data_present) return kInput;
    return Status(StatusCode::kNotFound, dataset.directory + "/train-images-idx3-ubyte[.gz]: no such file");
  };
  std::string job_id;
  {
    auto c = Coordinator::Open(Store::Open(db).value(), &clock, o).value();
    job_id = c->Submit(R"({"dataset":"idx:/data/gone","evaluator":"synthetic","budget":{"trials":10},
        "bounds":{"val_error":0.5,"peak_sram_bytes":64000,"flash_bytes":64000,"macs":30000000}})")
                 .value()
                 .record.job_id;
    const std::string w = c->RegisterWorker("w");
    for (int i = 0; i < 2; ++i) {
      auto a = c->Acquire(w, 0);
      TrialResult r;
      r.succeeded = true;
      r.metrics.val_error = 0.2;
      ASSERT_TRUE(c->Complete(w, a->lease_id, r).value());
    }
    ASSERT_TRUE(c->Acquire(w, 0).has_value());  // leased when the coordinator stops
  }
  data_present = false;
  const std::string why = "cannot resume: dataset: /data/gone/train-images-idx3-ubyte[.gz]: no such file";
  for (int restart = 0; restart < 2; ++restart) {
    SCOPED_TRACE(restart);
    ::testing::internal::CaptureStderr();
    auto c = Coordinator::Open(Store::Open(db).value(), &clock, o);
    const std::string log = ::testing::internal::GetCapturedStderr();
    ASSERT_TRUE(c.ok()) << c.status().message();
    if (restart == 0) {
      EXPECT_NE(log.find("msg=\"job cannot resume\" job_id=" + job_id), std::string::npos) << log;
      EXPECT_NE(log.find(why.substr(std::string("cannot resume: ").size())), std::string::npos) << log;
    }
    auto job = (*c)->GetJob(job_id);
    ASSERT_TRUE(job.ok()) << job.status().message();
    EXPECT_EQ(job->record.status, JobStatus::kFailed);
    EXPECT_EQ(job->record.error, why);
    EXPECT_EQ(job->completed, 2);
    EXPECT_EQ(job->running, 0);
    const auto trials = (*c)->ListTrials(job_id, 0, "", 100).value().trials;
    ASSERT_EQ(trials.size(), 3u);
    EXPECT_EQ(trials[2].status, TrialStatus::kCancelled);  // the one in flight ended with the job
  }
}

// Issue 23, finding 5: a worker with a wrong token retried forever, saying
// so at info level, and the coordinator logged nothing of the refusals.
TEST_F(HardeningTest, AWorkerWithAWrongTokenGivesUpAndTheCoordinatorLogsTheRefusalOnce) {
  ClientOptions co;
  co.address = "127.0.0.1:" + std::to_string(grpc_->port());
  co.token = "wrong-token-0123456789";
  co.deadline_ms = 10000;
  auto wrong = Client::Connect(co).value();
  GrpcTrialSource source(*wrong);
  worker::WorkerLoopOptions o;
  o.initial_backoff_ms = 1;  // the tries come at once: one source, one window
  o.max_backoff_ms = 2;
  o.jitter_seed = 1;
  int evaluated = 0;
  worker::WorkerLoop loop(source, Counting(&evaluated, TrialResult{}), o);
  ::testing::internal::CaptureStderr();
  const worker::WorkerLoopStats stats = loop.Run();
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(stats.exit, worker::WorkerExit::kUnauthenticated);
  EXPECT_EQ(stats.exit_reason,
            "the coordinator refused the credentials 3 times in a row (authentication failed: invalid bearer token)");
  EXPECT_EQ(stats.reconnects, 2);  // two retries after the first refusal, then it stops
  EXPECT_EQ(evaluated, 0);
  // Three refused calls from one address: one warning line, naming it.
  const std::string line =
      "level=warn msg=\"call refused\" protocol=grpc source=127.0.0.1 call=RegisterWorker "
      "reason=\"invalid bearer token\" suppressed=0\n";
  EXPECT_NE(log.find(line), std::string::npos) << log;
  size_t lines = 0;
  for (size_t at = log.find("call refused"); at != std::string::npos; at = log.find("call refused", at + 1)) ++lines;
  EXPECT_EQ(lines, 1u) << log;
}

// The worker side of a worker the coordinator stops: its loop ends with the
// coordinator's reason (`unas worker` exits 4 with it).
TEST_F(HardeningTest, AWorkerTheCoordinatorStopsEndsItsLoopSayingWhy) {
  const std::string job_id = client_->Submit(Spec(false)).value().record.job_id;
  GrpcTrialSource source(*client_);
  worker::WorkerLoopOptions o;
  o.name = "lacks-data";
  o.acquire_wait_ms = 0;
  TrialResult lacks_data;
  lacks_data.error = "dataset: /data/mnist/train-images-idx3-ubyte[.gz]: cannot open file";
  lacks_data.failure = worker::FailureKind::kWorker;
  int evaluated = 0;
  worker::WorkerLoop loop(source, Counting(&evaluated, lacks_data), o);
  const worker::WorkerLoopStats stats = loop.Run();
  EXPECT_EQ(stats.exit, worker::WorkerExit::kToldToStop);
  EXPECT_EQ(evaluated, 3);
  EXPECT_EQ(stats.trials_failed, 3);
  EXPECT_EQ(stats.exit_reason.rfind("worker w-", 0), 0u) << stats.exit_reason;
  EXPECT_NE(stats.exit_reason.find(" (lacks-data) is told to stop: its last 3 trials failed because it cannot run "
                                   "them (the last: dataset: /data/mnist/train-images-idx3-ubyte[.gz]: cannot open file)"),
            std::string::npos)
      << stats.exit_reason;
  // The job lost nothing: its first trial waits for a worker that can run it.
  const JobView job = coordinator_->GetJob(job_id).value();
  EXPECT_EQ(job.failed, 0);
  EXPECT_EQ(job.record.status, JobStatus::kRunning);
  EXPECT_EQ(coordinator_->GetTrial(job_id, 1)->status, TrialStatus::kPending);
}

// Issue 28: a completion may ask for the next trial (one round trip per
// trial). The next trial is leased like an acquired one: its lease expires
// and requeues it the same way; a completion without the request (a worker
// older than it) gets no `next`, as before.
TEST_F(HardeningTest, ACompletionThatAsksForTheNextTrialGetsItLeasedAndItsLeaseExpiresAsUsual) {
  const std::string job_id = client_->Submit(Spec(false)).value().record.job_id;
  const std::string w = Register();
  v1::AcquireTrialResponse first;
  ASSERT_TRUE(Acquire(w, &first).ok());
  ASSERT_TRUE(first.has_trial());
  ASSERT_EQ(first.assignment().trial_id(), 1);

  // As an older worker: no acquire_next, no `next`.
  v1::CompleteTrialResponse out;
  ASSERT_TRUE(Complete(GoodResult(w, first.assignment()), &out).ok());
  EXPECT_TRUE(out.accepted());
  EXPECT_FALSE(out.has_next());

  v1::AcquireTrialResponse second;
  ASSERT_TRUE(Acquire(w, &second).ok());
  ASSERT_EQ(second.assignment().trial_id(), 2);
  v1::CompleteTrialRequest req = GoodResult(w, second.assignment());
  req.set_acquire_next(true);
  req.set_next_wait_ms(30001);
  grpc::Status s = Complete(req, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "next_wait_ms: must be within 0..30000");
  EXPECT_EQ(coordinator_->GetTrial(job_id, 2)->status, TrialStatus::kLeased);  // nothing of it was stored

  req.set_next_wait_ms(0);
  out.Clear();
  ASSERT_TRUE(Complete(req, &out).ok());
  EXPECT_TRUE(out.accepted());
  ASSERT_TRUE(out.has_next());
  ASSERT_TRUE(out.next().has_trial());
  const v1::TrialAssignment third = out.next().assignment();  // a copy: `out` is reused below
  EXPECT_EQ(third.trial_id(), 3);
  EXPECT_EQ(third.attempt(), 1);
  EXPECT_NE(third.lease_id(), second.assignment().lease_id());
  EXPECT_EQ(coordinator_->GetTrial(job_id, 2)->status, TrialStatus::kCompleted);
  EXPECT_EQ(coordinator_->GetTrial(job_id, 3)->status, TrialStatus::kLeased);
  EXPECT_EQ(coordinator_->GetTrial(job_id, 3)->worker_id, w);

  // Its lease expires like any other: back to the queue, one attempt used,
  // and the late result is ignored.
  clock_.Advance(coordinator_->options().lease_timeout_ms + 1);
  coordinator_->ExpireLeases();
  EXPECT_EQ(coordinator_->GetTrial(job_id, 3)->status, TrialStatus::kPending);
  out.Clear();
  ASSERT_TRUE(Complete(GoodResult(w, third), &out).ok());
  EXPECT_FALSE(out.accepted());
  v1::AcquireTrialResponse again;
  ASSERT_TRUE(Acquire(w, &again).ok());
  EXPECT_EQ(again.assignment().trial_id(), 3);
  EXPECT_EQ(again.assignment().attempt(), 2);
}

// A worker the coordinator told to stop gets no next trial with its last
// result: its AcquireTrial says why (PERMISSION_DENIED), as before.
TEST_F(HardeningTest, AWorkerToldToStopGetsNoNextTrialWithItsCompletion) {
  const std::string job_id = client_->Submit(Spec(false)).value().record.job_id;
  const std::string w = Register();
  v1::AcquireTrialResponse acquired;
  ASSERT_TRUE(Acquire(w, &acquired).ok());
  v1::TrialAssignment a = acquired.assignment();
  for (int i = 1; i <= 3; ++i) {
    v1::CompleteTrialRequest req;
    req.set_worker_id(w);
    req.set_lease_id(a.lease_id());
    req.set_error("no data here");
    req.set_failure(v1::FAILURE_WORKER);
    req.set_acquire_next(true);
    v1::CompleteTrialResponse out;
    ASSERT_TRUE(Complete(req, &out).ok()) << i;
    EXPECT_TRUE(out.accepted());
    if (i < 3) {
      ASSERT_TRUE(out.has_next() && out.next().has_trial()) << i;
      a = out.next().assignment();
      EXPECT_EQ(a.trial_id(), 1);  // the trial it gave back, first in the queue
    } else {
      EXPECT_FALSE(out.has_next());
    }
  }
  const grpc::Status s = Acquire(w, &acquired);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(coordinator_->GetTrial(job_id, 1)->status, TrialStatus::kPending);
}

// The worker loop over gRPC takes each next trial with the previous result;
// one that stops after max_trials asks for none with its last result, so no
// trial is left leased behind it.
TEST_F(HardeningTest, AWorkerLoopTakesItsNextTrialWithEachResultAndLeavesNoLeaseBehind) {
  const std::string job_id = client_->Submit(Spec(false)).value().record.job_id;
  GrpcTrialSource source(*client_);
  worker::WorkerLoopOptions o;
  o.acquire_wait_ms = 0;
  o.max_trials = 5;
  std::vector<int64_t> trial_ids;
  worker::WorkerLoop loop(
      source,
      [&](const worker::WorkAssignment& a, const std::atomic<bool>&, const std::function<void(double)>&) {
        trial_ids.push_back(a.trial_id);
        TrialResult r;
        r.succeeded = true;
        r.metrics.val_error = 0.25;
        r.metrics.test_error = 0.3;
        r.metrics.train_seconds = 1.5;
        r.metrics.samples_per_second = 100;
        r.metrics.epochs = 3;
        return r;
      },
      o);
  const worker::WorkerLoopStats stats = loop.Run();
  EXPECT_EQ(stats.trials_completed, 5);
  EXPECT_EQ(stats.trials_released, 0);
  EXPECT_EQ(trial_ids, (std::vector<int64_t>{1, 2, 3, 4, 5}));
  const JobView job = coordinator_->GetJob(job_id).value();
  EXPECT_EQ(job.completed, 5);
  EXPECT_EQ(job.running, 0);  // nothing leased or waiting: no sixth trial was proposed
  EXPECT_FALSE(coordinator_->GetTrial(job_id, 6).ok());
}

// Issue 23, finding 6: {"epochs":2,"epochs":3} was accepted (the last won).
TEST_F(HardeningTest, DuplicateKeysAreRefusedNamingTheKeyOverGrpcAndRest) {
  auto job = client_->Submit(R"({"name":"dup","dataset":"synthetic","budget":{"trials":2,"trials":3}})");
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(job.status().message(), "job.budget.trials: the key appears twice in one object");
  ApiContext api;
  api.coordinator = coordinator_.get();
  HttpRequest submit{"POST", "/api/v1/jobs", "", "", "", "application/json", R"({"name":"a","name":"b"})"};
  HttpResponse r = HandleApi(api, submit);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "job.name: the key appears twice in one object");
  const std::string id = client_->Submit(Spec(false)).value().record.job_id;
  HttpRequest finalize{"POST", "/api/v1/jobs/" + id + "/finalize", "", "", "", "application/json",
                       R"({"epochs":2,"epochs":3})"};
  r = HandleApi(api, finalize);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "finalize body: epochs: the key appears twice in one object");
  EXPECT_EQ(coordinator_->ListJobs().size(), 1u);
}

// Issue 23, finding 6: GET /api/v1/jobs had no paging (10,056 jobs: 14 MB
// in 1.2 s) and there was no limit on jobs (10,056 accepted in 60 s).
TEST_F(HardeningTest, RestListsJobsInPagesAndRefusesJobsBeyondTheLimitWith429) {
  Stop();
  max_unfinished_jobs_ = 3;
  Start();
  ApiContext api;
  api.coordinator = coordinator_.get();
  auto call = [&](const std::string& method, const std::string& target, const std::string& body = "") {
    HttpRequest r{method, target, "", "", "", method == "POST" ? "application/json" : "", body};
    return HandleApi(api, r);
  };
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    const HttpResponse r = call("POST", "/api/v1/jobs", Spec(false));
    ASSERT_EQ(r.status, 201) << r.body;
    ids.push_back(nlohmann::json::parse(r.body)["job_id"]);
  }
  HttpResponse r = call("POST", "/api/v1/jobs", Spec(false));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"],
            "jobs: 3 jobs are queued or running, the limit per token (--max-running-jobs 3); "
            "wait for one to finish or cancel one");
  EXPECT_EQ(client_->Submit(Spec(false)).status().code(), StatusCode::kResourceExhausted);  // gRPC too
  ASSERT_EQ(call("POST", "/api/v1/jobs/" + ids[0] + "/cancel").status, 200);
  r = call("POST", "/api/v1/jobs", Spec(false));
  ASSERT_EQ(r.status, 201);
  ids.push_back(nlohmann::json::parse(r.body)["job_id"]);

  auto page = [&](const std::string& query) { return nlohmann::json::parse(call("GET", "/api/v1/jobs" + query).body); };
  nlohmann::json p = page("?page_size=3");
  ASSERT_EQ(p["jobs"].size(), 3u);
  EXPECT_EQ(p["jobs"][0]["job_id"], ids[0]);
  EXPECT_EQ(p["total"], 4);
  EXPECT_EQ(p["next_page_token"], "3");
  p = page("?page_size=3&page_token=3");
  ASSERT_EQ(p["jobs"].size(), 1u);
  EXPECT_EQ(p["jobs"][0]["job_id"], ids[3]);
  EXPECT_EQ(p["next_page_token"], "");
  p = page("?order=desc&page_size=2");
  EXPECT_EQ(p["jobs"][0]["job_id"], ids[3]);
  EXPECT_EQ(p["jobs"][1]["job_id"], ids[2]);
  EXPECT_EQ(page("")["jobs"].size(), 4u);  // the default page: 100
  EXPECT_EQ(call("GET", "/api/v1/jobs?page_size=0").status, 400);
  EXPECT_EQ(nlohmann::json::parse(call("GET", "/api/v1/jobs?page_token=x").body)["error"],
            "page_token: 'x' is not a token from this API");
  EXPECT_EQ(nlohmann::json::parse(call("GET", "/api/v1/jobs?order=sideways").body)["error"],
            "order: 'sideways' is not asc or desc");
  EXPECT_EQ(nlohmann::json::parse(call("GET", "/api/v1/jobs?limit=5").body)["error"],
            "limit: unknown query parameter (known: page_size, page_token, order)");
  // The gRPC client follows the pages.
  EXPECT_EQ(client_->ListJobs()->size(), 4u);
}

TEST_F(HardeningTest, RestLogsRefusedTokensOncePerSourcePerMinute) {
  ManualClock clock;
  std::vector<LogFields> lines;
  RejectionLogOptions o;
  o.sink = [&](const std::string&, const LogFields& f) { lines.push_back(f); };
  ApiContext api;
  api.coordinator = coordinator_.get();
  api.token = kToken;
  api.rejections = std::make_shared<RejectionLog>(&clock, o);
  auto get = [&](const std::string& auth, const std::string& peer) {
    HttpRequest r{"GET", "/api/v1/jobs", auth, "", "", "", ""};
    r.peer = peer;
    return HandleApi(api, r).status;
  };
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get("Bearer nope", "10.1.2.3"), 401);
  EXPECT_EQ(get("", "10.9.9.9"), 401);
  EXPECT_EQ(get("Bearer " + kToken, "10.1.2.3"), 200);  // accepted calls are not logged
  clock.Advance(60'000);
  EXPECT_EQ(get("Bearer nope", "10.1.2.3"), 401);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], (LogFields{{"protocol", "http"}, {"source", "10.1.2.3"}, {"call", "GET /api/v1/jobs"},
                                 {"reason", "invalid bearer token"}, {"suppressed", "0"}}));
  EXPECT_EQ(lines[1], (LogFields{{"protocol", "http"}, {"source", "10.9.9.9"}, {"call", "GET /api/v1/jobs"},
                                 {"reason", "missing bearer token (Authorization: Bearer ...)"}, {"suppressed", "0"}}));
  EXPECT_EQ(lines[2][4], (std::pair<std::string, std::string>("suppressed", "2")));
}

// --no-auth: a page on another site must not be able to make the browser
// create or cancel jobs.
TEST_F(HardeningTest, CrossSiteRequestsAreRefusedWithoutAuth) {
  ApiContext api;
  api.coordinator = coordinator_.get();  // no token: --no-auth
  auto post = [&](const std::string& target, const std::string& origin, const std::string& type,
                  const std::string& body) {
    HttpRequest r;
    r.method = "POST";
    r.target = target;
    r.host = "127.0.0.1:8080";
    r.origin = origin;
    r.content_type = type;
    r.body = body;
    return HandleApi(api, r);
  };
  HttpResponse r = post("/api/v1/jobs", "http://evil.example", "text/plain", Spec(false));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"],
            "cross-origin request refused: Origin 'http://evil.example' is not this server's own (http://127.0.0.1:8080)");
  EXPECT_EQ(post("/api/v1/jobs", "null", "application/json", Spec(false)).status, 403);
  EXPECT_EQ(post("/api/v1/jobs", "http://127.0.0.1:9999", "application/json", Spec(false)).status, 403);
  // Same origin but not JSON: a form post or a "simple" fetch.
  r = post("/api/v1/jobs", "http://127.0.0.1:8080", "text/plain", Spec(false));
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "Content-Type must be application/json, got 'text/plain'");
  EXPECT_EQ(post("/api/v1/jobs", "", "", Spec(false)).status, 415);
  EXPECT_TRUE(coordinator_->ListJobs().empty());
  // The dashboard (same origin, JSON) and programs without Origin get through.
  EXPECT_EQ(post("/api/v1/jobs", "http://127.0.0.1:8080", "application/json; charset=utf-8", Spec(false)).status, 201);
  r = post("/api/v1/jobs", "", "application/json", Spec(false));
  ASSERT_EQ(r.status, 201);
  const std::string id = nlohmann::json::parse(r.body)["job_id"];
  // Cancel has no body: only the origin matters.
  EXPECT_EQ(post("/api/v1/jobs/" + id + "/cancel", "https://evil.example", "", "").status, 403);
  EXPECT_EQ(coordinator_->GetJob(id)->record.status, JobStatus::kQueued);
  EXPECT_EQ(post("/api/v1/jobs/" + id + "/cancel", "HTTP://127.0.0.1:8080", "", "").status, 200);
  EXPECT_EQ(coordinator_->GetJob(id)->record.status, JobStatus::kCancelled);
}

}  // namespace
}  // namespace unas::server
