// The log of refused calls: one line per source per window, the count of
// the ones it left out on the next line, bounded memory.
#include "server/core/rejection_log.h"

#include <gtest/gtest.h>

namespace unas::server {
namespace {

struct Line {
  std::string message;
  LogFields fields;
  std::string Field(const std::string& key) const {
    for (const auto& [k, v] : fields) {
      if (k == key) return v;
    }
    return "<none>";
  }
};

class RejectionLogTest : public ::testing::Test {
 protected:
  RejectionLog Make(int64_t window_ms, size_t max_sources = 10'000) {
    RejectionLogOptions o;
    o.window_ms = window_ms;
    o.max_sources = max_sources;
    o.sink = [this](const std::string& m, const LogFields& f) { lines_.push_back({m, f}); };
    return RejectionLog(&clock_, o);
  }
  ManualClock clock_;
  std::vector<Line> lines_;
};

TEST_F(RejectionLogTest, OneLinePerSourcePerWindowWithTheCountLeftOut) {
  RejectionLog log = Make(60'000);
  for (int i = 0; i < 5; ++i) log.Refused("grpc", "10.0.0.7", "RegisterWorker", "invalid bearer token");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0].message, "call refused");
  EXPECT_EQ(lines_[0].fields, (LogFields{{"protocol", "grpc"},
                                         {"source", "10.0.0.7"},
                                         {"call", "RegisterWorker"},
                                         {"reason", "invalid bearer token"},
                                         {"suppressed", "0"}}));
  // Another source has its own window.
  log.Refused("http", "10.0.0.8", "GET /api/v1/jobs", "missing bearer token");
  ASSERT_EQ(lines_.size(), 2u);
  EXPECT_EQ(lines_[1].Field("source"), "10.0.0.8");
  clock_.Advance(59'999);
  log.Refused("grpc", "10.0.0.7", "AcquireTrial", "invalid bearer token");  // still inside: counted
  EXPECT_EQ(lines_.size(), 2u);
  clock_.Advance(1);
  log.Refused("grpc", "10.0.0.7", "AcquireTrial", "invalid bearer token");
  ASSERT_EQ(lines_.size(), 3u);
  EXPECT_EQ(lines_[2].Field("call"), "AcquireTrial");
  EXPECT_EQ(lines_[2].Field("suppressed"), "5");  // 4 in the first window, 1 just before this line
}

TEST_F(RejectionLogTest, RemembersAtMostMaxSourcesAndForgetsExpiredOnesFirst) {
  RejectionLog log = Make(1000, 2);
  log.Refused("grpc", "a", "X", "r");
  log.Refused("grpc", "b", "X", "r");
  log.Refused("grpc", "c", "X", "r");  // full, none expired: shares "other"
  log.Refused("grpc", "d", "X", "r");  // "other" again, inside its window: counted
  ASSERT_EQ(lines_.size(), 3u);
  EXPECT_EQ(lines_[2].Field("source"), "other");
  clock_.Advance(1000);
  log.Refused("grpc", "e", "X", "r");  // the expired ones are forgotten: e has its own entry
  ASSERT_EQ(lines_.size(), 4u);
  EXPECT_EQ(lines_[3].Field("source"), "e");
  // A long source (what a peer says it is) is cut like any echoed value.
  log.Refused("http", std::string(500, 's'), "X", "r");
  EXPECT_EQ(lines_.back().Field("source"), std::string(80, 's') + "...");
}

TEST(PeerAddressTest, DropsTheSchemeAndThePort) {
  EXPECT_EQ(PeerAddress("ipv4:127.0.0.1:50122"), "127.0.0.1");
  EXPECT_EQ(PeerAddress("ipv6:[::1]:50122"), "::1");
  EXPECT_EQ(PeerAddress("ipv6:[2001:db8::7]:443"), "2001:db8::7");
  EXPECT_EQ(PeerAddress("unix:/tmp/socket"), "unix:/tmp/socket");
  EXPECT_EQ(PeerAddress(""), "");
}

}  // namespace
}  // namespace unas::server
