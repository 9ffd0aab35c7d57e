// The pool REST analyses run on: child processes with a time and memory
// budget, a bounded queue, cancellation when the client hangs up, and a
// shutdown that waits for none of them. Each test waits for the pool's own
// events (AnalysisPool::WaitFor), never for a time.
#include "server/http/analysis_pool.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <mutex>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/temp_dir.h"

namespace unas::server {
namespace {

constexpr int64_t kWaitMs = 20'000;  // bound of every wait; the events come far sooner

// A task that never ends by itself: only a kill stops it. With `pid_file`,
// it first writes its process id there.
AnalysisPool::Task Blocking(const std::string& pid_file = "") {
  return [pid_file] {
    if (!pid_file.empty()) std::ofstream(pid_file) << getpid();
    for (;;) pause();
    return HttpResponse{};
  };
}

// A pipe whose read end stands for a client connection: closing the write
// end is the client hanging up.
struct FakeClient {
  FakeClient() { EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0); }
  ~FakeClient() {
    HangUp();
    close(fds[0]);
  }
  void HangUp() {
    if (fds[1] >= 0) close(fds[1]);
    fds[1] = -1;
  }
  int fd() const { return fds[0]; }
  int fds[2] = {-1, -1};
};

// Collects answers from the pool's threads.
struct Answers {
  void Add(HttpResponse r) {
    std::lock_guard<std::mutex> lock(mu);
    all.push_back(std::move(r));
  }
  std::vector<HttpResponse> Get() {
    std::lock_guard<std::mutex> lock(mu);
    return all;
  }
  AnalysisPool::Done Done() {
    return [this](HttpResponse r) { Add(std::move(r)); };
  }
  std::mutex mu;
  std::vector<HttpResponse> all;
};

std::string ErrorOf(const HttpResponse& r) { return nlohmann::json::parse(r.body).value("error", ""); }

// Waits for `pool`'s first answer, shuts the pool down (joining its threads,
// so every answer has been delivered), and expects exactly one answer, of
// HTTP `status` with the JSON error `error`.
void ExpectOnlyAnswer(AnalysisPool& pool, Answers& answers, int status, const std::string& error) {
  ASSERT_TRUE(pool.WaitFor([](const AnalysisPoolStats& s) { return s.answered == 1; }, kWaitMs));
  pool.Shutdown();
  const std::vector<HttpResponse> all = answers.Get();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, status);
  EXPECT_EQ(ErrorOf(all[0]), error);
}

TEST(AnalysisPoolTest, RunsATaskInAChildProcessThatKeepsNoDescriptorOfTheServer) {
  AnalysisPool pool({});
  const int server_fd = open("/dev/null", O_RDONLY);  // stands for a client socket or the database
  ASSERT_GE(server_fd, 0);
  Answers answers;
  ASSERT_TRUE(pool.Submit(
      [server_fd] {
        HttpResponse r;
        r.body = std::to_string(getpid()) + " " + (fcntl(server_fd, F_GETFD) == -1 ? "closed" : "open");
        r.headers.emplace_back("X-Test", "yes");
        return r;
      },
      -1, answers.Done()));
  ASSERT_TRUE(pool.WaitFor([](const AnalysisPoolStats& s) { return s.answered == 1; }, kWaitMs));
  close(server_fd);
  pool.Shutdown();  // joins the pool's threads: the answer has been delivered
  const auto all = answers.Get();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, 200);
  EXPECT_NE(all[0].body, std::to_string(getpid()) + " closed");      // another process
  EXPECT_EQ(all[0].body.substr(all[0].body.find(' ')), " closed");   // with the descriptor closed
  ASSERT_EQ(all[0].headers.size(), 1u);
  EXPECT_EQ(all[0].headers[0].second, "yes");
}

