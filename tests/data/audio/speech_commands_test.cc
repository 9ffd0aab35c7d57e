// The Speech Commands layout reader: splits from the list files, TensorFlow's
// silence and unknown shares with exact counts, seeded and repeatable
// choices, each kind of bad layout named; the training augmentation; and a
// layout made by make_keywords.sh read back.
#include "data/audio/speech_commands.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>

#include <gtest/gtest.h>

#include "data/audio/augment.h"
#include "data/audio/wav.h"
#include "tests/data/audio/keyword_set.h"
#include "tests/temp_dir.h"

namespace unas::data::audio {
namespace {

namespace fs = std::filesystem;
using testing::WriteClip;
using testing::WriteLines;
using unas::testing::TempDir;

// A clip whose samples identify it: value = base + i (wrapping in int16).
std::vector<int16_t> Ramp(int base, size_t n) {
  std::vector<int16_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = int16_t((base + int(i)) % 30000);
  return v;
}

// yes: 20 clips (a000..a019), a016-a017 validation, a018-a019 testing;
// no: 10 clips, a008 validation, a009 testing; cat: 6, a004 validation,
// a005 testing; dog: 5, all training; one noise recording of 40,000
// samples. a000 of yes is 12,000 samples (padded), a001 20,000 (cut).
class SpeechCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::pair<const char*, int> words[] = {{"yes", 20}, {"no", 10}, {"cat", 6}, {"dog", 5}};
    int base = 0;
    for (const auto& [word, count] : words) {
      for (int i = 0; i < count; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "a%03d_nohash_0.wav", i);
        size_t n = 16000;
        if (std::string(word) == "yes" && i == 0) n = 12000;
        if (std::string(word) == "yes" && i == 1) n = 20000;
        WriteClip(dir_ / (std::string(word) + "/" + name), Ramp(base, n));
        base += 1000;
      }
    }
    WriteLines(dir_ / "validation_list.txt", {"yes/a016_nohash_0.wav", "yes/a017_nohash_0.wav",
                                              "no/a008_nohash_0.wav", "cat/a004_nohash_0.wav"});
    WriteLines(dir_ / "testing_list.txt", {"yes/a018_nohash_0.wav", "yes/a019_nohash_0.wav", "no/a009_nohash_0.wav",
                                           "cat/a005_nohash_0.wav"});
    std::vector<int16_t> noise(40000);
    for (size_t i = 0; i < noise.size(); ++i) noise[i] = int16_t((i * 7919) % 20001) - 10000;
    WriteClip(dir_ / "_background_noise_/noise.wav", noise);
    options_.wanted_words = {"yes", "no"};
  }

  Result<SpeechCommands> Load() { return LoadSpeechCommands(dir_.path(), options_); }

  TempDir dir_{"speech"};
  SpeechCommandsOptions options_;
};

