// In-place operator reordering on every testdata model: the file stays valid,
// only the operators vector's slots change, reading it back gives the
// permuted operators, and Arm NN 20.08 computes the same outputs from the
// original and the reordered file (for the models it runs).
#include "tflite/reorder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <random>
#include <set>

#include "tests/tflite/tflite_test_util.h"
#include "tests/tools/armnn_runner.h"
#include "tflite/reader.h"
#include "tflite/tflite_subset_generated.h"

namespace unas {
namespace {

// A random topological order (Kahn's algorithm with a random ready operator).
std::vector<int> RandomTopologicalOrder(const ModelGraph& g, std::mt19937& rng) {
  const int n = static_cast<int>(g.ops.size());
  std::vector<int> producer(g.tensors.size(), -1);
  for (int op = 0; op < n; ++op) {
    for (int t : g.ops[op].outputs) producer[t] = op;
  }
  std::vector<std::set<int>> waits_for(n);
  for (int op = 0; op < n; ++op) {
    for (int t : g.ops[op].inputs) {
      if (t >= 0 && producer[t] >= 0) waits_for[op].insert(producer[t]);
    }
  }
  std::vector<int> order;
  std::vector<bool> done(n, false);
  while (static_cast<int>(order.size()) < n) {
    std::vector<int> ready;
    for (int op = 0; op < n; ++op) {
      if (done[op]) continue;
      bool ok = true;
      for (int p : waits_for[op]) ok = ok && done[p];
      if (ok) ready.push_back(op);
    }
    const int pick = ready[std::uniform_int_distribution<size_t>(0, ready.size() - 1)(rng)];
    done[pick] = true;
    order.push_back(pick);
  }
  return order;
}

// The byte range of the first subgraph's operators vector (its uoffset slots).
std::pair<size_t, size_t> OperatorSlots(const std::vector<uint8_t>& file) {
  const auto* model = tflite_fb::GetModel(file.data());
  const auto* ops = model->subgraphs()->Get(0)->operators();
  const size_t begin = static_cast<size_t>(reinterpret_cast<const uint8_t*>(ops->Data()) - file.data());
  return {begin, begin + 4 * ops->size()};
}

// Random bytes for every graph input, one after another (floats in [-1, 1]
// for float32 inputs, so that the models compute ordinary numbers).
std::vector<uint8_t> RandomInputs(const ModelGraph& g, std::mt19937& rng) {
  std::vector<uint8_t> bytes;
  for (int id : g.inputs) {
    const GraphTensor& t = g.tensors[id];
    if (t.type == TensorType::kFloat32) {
      std::uniform_real_distribution<float> value(-1.0f, 1.0f);
      for (int64_t i = 0; i < t.elements(); ++i) {
        const float v = value(rng);
        uint8_t raw[4];
        std::memcpy(raw, &v, 4);
        bytes.insert(bytes.end(), raw, raw + 4);
      }
    } else {
      std::uniform_int_distribution<int> byte(0, 255);
      for (int64_t i = 0; i < t.bytes(); ++i) bytes.push_back(static_cast<uint8_t>(byte(rng)));
    }
  }
  return bytes;
}

// Arm NN 20.08 refuses these (shared/testdata/tflite/README.md).
bool ArmNnRuns(const std::string& file) {
  return file.rfind("conv", 0) != 0 && file != "keyword_scrambled_8bit.tflite" && file != "person_detect.tflite";
}

TEST(TfliteReorder, EveryTestdataModelStaysValidAndReadsPermuted) {
  std::mt19937 rng(2024);
  int reordered_non_identity = 0;
  for (const std::string& file : testing::TestdataModels()) {
    SCOPED_TRACE(file);
    const std::vector<uint8_t> original = testing::ReadBytes(testing::TestdataPath(file));
    auto graph = ReadTflite(original.data(), original.size());
    ASSERT_TRUE(graph.ok()) << graph.status().message();
    std::vector<int> order = RandomTopologicalOrder(*graph, rng);
    std::vector<int> identity(order.size());
    std::iota(identity.begin(), identity.end(), 0);
    for (int attempt = 0; attempt < 20 && order == identity; ++attempt) order = RandomTopologicalOrder(*graph, rng);
    reordered_non_identity += order != identity;
    if (order != identity) std::printf("reorder %s: a new order of its %zu operators\n", file.c_str(), order.size());

    auto reordered = ReorderOperators(original, order);
    ASSERT_TRUE(reordered.ok()) << reordered.status().message();
    ASSERT_EQ(reordered->size(), original.size());
    const auto [begin, end] = OperatorSlots(original);
    for (size_t i = 0; i < original.size(); ++i) {
      if (i >= begin && i < end) continue;
      ASSERT_EQ((*reordered)[i], original[i]) << "byte " << i << " outside the operators vector changed";
    }
    flatbuffers::Verifier verifier(reordered->data(), reordered->size());
    EXPECT_TRUE(tflite_fb::VerifyModelBuffer(verifier));
    auto back = ReadTflite(reordered->data(), reordered->size());
    ASSERT_TRUE(back.ok()) << back.status().message();
    ModelGraph want = *graph;
    for (size_t i = 0; i < order.size(); ++i) want.ops[i] = graph->ops[order[i]];
    testing::ExpectSameGraph(want, *back);
  }
  // Single-operator models and chains have one order only; the five synth
  // DAGs always have another.
  EXPECT_GE(reordered_non_identity, 5);
}

TEST(TfliteReorder, ArmNnGivesIdenticalOutputsForOriginalAndReordered) {
  if (std::string(UNAS_ARMNN_RUN).empty()) GTEST_SKIP() << "Arm NN is not installed";
  std::mt19937 rng(7);
  int compared = 0;
  for (const std::string& file : testing::TestdataModels()) {
    if (!ArmNnRuns(file)) continue;
    SCOPED_TRACE(file);
    const std::vector<uint8_t> original = testing::ReadBytes(testing::TestdataPath(file));
    auto graph = ReadTflite(original.data(), original.size());
    ASSERT_TRUE(graph.ok()) << graph.status().message();
    std::vector<int> order = RandomTopologicalOrder(*graph, rng);
    auto reordered = ReorderOperators(original, order);
    ASSERT_TRUE(reordered.ok()) << reordered.status().message();
    for (int trial = 0; trial < 2; ++trial) {
      const std::vector<uint8_t> input = RandomInputs(*graph, rng);
      auto a = testing::RunArmNn(UNAS_ARMNN_RUN, original, input, /*all_outputs=*/true);
      auto b = testing::RunArmNn(UNAS_ARMNN_RUN, *reordered, input, /*all_outputs=*/true);
      ASSERT_TRUE(a.ok()) << a.status().message();
      ASSERT_TRUE(b.ok()) << b.status().message();
      EXPECT_EQ(*a, *b);
      EXPECT_LT(std::count(a->begin(), a->end(), uint8_t{0}), static_cast<long>(a->size()))
          << "all-zero outputs would compare equal for any order";
      int64_t expected_bytes = 0;
      for (int id : graph->outputs) expected_bytes += graph->tensors[id].bytes();
      EXPECT_EQ(static_cast<int64_t>(a->size()), expected_bytes);
    }
    ++compared;
  }
  EXPECT_EQ(compared, 12);  // add x4, hello world, micro speech, simple add, synth x5
}

TEST(TfliteReorder, RejectsOrdersThatAreNoPermutation) {
  const std::vector<uint8_t> file = testing::ReadBytes(testing::TestdataPath("synth_2034.tflite"));
  auto r = ReorderOperators(file, {0, 1, 2});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "tflite reorder: the order has 3 entries, the model 5 operators");
  r = ReorderOperators(file, {0, 1, 2, 3, 5});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "tflite reorder: order[4] = 5 is not an operator (0..4)");
  r = ReorderOperators(file, {0, 1, 2, 1, 4});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "tflite reorder: operator 1 appears twice (positions 1 and 3)");
}

TEST(TfliteReorder, RejectsAnOrderThatReadsATensorBeforeItIsWritten) {
  // hello world is a chain: FC 0 -> FC 1 -> FC 2 (tensors 7 and 8 between).
  const std::vector<uint8_t> file = testing::ReadBytes(testing::TestdataPath("hello_world_int8.tflite"));
  auto r = ReorderOperators(file, {1, 0, 2});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "tflite reorder: operator 1 (FULLY_CONNECTED) at position 0 reads tensor 7 "
            "('sequential/dense/MatMul;sequential/dense/Relu;sequential/dense/BiasAdd') before operator 0 "
            "(FULLY_CONNECTED) writes it (at position 1)");
}

TEST(TfliteReorder, RejectsAFileThatDoesNotRead) {
  std::vector<uint8_t> file = testing::ReadBytes(testing::TestdataPath("add0.tflite"));
  file.resize(100);
  auto r = ReorderOperators(file, {0});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("tflite reorder: tflite: the flatbuffer is corrupt or truncated", 0), 0u)
      << r.status().message();
}

}  // namespace
}  // namespace unas
