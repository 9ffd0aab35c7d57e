#include "search/canonical.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "search/space.h"

namespace unas::search {
namespace {

TEST(CanonicalHash, TwoJsonSpellingsOfOneNetworkHashTheSame) {
  auto a = ParseCandidate(R"({"conv_blocks":[{"is_branch":false,"layers":[
      {"type":"1x1Conv2D","filters":16,"has_bn":true,"has_relu":true,"has_prepool":false},
      {"type":"DWConv2D","ker_size":3,"2x_stride":false,"has_bn":false,"has_relu":true,"has_prepool":false}]}],
      "pooling":null,"dense_blocks":[{"units":32,"activation":"relu"}]})");
  // Other key order, whitespace, annotations, no "activation", and fields
  // that do not apply to the type (ker_size on 1x1, filters on DWConv2D).
  auto b = ParseCandidate(R"({ "dense_blocks": [ {"units": 32} ], "_note": "x",
      "pooling": null,
      "conv_blocks": [ { "layers": [
        {"has_prepool": false, "has_relu": true, "has_bn": true, "filters": 16, "type": "1x1Conv2D"},
        {"has_prepool": false, "type": "DWConv2D", "has_relu": true, "2x_stride": false,
         "has_bn": false, "ker_size": 3}], "is_branch": false } ] })");
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(CanonicalJson(*a), CanonicalJson(*b));
  EXPECT_EQ(CandidateHash(*a), CandidateHash(*b));
}

TEST(CanonicalHash, IgnoresFieldsThatDoNotApplyInStructs) {
  Candidate c;
  c.conv_blocks.push_back(ConvBlock{false, {Layer{LayerType::kConv1x1, 3, 8}}});
  c.dense_blocks.push_back(DenseBlock{10});
  Candidate d = c;
  d.conv_blocks[0].layers[0].ker_size = 7;
  d.conv_blocks[0].layers[0].stride2 = true;
  EXPECT_EQ(c, d);
  EXPECT_EQ(CandidateHash(c), CandidateHash(d));
  d.conv_blocks[0].layers[0].filters = 9;
  EXPECT_NE(CandidateHash(c), CandidateHash(d));
}

TEST(CanonicalHash, TextIsWrittenInSortedKeyOrder) {
  Candidate c;
  c.conv_blocks.push_back(ConvBlock{true, {Layer{LayerType::kConv2D, 5, 12, true, false, true, false},
                                           Layer{LayerType::kConv1x1, 7, 4, true, true, false, true},
                                           Layer{LayerType::kDWConv2D, 3, 9, false, false, false, true}}});
  c.pooling = Pooling{PoolType::kMax, 4};
  c.dense_blocks = {DenseBlock{32}, DenseBlock{10}};
  EXPECT_EQ(CanonicalJson(c),
            R"({"conv_blocks":[{"is_branch":true,"layers":[)"
            R"({"2x_stride":true,"filters":12,"has_bn":true,"has_prepool":false,"has_relu":false,"ker_size":5,"type":"Conv2D"},)"
            R"({"filters":4,"has_bn":false,"has_prepool":true,"has_relu":true,"type":"1x1Conv2D"},)"
            R"({"2x_stride":false,"has_bn":false,"has_prepool":false,"has_relu":true,"ker_size":3,"type":"DWConv2D"}]}],)"
            R"("dense_blocks":[{"activation":"relu","units":32},{"activation":"relu","units":10}],)"
            R"("pooling":{"pool_size":4,"type":"max"}})");
}

TEST(CanonicalHash, TextIsCandidateToJsonDumpedByteForByte) {
  // The written text stands for CandidateToJson(c).dump() (the stored
  // candidate and the hash): the same bytes for random networks and their
  // mutations, with and without pooling, every layer type and flag.
  Rng rng(20261207);
  int with_pooling = 0;
  for (int i = 0; i < 2000; ++i) {
    Candidate c = RandomCandidate(rng);
    if (i % 2) c = RandomMutation(c, rng);
    with_pooling += c.pooling.has_value();
    ASSERT_EQ(CanonicalJson(c), CandidateToJson(c).dump()) << "candidate " << i;
  }
  EXPECT_GT(with_pooling, 0);
  EXPECT_LT(with_pooling, 2000);
  Candidate empty;
  EXPECT_EQ(CanonicalJson(empty), CandidateToJson(empty).dump());
  EXPECT_EQ(CanonicalJson(empty), R"({"conv_blocks":[],"dense_blocks":[],"pooling":null})");
}

TEST(CanonicalHash, IsStableFnv1a) {
  // FNV-1a 64 reference values.
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

}  // namespace
}  // namespace unas::search
