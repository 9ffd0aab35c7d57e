// The JSON limits every edge parses through: depth counted without a parser
// (strings and escapes skipped), size, and short quotes in error messages.
#include "base/json_limits.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace unas {
namespace {

std::string Nested(int depth, const std::string& inner = "1") {
  return std::string(static_cast<size_t>(depth), '[') + inner + std::string(static_cast<size_t>(depth), ']');
}

TEST(JsonLimitsTest, DepthAtTheLimitPassesOneMoreIsRefusedAtItsByte) {
  EXPECT_TRUE(CheckJsonLimits(Nested(64)).ok());
  const Status s = CheckJsonLimits(Nested(65));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "JSON nests deeper than 64 levels (at byte 64)");
  // Objects and arrays count together.
  EXPECT_EQ(CheckJsonLimits(R"({"a":[{"b":[1]}]})", {3, 100}).message(),
            "JSON nests deeper than 3 levels (at byte 11)");
  // Depth is current nesting, not the number of brackets.
  EXPECT_TRUE(CheckJsonLimits("[[1],[2],[3],[4]]", {2, 100}).ok());
}

TEST(JsonLimitsTest, BracketsInsideStringsAndEscapesDoNotCount) {
  EXPECT_TRUE(CheckJsonLimits(R"(["[[[[{{{{"])", {1, 100}).ok());
  // An escaped quote does not end the string, so the brackets after it are text.
  EXPECT_TRUE(CheckJsonLimits(R"(["a\"[[[["])", {1, 100}).ok());
  // An escaped backslash does end with the quote after it: the bracket then counts.
  EXPECT_EQ(CheckJsonLimits(R"(["a\\",[1]])", {1, 100}).message(), "JSON nests deeper than 1 levels (at byte 7)");
  // A lone trailing backslash in an unterminated string is no crash.
  EXPECT_TRUE(CheckJsonLimits("[\"\\", {1, 100}).ok());
}

TEST(JsonLimitsTest, SizeOverTheLimitIsRefusedBeforeScanning) {
  EXPECT_TRUE(CheckJsonLimits("[1,2]", {64, 5}).ok());
  EXPECT_EQ(CheckJsonLimits("[1,22]", {64, 5}).message(), "JSON text is 6 bytes, over the 5-byte limit");
  EXPECT_EQ(kMaxJsonBytes, size_t{4194304});
}

TEST(JsonLimitsTest, HundredThousandDeepIsAnErrorNotACrash) {
  const std::string deep = Nested(100000);
  auto parsed = ParseLimitedJson(deep);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "JSON nests deeper than 64 levels (at byte 64)");
}

TEST(JsonLimitsTest, SyntaxErrorsSayNotValidJsonWithAShortReason) {
  auto parsed = ParseLimitedJson("{\"a\": tru}");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message().rfind("not valid JSON: ", 0), 0u) << parsed.status().message();
  EXPECT_LE(parsed.status().message().size(), 16u + 2 * kQuoteChars + 3);
  EXPECT_EQ((*ParseLimitedJson(R"({"a":[1,"x"]})"))["a"][1], "x");
}

// Issue 23: {"epochs":2,"epochs":3} was read as 3 (the last wins) with no word.
TEST(JsonLimitsTest, DuplicateKeysAreRefusedNamingTheKeyAndWhereItIs) {
  auto message = [](const std::string& text) { return ParseLimitedJson(text).status().message(); };
  EXPECT_EQ(message(R"({"epochs":2,"epochs":3})"), "epochs: the key appears twice in one object");
  EXPECT_EQ(ParseLimitedJson(R"({"epochs":2,"epochs":3})").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(message(R"({"name":"a","training":{"epochs":2,"lr":0.1,"epochs":2}})"),
            "training.epochs: the key appears twice in one object");
  // The path counts array elements, containers and plain values alike.
  EXPECT_EQ(message(R"({"blocks":[1,{"a":1},[2],{"k":1,"k":2}]})"), "blocks[3].k: the key appears twice in one object");
  // Escapes are decoded first: "\u0065pochs" is "epochs".
  EXPECT_EQ(message(R"({"epochs":2,"\u0065pochs":3})"), "epochs: the key appears twice in one object");
  // The same key in sibling or nested objects is no duplicate.
  auto ok = ParseLimitedJson(R"({"a":{"x":1},"b":{"x":2},"c":[{"x":3},{"x":4}],"x":{"x":{"x":5}}})");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ((*ok)["x"]["x"]["x"], 5);
  EXPECT_EQ((*ok)["c"][1]["x"], 4);
  // A long key is quoted short.
  const std::string key(1000, 'k');
  EXPECT_EQ(message("{\"" + key + "\":1,\"" + key + "\":2}"),
            std::string(80, 'k') + "...: the key appears twice in one object");
}

TEST(JsonLimitsTest, QuotesAreCutToEightyCharactersWithoutSplittingUtf8) {
  EXPECT_EQ(QuotePrefix("short"), "short");
  EXPECT_EQ(QuotePrefix(std::string(200, 'x')), std::string(80, 'x') + "...");
  // "é" is two bytes; a cut in its middle backs up to before it.
  EXPECT_EQ(QuotePrefix(std::string(79, 'a') + "\xc3\xa9" + "zzz"), std::string(79, 'a') + "...");
  EXPECT_EQ(QuoteJson(nlohmann::json(std::string(100, 'y'))), "\"" + std::string(79, 'y') + "...");
}

}  // namespace
}  // namespace unas
