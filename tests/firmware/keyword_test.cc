// Keyword spotting end to end, as a device runs it (issue 25): a generated
// Speech Commands-layout set (make_keywords.sh), a network trained on it by
// the worker's trainer, its int8 model and C library with the audio front
// end, then the library built for the host under AddressSanitizer and fed
// the test clips' RAW PCM through unas_model_features and unas_model_invoke
// in one arena of exactly UNAS_MODEL_ARENA_BYTES: the int8 input equals the
// trainer's features quantised bit for bit, the logits equal the int8
// executor's (the trial's int8 evaluation), so the device's accuracy is the
// reported int8 test accuracy. Then the same on Cortex-M4 (QEMU mps2-an386).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "data/audio/feature_extractor.h"
#include "data/audio/speech_commands.h"
#include "costmodel/reference_executor.h"
#include "firmware/generator.h"
#include "quant/int8_executor.h"
#include "quant/quantize.h"
#include "tests/data/audio/keyword_set.h"
#include "tests/firmware/c_build.h"
#include "worker/dataset.h"
#include "worker/int8_export.h"
#include "worker/trainer.h"

namespace unas::firmware {
namespace {

using testing::CommandResult;
using testing::RunCommand;
using testing::TempDir;

// conv 3x3 x8 stride 2 (BN, ReLU), max-pool 2, dense 16, classifier: 49x40 -> 25x20x8 -> 12x10x8 -> 16 -> 5.
Candidate KeywordCandidate() {
  return ParseCandidate(R"({"conv_blocks":[{"is_branch":false,"layers":[
      {"type":"Conv2D","ker_size":3,"filters":8,"2x_stride":true,"has_bn":true,"has_relu":true,
       "has_prepool":false}]}],
      "pooling":{"type":"max","pool_size":2},"dense_blocks":[{"units":16,"activation":"relu"}]})")
      .value();
}

struct DriverRun {
  std::vector<std::vector<int>> inputs, outputs;
  std::vector<int64_t> feature_ticks, invoke_ticks;
  int64_t stack_bytes = -1, calibration_ticks = 0;
};

DriverRun Parse(const std::string& text) {
  DriverRun run;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream f(line);
    std::string key, index;
    f >> key;
    if (key == "input" || key == "output") {
      f >> index;
      std::vector<int> values;
      for (int v; f >> v;) values.push_back(v);
      (key == "input" ? run.inputs : run.outputs).push_back(values);
    } else if (key == "ticks") {
      int64_t a = 0, b = 0;
      f >> index >> a >> b;
      run.feature_ticks.push_back(a);
      run.invoke_ticks.push_back(b);
    } else if (key == "stack_bytes:") {
      f >> run.stack_bytes;
    } else if (key == "calibration_ticks_per_2M_instructions:") {
      f >> run.calibration_ticks;
    }
  }
  return run;
}

std::string ClipsHeader(const std::vector<const int16_t*>& clips, int samples) {
  std::ostringstream s;
  s << "#define UNAS_TEST_CLIPS " << clips.size() << "\n"
    << "#if UNAS_MODEL_PCM_SAMPLES != " << samples << "\n#error clip length\n#endif\n"
    << "static const int16_t unas_test_clips[UNAS_TEST_CLIPS][UNAS_MODEL_PCM_SAMPLES] = {\n";
  for (const int16_t* clip : clips) {
    s << "{";
    for (int i = 0; i < samples; ++i) s << clip[i] << (i % 32 == 31 ? ",\n" : ",");
    s << "},\n";
  }
  s << "};\n";
  return s.str();
}

int64_t ObjectFlashBytes(const std::string& object) {
  const CommandResult r = RunCommand("arm-none-eabi-size -B " + object);
  std::istringstream lines(r.output);
  std::string header;
  std::getline(lines, header);
  int64_t text = 0, data = 0;
  lines >> text >> data;
  return text + data;
}

int ArgMax(const std::vector<int>& v) {
  int best = 0;
  for (size_t i = 1; i < v.size(); ++i) {
    if (v[i] > v[best]) best = static_cast<int>(i);
  }
  return best;
}