TEST_F(SpeechCommandsTest, SplitsFollowTheListsWithTensorFlowsShares) {
  auto data = Load();
  ASSERT_TRUE(data.ok()) << data.status().message();
  EXPECT_EQ(data->class_names, (std::vector<std::string>{"_silence_", "_unknown_", "yes", "no"}));
  // Wanted clips: training 16 + 8 = 24, validation 3, testing 3. Silence and
  // unknown: ceil(24 x 10 %) = 3 each in training, ceil(0.3) = 1 elsewhere.
  EXPECT_EQ(data->ClassCounts(SpeechSplit::kTraining), (std::vector<int64_t>{3, 3, 16, 8}));
  EXPECT_EQ(data->ClassCounts(SpeechSplit::kValidation), (std::vector<int64_t>{1, 1, 2, 1}));
  EXPECT_EQ(data->ClassCounts(SpeechSplit::kTesting), (std::vector<int64_t>{1, 1, 2, 1}));
  EXPECT_TRUE(data->notes.empty());
  // The test set is testing_list.txt's clips (the unknown one is cat/a005,
  // the only other-word clip listed there) plus one silence clip.
  std::vector<std::string> test_names;
  for (int32_t clip : data->testing.clips) test_names.push_back(data->clip_names[size_t(clip)]);
  EXPECT_EQ(test_names, (std::vector<std::string>{"no/a009_nohash_0.wav", "yes/a018_nohash_0.wav",
                                                  "yes/a019_nohash_0.wav", "_silence_/testing/0",
                                                  "cat/a005_nohash_0.wav"}));
  EXPECT_EQ(data->testing.labels, (std::vector<int32_t>{3, 2, 2, 0, 1}));
  // Training's unknowns come from the 9 training clips of cat and dog;
  // training silence has no stored clip.
  int silence = 0;
  for (size_t i = 0; i < data->training.clips.size(); ++i) {
    const int32_t clip = data->training.clips[i];
    if (data->training.labels[i] == kSilenceLabel) {
      EXPECT_EQ(clip, kSilenceClip);
      ++silence;
    } else if (data->training.labels[i] == kUnknownLabel) {
      const std::string& name = data->clip_names[size_t(clip)];
      EXPECT_TRUE(name.rfind("cat/", 0) == 0 || name.rfind("dog/", 0) == 0) << name;
      EXPECT_NE(name, "cat/a004_nohash_0.wav");
      EXPECT_NE(name, "cat/a005_nohash_0.wav");
    }
  }
  EXPECT_EQ(silence, 3);
}

TEST_F(SpeechCommandsTest, ClipsArePaddedOrCutToOneSecond) {
  auto data = Load();
  ASSERT_TRUE(data.ok());
  // Training's wanted clips come in sorted path order: no/ before yes/.
  ASSERT_EQ(data->clip_names[size_t(data->training.clips[0])], "no/a000_nohash_0.wav");
  int32_t short_clip = -1, long_clip = -1;
  for (size_t i = 0; i < data->clip_names.size(); ++i) {
    if (data->clip_names[i] == "yes/a000_nohash_0.wav") short_clip = int32_t(i);
    if (data->clip_names[i] == "yes/a001_nohash_0.wav") long_clip = int32_t(i);
  }
  ASSERT_GE(short_clip, 0);
  ASSERT_GE(long_clip, 0);
  const int16_t* s = data->clip(short_clip);
  EXPECT_EQ(s[11999], 11999 % 30000);
  EXPECT_EQ(s[12000], 0);
  EXPECT_EQ(s[15999], 0);
  // yes/a001 (20,000 samples from 1000) keeps its first 16,000.
  const int16_t* l = data->clip(long_clip);
  EXPECT_EQ(l[0], 1000);
  EXPECT_EQ(l[15999], (1000 + 15999) % 30000);
}

TEST_F(SpeechCommandsTest, SharesAreParametersAndTooFewUnknownsAreNoted) {
  options_.silence_percent = 25;
  options_.unknown_percent = 50;
  auto data = Load();
  ASSERT_TRUE(data.ok()) << data.status().message();
  // 24 x 25 % = 6 exactly; 24 x 50 % = 12 wanted but 9 available.
  EXPECT_EQ(data->ClassCounts(SpeechSplit::kTraining), (std::vector<int64_t>{6, 9, 16, 8}));
  // validation: ceil(0.75) = 1 silence, ceil(1.5) = 2 unknown wanted, 1 there.
  EXPECT_EQ(data->ClassCounts(SpeechSplit::kValidation), (std::vector<int64_t>{1, 1, 2, 1}));
  ASSERT_EQ(data->notes.size(), 3u);
  EXPECT_EQ(data->notes[0], "validation: 2 _unknown_ clips wanted, only 1 clips of other words available");
  EXPECT_EQ(data->notes[2], "training: 12 _unknown_ clips wanted, only 9 clips of other words available");
  options_.silence_percent = 0;
  options_.unknown_percent = 0;
  data = Load();
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->ClassCounts(SpeechSplit::kTraining), (std::vector<int64_t>{0, 0, 16, 8}));
}

