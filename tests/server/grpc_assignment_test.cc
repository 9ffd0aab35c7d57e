// A promotion's TrialAssignment over real gRPC on 127.0.0.1: init weights of
// the largest size a trial may store (3 MiB, server/core/result_validation.h) next
// to a large job spec reach the worker's GrpcTrialSource intact, past gRPC's
// default 4 MiB receive limit. The server here answers AcquireTrial with one
// fixed assignment (the coordinator's promotion logic is tested with the
// coordinator); the client, its channel and the proto conversion are the
// worker's own.
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "proto/unas.grpc.pb.h"
#include "client/grpc_client.h"
#include "proto/proto_convert.h"
#include "server/core/result_validation.h"

namespace unas::server {
namespace {

class OneAssignmentService final : public v1::WorkerService::Service {
 public:
  explicit OneAssignmentService(worker::WorkAssignment a) : assignment_(std::move(a)) {}
  grpc::Status AcquireTrial(grpc::ServerContext*, const v1::AcquireTrialRequest*,
                            v1::AcquireTrialResponse* out) override {
    out->set_has_trial(true);
    ToProto(assignment_, out->mutable_assignment());
    return grpc::Status::OK;
  }

 private:
  const worker::WorkAssignment assignment_;
};

// Bytes that differ from position to position, so a truncation or shift shows.
std::string Pattern(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (char& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

TEST(GrpcAssignmentTest, ThreeMebibytesOfInitWeightsReachTheWorker) {
  worker::WorkAssignment sent;
  sent.job_id = "job-1";
  sent.trial_id = 7;
  sent.lease_id = "lease-7";
  // A candidate of 1 MiB (JSON may be up to 4 MiB): with the weights, 4 MiB
  // in all, over gRPC's default receive limit.
  sent.candidate_json = R"({"name":")" + std::string(size_t{1} << 20, 'x') + R"("})";
  sent.task.dataset = *data::ParseDatasetSpec("idx:/data/letters:26");
  sent.task.training.epochs = 7;
  sent.task.training.lr_schedule = {{2, 0.005}, {5, 0.001}};
  sent.task.training.prune.enabled = true;
  sent.task.training.prune.target = worker::PruneTarget::kFlash;
  sent.task.training.prune.target_bytes = 9000;
  sent.task.training.prune.mode = worker::PruneMode::kDuringTraining;
  sent.task.training.prune.target_ratio = 0.5;
  sent.task.training.prune.update_steps = 8;
  sent.task.evaluator = worker::EvaluatorKind::kSynthetic;
  sent.task.synthetic_delay_ms = 15;
  sent.attempt = 2;
  sent.init_weights = Pattern(kMaxResultWeightsBytes);
  sent.init_epochs = 4;

  OneAssignmentService service(sent);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  ASSERT_NE(port, 0);

  ClientOptions options;
  options.address = "127.0.0.1:" + std::to_string(port);
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status().message();
  GrpcTrialSource source(**client);
  auto got = source.Acquire("worker-1", 0);
  server->Shutdown();
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_TRUE(got->has_value());
  const worker::WorkAssignment& a = **got;
  EXPECT_EQ(a.job_id, "job-1");
  EXPECT_EQ(a.trial_id, 7);
  EXPECT_EQ(a.lease_id, "lease-7");
  EXPECT_EQ(a.attempt, 2);
  EXPECT_EQ(a.candidate_json.size(), sent.candidate_json.size());
  // The typed task crosses field by field (proto/proto_convert.cc).
  EXPECT_EQ(data::DatasetSpecText(a.task.dataset), "idx:/data/letters:26");
  EXPECT_EQ(a.task.training.epochs, 7);
  ASSERT_EQ(a.task.training.lr_schedule.size(), 2u);
  EXPECT_EQ(a.task.training.lr_schedule[1].epoch, 5);
  EXPECT_EQ(a.task.training.lr_schedule[1].learning_rate, 0.001);
  EXPECT_TRUE(a.task.training.prune.enabled);
  EXPECT_EQ(a.task.training.prune.target, worker::PruneTarget::kFlash);
  EXPECT_EQ(a.task.training.prune.target_bytes, 9000);
  EXPECT_EQ(a.task.training.prune.mode, worker::PruneMode::kDuringTraining);
  EXPECT_EQ(a.task.training.prune.target_ratio, 0.5);
  EXPECT_EQ(a.task.training.prune.update_steps, 8);
  EXPECT_EQ(a.task.training.prune.accounting, Accounting::kTflm);
  EXPECT_EQ(a.task.training.optimizer, worker::Optimizer::kSgdw);
  EXPECT_EQ(a.task.evaluator, worker::EvaluatorKind::kSynthetic);
  EXPECT_EQ(a.task.synthetic_delay_ms, 15);
  EXPECT_EQ(a.init_weights.size(), size_t{3} << 20);
  EXPECT_TRUE(a.init_weights == sent.init_weights);  // not EXPECT_EQ: 3 MiB in a failure message
  EXPECT_EQ(a.init_epochs, 4);
}

}  // namespace
}  // namespace unas::server
