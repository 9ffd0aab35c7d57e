// The C library a worker measures (firmware/trial_library.h) and its flash
// on Cortex-M4 (firmware/cortex_m_flash.h), checked against the README's
// commands run by hand (arm-none-eabi-gcc, then arm-none-eabi-size -B).
#include <stdlib.h>

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "costmodel/network.h"
#include "firmware/cortex_m_flash.h"
#include "firmware/generator.h"
#include "firmware/trial_library.h"
#include "tests/firmware/c_build.h"
#include "tests/firmware/test_networks.h"
#include "tflite/writer.h"

namespace unas::firmware {
namespace {

using testing::RunCommand;
using testing::TempDir;

// A small random network, quantised, and its .tflite (operators in build
// order, as MatchLoweredNetwork accepts).
struct Trial {
  Network network;
  testing::QuantisedModel model;
  std::string tflite;
};

Trial SmallTrial(uint64_t seed) {
  std::mt19937_64 rng(seed);
  Trial t;
  t.network = BuildNetwork(testing::SmallRandomCandidate(rng), InputSpec{12, 12, 1, 10}).value();
  t.model = testing::QuantiseRandom(t.network, seed).value();
  const std::vector<uint8_t> bytes = WriteTflite(t.model.graph).value();
  t.tflite.assign(bytes.begin(), bytes.end());
  return t;
}

bool HaveArmGcc() { return RunCommand("arm-none-eabi-gcc --version").exit_code == 0; }

TEST(TrialLibrary, IsTheGeneratorsLibraryOfTheSameQuantisedNetwork) {
  const Trial t = SmallTrial(3);
  for (const bool partial : {false, true}) {
    auto from_file = TrialLibraryFromTflite(t.tflite, t.network, partial);
    ASSERT_TRUE(from_file.ok()) << from_file.status().message();
    FirmwareOptions options;
    options.partial_execution = partial;
    const CLibrary direct = GenerateCLibrary(t.model.q, options).value();
    EXPECT_EQ(from_file->library.model_c, direct.model_c) << "partial " << partial;
    EXPECT_EQ(from_file->library.model_h, direct.model_h) << "partial " << partial;
    EXPECT_FALSE(from_file->contract.has_value());  // written without one
  }
  auto other = TrialLibraryFromTflite(t.tflite, SmallTrial(4).network, false);
  EXPECT_EQ(other.status().code(), StatusCode::kInvalidArgument);
}

TEST(CortexM4Flash, IsTextPlusDataOfTheObjectsTheReadmeCommandsBuild) {
  if (!HaveArmGcc()) GTEST_SKIP() << "arm-none-eabi-gcc is not installed (deploy/install-deps.sh installs it)";
  const Trial t = SmallTrial(5);
  const CLibrary library = GenerateCLibrary(t.model.q).value();
  auto measured = MeasureCortexM4Flash(library);
  ASSERT_TRUE(measured.ok()) << measured.status().message();
  TempDir dir("flash");
  ASSERT_TRUE(WriteCLibrary(dir.path(), library).ok());
  const std::string cc = "arm-none-eabi-gcc -std=c99 -mcpu=cortex-m4 -mthumb -O2 -ffunction-sections "
                         "-fdata-sections -I" + dir.path() + "/c -c ";
  int64_t by_hand[2] = {0, 0};
  const char* names[2] = {"model", "unas_kernels"};
  for (int i = 0; i < 2; ++i) {
    const std::string object = dir / (std::string(names[i]) + ".o");
    const auto built = RunCommand(cc + dir.path() + "/c/" + names[i] + ".c -o " + object);
    ASSERT_EQ(built.exit_code, 0) << built.output;
    by_hand[i] = testing::ObjectFlashBytes(object).value();
  }
  EXPECT_EQ(measured->model_bytes, by_hand[0]);
  EXPECT_EQ(measured->kernels_bytes, by_hand[1]);
  EXPECT_EQ(measured->frontend_bytes, 0);
  EXPECT_EQ(measured->total_bytes(), by_hand[0] + by_hand[1]);
  // The weights are in model.o, with the code that runs them.
  EXPECT_GT(measured->model_bytes, library.weight_bytes);
  // A second library reuses the kernels' size: only model.o is compiled.
  FirmwareOptions partial_options;
  partial_options.partial_execution = true;
  const CLibrary partial = GenerateCLibrary(t.model.q, partial_options).value();
  auto again = MeasureCortexM4Flash(partial);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->kernels_bytes, by_hand[1]);
  EXPECT_GT(again->model_bytes, 0);
}

TEST(CortexM4Flash, SaysTheCompilerIsMissingWhenItIsNotOnPath) {
  const Trial t = SmallTrial(7);
  const CLibrary library = GenerateCLibrary(t.model.q).value();
  TempDir empty("empty_path");
  const char* old = getenv("PATH");
  const std::string saved = old != nullptr ? old : "";
  setenv("PATH", empty.path().c_str(), 1);
  auto measured = MeasureCortexM4Flash(library);
  setenv("PATH", saved.c_str(), 1);
  ASSERT_FALSE(measured.ok());
  EXPECT_EQ(measured.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(measured.status().message(), "arm-none-eabi-gcc not found");
}

}  // namespace
}  // namespace unas::firmware
