// The HTTP server with its analysis pool, in process over loopback: /healthz
// and the rest of the API answer while the pool is full, a full pool answers
// 503 with Retry-After, a client that hangs up cancels its analysis, and a
// shutdown kills running analyses. Every wait is for an event of the pool
// (AnalysisPool::WaitFor) or an answer, bounded; nothing is timed.
#include "server/http/http_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/core/coordinator.h"
#include "tests/common/loopback.h"
#include "tests/temp_dir.h"

namespace unas::server {
namespace {

constexpr int64_t kWaitMs = 20'000;
const std::string kToken = "http-server-token-0123456789";

// An analysis pool of `workers` processes and `queue` waiting places.
AnalysisPoolOptions PoolOf(int workers, int queue) {
  AnalysisPoolOptions o;
  o.workers = workers;
  o.queue = queue;
  return o;
}

int Connect(int port) { return unas::testing::ConnectLoopback(port); }

void Send(int fd, const std::string& method, const std::string& target, const std::string& body = "",
          const std::string& type = "application/octet-stream") {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                    "Authorization: Bearer " + kToken + "\r\n";
  if (method == "POST") req += "Content-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  ASSERT_EQ(send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
}

struct Reply {
  int status = 0;
  std::string head, body;
};

// Reads the whole answer (the server closes: "Connection: close"), bounded.
Reply Receive(int fd) {
  std::string raw;
  char buf[65536];
  for (int polls = 0; polls < 400; ++polls) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  Reply r;
  const size_t end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return r;
  r.status = std::stoi(raw.substr(9, 3));
  r.head = raw.substr(0, end);
  r.body = raw.substr(end + 4);
  return r;
}

Reply Http(int port, const std::string& method, const std::string& target, const std::string& body = "") {
  const int fd = Connect(port);
  if (fd < 0) return {};
  Send(fd, method, target, body);
  Reply r = Receive(fd);
  close(fd);
  return r;
}

std::string Model() {
  std::ifstream in(std::string(UNAS_SHARED_DIR) + "/testdata/tflite/micro_speech_quantized.tflite", std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A task that runs until killed.
HttpResponse Forever() {
  for (;;) pause();
}

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(AnalysisPoolOptions analysis) {
    CoordinatorOptions o;
    o.expiry_check_interval_ms = 3'600'000;
    o.resolve_input = [](const data::DatasetSpec&) -> Result<InputSpec> { return InputSpec{8, 8, 1, 10}; };
    coordinator_ = Coordinator::Open(Store::Open(dir_ / "unas.db").value(), &clock_, o).value();
    ApiContext api;
    api.coordinator = coordinator_.get();
    api.token = kToken;
    HttpServerOptions options;
    options.address = "127.0.0.1:0";
    options.analysis = analysis;
    auto started = HttpServer::Start(api, options);
    ASSERT_TRUE(started.ok()) << started.status().message();
    server_ = std::move(started).value();
  }
  void TearDown() override {
    for (int fd : hung_up_) close(fd);
    if (server_) server_->Shutdown();
    server_.reset();
    coordinator_.reset();
  }
  AnalysisPool& pool() { return server_->analyses(); }
  int port() { return server_->port(); }
  // Fills a pool slot with a task only a hang-up ends: the returned
  // descriptor's closing is that hang-up.
  int Occupy() {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    EXPECT_TRUE(pool().Submit(Forever, fds[0], nullptr));
    hung_up_.push_back(fds[0]);
    return fds[1];
  }

  testing::TempDir dir_{"http_server"};
  ManualClock clock_;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<HttpServer> server_;
  std::vector<int> hung_up_;
};

// Issue 23: two uploads to POST /api/v1/analyze blocked /healthz for 31-60 s.
// Here the pool is full (2 running, 2 waiting) while /healthz, the job API
// and a further upload are answered.
TEST_F(HttpServerTest, HealthzAndTheApiAnswerWhileThePoolIsFull) {
  AnalysisPoolOptions analysis = PoolOf(2, 2);
  analysis.retry_after_seconds = 4;
  Start(analysis);
  std::vector<int> holders;
  for (int i = 0; i < 4; ++i) {
    holders.push_back(Occupy());
    // The queue holds 2: the first two must have left it for the workers.
    if (i < 2) ASSERT_TRUE(pool().WaitFor([i](const AnalysisPoolStats& s) { return s.running == i + 1; }, kWaitMs));
  }
  ASSERT_TRUE(pool().WaitFor([](const AnalysisPoolStats& s) { return s.running == 2 && s.queued == 2; }, kWaitMs));

  const Reply health = Http(port(), "GET", "/healthz");
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_EQ(Http(port(), "GET", "/api/v1/jobs").status, 200);
  const Reply busy = Http(port(), "POST", "/api/v1/analyze", Model());
  EXPECT_EQ(busy.status, 503) << busy.body;
  EXPECT_NE(busy.head.find("Retry-After: 4"), std::string::npos) << busy.head;
  EXPECT_EQ(nlohmann::json::parse(busy.body)["error"],
            "the analysis queue is full (2 running, 2 waiting); try again in 4 s");
  // All of that while the four still held the pool.
  AnalysisPoolStats s = pool().stats();
  EXPECT_EQ(s.running, 2);
  EXPECT_EQ(s.queued, 2);
  EXPECT_EQ(s.refused, 1);

  for (int fd : holders) close(fd);
  ASSERT_TRUE(pool().WaitFor([](const AnalysisPoolStats& st) { return st.cancelled == 4; }, kWaitMs));
  // Free again: a real analysis, in a child process, answered to its client.
  const Reply analysed = Http(port(), "POST", "/api/v1/analyze", Model());
  ASSERT_EQ(analysed.status, 200) << analysed.body;
  const auto j = nlohmann::json::parse(analysed.body);
  EXPECT_EQ(j["model"]["operators"], 4);
  EXPECT_EQ(j["file_order"]["peak_bytes"], 5960);
  EXPECT_NE(analysed.head.find("Cache-Control: no-store"), std::string::npos) << analysed.head;
  EXPECT_EQ(pool().stats().answered, 1);
}

// A client that goes away while its analysis waits: the analysis never
// runs, and no answer is written.
TEST_F(HttpServerTest, AClientThatHangsUpCancelsItsAnalysis) {
  Start(PoolOf(1, 4));
  const int holder = Occupy();
  ASSERT_TRUE(pool().WaitFor([](const AnalysisPoolStats& s) { return s.running == 1; }, kWaitMs));
  const int client = Connect(port());
  ASSERT_GE(client, 0);
  Send(client, "POST", "/api/v1/analyze", Model());
  ASSERT_TRUE(pool().WaitFor([](const AnalysisPoolStats& s) { return s.queued == 1; }, kWaitMs));
  close(client);
  close(holder);
  ASSERT_TRUE(pool().WaitFor([](const AnalysisPoolStats& s) { return s.cancelled == 2 && s.queued == 0; }, kWaitMs));
  EXPECT_EQ(pool().stats().answered, 0);
}

// SIGTERM's path: the server's shutdown kills the analyses it runs instead
// of waiting for them (tests/server/analysis_pool_test.cc checks the
// processes are gone), drops the waiting ones and closes their connections.
TEST_F(HttpServerTest, ShutdownDoesNotWaitForAnalyses) {
  Start(PoolOf(2, 2));
  Occupy();
  ASSERT_TRUE(pool().WaitFor([](const AnalysisPoolStats& s) { return s.running == 1; }, kWaitMs));
  Occupy();
  ASSERT_TRUE(pool().WaitFor([](const AnalysisPoolStats& s) { return s.running == 2; }, kWaitMs));
  const int client = Connect(port());
  ASSERT_GE(client, 0);
  Send(client, "POST", "/api/v1/analyze", Model());
  ASSERT_TRUE(pool().WaitFor([](const AnalysisPoolStats& s) { return s.queued == 1; }, kWaitMs));
  server_->Shutdown();
  const AnalysisPoolStats s = pool().stats();
  EXPECT_EQ(s.running, 0);
  EXPECT_EQ(s.queued, 0);
  EXPECT_EQ(s.answered, 0);
  // The waiting client is not left hanging: its connection is closed, unanswered.
  const Reply r = Receive(client);
  EXPECT_EQ(r.status, 0) << r.head;
  close(client);
}

}  // namespace
}  // namespace unas::server
