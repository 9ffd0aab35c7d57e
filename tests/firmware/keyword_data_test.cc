// A speech_commands data set through the worker's loader (the job path):
// counts and class names, features that are the front end's on the clips'
// PCM bit for bit, a note when there is no _background_noise_, and every
// bad input named (a list naming a missing clip, an empty word folder, a
// truncated or stereo WAV, a missing directory). Hand-made clips: fast.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "data/audio/feature_extractor.h"
#include "data/audio/speech_commands.h"
#include "data/audio/wav.h"
#include "tests/data/audio/keyword_set.h"
#include "tests/temp_dir.h"
#include "worker/dataset.h"

namespace unas::worker {
namespace {

namespace fs = std::filesystem;
using data::audio::testing::WriteClip;
using data::audio::testing::WriteLines;
using unas::testing::TempDir;

// A clip whose samples identify it: a chirp-like ramp scaled by `id`.
std::vector<int16_t> Clip(int id) {
  std::vector<int16_t> v(16000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = int16_t(((int(i) * (id + 3)) % 4001 - 2000) * (id % 7 + 1));
  return v;
}

// on: 6 clips (c0..c5; c4 validation, c5 testing); off: 6 likewise; dog: 4
// (c2 validation, c3 testing). No _background_noise_.
class KeywordDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int id = 0;
    for (const auto& [word, count] : std::vector<std::pair<std::string, int>>{{"on", 6}, {"off", 6}, {"dog", 4}}) {
      for (int i = 0; i < count; ++i) WriteClip(dir_ / (word + "/c" + std::to_string(i) + "_nohash_0.wav"), Clip(id++));
    }
    WriteLines(dir_ / "validation_list.txt", {"on/c4_nohash_0.wav", "off/c4_nohash_0.wav", "dog/c2_nohash_0.wav"});
    WriteLines(dir_ / "testing_list.txt", {"on/c5_nohash_0.wav", "off/c5_nohash_0.wav", "dog/c3_nohash_0.wav"});
    spec_.kind = data::DatasetKind::kSpeechCommands;
    spec_.directory = dir_.path();
    spec_.speech.wanted_words = {"on", "off"};
  }

  // A fresh spec key each call (the loader caches by key): a new seed.
  Result<std::shared_ptr<const Dataset>> Load() {
    spec_.speech.seed = next_seed_++;
    return LoadDataset(spec_);
  }

  TempDir dir_{"keywords"};
  data::DatasetSpec spec_;
  uint64_t next_seed_ = 1;
};

TEST_F(KeywordDataTest, FeaturesAreTheFrontEndsOnTheClipsAndNoNoiseIsNoted) {
  auto shape = data::DescribeDataset(spec_);
  ASSERT_TRUE(shape.ok()) << shape.status().message();
  EXPECT_EQ(shape->height, 49);
  EXPECT_EQ(shape->width, 40);
  EXPECT_EQ(shape->channels, 1);
  EXPECT_EQ(shape->num_classes, 4);
  spec_.speech.augment_copies = 3;
  auto loaded = Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const DatasetInfo& info = (*loaded)->info();
  EXPECT_EQ(info.class_names, (std::vector<std::string>{"_silence_", "_unknown_", "on", "off"}));
  EXPECT_EQ(info.input.height, 49);
  EXPECT_EQ(info.input.num_classes, 4);
  // Training: 8 wanted clips + ceil(0.8) silence + ceil(0.8) unknown, 3 copies.
  EXPECT_EQ(info.train_count, 30);
  // Validation and testing: 2 wanted + 1 silence + 1 unknown (dog's listed clip).
  EXPECT_EQ(info.validation_count, 4);
  EXPECT_EQ(info.test_count, 4);
  ASSERT_EQ(info.notes.size(), 1u);
  EXPECT_NE(info.notes[0].find("no _background_noise_"), std::string::npos) << info.notes[0];

  // Test features, in sorted path order: off/c5, on/c5, then silence (all
  // zeros without noise), then the unknown dog/c3.
  auto features = KeywordFeatures(**loaded, /*test=*/true);
  ASSERT_TRUE(features.ok()) << features.status().message();
  auto extractor = data::audio::FeatureExtractor::Create(data::audio::DefaultFrontendConfig());
  ASSERT_TRUE(extractor.ok());
  const std::vector<std::vector<int16_t>> clips = {Clip(11), Clip(5), std::vector<int16_t>(16000, 0), Clip(15)};
  ASSERT_EQ(features->size(), clips.size() * 49 * 40);
  for (size_t i = 0; i < clips.size(); ++i) {
    auto expected = extractor->Compute(clips[i]);
    ASSERT_TRUE(expected.ok());
    EXPECT_TRUE(std::equal(expected->begin(), expected->end(), features->begin() + i * 1960)) << "clip " << i;
  }
  // Silence is the log floor: c0 = -31634 (docs/keyword-spotting.md).
  EXPECT_EQ((*features)[2 * 1960], -31634);
}

TEST_F(KeywordDataTest, BadInputIsNamed) {
  auto message = [&] {
    auto loaded = Load();
    return loaded.ok() ? std::string("(loaded)") : loaded.status().message();
  };
  WriteLines(dir_ / "testing_list.txt", {"on/c5_nohash_0.wav", "off/c9_nohash_0.wav"});
  EXPECT_NE(message().find("testing_list.txt line 2: 'off/c9_nohash_0.wav' is not a clip of the data set"),
            std::string::npos)
      << message();
  WriteLines(dir_ / "testing_list.txt", {"on/c5_nohash_0.wav", "off/c5_nohash_0.wav", "dog/c3_nohash_0.wav"});

  fs::create_directories(dir_ / "bird");
  EXPECT_NE(message().find("bird: a word folder without .wav clips"), std::string::npos) << message();
  fs::remove_all(dir_ / "bird");

  {
    // Truncated: the last 1,000 bytes cut off.
    const std::string path = dir_ / "on/c1_nohash_0.wav";
    fs::resize_file(path, fs::file_size(path) - 1000);
    EXPECT_NE(message().find("on/c1_nohash_0.wav: truncated"), std::string::npos) << message();
    WriteClip(path, Clip(1));
  }
  {
    const std::string path = dir_ / "off/c0_nohash_0.wav";
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(22);
    f.put(2);
    f.close();
    EXPECT_NE(message().find("off/c0_nohash_0.wav: 2 channels (stereo); only mono is read"), std::string::npos)
        << message();
    WriteClip(path, Clip(6));
  }
  EXPECT_EQ(message(), "(loaded)");

  spec_.directory = dir_ / "nowhere";
  EXPECT_EQ(data::DescribeDataset(spec_).status().code(), StatusCode::kNotFound);
  EXPECT_NE(data::DescribeDataset(spec_).status().message().find("nowhere: no such directory"), std::string::npos);
  spec_.directory = dir_.path();
  spec_.speech.wanted_words = {"on", "up"};
  EXPECT_NE(data::DescribeDataset(spec_).status().message().find("wanted word 'up' has no folder"),
            std::string::npos);
}

}  // namespace
}  // namespace unas::worker
