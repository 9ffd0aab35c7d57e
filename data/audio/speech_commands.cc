#include "data/audio/speech_commands.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "data/audio/augment.h"
#include "data/audio/range_check.h"
#include "data/audio/wav.h"

namespace unas::data::audio {
namespace {

namespace fs = std::filesystem;

constexpr const char* kBackgroundDir = "_background_noise_";

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The .wav files directly in `dir`, sorted by name.
Result<std::vector<std::string>> WavFiles(const fs::path& dir) {
  std::error_code ec;
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (EndsWith(name, ".wav") && it->is_regular_file(ec)) names.push_back(name);
  }
  if (ec) return Status::Invalid(dir.string() + ": cannot list: " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

// ceil(n * percent / 100), immune to the rounding of an exact product.
int64_t Share(int64_t n, double percent) { return int64_t(std::ceil(double(n) * percent / 100.0 - 1e-9)); }

// The lines of a list file, each checked against the clips found; returns
// clip path -> true for every listed clip.
Result<std::set<std::string>> ReadList(const fs::path& path, const std::set<std::string>& clips) {
  std::ifstream f(path);
  if (!f) {
    return Status::NotFound(path.string() + ": missing (the Speech Commands layout lists its " +
                            (path.filename() == "testing_list.txt" ? "test" : "validation") + " clips there)");
  }
  std::set<std::string> listed;
  std::string line;
  for (int64_t number = 1; std::getline(f, line); ++number) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (line.empty()) continue;
    if (clips.count(line) == 0) {
      return Status::Invalid(path.string() + " line " + std::to_string(number) + ": '" + line +
                             "' is not a clip of the data set (no such word/file.wav)");
    }
    listed.insert(line);
  }
  return listed;
}

}  // namespace

const SpeechCommandsSplit& SpeechCommands::split(SpeechSplit which) const {
  switch (which) {
    case SpeechSplit::kTraining: return training;
    case SpeechSplit::kValidation: return validation;
    default: return testing;
  }
}

std::vector<int64_t> SpeechCommands::ClassCounts(SpeechSplit which) const {
  std::vector<int64_t> counts(class_names.size(), 0);
  for (int32_t label : split(which).labels) ++counts[size_t(label)];
  return counts;
}

Status CheckSpeechCommandsOptions(const SpeechCommandsOptions& options) {
  if (options.wanted_words.empty()) return Status::Invalid("speech_commands: wanted_words is empty");
  std::set<std::string> seen;
  for (const std::string& word : options.wanted_words) {
    if (word.empty() || word[0] == '_' || word[0] == '.' || word.find('/') != std::string::npos) {
      return Status::Invalid("speech_commands: wanted word '" + word +
                             "' is not a word folder name (empty, starts with '_' or '.', or has a '/')");
    }
    if (!seen.insert(word).second) return Status::Invalid("speech_commands: wanted word '" + word + "' twice");
  }
  const std::string where = "speech_commands";
  UNAS_RETURN_IF_ERROR(CheckRange(where, "silence_percent", options.silence_percent, 0.0, 100.0, "0..100"));
  UNAS_RETURN_IF_ERROR(CheckRange(where, "unknown_percent", options.unknown_percent, 0.0, 100.0, "0..100"));
  UNAS_RETURN_IF_ERROR(CheckRange(where, "sample_rate_hz", options.sample_rate_hz, 1000, 192000, "1000..192000"));
  UNAS_RETURN_IF_ERROR(CheckRange(where, "clip_samples", options.clip_samples, 1, 10 * options.sample_rate_hz,
                                  "1..10 s of samples"));
  return Status::Ok();
}

Result<SpeechCommands> LoadSpeechCommands(const std::string& dir_name, const SpeechCommandsOptions& options) {
  UNAS_RETURN_IF_ERROR(CheckSpeechCommandsOptions(options));
  const fs::path dir(dir_name);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound(dir_name + ": not a directory");

  // Word folders and their clips ("word/file.wav"), sorted.
  std::map<std::string, std::vector<std::string>> words;
  bool have_background = false;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || !it->is_directory(ec)) continue;
    if (name == kBackgroundDir) {
      have_background = true;
      continue;
    }
    UNAS_ASSIGN_OR_RETURN(std::vector<std::string> files, WavFiles(it->path()));
    if (files.empty()) return Status::Invalid(it->path().string() + ": a word folder without .wav clips");
    for (std::string& file : files) file = name + "/" + file;
    words[name] = std::move(files);
  }
  if (ec) return Status::Invalid(dir_name + ": cannot list: " + ec.message());
  std::string found;
  for (const auto& [word, files] : words) found += (found.empty() ? "" : ", ") + word;
  if (words.empty()) return Status::Invalid(dir_name + ": no word folders with .wav clips");
  for (const std::string& word : options.wanted_words) {
    if (words.count(word) == 0) {
      return Status::Invalid(dir_name + ": wanted word '" + word + "' has no folder (found: " + found + ")");
    }
  }

  std::set<std::string> all_clips;
  for (const auto& [word, files] : words) all_clips.insert(files.begin(), files.end());
  UNAS_ASSIGN_OR_RETURN(const std::set<std::string> validation_list,
                        ReadList(dir / "validation_list.txt", all_clips));
  UNAS_ASSIGN_OR_RETURN(const std::set<std::string> testing_list, ReadList(dir / "testing_list.txt", all_clips));
  for (const std::string& clip : validation_list) {
    if (testing_list.count(clip)) {
      return Status::Invalid(dir_name + ": '" + clip + "' is in both validation_list.txt and testing_list.txt");
    }
  }

  SpeechCommands data;
  data.clip_samples = options.clip_samples;
  data.class_names = {"_silence_", "_unknown_"};
  std::map<std::string, int32_t> label_of;
  for (const std::string& word : options.wanted_words) {
    label_of[word] = int32_t(data.class_names.size());
    data.class_names.push_back(word);
  }

  // Background noise.
  if (have_background) {
    UNAS_ASSIGN_OR_RETURN(const std::vector<std::string> files, WavFiles(dir / kBackgroundDir));
    for (const std::string& file : files) {
      const std::string path = (dir / kBackgroundDir / file).string();
      UNAS_ASSIGN_OR_RETURN(std::vector<int16_t> noise, ReadPcmWav(path, options.sample_rate_hz));
      if (int64_t(noise.size()) <= options.clip_samples) {
        return Status::Invalid(path + ": " + std::to_string(noise.size()) +
                               " samples of background noise; it must be longer than a clip (" +
                               std::to_string(options.clip_samples) + ")");
      }
      data.background_names.push_back(std::string(kBackgroundDir) + "/" + file);
      data.background_samples.push_back(std::move(noise));
    }
  }
  if (data.background_samples.empty()) {
    data.notes.push_back(dir_name + ": no " + kBackgroundDir + " recordings: no background noise augmentation, " +
                         "and the _silence_ clips are all zeros");
  }

  // The index: per split, wanted clips (sorted) and the other words' clips.
  struct Index {
    std::vector<std::string> wanted, others;
  };
  std::map<SpeechSplit, Index> index;
  for (const auto& [word, files] : words) {
    for (const std::string& clip : files) {
      const SpeechSplit split = testing_list.count(clip)      ? SpeechSplit::kTesting
                                : validation_list.count(clip) ? SpeechSplit::kValidation
                                                              : SpeechSplit::kTraining;
      (label_of.count(word) ? index[split].wanted : index[split].others).push_back(clip);
    }
  }

  auto load_clip = [&](const std::string& name) -> Result<int32_t> {
    UNAS_ASSIGN_OR_RETURN(std::vector<int16_t> pcm, ReadPcmWav((dir / name).string(), options.sample_rate_hz));
    pcm = FitClip(std::move(pcm), size_t(options.clip_samples));
    data.samples.insert(data.samples.end(), pcm.begin(), pcm.end());
    data.clip_names.push_back(name);
    return int32_t(data.clip_names.size() - 1);
  };

  // TensorFlow's order: validation, testing, training; one generator.
  AudioRng rng(options.seed);
  const std::pair<SpeechSplit, const char*> kSplits[] = {
      {SpeechSplit::kValidation, "validation"},
      {SpeechSplit::kTesting, "testing"},
      {SpeechSplit::kTraining, "training"}};
  for (const auto& [which, split_name] : kSplits) {
    Index& entries = index[which];
    SpeechCommandsSplit& split = which == SpeechSplit::kTraining     ? data.training
                                 : which == SpeechSplit::kValidation ? data.validation
                                                                     : data.testing;
    for (const std::string& clip : entries.wanted) {
      UNAS_ASSIGN_OR_RETURN(const int32_t id, load_clip(clip));
      split.labels.push_back(label_of[clip.substr(0, clip.find('/'))]);
      split.clips.push_back(id);
    }
    const int64_t wanted = int64_t(entries.wanted.size());
    const int64_t silence = Share(wanted, options.silence_percent);
    for (int64_t i = 0; i < silence; ++i) {
      int32_t id = kSilenceClip;
      if (which != SpeechSplit::kTraining) {
        // Made once, as TensorFlow makes every silence example: noise at a
        // volume uniform in [0, 1), no foreground.
        std::vector<int16_t> clip(size_t(options.clip_samples), 0);
        if (!data.background_samples.empty()) {
          const int64_t file = rng.UniformInt(0, int64_t(data.background_samples.size()));
          const std::vector<int16_t>& noise = data.background_samples[size_t(file)];
          const int64_t offset = rng.UniformInt(0, int64_t(noise.size()) - options.clip_samples);
          MixNoise(clip, noise, offset, rng.Uniform01());
        }
        data.samples.insert(data.samples.end(), clip.begin(), clip.end());
        data.clip_names.push_back(std::string("_silence_/") + split_name + "/" + std::to_string(i));
        id = int32_t(data.clip_names.size() - 1);
      }
      split.labels.push_back(kSilenceLabel);
      split.clips.push_back(id);
    }
    rng.Shuffle(entries.others);
    const int64_t unknown_wanted = Share(wanted, options.unknown_percent);
    const int64_t unknown = std::min<int64_t>(unknown_wanted, int64_t(entries.others.size()));
    if (unknown < unknown_wanted) {
      data.notes.push_back(std::string(split_name) + ": " + std::to_string(unknown_wanted) +
                           " _unknown_ clips wanted, only " + std::to_string(unknown) +
                           " clips of other words available");
    }
    std::vector<std::string> chosen(entries.others.begin(), entries.others.begin() + unknown);
    std::sort(chosen.begin(), chosen.end());
    for (const std::string& clip : chosen) {
      UNAS_ASSIGN_OR_RETURN(const int32_t id, load_clip(clip));
      split.labels.push_back(kUnknownLabel);
      split.clips.push_back(id);
    }
  }
  return data;
}

Result<std::vector<int16_t>> SplitFeatures(const SpeechCommands& data, SpeechSplit which,
                                           FeatureExtractor& extractor) {
  if (which == SpeechSplit::kTraining) {
    return Status::Invalid("SplitFeatures: training clips are made per epoch (MakeTrainingClip)");
  }
  if (extractor.config().clip_samples != data.clip_samples) {
    return Status::Invalid("SplitFeatures: the front end takes clips of " +
                           std::to_string(extractor.config().clip_samples) + " samples, the data has " +
                           std::to_string(data.clip_samples));
  }
  const SpeechCommandsSplit& split = data.split(which);
  const size_t per_clip = size_t(extractor.feature_count());
  std::vector<int16_t> features(size_t(split.size()) * per_clip);
  for (size_t i = 0; i < split.clips.size(); ++i) {
    UNAS_RETURN_IF_ERROR(extractor.Compute(data.clip(split.clips[i]), size_t(data.clip_samples),
                                           features.data() + i * per_clip));
  }
  return features;
}

}  // namespace unas::data::audio