TEST(AnalysisPoolTest, AFullQueueIsRefusedAndHungUpClientsCancelTheirAnalyses) {
  AnalysisPoolOptions o;
  o.workers = 1;
  o.queue = 1;
  o.retry_after_seconds = 7;
  AnalysisPool pool(o);
  Answers answers;
  FakeClient running, waiting;
  ASSERT_TRUE(pool.Submit(Blocking(), running.fd(), answers.Done()));
  ASSERT_TRUE(pool.WaitFor([](const AnalysisPoolStats& s) { return s.running == 1; }, kWaitMs));
  ASSERT_TRUE(pool.Submit(Blocking(), waiting.fd(), answers.Done()));
  EXPECT_FALSE(pool.Submit(Blocking(), -1, answers.Done()));  // one running, one waiting: full
  const HttpResponse busy = pool.Busy();
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(ErrorOf(busy), "the analysis queue is full (1 running, 1 waiting); try again in 7 s");
  ASSERT_EQ(busy.headers.size(), 1u);
  EXPECT_EQ(busy.headers[0], (std::pair<std::string, std::string>("Retry-After", "7")));
  // The waiting client hangs up: dropped before it runs; then the running one.
  waiting.HangUp();
  running.HangUp();
  ASSERT_TRUE(pool.WaitFor([](const AnalysisPoolStats& s) { return s.cancelled == 2; }, kWaitMs));
  const AnalysisPoolStats s = pool.stats();
  EXPECT_EQ(s.running, 0);
  EXPECT_EQ(s.queued, 0);
  EXPECT_EQ(s.answered, 0);
  EXPECT_EQ(s.refused, 1);
  EXPECT_TRUE(answers.Get().empty());  // no answer for a client that is gone
}

TEST(AnalysisPoolTest, AnAnalysisOverItsMemoryBudgetIsAnsweredWith422) {
  AnalysisPoolOptions o;
  o.memory_budget_bytes = int64_t{64} << 20;
  AnalysisPool pool(o);
  Answers answers;
  ASSERT_TRUE(pool.Submit(
      [] {
        std::vector<char> big(size_t{1} << 30, 1);  // 1 GiB
        HttpResponse r;
        r.body = std::to_string(big[12345]);
        return r;
      },
      -1, answers.Done()));
  ASSERT_NO_FATAL_FAILURE(ExpectOnlyAnswer(pool, answers, 422, "the analysis needed more memory than its budget of 64 MiB"));
  EXPECT_EQ(pool.stats().over_budget, 1);
}

TEST(AnalysisPoolTest, AnAnalysisOverItsTimeBudgetIsKilledAndAnsweredWith422) {
  AnalysisPoolOptions o;
  o.time_budget_ms = 300;
  AnalysisPool pool(o);
  Answers answers;
  ASSERT_TRUE(pool.Submit(Blocking(), -1, answers.Done()));
  ASSERT_NO_FATAL_FAILURE(ExpectOnlyAnswer(pool, answers, 422, "the analysis took longer than its time budget of 0.3 s (unas analyze runs it without one)"));
  EXPECT_EQ(pool.stats().over_budget, 1);
}

TEST(AnalysisPoolTest, AnAnalysisThatDiesIsA500SayingHow) {
  AnalysisPool pool({});
  Answers answers;
  ASSERT_TRUE(pool.Submit(
      [] {
        raise(SIGSEGV);
        return HttpResponse{};
      },
      -1, answers.Done()));
  ASSERT_NO_FATAL_FAILURE(ExpectOnlyAnswer(
      pool, answers, 500, "the analysis process was killed by signal 11 without an answer (its memory budget is 512 MiB)"));
}

TEST(AnalysisPoolTest, ShutdownKillsRunningAnalysesAndDropsWaitingOnes) {
  testing::TempDir dir("pool");
  AnalysisPoolOptions o;
  o.workers = 2;
  o.queue = 2;
  AnalysisPool pool(o);
  Answers answers;
  // One at a time until both run: the queue holds 2, and a task leaves it
  // only when a pool thread takes it.
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(pool.Submit(Blocking(dir / std::to_string(i)), -1, answers.Done()));
    if (i < 2) ASSERT_TRUE(pool.WaitFor([i](const AnalysisPoolStats& s) { return s.running == i + 1; }, kWaitMs));
  }
  ASSERT_TRUE(pool.WaitFor([](const AnalysisPoolStats& s) { return s.running == 2 && s.queued == 2; }, kWaitMs));
  // The two running ones (the first two: the queue is first in, first out)
  // write their process ids; bounded polling for the files.
  std::vector<pid_t> pids;
  for (int i = 0; i < 2; ++i) {
    for (int tries = 0; tries < 2000; ++tries) {
      pid_t pid = 0;
      if (std::ifstream(dir / std::to_string(i)) >> pid) {
        pids.push_back(pid);
        break;
      }
      usleep(10'000);
    }
  }
  ASSERT_EQ(pids.size(), 2u);
  pool.Shutdown();
  for (pid_t pid : pids) {
    errno = 0;
    EXPECT_EQ(kill(pid, 0), -1) << pid;  // killed and reaped
    EXPECT_EQ(errno, ESRCH);
  }
  EXPECT_TRUE(answers.Get().empty());
  EXPECT_FALSE(pool.Submit(Blocking(), -1, answers.Done()));  // after Shutdown: refused
}

}  // namespace
}  // namespace unas::server
