// Keyword-spotting data throughput on the host: reading a Speech Commands
// folder, the front end's features for the validation and test splits, and
// one epoch of augmented training clips with their features (what a
// trainer computes every epoch). Prints the split sizes, the notes and the
// figures docs/keyword-spotting.md reports.
//
//   bench_audio DIR [WORDS]   (WORDS: comma-separated, default the ten)
#include <chrono>
#include <cstdio>
#include <sstream>

#include "bench/bench_tool.h"
#include "data/audio/augment.h"
#include "data/audio/feature_extractor.h"
#include "data/audio/speech_commands.h"

using namespace unas::data::audio;

constexpr unas::bench::Program kProgram{"bench_audio"};

int main(int argc, char** argv) {
  if (argc < 2) return kProgram.Usage("DIR [WORDS]");
  SpeechCommandsOptions options;
  if (argc > 2) {
    options.wanted_words.clear();
    std::istringstream words(argv[2]);
    for (std::string word; std::getline(words, word, ',');) options.wanted_words.push_back(word);
  }
  auto start = std::chrono::steady_clock::now();
  auto data = LoadSpeechCommands(argv[1], options);
  if (!data.ok()) return kProgram.Fail(data.status());
  const double load_s = unas::bench::SecondsSince(start);
  for (const std::string& note : data->notes) std::printf("note: %s\n", note.c_str());
  std::printf("classes %zu; training %lld, validation %lld, testing %lld examples; "
              "%zu clips read in %.2f s (%.0f clips/s)\n",
              data->class_names.size(), (long long)data->training.size(), (long long)data->validation.size(),
              (long long)data->testing.size(), data->clip_names.size(), load_s, data->clip_names.size() / load_s);

  auto extractor = FeatureExtractor::Create(DefaultFrontendConfig());
  if (!extractor.ok()) return kProgram.Fail(extractor.status());
  start = std::chrono::steady_clock::now();
  int64_t clips = 0;
  for (SpeechSplit split : {SpeechSplit::kValidation, SpeechSplit::kTesting}) {
    auto features = SplitFeatures(*data, split, *extractor);
    if (!features.ok()) return kProgram.Fail(features.status());
    clips += data->split(split).size();
  }
  const double eval_s = unas::bench::SecondsSince(start);
  std::printf("features of validation + testing: %lld clips in %.3f s (%.0f clips/s, %.1f us per clip)\n",
              (long long)clips, eval_s, clips / eval_s, 1e6 * eval_s / clips);

  AudioRng rng(1);
  std::vector<int16_t> features(size_t(extractor->feature_count()));
  start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < data->training.size(); ++i) {
    const std::vector<int16_t> clip = MakeTrainingClip(*data, i, AugmentOptions{}, rng);
    const unas::Status s = extractor->Compute(clip.data(), clip.size(), features.data());
    if (!s.ok()) return kProgram.Fail(s);
  }
  const double epoch_s = unas::bench::SecondsSince(start);
  std::printf("one augmented training epoch: %lld clips in %.3f s (%.0f clips/s)\n",
              (long long)data->training.size(), epoch_s, data->training.size() / epoch_s);
  return 0;
}