TEST_F(SpeechCommandsTest, SameSeedSameDataAndSilenceIsNoise) {
  auto a = Load();
  auto b = Load();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->clip_names, b->clip_names);
  EXPECT_EQ(a->samples, b->samples);
  // The validation silence clip is background noise at some volume.
  const int16_t* silence = a->clip(a->validation.clips[3]);
  EXPECT_EQ(a->clip_names[size_t(a->validation.clips[3])], "_silence_/validation/0");
  EXPECT_TRUE(std::any_of(silence, silence + 16000, [](int16_t v) { return v != 0; }));
  // The training unknowns (3 of 9) depend on the seed.
  std::set<std::vector<std::string>> choices;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    options_.seed = seed;
    auto data = Load();
    ASSERT_TRUE(data.ok());
    std::vector<std::string> unknown;
    for (size_t i = 0; i < data->training.labels.size(); ++i) {
      if (data->training.labels[i] != kUnknownLabel) continue;
      unknown.push_back(data->clip_names[size_t(data->training.clips[i])]);
    }
    choices.insert(unknown);
  }
  EXPECT_GT(choices.size(), 1u);
}

TEST_F(SpeechCommandsTest, NoBackgroundNoiseMeansSilentSilenceAndANote) {
  fs::remove_all(dir_ / "_background_noise_");
  auto data = Load();
  ASSERT_TRUE(data.ok()) << data.status().message();
  ASSERT_EQ(data->notes.size(), 1u);
  EXPECT_NE(data->notes[0].find("no _background_noise_ recordings: no background noise augmentation"),
            std::string::npos)
      << data->notes[0];
  const int16_t* silence = data->clip(data->testing.clips[3]);
  EXPECT_TRUE(std::all_of(silence, silence + 16000, [](int16_t v) { return v == 0; }));
  AudioRng rng(1);
  const std::vector<int16_t> clip = MakeTrainingClip(*data, 24, AugmentOptions{}, rng);  // a silence example
  EXPECT_EQ(data->training.labels[24], kSilenceLabel);
  EXPECT_EQ(clip, std::vector<int16_t>(16000, 0));
}

TEST_F(SpeechCommandsTest, BadLayoutsAreNamed) {
  {
    WriteLines(dir_ / "testing_list.txt", {"yes/a018_nohash_0.wav", "", "yes/zzz.wav"});
    auto data = Load();
    EXPECT_NE(data.status().message().find("testing_list.txt line 3: 'yes/zzz.wav' is not a clip of the data set"),
              std::string::npos)
        << data.status().message();
    WriteLines(dir_ / "testing_list.txt", {"yes/a016_nohash_0.wav"});
    data = Load();
    EXPECT_NE(data.status().message().find("'yes/a016_nohash_0.wav' is in both"), std::string::npos)
        << data.status().message();
    WriteLines(dir_ / "testing_list.txt", {"yes/a018_nohash_0.wav"});
  }
  {
    fs::create_directories(dir_ / "bird");
    auto data = Load();
    EXPECT_NE(data.status().message().find("bird: a word folder without .wav clips"), std::string::npos)
        << data.status().message();
    fs::remove_all(dir_ / "bird");
  }
  {
    options_.wanted_words = {"yes", "up"};
    auto data = Load();
    EXPECT_NE(data.status().message().find("wanted word 'up' has no folder (found: cat, dog, no, yes)"),
              std::string::npos)
        << data.status().message();
    options_.wanted_words = {"yes", "no"};
  }
  {
    fs::rename(dir_ / "validation_list.txt", dir_ / "moved.txt");
    auto data = Load();
    EXPECT_EQ(data.status().code(), StatusCode::kNotFound);
    EXPECT_NE(data.status().message().find("validation_list.txt: missing"), std::string::npos);
    fs::rename(dir_ / "moved.txt", dir_ / "validation_list.txt");
  }
  {
    std::vector<uint8_t> stereo;
    // A 44-byte header claiming 2 channels over the existing clip.
    const std::string path = dir_ / "dog/a003_nohash_0.wav";
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(22);
    f.put(2);
    f.close();
    options_.unknown_percent = 100;  // so dog/a003 is read
    auto data = Load();
    EXPECT_NE(data.status().message().find("dog/a003_nohash_0.wav: 2 channels (stereo); only mono is read"),
              std::string::npos)
        << data.status().message();
    options_.unknown_percent = 10;
  }
  {
    WriteClip(dir_ / "_background_noise_/short.wav", std::vector<int16_t>(16000, 1));
    auto data = Load();
    EXPECT_NE(data.status().message().find("short.wav: 16000 samples of background noise; it must be longer"),
              std::string::npos)
        << data.status().message();
    fs::remove(dir_ / "_background_noise_/short.wav");
  }
  options_.silence_percent = 150;
  EXPECT_NE(Load().status().message().find("silence_percent 150"), std::string::npos);
  EXPECT_EQ(LoadSpeechCommands(dir_ / "nowhere", SpeechCommandsOptions{}).status().code(), StatusCode::kNotFound);
}

