#include "data/audio/augment.h"

#include <algorithm>
#include <cmath>

#include "data/audio/range_check.h"

namespace unas::data::audio {

int64_t AudioRng::UniformInt(int64_t lo, int64_t hi) {
  const uint64_t range = uint64_t(hi - lo);
  // Reject the top partial block so every value is equally likely.
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % range + 1) % range;
  uint64_t x;
  do {
    x = engine_();
  } while (x > limit);
  return lo + int64_t(x % range);
}

Status CheckAugmentOptions(const AugmentOptions& options, int32_t clip_samples) {
  const std::string where = "augmentation";
  UNAS_RETURN_IF_ERROR(CheckRange(where, "time_shift_samples", options.time_shift_samples, 0, clip_samples - 1,
                                  "0.." + std::to_string(clip_samples - 1)));
  UNAS_RETURN_IF_ERROR(CheckRange(where, "background_frequency", options.background_frequency, 0.0, 1.0, "0..1"));
  return CheckRange(where, "background_volume", options.background_volume, 0.0, 1.0, "0..1");
}

void MixNoise(std::vector<int16_t>& clip, const std::vector<int16_t>& noise, int64_t offset, double volume) {
  for (size_t i = 0; i < clip.size(); ++i) {
    const double mixed = std::floor(double(clip[i]) + double(noise[size_t(offset) + i]) * volume + 0.5);
    clip[i] = int16_t(std::clamp(mixed, -32768.0, 32767.0));
  }
}

std::vector<int16_t> MakeTrainingClip(const SpeechCommands& data, int64_t index, const AugmentOptions& options,
                                      AudioRng& rng) {
  const int32_t n = data.clip_samples;
  const int32_t clip_index = data.training.clips[size_t(index)];
  const bool silence = clip_index == kSilenceClip;
  std::vector<int16_t> out(size_t(n), 0);
  const int64_t shift = options.time_shift_samples > 0
                            ? rng.UniformInt(-options.time_shift_samples, options.time_shift_samples)
                            : 0;
  if (!silence) {
    const int16_t* in = data.clip(clip_index);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t from = i - shift;
      if (from >= 0 && from < n) out[size_t(i)] = in[from];
    }
  }
  if (data.background_samples.empty()) return out;
  const size_t file = size_t(rng.UniformInt(0, int64_t(data.background_samples.size())));
  const std::vector<int16_t>& noise = data.background_samples[file];
  const int64_t offset = rng.UniformInt(0, int64_t(noise.size()) - n);
  double volume = 0;
  if (silence) {
    volume = rng.Uniform01();
  } else if (rng.Uniform01() < options.background_frequency) {
    volume = rng.Uniform01() * options.background_volume;
  }
  if (volume > 0) MixNoise(out, noise, offset, volume);
  return out;
}

}  // namespace unas::data::audio
