// The cost model's parsers go through base/json_limits.h: a 100,000-deep
// candidate or JSON Lines input is an error, not a crash, and an error quotes
// a short prefix of a long value.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "costmodel/candidate.h"
#include "costmodel/report.h"

namespace unas {
namespace {

TEST(CandidateLimitsTest, HundredThousandDeepIsAnErrorNotACrash) {
  const std::string deep = std::string(100000, '[') + "1" + std::string(100000, ']');
  auto candidate = ParseCandidate(R"({"conv_blocks":)" + deep + "}");
  ASSERT_FALSE(candidate.ok());
  EXPECT_EQ(candidate.status().message(), "JSON nests deeper than 64 levels (at byte 78)");
  const nlohmann::json line = CostBatchLine(R"({"architecture":)" + deep + "}", Accounting::kUnas);
  EXPECT_EQ(line["error"], "line: JSON nests deeper than 64 levels (at byte 79)");
}

TEST(CandidateLimitsTest, CandidateErrorsQuoteAShortPrefixOfALongValue) {
  auto c = ParseCandidate(R"({"conv_blocks":[{"is_branch":false,"layers":[{"type":")" + std::string(5000, 'Q') +
                          R"("}]}],"pooling":null,"dense_blocks":[]})");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "conv_blocks[0].layers[0].type: '" + std::string(80, 'Q') +
                                      "...' is not a layer type (Conv2D, 1x1Conv2D or DWConv2D)");
}

}  // namespace
}  // namespace unas
