// Reconnecting to a coordinator that is away: exponential backoff, capped,
// each wait jittered so workers do not come back in lockstep.
#include "worker/worker_loop.h"

#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

namespace unas::worker {
namespace {

// A coordinator that is never there.
class AwaySource : public TrialSource {
 public:
  Result<std::pair<std::string, int>> Register(const std::string&, int) override {
    return Status(StatusCode::kInternal, "Connection refused");
  }
  Result<std::optional<WorkAssignment>> Acquire(const std::string&, int) override {
    return Status(StatusCode::kInternal, "unused");
  }
  Result<HeartbeatAnswer> Heartbeat(const std::string&, const std::string&, double) override {
    return Status(StatusCode::kInternal, "unused");
  }
  Result<bool> Complete(const std::string&, const std::string&, const TrialResult&) override {
    return Status(StatusCode::kInternal, "unused");
  }
  Result<CompleteAnswer> CompleteAndAcquire(const std::string&, const std::string&, const TrialResult&,
                                            int) override {
    return Status(StatusCode::kInternal, "unused");
  }
};

// The waits a loop announces in its first `n` retries.
std::vector<int> Waits(uint64_t seed, size_t n) {
  AwaySource source;
  WorkerLoopOptions o;
  o.initial_backoff_ms = 8;
  o.max_backoff_ms = 32;
  o.jitter_seed = seed;
  std::mutex mu;
  std::vector<int> waits;
  WorkerLoop* loop_ptr = nullptr;
  o.log = [&](const std::string& line) {
    const std::string marker = "retrying in ";
    const size_t at = line.find(marker);
    if (at == std::string::npos) return;
    std::lock_guard<std::mutex> lock(mu);
    waits.push_back(std::stoi(line.substr(at + marker.size())));
    if (waits.size() >= n) loop_ptr->Stop();
  };
  WorkerLoop loop(source, [](const WorkAssignment&, const std::atomic<bool>&, const std::function<void(double)>&) {
    return TrialResult{};
  }, o);
  loop_ptr = &loop;
  const WorkerLoopStats stats = loop.Run();
  EXPECT_EQ(stats.reconnects, static_cast<int64_t>(n));
  return waits;
}

TEST(WorkerLoopTest, RetriesWaitAJitteredExponentialBackoffUpToTheCap) {
  const std::vector<int> waits = Waits(7, 6);
  ASSERT_EQ(waits.size(), 6u);
  // Backoff 8, 16, 32, 32, ...: each wait within [backoff / 2, backoff].
  const int backoff[] = {8, 16, 32, 32, 32, 32};
  for (size_t i = 0; i < waits.size(); ++i) {
    EXPECT_GE(waits[i], backoff[i] / 2) << i;
    EXPECT_LE(waits[i], backoff[i]) << i;
  }
  // The same seed waits the same; another seed does not (no lockstep).
  EXPECT_EQ(Waits(7, 6), waits);
  EXPECT_NE(Waits(8, 6), waits);
}

TEST(WorkerLoopTest, JitterSpreadsOverTheWholeRange) {
  std::mt19937_64 rng(1);
  int lo = 1 << 30, hi = 0;
  std::set<int> seen;
  for (int i = 0; i < 2000; ++i) {
    const int w = JitteredBackoffMs(2000, rng);
    lo = std::min(lo, w);
    hi = std::max(hi, w);
    seen.insert(w);
  }
  EXPECT_GE(lo, 1000);
  EXPECT_LE(hi, 2000);
  EXPECT_LT(lo, 1010);  // reaches both ends of [1000, 2000]
  EXPECT_GT(hi, 1990);
  EXPECT_GT(seen.size(), 800u);
  EXPECT_EQ(JitteredBackoffMs(1, rng), 1);
  EXPECT_EQ(JitteredBackoffMs(0, rng), 0);
}

}  // namespace
}  // namespace unas::worker
