// A keyword job's "audio" fields (data/dataset_spec.h SpeechCommandsSpec):
// parsed with μNAS's and TensorFlow's defaults, refused with the field's
// name, kept through the normalised JSON and across gRPC in the trial task.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "proto/proto_convert.h"
#include "server/core/job_spec.h"
#include "tests/server/example_jobs.h"

namespace unas::server {
namespace {

std::string Refused(const std::string& text) {
  auto spec = ParseJobSpecText(text);
  return spec.ok() ? "(accepted)" : spec.status().message();
}

TEST(JobSpecAudioTest, TheKeywordExampleHasMuNasBoundsAndTheDefaultFrontEnd) {
  auto spec = unas::testing::ParseExampleJob("keywords.json");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->dataset.kind, data::DatasetKind::kSpeechCommands);
  EXPECT_EQ(spec->dataset.directory, "/data/speech_commands_v0.02");
  EXPECT_EQ(spec->dataset.speech.wanted_words.size(), 10u);
  EXPECT_EQ(*spec->bounds[search::Objective::kError], 0.085);
  EXPECT_EQ(*spec->bounds[search::Objective::kPeakSram], 60000);
  EXPECT_EQ(*spec->bounds[search::Objective::kFlash], 40000);
  EXPECT_EQ(*spec->bounds[search::Objective::kMacs], 20000000);
  auto config = data::SpeechFrontendConfig(spec->dataset.speech);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->window_samples, 480);
  EXPECT_EQ(config->stride_samples, 320);
  EXPECT_EQ(unas_frontend_frames(&*config), 49);
  EXPECT_EQ(unas_frontend_features_per_frame(&*config), 40);
}

TEST(JobSpecAudioTest, FieldsSurviveTheNormalisedJsonAndTheTrialTask) {
  auto spec = ParseJobSpecText(R"({"name":"k","dataset":"speech_commands:/d","audio":{
      "wanted_words":["on","off"],"silence_percent":5,"unknown_percent":20,"time_shift_ms":50,
      "background_frequency":0.5,"background_volume":0.2,"augment_copies":3,"seed":7,"window_ms":40,
      "stride_ms":20,"mel_channels":32,"lower_hz":60,"upper_hz":3800,"features":"mfcc","mfcc_coefficients":10}})");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  const data::SpeechCommandsSpec& s = spec->dataset.speech;
  EXPECT_EQ(s.wanted_words, (std::vector<std::string>{"on", "off"}));
  EXPECT_EQ(s.augment_copies, 3);
  EXPECT_EQ(s.mfcc_coefficients, 10);
  // The normalised JSON reads back to the same data set (Key covers every field).
  auto again = ParseJobSpec(JobSpecToJson(*spec));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->dataset.Key(), spec->dataset.Key());
  EXPECT_NE(again->dataset.Key(), data::ParseDatasetSpec("speech_commands:/d")->Key());
  // Across gRPC.
  const worker::TrialTask task = TrialTaskFor(*spec, TrialStage{});
  v1::TrialTask p;
  ToProto(task, &p);
  auto back = FromProto(p);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->dataset.Key(), spec->dataset.Key());
  EXPECT_EQ(back->dataset.speech.lower_hz, 60);
  // Other jobs' JSON has no "audio".
  auto image = ParseJobSpecText(R"({"name":"i","dataset":"synthetic"})");
  ASSERT_TRUE(image.ok());
  EXPECT_FALSE(JobSpecToJson(*image).contains("audio"));
}

TEST(JobSpecAudioTest, BadAudioFieldsAreRefusedByName) {
  EXPECT_EQ(Refused(R"({"name":"k","dataset":"synthetic","audio":{}})"),
            "audio: only for a \"speech_commands:DIR\" dataset");
  EXPECT_EQ(Refused(R"({"name":"k","dataset":"speech_commands:/d","audio":{"words":[]}})").rfind(
                "audio.words: unknown field (allowed: augment_copies, ", 0),
            0u);
  EXPECT_EQ(Refused(R"({"name":"k","dataset":"speech_commands:/d","audio":{"wanted_words":[]}})"),
            "audio.wanted_words: expected an array of 1 to 254 word folder names");
  EXPECT_EQ(Refused(R"({"name":"k","dataset":"speech_commands:/d","audio":{"wanted_words":["_x"]}})"),
            "audio.wanted_words: '_x' is not a word folder name (1-100 characters, no '/', not starting with '_' or "
            "'.')");
  EXPECT_EQ(Refused(R"({"name":"k","dataset":"speech_commands:/d","audio":{"silence_percent":101}})").rfind(
                "audio.silence_percent: 101 is outside 0", 0),
            0u);
  EXPECT_EQ(Refused(R"({"name":"k","dataset":"speech_commands:/d","audio":{"features":"mel"}})"),
            "audio.features: expected \"mfcc\" or \"log_mel\"");
  EXPECT_EQ(Refused(R"({"name":"k","dataset":"speech_commands:/d","audio":{"window_ms":65}})"),
            "audio.window_ms: 65 is outside 1..64");
  EXPECT_EQ(Refused(R"({"name":"k","dataset":"speech_commands:/d","training":{"augment":true}})"),
            "training.augment: image augmentation does not apply to keyword features; use audio.time_shift_ms and "
            "audio.background_frequency");
  // Each field in range but not together: 40 coefficients of 32 channels.
  EXPECT_EQ(Refused(R"({"name":"k","dataset":"speech_commands:/d","audio":{"mel_channels":32}})"),
            "audio: audio front end: mfcc_coefficients = 40 is out of its range (data/audio/frontend.h lists each "
            "field's range)");
}

}  // namespace
}  // namespace unas::server
