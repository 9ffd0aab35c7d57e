// The coordinator tests' fixture: a coordinator on a temporary store with a
// manual clock, a synthetic job spec, and the test acting as the worker.
#pragma once

#include <unistd.h>

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "costmodel/candidate.h"
#include "search/synthetic.h"
#include "server/core/coordinator.h"
#include "tests/temp_dir.h"

namespace unas::server {

inline std::string TempDb(const std::string& name) {
  static testing::TempDir dir("coord");  // removed, with every database in it, when the tests exit
  const std::string path = dir / (name + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) unlink((path + suffix).c_str());
  return path;
}

inline std::string Spec(int trials, const std::string& extra = "") {
  return R"({"name":"t","dataset":"synthetic","evaluator":"synthetic","seed":3,"budget":{"trials":)" +
         std::to_string(trials) + R"(},"strategy":{"type":"aging","population":6,"sample_size":3},
         "bounds":{"val_error":0.5,"peak_sram_bytes":64000,"flash_bytes":64000,"macs":30000000},
         "constraints":{"peak_sram_bytes":64000,"flash_bytes":64000})" +
         extra + "}";
}

class CoordinatorTest : public ::testing::Test {
 protected:
  void Open(const std::string& db) {
    auto store = Store::Open(db);
    ASSERT_TRUE(store.ok()) << store.status().message();
    CoordinatorOptions o;
    o.lease_timeout_ms = 1000;
    o.heartbeat_interval_ms = 100;
    o.max_attempts = 3;
    o.expiry_check_interval_ms = 3'600'000;  // expiry only when the test says so
    o.resolve_input = [](const data::DatasetSpec&) -> Result<InputSpec> { return InputSpec{8, 8, 1, 10}; };
    auto c = Coordinator::Open(std::move(store).value(), &clock_, o);
    ASSERT_TRUE(c.ok()) << c.status().message();
    coordinator_ = std::move(c).value();
  }

  // Acquires `count` trials as worker `w` and completes each with
  // `answer(assignment)`; every one must be there and be accepted.
  template <typename Answer>
  void CompleteTrials(const std::string& w, int count, Answer answer) {
    for (int i = 0; i < count; ++i) {
      auto a = coordinator_->Acquire(w, 0);
      ASSERT_TRUE(a) << "trial " << i;
      ASSERT_TRUE(*coordinator_->Complete(w, a->lease_id, answer(*a))) << "trial " << i;
    }
  }

  // The synthetic error of a trial's candidate: deterministic, as a worker would report.
  TrialResult Success(const Assignment& a) {
    search::SyntheticEvaluator eval(search::SyntheticConfig{3, 0.01, InputSpec{8, 8, 1, 10}});
    TrialResult r;
    r.succeeded = true;
    r.metrics.val_error = *eval.ValidationError(ParseCandidate(a.candidate_json).value());
    r.metrics.test_error = r.metrics.val_error;
    return r;
  }

  ManualClock clock_;
  std::unique_ptr<Coordinator> coordinator_;
};

}  // namespace unas::server