// A keyword set made by make_keywords.sh under `set` with `args`, as a
// speech_commands spec whose wanted words are `wanted`; the script's output
// when it fails.
Result<data::DatasetSpec> MakeKeywordSpec(const TempDir& set, const std::string& args,
                                          std::vector<std::string> wanted) {
  data::DatasetSpec spec;
  spec.kind = data::DatasetKind::kSpeechCommands;
  spec.directory = set.path() + "/keywords";
  spec.speech.wanted_words = std::move(wanted);
  const std::string made = data::audio::testing::MakeKeywords(spec.directory, args);
  if (!made.empty()) return Status::Internal(made);
  return spec;
}

TEST(KeywordFirmware, RawPcmOnTheDeviceGivesTheTrialsInt8PredictionsOnEveryTestClip) {
  if (!data::audio::testing::HaveSpeechTools()) GTEST_SKIP() << "espeak-ng or sox not installed";
  TempDir set;
  // 3 words x 15 speakers, speakers 3, 8, 13 validation, 4, 9, 14 testing.
  auto made = MakeKeywordSpec(
      set, "--words 'yes no up' --others 'cat dog' --speakers 15 --split-period 5 --noise-seconds 3",
      {"yes", "no", "up"});
  ASSERT_TRUE(made.ok()) << made.status().message();
  data::DatasetSpec spec = *made;
  const std::string words_dir = spec.directory;
  spec.speech.augment_copies = 2;
  auto shape = data::DescribeDataset(spec);
  ASSERT_TRUE(shape.ok()) << shape.status().message();
  EXPECT_EQ(shape->height, 49);
  EXPECT_EQ(shape->width, 40);
  EXPECT_EQ(shape->num_classes, 5);
  auto dataset = worker::LoadDataset(spec);
  ASSERT_TRUE(dataset.ok()) << dataset.status().message();
  const worker::DatasetInfo& info = (*dataset)->info();
  EXPECT_EQ(info.class_names, (std::vector<std::string>{"_silence_", "_unknown_", "yes", "no", "up"}));
  // 9 wanted clips per split (3 speakers x 3 words), 1 silence and 1 unknown (ceil of 10 %).
  EXPECT_EQ(info.test_count, 11);
  EXPECT_EQ(info.validation_count, 11);

  worker::TrainConfig config;
  config.learning_rate = 0.05;
  config.epochs = 4;
  config.batch_size = 16;
  config.seed = 1;
  config.threads = 1;
  config.keep_model = true;
  auto trained = worker::Train(KeywordCandidate(), **dataset, config);
  ASSERT_TRUE(trained.ok()) << trained.status().message();
  ASSERT_EQ(trained->outcome, worker::TrialOutcome::kCompleted) << trained->message;
  auto int8 = worker::QuantizeTrained(*trained->model, **dataset);
  ASSERT_TRUE(int8.ok()) << int8.status().message();

  // Expected: the trial's int8 evaluation, input by input.
  const ModelGraph& graph = int8->graph;
  const Quantization& in_q = graph.tensors[graph.inputs[0]].quant;
  auto quantizer = data::audio::MakeInputQuantizer(in_q.scale[0], in_q.zero_point[0]);
  ASSERT_TRUE(quantizer.ok());
  auto features = worker::KeywordFeatures(**dataset, /*test=*/true);
  ASSERT_TRUE(features.ok()) << features.status().message();
  auto quantised = data::audio::QuantizeFeatures(*quantizer, *features);
  ASSERT_TRUE(quantised.ok());
  auto executor = quant::Int8Executor::Create(graph);
  ASSERT_TRUE(executor.ok()) << executor.status().message();
  constexpr int kInputBytes = 49 * 40;
  ASSERT_EQ(quantised->size(), size_t{11} * kInputBytes);
  std::vector<std::vector<int>> expected_inputs, expected_outputs;
  for (size_t i = 0; i < 11; ++i) {
    const std::vector<int8_t> input(quantised->begin() + i * kInputBytes, quantised->begin() + (i + 1) * kInputBytes);
    auto logits = executor->Run(input);
    ASSERT_TRUE(logits.ok()) << logits.status().message();
    expected_inputs.emplace_back(input.begin(), input.end());
    expected_outputs.emplace_back(logits->begin(), logits->end());
  }

  // The device's input: the test clips' PCM as the reader gives them (1 s,
  // padded or cut), silence clips included.
  auto sc = data::audio::LoadSpeechCommands(words_dir, data::SpeechReaderOptions(spec.speech));
  ASSERT_TRUE(sc.ok()) << sc.status().message();
  std::vector<const int16_t*> clips;
  std::vector<int> labels(sc->testing.labels.begin(), sc->testing.labels.end());
  for (int32_t clip : sc->testing.clips) clips.push_back(sc->clip(clip));
  ASSERT_EQ(clips.size(), 11u);

  FirmwareOptions options;
  options.audio_frontend = data::SpeechFrontendConfig(spec.speech).value();
  auto q = FromModelGraph(trained->model->network, graph);
  ASSERT_TRUE(q.ok()) << q.status().message();
  auto lib = GenerateCLibrary(*q, options);
  ASSERT_TRUE(lib.ok()) << lib.status().message();
  // The arena is the larger of the network's plan and the front end's 6,256 B of scratch.
  EXPECT_EQ(lib->frontend_scratch_bytes, 6256);
  EXPECT_EQ(lib->arena_bytes, std::max<int64_t>(lib->network_arena_bytes, 6256));
  EXPECT_NE(lib->model_h.find("#define UNAS_MODEL_PCM_SAMPLES 16000\n"), std::string::npos);
  EXPECT_NE(lib->model_h.find("#define UNAS_MODEL_ARENA_BYTES " + std::to_string(lib->arena_bytes) + "\n"),
            std::string::npos);
  TempDir dir;
  ASSERT_TRUE(WriteCLibrary(dir.path(), *lib).ok());
  {
    std::ofstream(dir.path() + "/c/kws_clips.h") << ClipsHeader(clips, 16000);
  }
  const std::string c = dir.path() + "/c/";
  const std::string driver = UNAS_SOURCE_DIR "/tests/firmware/kws_main.c";
  const std::string flags = "-std=c99 -pedantic-errors -Wall -Wextra -Werror -I" + c + " ";
  const std::string sources = c + "model.c " + c + "unas_kernels.c " + c + "frontend.c ";
  const CommandResult host_build = RunCommand("gcc " + flags + "-O1 -g -fsanitize=address,undefined "
                                              "-fno-sanitize-recover=all -fno-omit-frame-pointer " +
                                              sources + driver + " -o " + dir.path() + "/host");
  ASSERT_EQ(host_build.exit_code, 0) << host_build.output.substr(0, 4000);
  const CommandResult host = RunCommand("ASAN_OPTIONS=detect_leaks=0 " + dir.path() + "/host");
  ASSERT_EQ(host.exit_code, 0) << host.output.substr(0, 4000);
  const DriverRun host_run = Parse(host.output);
  ASSERT_EQ(host_run.inputs.size(), 11u);
  int device_correct = 0;
  for (size_t i = 0; i < 11; ++i) {
    EXPECT_EQ(host_run.inputs[i], expected_inputs[i]) << "clip " << i << ": features differ from the trainer's";
    EXPECT_EQ(host_run.outputs[i], expected_outputs[i]) << "clip " << i;
    device_correct += ArgMax(host_run.outputs[i]) == labels[i];
  }
  EXPECT_DOUBLE_EQ(device_correct / 11.0, 1.0 - int8->int8_test_error);
  // The confusion matrix counts every test clip; its diagonal is the correct ones.
  ASSERT_EQ(int8->int8_test_confusion.size(), 5u);
  int64_t total = 0, diagonal = 0;
  for (size_t t = 0; t < 5; ++t) {
    ASSERT_EQ(int8->int8_test_confusion[t].size(), 5u);
    for (size_t p = 0; p < 5; ++p) total += int8->int8_test_confusion[t][p];
    diagonal += int8->int8_test_confusion[t][t];
  }
  EXPECT_EQ(total, 11);
  EXPECT_EQ(diagonal, device_correct);
  std::printf("[figures] keyword model: float test error %.4f, int8 test error %.4f, device %d/11 correct, arena %lld B "
              "(network %lld B, front end %lld B)\n",
              trained->test_error, int8->int8_test_error, device_correct, static_cast<long long>(lib->arena_bytes),
              static_cast<long long>(lib->network_arena_bytes), static_cast<long long>(lib->frontend_scratch_bytes));

  if (!testing::HaveArmTools()) GTEST_SKIP() << "arm-none-eabi-gcc or qemu-system-arm not installed";
  const std::string arm = UNAS_SOURCE_DIR "/firmware/arm/";
  const std::string cc = "arm-none-eabi-gcc " + flags + "-mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections ";
  std::string link = "arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb --specs=rdimon.specs -nostartfiles -T " + arm +
                     "mps2.ld -Wl,--gc-sections -o " + dir.path() + "/prog.elf";
  for (const auto& [source, object] : std::vector<std::pair<std::string, std::string>>{
           {c + "model.c", "model.o"}, {c + "unas_kernels.c", "unas_kernels.o"}, {c + "frontend.c", "frontend.o"},
           {driver, "main.o"}, {arm + "startup.c", "startup.o"}}) {
    const CommandResult r = RunCommand(cc + "-c " + source + " -o " + dir.path() + "/" + object);
    ASSERT_EQ(r.exit_code, 0) << r.output.substr(0, 4000);
    link += " " + dir.path() + "/" + object;
  }
  const CommandResult linked = RunCommand(link);
  ASSERT_EQ(linked.exit_code, 0) << linked.output;
  const CommandResult qemu = RunCommand("timeout 300 qemu-system-arm -M mps2-an386 -nographic -semihosting "
                                        "-icount shift=0 -kernel " + dir.path() + "/prog.elf");
  ASSERT_EQ(qemu.exit_code, 0) << qemu.output.substr(0, 4000);
  const DriverRun arm_run = Parse(qemu.output);
  // spin(1000000) is 2,000,000 loop instructions plus a few of call and timing.
  ASSERT_GE(arm_run.calibration_ticks, 50000);
  ASSERT_LE(arm_run.calibration_ticks, 50002);
  EXPECT_EQ(arm_run.inputs, host_run.inputs);
  EXPECT_EQ(arm_run.outputs, host_run.outputs);
  int64_t features_max = 0, invoke_max = 0;
  for (size_t i = 0; i < arm_run.feature_ticks.size(); ++i) {
    features_max = std::max(features_max, arm_run.feature_ticks[i] * 40);
    invoke_max = std::max(invoke_max, arm_run.invoke_ticks[i] * 40);
  }
  std::printf("[figures] cortex-m4 keyword model: unas_model_features max %lld instructions, unas_model_invoke "
              "max %lld, stack %lld B, flash frontend.o %lld B model.o %lld B unas_kernels.o %lld B\n",
              static_cast<long long>(features_max), static_cast<long long>(invoke_max),
              static_cast<long long>(arm_run.stack_bytes),
              static_cast<long long>(ObjectFlashBytes(dir.path() + "/frontend.o")),
              static_cast<long long>(ObjectFlashBytes(dir.path() + "/model.o")),
              static_cast<long long>(ObjectFlashBytes(dir.path() + "/unas_kernels.o")));
}

