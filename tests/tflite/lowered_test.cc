// Graphs the lowering makes (costmodel/lowering.h) from random candidates
// anywhere in the search space survive the writer and the reader: every
// field of every tensor and operator comes back (constants lowered without
// data are written as zeros with WriteOptions::zero_fill_empty_constants).
#include <gtest/gtest.h>

#include <random>

#include "costmodel/lowering.h"
#include "costmodel/network.h"
#include "tests/costmodel/random_candidates.h"
#include "tests/costmodel/test_data.h"
#include "tests/tflite/tflite_test_util.h"
#include "tflite/reader.h"
#include "tflite/reorder.h"
#include "tflite/writer.h"

namespace unas {
namespace {

TEST(TfliteLowered, RandomCandidatesWriteAndReadBackTheSameGraph) {
  std::mt19937_64 rng(12);
  WriteOptions zero_fill;
  zero_fill.zero_fill_empty_constants = true;
  int strided_slices = 0, pads = 0;
  for (int i = 0; i < 100; ++i) {
    SCOPED_TRACE("candidate " + std::to_string(i));
    auto net = BuildNetwork(testing::RandomCandidate(rng), testing::FashionMnist());
    ASSERT_TRUE(net.ok()) << net.status().message();
    auto lowered = LowerNetwork(*net);
    ASSERT_TRUE(lowered.ok()) << lowered.status().message();
    auto bytes = WriteTflite(*lowered, zero_fill);
    ASSERT_TRUE(bytes.ok()) << bytes.status().message();
    auto back = ReadTflite(bytes->data(), bytes->size());
    ASSERT_TRUE(back.ok()) << back.status().message();
    ModelGraph want = *lowered;
    for (GraphTensor& t : want.tensors) {
      if (t.is_constant && t.data.empty()) t.data.assign(t.bytes(), 0);
    }
    testing::ExpectSameGraph(want, *back);
    // The file's own order is a valid order: the identity reorder keeps every byte.
    std::vector<int> identity(lowered->ops.size());
    for (size_t k = 0; k < identity.size(); ++k) identity[k] = static_cast<int>(k);
    auto same = ReorderOperators(*bytes, identity);
    ASSERT_TRUE(same.ok()) << same.status().message();
    EXPECT_EQ(*same, *bytes);
    for (const GraphOp& op : lowered->ops) {
      strided_slices += op.builtin_code == builtin::kStridedSlice;
      pads += op.builtin_code == builtin::kPad;
    }
    if (HasFailure()) break;
  }
  // The sample reaches the lowering's less common operators.
  EXPECT_GT(strided_slices, 0);
  EXPECT_GT(pads, 0);
}

TEST(TfliteLowered, AConstantWithoutDataNeedsZeroFill) {
  std::mt19937_64 rng(3);
  auto net = BuildNetwork(testing::RandomCandidate(rng), testing::FashionMnist());
  ASSERT_TRUE(net.ok());
  auto lowered = LowerNetwork(*net);
  ASSERT_TRUE(lowered.ok());
  auto bytes = WriteTflite(*lowered);
  ASSERT_FALSE(bytes.ok());
  EXPECT_NE(bytes.status().message().find("a constant without data"), std::string::npos) << bytes.status().message();
}

}  // namespace
}  // namespace unas