TEST_F(SpeechCommandsTest, TrainingClipsAreShiftedAndMixedLikeTensorFlow) {
  auto data = Load();
  ASSERT_TRUE(data.ok());
  AugmentOptions no_noise;
  no_noise.background_frequency = 0;
  AudioRng rng(7);
  const int16_t* source = data->clip(data->training.clips[1]);  // no/a001: base 21,000
  int negative = 0, positive = 0;
  for (int draw = 0; draw < 200; ++draw) {
    const std::vector<int16_t> clip = MakeTrainingClip(*data, 1, no_noise, rng);
    // Recover the shift from where the source's first sample landed.
    int64_t shift = 0;
    if (clip[0] == 0) {
      while (shift < 16000 && clip[size_t(shift)] == 0) ++shift;
    } else {
      shift = -(clip[0] - source[0]);
    }
    ASSERT_GE(shift, -1600);
    ASSERT_LT(shift, 1600);
    for (int64_t i = 0; i < 16000; ++i) {
      const int64_t from = i - shift;
      ASSERT_EQ(clip[size_t(i)], from >= 0 && from < 16000 ? source[from] : 0) << "draw " << draw;
    }
    (shift < 0 ? negative : positive) += 1;
  }
  EXPECT_GT(negative, 50);
  EXPECT_GT(positive, 50);
  // With noise: about 80 % of the clips differ from every shift of the source.
  AudioRng noise_rng(7);
  AugmentOptions no_shift;
  no_shift.time_shift_samples = 0;
  int noisy = 0;
  for (int draw = 0; draw < 1000; ++draw) {
    const std::vector<int16_t> clip = MakeTrainingClip(*data, 1, no_shift, noise_rng);
    noisy += !std::equal(clip.begin(), clip.end(), source);
  }
  EXPECT_GE(noisy, 740);
  EXPECT_LE(noisy, 860);
  // Same seed, same clips.
  AudioRng a(3), b(3);
  EXPECT_EQ(MakeTrainingClip(*data, 5, AugmentOptions{}, a), MakeTrainingClip(*data, 5, AugmentOptions{}, b));
}

TEST(Augment, MixNoiseRoundsHalfUpAndClips) {
  std::vector<int16_t> clip = {100, -32000, 32000, 0, 0};
  MixNoise(clip, {999, 1000, -10000, 10000, 3, -3}, 1, 0.5);
  EXPECT_EQ(clip, (std::vector<int16_t>{600, -32768, 32767, 2, -1}));
  EXPECT_FALSE(CheckAugmentOptions(AugmentOptions{1600, 1.5, 0.1}, 16000).ok());
  EXPECT_NE(CheckAugmentOptions(AugmentOptions{16000, 0.8, 0.1}, 16000).message().find("time_shift_samples 16000"),
            std::string::npos);
  EXPECT_TRUE(CheckAugmentOptions(AugmentOptions{}, 16000).ok());
}

