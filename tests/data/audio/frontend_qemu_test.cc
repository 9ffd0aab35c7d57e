// The audio front end's C source built three ways gives the same features
// bit for bit: in this test process (the unas_audio_frontend library), as a
// host program under AddressSanitizer and UBSan, and cross-compiled -Os for
// Cortex-M4 and run on qemu-system-arm (mps2-an386), on generated speech,
// noise and extreme clips. Also measures what docs/keyword-spotting.md
// reports: instructions per clip (-icount shift=0), the object's flash,
// the stack. Skips when the cross tools are not installed.
#include <fstream>
#include <iostream>
#include <sstream>

#include <gtest/gtest.h>

#include "data/audio/feature_extractor.h"
#include "tests/data/audio/keyword_set.h"
#include "tests/firmware/c_build.h"

namespace unas::data::audio {
namespace {

using firmware::testing::CommandResult;
using firmware::testing::RunCommand;
using firmware::testing::TempDir;

struct DriverRun {
  std::vector<std::vector<int>> features, int8;  // by clip
  int64_t prepare_instructions = 0;
  std::vector<int64_t> feature_instructions, int8_instructions;
  int64_t stack_bytes = 0;
  int64_t calibration_ticks = 0;
};

DriverRun Parse(const std::string& output) {
  const firmware::testing::DriverLines printed(output);
  DriverRun run;
  for (const auto& row : printed.Rows("features")) run.features.emplace_back(row.begin(), row.end());
  for (const auto& row : printed.Rows("int8")) run.int8.emplace_back(row.begin(), row.end());
  run.prepare_instructions = printed.Value("prepare_ticks") * 40;
  for (const auto& row : printed.Rows("ticks")) {
    run.feature_instructions.push_back(firmware::testing::Column(row, 0) * 40);
    run.int8_instructions.push_back(firmware::testing::Column(row, 1) * 40);
  }
  run.stack_bytes = printed.Value("stack_bytes");
  run.calibration_ticks = printed.Value("calibration_ticks_per_2M_instructions");
  return run;
}

// test_clips.h for frontend_main.c: the config, quantiser and clips.
std::string ClipsHeader(const FrontendConfig& c, const InputQuantizer& q,
                        const std::vector<std::vector<int16_t>>& clips) {
  std::ostringstream s;
  s << "static const unas_frontend_config unas_test_config = {" << c.sample_rate_hz << ", " << c.clip_samples
    << ", " << c.window_samples << ", " << c.stride_samples << ", " << c.mel_channels << ", " << c.lower_hz << ", "
    << c.upper_hz << ", " << c.output << ", " << c.mfcc_coefficients << "};\n"
    << "static const unas_frontend_quant unas_test_quant = {" << q.multiplier << ", " << q.shift << ", "
    << q.zero_point << "};\n"
    << "#define UNAS_TEST_SCRATCH_BYTES " << unas_frontend_scratch_bytes(&c) << "\n"
    << "#define UNAS_TEST_FEATURES " << unas_frontend_frames(&c) * unas_frontend_features_per_frame(&c) << "\n"
    << "#define UNAS_TEST_CLIPS " << clips.size() << "\n"
    << "static const int16_t unas_test_clips[" << clips.size() << "][" << c.clip_samples << "] = {\n";
  for (const auto& clip : clips) {
    s << "{";
    for (int16_t v : clip) s << v << ",";
    s << "},\n";
  }
  s << "};\n";
  return s.str();
}

TEST(AudioFrontendQemu, FeaturesOnCortexM4EqualTheHostsBitForBit) {
  if (!firmware::testing::HaveArmTools()) GTEST_SKIP() << "arm-none-eabi-gcc or qemu-system-arm not installed";
  // Every fourth generated clip (noise and speech) and the synthetic
  // extremes: enough variety, and a few seconds under emulation.
  const std::vector<std::vector<int16_t>> all = testing::FrontendTestClips();
  ASSERT_GE(all.size(), 4u);
  std::vector<std::vector<int16_t>> clips;
  for (size_t i = 0; i < all.size(); ++i) {
    if (i % 4 == 0 || i + 4 >= all.size()) clips.push_back(all[i]);
  }
  const FrontendConfig config = DefaultFrontendConfig();
  auto quantizer = MakeInputQuantizer(1.25, 60);  // about MFCC's range: -247..71 over 255 steps
  ASSERT_TRUE(quantizer.ok());

  // Expected: this process, through the library.
  auto extractor = FeatureExtractor::Create(config);
  ASSERT_TRUE(extractor.ok());
  std::vector<std::vector<int>> features, int8;
  for (const auto& clip : clips) {
    auto f = extractor->Compute(clip);
    ASSERT_TRUE(f.ok());
    auto q = QuantizeFeatures(*quantizer, *f);
    ASSERT_TRUE(q.ok());
    features.emplace_back(f->begin(), f->end());
    int8.emplace_back(q->begin(), q->end());
  }

  // frontend.c and frontend.h copied unchanged beside the driver, as they
  // will be beside a generated model.
  TempDir dir;
  {
    std::ofstream(dir.path() + "/test_clips.h") << ClipsHeader(config, *quantizer, clips);
  }
  for (const char* file : {"frontend.c", "frontend.h"}) {
    const CommandResult copied =
        RunCommand("cp " UNAS_SOURCE_DIR "/data/audio/" + std::string(file) + " " + dir.path());
    ASSERT_EQ(copied.exit_code, 0) << copied.output;
  }
  const std::string src = dir.path() + "/";
  const std::string driver = UNAS_SOURCE_DIR "/tests/data/audio/frontend_main.c";
  const std::string flags = "-std=c99 -pedantic-errors -Wall -Wextra -Werror -I" + dir.path() + " ";

  const CommandResult host_build =
      RunCommand("gcc " + flags + "-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all " + src +
                 "frontend.c " + driver + " -o " + dir.path() + "/host");
  ASSERT_EQ(host_build.exit_code, 0) << host_build.output;
  const CommandResult host = RunCommand("ASAN_OPTIONS=detect_leaks=0 " + dir.path() + "/host");
  ASSERT_EQ(host.exit_code, 0) << host.output.substr(0, 4000);
  const DriverRun host_run = Parse(host.output);
  EXPECT_EQ(host_run.features, features);
  EXPECT_EQ(host_run.int8, int8);

  const std::string arm = UNAS_SOURCE_DIR "/firmware/arm/";
  const std::string cc =
      "arm-none-eabi-gcc " + flags + "-mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections ";
  for (const auto& [source, object] : std::vector<std::pair<std::string, std::string>>{
           {src + "frontend.c", "frontend.o"}, {driver, "main.o"}, {arm + "startup.c", "startup.o"}}) {
    const CommandResult r = RunCommand(cc + "-c " + source + " -o " + dir.path() + "/" + object);
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  // Nothing from the C library but string.h's functions.
  const CommandResult undefined = RunCommand("arm-none-eabi-nm -u " + dir.path() + "/frontend.o");
  std::istringstream symbols(undefined.output);
  for (std::string kind, name; symbols >> kind >> name;) {
    EXPECT_TRUE(name == "memcpy" || name == "memcmp" || name == "memset") << "frontend.o needs " << name;
  }
  const Status linked = firmware::testing::LinkForQemu(
      dir.path(), "cortex-m4", {dir.path() + "/frontend.o", dir.path() + "/main.o", dir.path() + "/startup.o"});
  ASSERT_TRUE(linked.ok()) << linked.message();
  const Result<std::string> qemu = firmware::testing::RunOnQemu(dir.path(), "mps2-an386", 120);
  ASSERT_TRUE(qemu.ok()) << qemu.status().message().substr(0, 4000);
  const DriverRun arm_run = Parse(*qemu);
  // spin(1000000) is 2,000,000 loop instructions plus a few of call and timing.
  ASSERT_GE(arm_run.calibration_ticks, 50000);
  ASSERT_LE(arm_run.calibration_ticks, 50002);
  ASSERT_EQ(arm_run.features.size(), clips.size());
  for (size_t i = 0; i < clips.size(); ++i) {
    EXPECT_EQ(arm_run.features[i], features[i]) << "clip " << i;
    EXPECT_EQ(arm_run.int8[i], int8[i]) << "clip " << i;
  }

  int64_t most = 0, least = INT64_MAX;
  for (int64_t n : arm_run.feature_instructions) {
    most = std::max(most, n);
    least = std::min(least, n);
  }
  const Result<int64_t> flash_bytes = firmware::testing::ObjectFlashBytes(dir.path() + "/frontend.o");
  ASSERT_TRUE(flash_bytes.ok()) << flash_bytes.status().message();
  std::cout << "[figures] cortex-m4 clips " << clips.size() << " frontend_flash "
            << *flash_bytes << " scratch " << unas_frontend_scratch_bytes(&config)
            << " stack " << arm_run.stack_bytes
            << " prepare_instructions " << arm_run.prepare_instructions << " features_instructions min " << least
            << " max " << most << " noise_clip " << arm_run.feature_instructions[0] << " speech_clip "
            << arm_run.feature_instructions[1] << " int8_instructions " << arm_run.int8_instructions[0] << "\n";
  EXPECT_GT(arm_run.stack_bytes, 0);
  EXPECT_LT(arm_run.stack_bytes, 1024);
}

}  // namespace
}  // namespace unas::data::audio
