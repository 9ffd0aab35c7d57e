#include "costmodel/candidate.h"

#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/costmodel/random_candidates.h"

namespace unas {
namespace {

const char* kWorked = R"({"conv_blocks":[
 {"is_branch":false,"layers":[{"type":"Conv2D","ker_size":3,"filters":8,"2x_stride":true,"has_bn":true,"has_relu":true,"has_prepool":false}]},
 {"is_branch":false,"layers":[{"type":"DWConv2D","ker_size":3,"2x_stride":false,"has_bn":false,"has_relu":true,"has_prepool":false},
                              {"type":"1x1Conv2D","filters":16,"has_bn":true,"has_relu":true,"has_prepool":false}]},
 {"is_branch":true,"layers":[{"type":"Conv2D","ker_size":5,"filters":4,"2x_stride":true,"has_bn":false,"has_relu":true,"has_prepool":true}]}],
 "pooling":{"type":"avg","pool_size":2},"dense_blocks":[{"units":32,"activation":"relu"}]})";

TEST(CandidateTest, ParsesWorkedExample) {
  auto c = ParseCandidate(kWorked);
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->conv_blocks.size(), 3u);
  EXPECT_FALSE(c->conv_blocks[0].is_branch);
  EXPECT_TRUE(c->conv_blocks[2].is_branch);
  EXPECT_EQ(c->conv_blocks[1].layers[0].type, LayerType::kDWConv2D);
  EXPECT_EQ(c->conv_blocks[1].layers[1].type, LayerType::kConv1x1);
  EXPECT_EQ(c->conv_blocks[1].layers[1].filters, 16);
  EXPECT_EQ(c->conv_blocks[2].layers[0].ker_size, 5);
  EXPECT_TRUE(c->conv_blocks[2].layers[0].has_prepool);
  ASSERT_TRUE(c->pooling.has_value());
  EXPECT_EQ(c->pooling->type, PoolType::kAvg);
  EXPECT_EQ(c->dense_blocks.size(), 1u);
  EXPECT_EQ(c->dense_blocks[0].units, 32);
}

TEST(CandidateTest, RoundTripsThroughJson) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 500; ++i) {
    const Candidate c = testing::RandomCandidate(rng);
    ASSERT_TRUE(ValidateCandidate(c).ok());
    auto back = CandidateFromJson(CandidateToJson(c));
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(*back, c);
  }
}

TEST(CandidateTest, IgnoresUnderscoreKeys) {
  auto j = nlohmann::json::parse(kWorked);
  j["_final_dense"] = {{"units", 10}};
  j["conv_blocks"][0]["layers"][0]["_weights"] = {"a", "b"};
  EXPECT_TRUE(CandidateFromJson(j).ok());
}

struct BadCase {
  const char* name;
  std::string json_text;
  const char* expected_message;
};