TEST(Augment, OptionRefusalsNameTheFieldItsValueAndTheRange) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(CheckAugmentOptions(AugmentOptions{-1, 0.8, 0.1}, 16000).message(),
            "augmentation: time_shift_samples -1 is outside 0..15999");
  EXPECT_EQ(CheckAugmentOptions(AugmentOptions{1600, 1.5, 0.1}, 16000).message(),
            "augmentation: background_frequency 1.500000 is outside 0..1");
  EXPECT_EQ(CheckAugmentOptions(AugmentOptions{1600, 0.8, nan}, 16000).message(),
            "augmentation: background_volume nan is outside 0..1");
  SpeechCommandsOptions options;
  options.wanted_words = {"yes"};
  options.unknown_percent = -0.5;
  EXPECT_EQ(CheckSpeechCommandsOptions(options).message(),
            "speech_commands: unknown_percent -0.500000 is outside 0..100");
  options.unknown_percent = 100;
  options.sample_rate_hz = 999;
  EXPECT_EQ(CheckSpeechCommandsOptions(options).message(),
            "speech_commands: sample_rate_hz 999 is outside 1000..192000");
  options.sample_rate_hz = 8000;
  options.clip_samples = 80001;
  EXPECT_EQ(CheckSpeechCommandsOptions(options).message(),
            "speech_commands: clip_samples 80001 is outside 1..10 s of samples");
  options.clip_samples = 80000;
  EXPECT_TRUE(CheckSpeechCommandsOptions(options).ok());
}

TEST(Augment, RngDrawsEveryValueOfARangeAndShufflesToAPermutation) {
  AudioRng rng(11);
  std::vector<int> seen(7, 0);
  for (int i = 0; i < 700; ++i) {
    const int64_t v = rng.UniformInt(-3, 4);
    ASSERT_GE(v, -3);
    ASSERT_LT(v, 4);
    ++seen[size_t(v + 3)];
  }
  for (int count : seen) EXPECT_GT(count, 60);
  std::vector<int> v = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  rng.Shuffle(v);
  std::vector<int> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_NE(v, sorted);
}

TEST(SpeechCommandsGenerated, MakeKeywordsGivesTheLayoutItDescribes) {
  if (!testing::HaveSpeechTools()) GTEST_SKIP() << "espeak-ng or sox not installed";
  const std::string& dir = testing::SmallKeywordSet();
  SpeechCommandsOptions options;
  options.wanted_words = {"yes", "no"};
  auto data = LoadSpeechCommands(dir, options);
  ASSERT_TRUE(data.ok()) << data.status().message();
  // 7 speakers per word, speaker 3 validation, 4 testing: 5/1/1 clips of
  // each of yes, no and cat. Silence ceil(10 x 10 %) = 1 and ceil(0.2) = 1;
  // unknown likewise, from cat.
  EXPECT_EQ(data->ClassCounts(SpeechSplit::kTraining), (std::vector<int64_t>{1, 1, 5, 5}));
  EXPECT_EQ(data->ClassCounts(SpeechSplit::kValidation), (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(data->ClassCounts(SpeechSplit::kTesting), (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(data->background_names,
            (std::vector<std::string>{"_background_noise_/brown_noise.wav", "_background_noise_/pink_noise.wav",
                                      "_background_noise_/white_noise.wav"}));
  EXPECT_EQ(data->background_samples[0].size(), 48000u);  // 3 s
  EXPECT_TRUE(data->notes.empty());
  // The test split's features, through the shared front end.
  auto extractor = FeatureExtractor::Create(DefaultFrontendConfig());
  ASSERT_TRUE(extractor.ok());
  auto features = SplitFeatures(*data, SpeechSplit::kTesting, *extractor);
  ASSERT_TRUE(features.ok()) << features.status().message();
  ASSERT_EQ(features->size(), 4u * 49 * 40);
  auto first = extractor->Compute(std::vector<int16_t>(data->clip(data->testing.clips[0]),
                                                       data->clip(data->testing.clips[0]) + 16000));
  EXPECT_TRUE(std::equal(first->begin(), first->end(), features->begin()));
  EXPECT_FALSE(SplitFeatures(*data, SpeechSplit::kTraining, *extractor).ok());
}

}  // namespace
}  // namespace unas::data::audio
