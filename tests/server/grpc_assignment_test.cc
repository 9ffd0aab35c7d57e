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
  sent.candidate_json = R"({"conv_blocks":[]})";
  // A job spec of 1 MiB (specs may be up to 4 MiB): with the weights, 4 MiB
  // in all, over gRPC's default receive limit.
  sent.job_spec_json = R"({"name":")" + std::string(size_t{1} << 20, 'x') + R"("})";
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
  EXPECT_EQ(a.job_spec_json.size(), sent.job_spec_json.size());
  EXPECT_EQ(a.init_weights.size(), size_t{3} << 20);
  EXPECT_TRUE(a.init_weights == sent.init_weights);  // not EXPECT_EQ: 3 MiB in a failure message
  EXPECT_EQ(a.init_epochs, 4);
}

}  // namespace
}  // namespace unas::server