// Replaces the first occurrence of `from` in the worked example.
std::string Worked(const std::string& from, const std::string& to) {
  std::string s = kWorked;
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

TEST(CandidateTest, RejectsBadInputWithMessagesNamingTheProblem) {
  const std::vector<BadCase> cases = {
      {"not json", "{conv_blocks", "not valid JSON"},
      {"array", "[1,2]", "architecture: expected an object"},
      {"missing blocks", R"({"pooling":null,"dense_blocks":[{"units":10}]})", "missing key 'conv_blocks'"},
      {"unknown top key", Worked(R"("pooling")", R"("polling":1,"pooling")"), "unknown key 'polling'"},
      {"kernel 4", Worked(R"("ker_size":3,"filters":8)", R"("ker_size":4,"filters":8)"),
       "conv_blocks[0].layers[0].ker_size: 4 is not allowed (3, 5 or 7)"},
      {"kernel 9", Worked(R"("ker_size":5)", R"("ker_size":9)"), "conv_blocks[2].layers[0].ker_size: 9"},
      {"filters 0", Worked(R"("filters":8)", R"("filters":0)"), "filters: 0 is outside 1..128"},
      {"filters 129", Worked(R"("filters":16)", R"("filters":129)"),
       "conv_blocks[1].layers[1].filters: 129 is outside 1..128"},
      {"filters string", Worked(R"("filters":8)", R"("filters":"8")"), "filters: expected an integer"},
      {"filters float", Worked(R"("filters":8)", R"("filters":8.5)"), "filters: expected an integer"},
      {"huge filters", Worked(R"("filters":8)", R"("filters":1e300)"), "filters: expected an integer"},
      {"negative kernel", Worked(R"("ker_size":3)", R"("ker_size":-3)"),
       "conv_blocks[0].layers[0].ker_size: -3 is not allowed (3, 5 or 7)"},
      {"huge kernel", Worked(R"("ker_size":3)", R"("ker_size":5000)"),
       "conv_blocks[0].layers[0].ker_size: 5000 is not allowed (3, 5 or 7)"},
      {"bool as string", Worked(R"("has_bn":true)", R"("has_bn":"yes")"), "has_bn: expected true or false"},
      {"missing relu", Worked(R"(,"has_relu":true,"has_prepool":false}]},)", R"(,"has_prepool":false}]},)"),
       "missing key 'has_relu'"},
      {"first block branch", Worked(R"({"is_branch":false)", R"({"is_branch":true)"),
       "conv_blocks[0].is_branch: the first block cannot be a branch"},
      {"layer type", Worked(R"("type":"Conv2D")", R"("type":"Conv3D")"), "'Conv3D' is not a layer type"},
      {"kernel on 1x1", Worked(R"("filters":16,)", R"("filters":16,"ker_size":3,)"),
       "unknown key 'ker_size' in 1x1Conv2D layer"},
      {"filters on depthwise", Worked(R"("type":"DWConv2D",)", R"("type":"DWConv2D","filters":3,)"),
       "unknown key 'filters' in DWConv2D layer"},
      {"no layers", Worked(R"("layers":[{"type":"Conv2D","ker_size":5)", R"("layers":[],"x":[{"type":"Conv2D","ker_size":5)"),
       "unknown key 'x'"},
      {"pool 3", Worked(R"("pool_size":2)", R"("pool_size":3)"), "pooling.pool_size: 3 is not allowed (2, 4 or 6)"},
      {"pool type", Worked(R"("type":"avg")", R"("type":"min")"), "pooling.type: \"min\" is not a pooling type"},
      {"missing pooling", Worked(R"("pooling":{"type":"avg","pool_size":2},)", ""), "missing key 'pooling'"},
      {"units 9", Worked(R"("units":32)", R"("units":9)"), "dense_blocks[0].units: 9 is outside 10..256"},
      {"units 257", Worked(R"("units":32)", R"("units":257)"), "units: 257 is outside 10..256"},
      {"no dense", Worked(R"([{"units":32,"activation":"relu"}])", "[]"), "dense_blocks: 0 blocks, allowed 1..3"},
      {"activation", Worked(R"("activation":"relu")", R"("activation":"tanh")"), "activation: \"tanh\" is not supported"},
      {"no blocks", R"({"conv_blocks":[],"pooling":null,"dense_blocks":[{"units":10}]})",
       "conv_blocks: 0 blocks, allowed 1..10"},
      {"layers not array", Worked(R"("layers":[{"type":"DWConv2D")", R"("layers":5,"y":[{"type":"DWConv2D")"),
       "unknown key 'y'"},
  };
  for (const BadCase& bad : cases) {
    auto c = ParseCandidate(bad.json_text);
    ASSERT_FALSE(c.ok()) << bad.name;
    EXPECT_NE(c.status().message().find(bad.expected_message), std::string::npos)
        << bad.name << ": got '" << c.status().message() << "'";
  }
}

TEST(CandidateTest, RejectsTooManyBlocksAndLayers) {
  auto j = nlohmann::json::parse(kWorked);
  auto block = j["conv_blocks"][1];
  for (int i = 0; i < 8; ++i) j["conv_blocks"].push_back(block);
  EXPECT_EQ(j["conv_blocks"].size(), 11u);
  auto c = CandidateFromJson(j);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "conv_blocks: 11 blocks, allowed 1..10");

  auto k = nlohmann::json::parse(kWorked);
  auto layer = k["conv_blocks"][1]["layers"][0];
  k["conv_blocks"][1]["layers"].push_back(layer);
  k["conv_blocks"][1]["layers"].push_back(layer);
  auto d = CandidateFromJson(k);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(), "conv_blocks[1].layers: 4 layers, allowed 1..3");
}

// Mangled text (bytes flipped, cut short, spliced) must give an error or a
// valid candidate, never a crash or an exception.
TEST(CandidateTest, NeverCrashesOnMangledInput) {
  std::mt19937_64 rng(11);
  const std::string base = kWorked;
  const std::string alphabet = "{}[]:,\"0123456789-.eE truefalsnul_x";
  int errors = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string s = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % s.size();
      switch (rng() % 3) {
        case 0: s[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: s.erase(at, 1 + rng() % 8); break;
        default: s.insert(at, 1, alphabet[rng() % alphabet.size()]);
      }
      if (s.empty()) s = "x";
    }
    auto c = ParseCandidate(s);
    if (!c.ok()) {
      ++errors;
      EXPECT_FALSE(c.status().message().empty());
    } else {
      EXPECT_TRUE(ValidateCandidate(*c).ok());
    }
  }
  EXPECT_GT(errors, 4000);  // nearly all manglings are invalid, and said so
}

TEST(InputSpecTest, ValidatesShapeAndClasses) {
  EXPECT_TRUE(MakeInputSpec({28, 28, 1}, 10).ok());
  EXPECT_EQ(MakeInputSpec({28, 28}, 10).status().message(), "input_shape: expected 3 values [H, W, C], got 2");
  EXPECT_EQ(MakeInputSpec({0, 28, 1}, 10).status().message(), "input_shape: H = 0 is outside 1..4096");
  EXPECT_EQ(MakeInputSpec({28, 28, 1}, 1).status().message(), "num_classes: 1 is outside 2..100000");
}

}  // namespace
}  // namespace unas
