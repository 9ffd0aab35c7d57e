// The Arm NN runner against TFLM's own simple_add_model.tflite (an int8 ADD
// of two [1,128,128,1] inputs) and models Arm NN 20.08 refuses.
#include "tests/tools/armnn_runner.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>

namespace unas::testing {
namespace {

const std::string kArmNnRun = UNAS_ARMNN_RUN;
const std::string kData = std::string(UNAS_SHARED_DIR) + "/testdata/tflite/";

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

int EntriesIn(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return -1;
  int n = 0;
  while (dirent* e = readdir(d)) {
    if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") ++n;
  }
  closedir(d);
  return n;
}

// Points TMPDIR at a fresh directory for one test, so the test can see that
// the runner left nothing behind; restores it and removes the directory.
class ScopedTmpDir {
 public:
  ScopedTmpDir() {
    char buf[] = "/tmp/unas_armnn_test_XXXXXX";
    path_ = mkdtemp(buf);
    const char* old = std::getenv("TMPDIR");
    had_old_ = old != nullptr;
    if (old) old_ = old;
    setenv("TMPDIR", path_.c_str(), 1);
  }
  ~ScopedTmpDir() {
    if (had_old_) setenv("TMPDIR", old_.c_str(), 1); else unsetenv("TMPDIR");
    rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_, old_;
  bool had_old_ = false;
};

class ArmNnRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (kArmNnRun.empty()) GTEST_SKIP() << "Arm NN is not installed (deploy/install-deps.sh)";
  }

  // Runs `model` on `input` with TMPDIR at a fresh directory and expects it
  // refused with `code`, a message containing `fragment` (when not empty),
  // and no file left behind.
  static void ExpectRefused(const std::vector<uint8_t>& model, const std::vector<uint8_t>& input, StatusCode code,
                            const std::string& fragment) {
    ScopedTmpDir tmp;
    auto out = RunArmNn(kArmNnRun, model, input);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), code) << out.status().message();
    if (!fragment.empty()) {
      EXPECT_NE(out.status().message().find(fragment), std::string::npos) << out.status().message();
    }
    EXPECT_EQ(EntriesIn(tmp.path()), 0) << "the runner left files in " << tmp.path();
  }
};

// Arm NN's reference Add for int8: dequantise both inputs to float, add,
// quantise with round-half-away-from-zero, clamp to [-128, 127]. The scales
// and zero points are the file's (printed by pyarmnn and flatc --json).
int8_t ExpectedAdd(int8_t a, int8_t b) {
  const float s1 = 0.04072536528110504f, s2 = 0.04124561324715614f, so = 0.05837741121649742f;
  const int z1 = -2, z2 = -1, zo = -3;
  const float sum = s1 * static_cast<float>(a - z1) + s2 * static_cast<float>(b - z2);
  const int q = static_cast<int>(std::round(sum / so)) + zo;
  return static_cast<int8_t>(std::clamp(q, -128, 127));
}

TEST_F(ArmNnRunnerTest, SimpleAddGivesTheQuantisedSumOnEveryElement) {
  ScopedTmpDir tmp;
  const std::vector<uint8_t> model = ReadFile(kData + "simple_add_model.tflite");
  constexpr int kElements = 128 * 128;
  std::mt19937 rng(12);
  std::uniform_int_distribution<int> byte(-128, 127);
  std::vector<uint8_t> input(2 * kElements);
  for (auto& v : input) v = static_cast<uint8_t>(static_cast<int8_t>(byte(rng)));
  input[0] = static_cast<uint8_t>(int8_t{-2});  // both at their zero points: the output's zero point
  input[kElements] = static_cast<uint8_t>(int8_t{-1});
  input[1] = static_cast<uint8_t>(int8_t{127});  // saturates: 129*0.0407+128*0.0412 = 10.53 -> 180-3 > 127
  input[kElements + 1] = static_cast<uint8_t>(int8_t{127});

  auto out = RunArmNn(kArmNnRun, model, input);
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ(out->size(), static_cast<size_t>(kElements));
  EXPECT_EQ(static_cast<int8_t>((*out)[0]), -3);
  EXPECT_EQ(static_cast<int8_t>((*out)[1]), 127);
  int mismatches = 0;
  for (int i = 0; i < kElements; ++i) {
    const int8_t want = ExpectedAdd(static_cast<int8_t>(input[i]), static_cast<int8_t>(input[kElements + i]));
    mismatches += static_cast<int8_t>((*out)[i]) != want;
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(EntriesIn(tmp.path()), 0) << "the runner left files in " << tmp.path();
}

TEST_F(ArmNnRunnerTest, OnlyTheFirstInputIsAUsageErrorForATwoInputModel) {
  ExpectRefused(ReadFile(kData + "simple_add_model.tflite"), std::vector<uint8_t>(128 * 128, 0),
                StatusCode::kInvalidArgument, "has 2 inputs");
}

TEST_F(ArmNnRunnerTest, InputOfTheWrongSizeIsAUsageError) {
  ExpectRefused(ReadFile(kData + "simple_add_model.tflite"), std::vector<uint8_t>(100, 0),
                StatusCode::kInvalidArgument, "input is 100 bytes");
}

TEST_F(ArmNnRunnerTest, Int64BiasIsRefusedWithArmNnsMessage) {
  ExpectRefused(ReadFile(kData + "conv0.tflite"), std::vector<uint8_t>(4, 0), StatusCode::kFailedPrecondition,
                "INT64");
}

TEST_F(ArmNnRunnerTest, SvdfIsRefused) {
  ExpectRefused(ReadFile(kData + "keyword_scrambled_8bit.tflite"), std::vector<uint8_t>(4, 0),
                StatusCode::kFailedPrecondition, "SVDF");
}

TEST_F(ArmNnRunnerTest, BytesThatAreNoModelAreRefused) {
  ExpectRefused(std::vector<uint8_t>(64, 0x5a), std::vector<uint8_t>(4, 0), StatusCode::kFailedPrecondition, "");
}

TEST_F(ArmNnRunnerTest, AllOutputsComeOneAfterAnother) {
  // synth_2034: float32 input [8]; outputs fc3 [3] and add4 [8], 11 floats in all.
  std::vector<uint8_t> input(8 * 4, 0);
  auto first = RunArmNn(kArmNnRun, ReadFile(kData + "synth_2034.tflite"), input);
  auto all = RunArmNn(kArmNnRun, ReadFile(kData + "synth_2034.tflite"), input, /*all_outputs=*/true);
  ASSERT_TRUE(first.ok()) << first.status().message();
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(first->size(), 3u * 4);
  ASSERT_EQ(all->size(), 11u * 4);
  EXPECT_TRUE(std::equal(first->begin(), first->end(), all->begin()));
}

TEST_F(ArmNnRunnerTest, MissingToolIsAnInternalError) {
  auto out = RunArmNn("/nonexistent/armnn_run", std::vector<uint8_t>(8, 0), std::vector<uint8_t>(4, 0));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace unas::testing
