// Seeded randomness and training-time augmentation for keyword clips, as
// TensorFlow's speech-commands pipeline does it (input_data.py, get_data in
// training mode):
//   - time shift: an offset drawn uniformly from [-time_shift, time_shift)
//     samples (numpy's randint), the clip moved by it and zero padded;
//   - background noise: a random stretch of a random _background_noise_
//     recording, mixed in with probability background_frequency at a
//     volume uniform in [0, background_volume); silence clips always get
//     noise, at a volume uniform in [0, 1), and no foreground;
//   - the sum clipped to the int16 range (TensorFlow clips to [-1, 1]).
// Validation and test clips are never augmented.
//
// AudioRng draws every number itself (no std:: distributions, whose
// results differ between standard libraries), so the same seed gives the
// same clips everywhere. Thread safety: an AudioRng is not shared; the
// functions are otherwise pure.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "base/status.h"
#include "data/audio/speech_commands.h"

namespace unas::data::audio {

class AudioRng {
 public:
  explicit AudioRng(uint64_t seed) : engine_(seed) {}
  uint64_t Next() { return engine_(); }
  // Uniform in [lo, hi), lo < hi; unbiased (rejection).
  int64_t UniformInt(int64_t lo, int64_t hi);
  // Uniform in [0, 1) with 53 random bits.
  double Uniform01() { return double(engine_() >> 11) * 0x1.0p-53; }
  // Fisher-Yates.
  template <typename T>
  void Shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[size_t(UniformInt(0, int64_t(i)))]);
  }

 private:
  std::mt19937_64 engine_;  // its output sequence is fixed by the C++ standard
};

struct AugmentOptions {
  int32_t time_shift_samples = 1600;  // 100 ms at 16 kHz; 0 = none
  double background_frequency = 0.8;  // 0..1
  double background_volume = 0.1;    // 0..1
};

Status CheckAugmentOptions(const AugmentOptions& options, int32_t clip_samples);

// Background noise mixed into a clip (in place): `volume` times a stretch
// of `noise` starting at `offset`, then clipped. Samples are int16; the sum
// is rounded to nearest.
void MixNoise(std::vector<int16_t>& clip, const std::vector<int16_t>& noise, int64_t offset, double volume);

// The training clip for example `index` of data.training, augmented with
// draws from `rng` in TensorFlow's order (shift; then noise file, offset,
// volume). A silence example gets noise only.
std::vector<int16_t> MakeTrainingClip(const SpeechCommands& data, int64_t index, const AugmentOptions& options,
                                      AudioRng& rng);

}  // namespace unas::data::audio
