// Bounded fuzzing of the reader inside the suite: a fixed seed, a few
// thousand mutations of the testdata models (truncations, bit flips, a wrong
// identifier, huge 32-bit values written over offsets and lengths, random
// bytes). The reader must return either a graph whose every index is in range
// or an error starting "tflite: " that says something; never crash. A graph
// that reads must also survive the writer and read back the same, and the
// identity reorder. The libFuzzer target (tests/tflite/fuzz/, UNAS_FUZZ=ON)
// runs the same checks unbounded, with sanitizers.
#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>

#include "tests/tflite/fuzz/fuzz_checks.h"
#include "tests/tflite/tflite_test_util.h"

namespace unas {
namespace {

enum class Mutation { kTruncate, kBitFlips, kIdentifier, kHugeU32, kRandomBytes, kCount };

std::vector<uint8_t> Mutate(const std::vector<uint8_t>& file, Mutation kind, std::mt19937& rng) {
  std::vector<uint8_t> out = file;
  auto pos = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  switch (kind) {
    case Mutation::kTruncate:
      out.resize(pos(file.size()));
      break;
    case Mutation::kBitFlips: {
      const int flips = 1 + static_cast<int>(pos(8));
      for (int i = 0; i < flips; ++i) out[pos(out.size())] ^= static_cast<uint8_t>(1u << pos(8));
      break;
    }
    case Mutation::kIdentifier:
      out[4 + pos(4)] ^= static_cast<uint8_t>(1 + pos(255));
      break;
    case Mutation::kHugeU32: {
      // Over a 4-byte aligned word: offsets, vector lengths and indices live there.
      static const uint32_t kHuge[] = {0xffffffffu, 0x7fffffffu, 0x80000000u, 0x10000000u,
                                       static_cast<uint32_t>(file.size()), static_cast<uint32_t>(file.size() - 4)};
      const size_t at = (pos(out.size() / 4)) * 4;
      const uint32_t v = kHuge[pos(6)];
      std::memcpy(out.data() + at, &v, 4);
      break;
    }
    case Mutation::kRandomBytes: {
      const size_t start = pos(out.size());
      const size_t len = std::min<size_t>(1 + pos(16), out.size() - start);
      for (size_t i = 0; i < len; ++i) out[start + i] = static_cast<uint8_t>(pos(256));
      break;
    }
    case Mutation::kCount:
      break;
  }
  return out;
}

TEST(TfliteReaderFuzz, FourThousandMutationsReadOrFailCleanly) {
  std::mt19937 rng(20261201);
  int ok = 0, errors = 0;
  int per_kind[static_cast<int>(Mutation::kCount)] = {};
  for (const std::string& file : testing::TestdataModels()) {
    const std::vector<uint8_t> original = testing::ReadBytes(testing::TestdataPath(file));
    ASSERT_FALSE(original.empty()) << file;
    // person detection is 300 KB: fewer rounds keep the test fast.
    const int rounds = original.size() > 100000 ? 100 : 230;
    for (int i = 0; i < rounds; ++i) {
      const auto kind = static_cast<Mutation>(i % static_cast<int>(Mutation::kCount));
      const std::vector<uint8_t> mutated = Mutate(original, kind, rng);
      const std::string problem = fuzz::CheckReaderOn(mutated.data(), mutated.size(), &ok, &errors);
      ASSERT_TRUE(problem.empty()) << file << " mutation " << i << ": " << problem;
      ++per_kind[static_cast<int>(kind)];
    }
  }
  std::printf("fuzz: %d mutated files, %d read, %d refused\n", ok + errors, ok, errors);
  EXPECT_EQ(ok + errors, 17 * 230 + 100);
  // Most mutations break the file; some (a flipped bit in weight data) do not.
  EXPECT_GT(errors, 1000);
  EXPECT_GT(ok, 100);
}

// The corpus kept for the libFuzzer target, including the inputs it found
// (regress_*: a zero_point vector of int64 that is 4- but not 8-aligned,
// which the Verifier accepts and UBSan flagged when loaded in place).
TEST(TfliteReaderFuzz, KeptCorpusReadsOrFailsCleanly) {
  const std::string dir = std::string(UNAS_SOURCE_DIR) + "/tests/tflite/fuzz/corpus";
  DIR* d = opendir(dir.c_str());
  ASSERT_NE(d, nullptr) << dir;
  int files = 0, ok = 0, errors = 0;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::vector<uint8_t> bytes = testing::ReadBytes(dir + "/" + name);
    const std::string problem = fuzz::CheckReaderOn(bytes.data(), bytes.size(), &ok, &errors);
    EXPECT_TRUE(problem.empty()) << name << ": " << problem;
    ++files;
  }
  closedir(d);
  EXPECT_GE(files, 5);
  EXPECT_EQ(ok + errors, files);
}

}  // namespace
}  // namespace unas
