#include "search/canonical.h"

#include <gtest/gtest.h>

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

TEST(CanonicalHash, IsStableFnv1a) {
  // FNV-1a 64 reference values.
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

}  // namespace
}  // namespace unas::search