// "The features it computes equal the trainer's bit for bit on 100 clips"
// (issue 25), on the cheaper path: no training, the front end only. A set
// of 5 words x 30 speakers split by thirds (speakers 1, 4, ... validation,
// 2, 5, ... testing), so validation + testing hold 100 wanted-word clips
// plus their silence and unknown examples; the worker's LoadDataset computes
// their features as the trainer and the int8 evaluation see them
// (KeywordFeatures), quantised with the model's input quantiser. The model
// is KeywordCandidate with random weights calibrated on some of those
// features (its input scale is a trained model's kind); its generated C,
// built for the host with AddressSanitizer and UBSan, is fed every clip's raw
// PCM through unas_model_features (tests/firmware/kws_features_main.c, the
// arena exactly UNAS_MODEL_ARENA_BYTES, poisoned before every clip).
TEST(KeywordFirmware, FeaturesOnTheDeviceEqualTheTrainersOnAHundredClips) {
  if (!data::audio::testing::HaveSpeechTools()) GTEST_SKIP() << "espeak-ng or sox not installed";
  TempDir set;
  auto made = MakeKeywordSpec(
      set, "--words 'yes no up down left' --others 'cat' --speakers 30 --split-period 3 --noise-seconds 3",
      {"yes", "no", "up", "down", "left"});
  ASSERT_TRUE(made.ok()) << made.status().message();
  const data::DatasetSpec spec = *made;
  const std::string words_dir = spec.directory;
  auto dataset = worker::LoadDataset(spec);
  ASSERT_TRUE(dataset.ok()) << dataset.status().message();
  auto sc = data::audio::LoadSpeechCommands(words_dir, data::SpeechReaderOptions(spec.speech));
  ASSERT_TRUE(sc.ok()) << sc.status().message();

  // The trainer's int16 features and the raw PCM, validation then testing, in the splits' order.
  std::vector<int16_t> features;
  std::string pcm;
  int wanted = 0;
  for (const bool test : {false, true}) {
    auto f = worker::KeywordFeatures(**dataset, test);
    ASSERT_TRUE(f.ok()) << f.status().message();
    features.insert(features.end(), f->begin(), f->end());
    const data::audio::SpeechCommandsSplit& split = test ? sc->testing : sc->validation;
    for (size_t i = 0; i < split.clips.size(); ++i) {
      pcm.append(reinterpret_cast<const char*>(sc->clip(split.clips[i])), 16000 * sizeof(int16_t));
      wanted += split.labels[i] >= 2;
    }
  }
  constexpr int kInputBytes = 49 * 40;
  const size_t clips = features.size() / kInputBytes;
  EXPECT_EQ(wanted, 100);  // 10 speakers x 5 words in each split
  // Each split: 50 wanted clips, ceil(5) silence and 5 unknown.
  ASSERT_EQ(clips, 120u);
  ASSERT_EQ(pcm.size(), clips * 16000 * sizeof(int16_t));

  const Network network = BuildNetwork(KeywordCandidate(), InputSpec{49, 40, 1, 7}).value();
  std::vector<std::vector<float>> calibration;
  for (size_t i = 0; i < clips; i += 12) {
    calibration.emplace_back(features.begin() + i * kInputBytes, features.begin() + (i + 1) * kInputBytes);
    for (float& x : calibration.back()) x /= data::audio::kFeatureScale;
  }
  auto graph = quant::QuantizeWithImages(network, RandomWeights(network, 7), calibration);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  const Quantization& in_q = graph->tensors[graph->inputs[0]].quant;
  auto quantizer = data::audio::MakeInputQuantizer(in_q.scale[0], in_q.zero_point[0]);
  ASSERT_TRUE(quantizer.ok());
  auto expected = data::audio::QuantizeFeatures(*quantizer, features);
  ASSERT_TRUE(expected.ok());
  // A meaningful comparison: most values are neither clamped end.
  const auto clamped = std::count_if(expected->begin(), expected->end(), [](int8_t v) { return v == -128 || v == 127; });
  EXPECT_LT(clamped, static_cast<long>(expected->size() / 10));

  FirmwareOptions options;
  options.audio_frontend = data::SpeechFrontendConfig(spec.speech).value();
  auto q = FromModelGraph(network, *graph);
  ASSERT_TRUE(q.ok()) << q.status().message();
  auto lib = GenerateCLibrary(*q, options);
  ASSERT_TRUE(lib.ok()) << lib.status().message();
  TempDir dir;
  ASSERT_TRUE(WriteCLibrary(dir.path(), *lib).ok());
  std::ofstream(dir.path() + "/clips.pcm", std::ios::binary) << pcm;
  const std::string c = dir.path() + "/c/";
  const CommandResult built = RunCommand(
      "gcc -std=c99 -pedantic-errors -Wall -Wextra -Werror -I" + c + " -O1 -g -fsanitize=address,undefined "
      "-fno-sanitize-recover=all -fno-omit-frame-pointer " + c + "model.c " + c + "unas_kernels.c " + c +
      "frontend.c " UNAS_SOURCE_DIR "/tests/firmware/kws_features_main.c -o " + dir.path() + "/host");
  ASSERT_EQ(built.exit_code, 0) << built.output.substr(0, 4000);
  const CommandResult run = RunCommand("ASAN_OPTIONS=detect_leaks=0 " + dir.path() + "/host " + dir.path() + "/clips.pcm");
  ASSERT_EQ(run.exit_code, 0) << run.output.substr(0, 4000);
  const DriverRun device = Parse(run.output);
  ASSERT_EQ(device.inputs.size(), clips);
  size_t equal = 0;
  for (size_t i = 0; i < clips; ++i) {
    const std::vector<int> want(expected->begin() + i * kInputBytes, expected->begin() + (i + 1) * kInputBytes);
    EXPECT_EQ(device.inputs[i], want) << "clip " << i << ": the device's input differs from the trainer's features";
    equal += device.inputs[i] == want;
  }
  std::printf("[figures] keyword features: %zu of %zu clips (%d wanted-word clips) equal the trainer's bit for bit; "
              "%ld of %zu input values at a clamp\n",
              equal, clips, wanted, static_cast<long>(clamped), expected->size());
}

}  // namespace
}  // namespace unas::firmware
