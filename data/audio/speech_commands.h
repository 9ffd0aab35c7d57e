// The Speech Commands v0.02 layout, read as TensorFlow's speech-commands
// input pipeline (tensorflow/examples/speech_commands/input_data.py, which
// μNAS reuses) builds its data index, except that the splits come from the
// data set's own lists:
//
//   DIR/<word>/<speaker>_nohash_<n>.wav   one folder per word, 16 kHz mono
//                                          16-bit PCM clips, mostly 1 s
//   DIR/validation_list.txt               "word/file.wav" per line
//   DIR/testing_list.txt                  the test set, exactly
//   DIR/_background_noise_/*.wav          long noise recordings
//
// Every clip named in testing_list.txt is in the testing split, every clip
// in validation_list.txt in the validation split, every other clip in the
// training split. Classes are "_silence_" (0), "_unknown_" (1), then the
// wanted words in the order given. In each split, with N clips of wanted
// words: ceil(N * silence_percent / 100) silence clips and ceil(N *
// unknown_percent / 100) unknown clips (or as many as there are), drawn by
// a seeded shuffle from that split's clips of the other words. Clips
// shorter or longer than clip_samples are padded with zeros or cut at the
// end (tf.audio.decode_wav's desired_samples).
//
// Silence: validation and testing silence clips are made once here, as
// TensorFlow makes them in every mode: a random stretch of a random
// background file at a volume uniform in [0, 1) (seeded, so a job's test
// set never changes). Training silence clips have no stored samples
// (clip index kSilenceClip): MakeTrainingClip (augment.h) draws fresh noise
// for them every epoch. Without _background_noise_, silence clips are all
// zeros, there is no noise augmentation, and `notes` says so.
//
// Order within a split: the wanted-word clips in sorted path order, then the
// silence clips, then the unknown clips (a trainer shuffles per epoch).
//
// Errors (kInvalidArgument unless noted): DIR missing or a list file missing
// (kNotFound); a list line naming a clip that does not exist (file and line
// number); a clip in both lists; a word folder without .wav clips; a wanted
// word without a folder (the words found are listed); a WAV file that is not
// 16 kHz mono 16-bit PCM (wav.h's message); a background file not longer
// than clip_samples; options out of range.
//
// Memory: every clip used is held as int16 (32,000 bytes per 1 s clip; the
// real Speech Commands' ten-word selection is about 1.3 GB).
// Thread safety: LoadSpeechCommands is a pure function of the files; the
// result is immutable.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "data/audio/feature_extractor.h"

namespace unas::data::audio {

inline constexpr int32_t kSilenceLabel = 0;
inline constexpr int32_t kUnknownLabel = 1;
inline constexpr int32_t kSilenceClip = -1;  // a training silence clip, made per epoch

struct SpeechCommandsOptions {
  // The standard ten.
  std::vector<std::string> wanted_words = {"yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"};
  double silence_percent = 10.0;  // 0..100, of each split's wanted-word clips
  double unknown_percent = 10.0;  // 0..100
  uint64_t seed = 59185;          // TensorFlow's RANDOM_SEED
  int32_t sample_rate_hz = 16000;
  int32_t clip_samples = 16000;   // 1 s
};

struct SpeechCommandsSplit {
  std::vector<int32_t> labels;  // class per example
  std::vector<int32_t> clips;   // index into SpeechCommands::clip_names, or kSilenceClip
  int64_t size() const { return int64_t(labels.size()); }
};

enum class SpeechSplit { kTraining, kValidation, kTesting };

struct SpeechCommands {
  std::vector<std::string> class_names;  // "_silence_", "_unknown_", wanted words...
  int32_t clip_samples = 0;
  std::vector<std::string> clip_names;   // "word/file.wav", or "_silence_/validation/3"
  std::vector<int16_t> samples;          // clip_names.size() x clip_samples
  SpeechCommandsSplit training, validation, testing;
  std::vector<std::string> background_names;             // "_background_noise_/white_noise.wav"
  std::vector<std::vector<int16_t>> background_samples;  // whole recordings
  std::vector<std::string> notes;  // things the caller should log (missing noise, too few unknowns)

  const SpeechCommandsSplit& split(SpeechSplit which) const;
  // The samples of a stored clip (not kSilenceClip).
  const int16_t* clip(int32_t index) const { return samples.data() + int64_t(index) * clip_samples; }
  // Examples per class in a split.
  std::vector<int64_t> ClassCounts(SpeechSplit which) const;
};

// Validates the options (kInvalidArgument naming the field).
Status CheckSpeechCommandsOptions(const SpeechCommandsOptions& options);

Result<SpeechCommands> LoadSpeechCommands(const std::string& dir, const SpeechCommandsOptions& options);

// The features of every example of the validation or testing split,
// example-major (size() x extractor.feature_count() int16). kInvalidArgument
// for the training split (its clips are made per epoch: MakeTrainingClip,
// then FeatureExtractor::Compute) or when the extractor's clip_samples
// differs from the data's.
Result<std::vector<int16_t>> SplitFeatures(const SpeechCommands& data, SpeechSplit which,
                                           FeatureExtractor& extractor);

}  // namespace unas::data::audio
