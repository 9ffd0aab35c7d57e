#include "tests/data/audio/reference_frontend.h"

#include <algorithm>
#include <cmath>

namespace unas::data::audio::testing {
namespace {

double FreqToMel(double hz) { return 1127.0 * std::log(1.0 + hz / 700.0); }

// tensorflow/core/kernels/mfcc_mel_filterbank.cc, Initialize and Compute.
class MelFilterbank {
 public:
  MelFilterbank(int input_length, double sample_rate, int channels, double lower, double upper)
      : channels_(channels), band_(input_length), weight_(input_length) {
    std::vector<double> centre(channels + 1);
    const double mel_low = FreqToMel(lower), mel_hi = FreqToMel(upper);
    const double spacing = (mel_hi - mel_low) / (channels + 1.0);
    for (int i = 0; i < channels + 1; ++i) centre[i] = mel_low + spacing * (i + 1);
    const double hz_per_bin = 0.5 * sample_rate / (input_length - 1);
    start_ = static_cast<int>(1.5 + lower / hz_per_bin);
    end_ = static_cast<int>(upper / hz_per_bin);
    int channel = 0;
    for (int i = 0; i < input_length; ++i) {
      const double mel = FreqToMel(i * hz_per_bin);
      if (i < start_ || i > end_) {
        band_[i] = -2;
        weight_[i] = 0;
        continue;
      }
      while (channel < channels && centre[channel] < mel) ++channel;
      band_[i] = channel - 1;
      weight_[i] = band_[i] >= 0 ? (centre[band_[i] + 1] - mel) / (centre[band_[i] + 1] - centre[band_[i]])
                                 : (centre[0] - mel) / (centre[0] - mel_low);
    }
  }
  int start() const { return start_; }
  int end() const { return end_; }

  std::vector<double> Compute(const std::vector<double>& magnitude) const {
    std::vector<double> out(channels_, 0.0);
    for (int i = start_; i <= end_; ++i) {
      const double weighted = magnitude[i] * weight_[i];
      if (band_[i] >= 0) out[band_[i]] += weighted;
      if (band_[i] + 1 < channels_) out[band_[i] + 1] += magnitude[i] - weighted;
    }
    return out;
  }

 private:
  int channels_, start_ = 0, end_ = 0;
  std::vector<int> band_;
  std::vector<double> weight_;
};

}  // namespace

std::vector<double> ReferenceFeatures(const FrontendConfig& config, const std::vector<int16_t>& pcm) {
  const int window = config.window_samples, n = unas_frontend_fft_size(&config), bins = n / 2 + 1;
  const int frames = unas_frontend_frames(&config), m = config.mel_channels;
  const bool mfcc = config.output == UNAS_FRONTEND_MFCC;
  const int per_frame = mfcc ? config.mfcc_coefficients : m;
  const MelFilterbank filterbank(bins, config.sample_rate_hz, m, config.lower_hz, config.upper_hz);
  std::vector<double> hann(window), cos_table(n), sin_table(n);
  for (int i = 0; i < window; ++i) hann[i] = 0.5 - 0.5 * std::cos(2 * M_PI * i / window);
  for (int i = 0; i < n; ++i) {
    cos_table[i] = std::cos(2 * M_PI * i / n);
    sin_table[i] = std::sin(2 * M_PI * i / n);
  }
  std::vector<double> out;
  out.reserve(size_t(frames) * per_frame);
  std::vector<double> x(window), magnitude(bins, 0.0);
  for (int f = 0; f < frames; ++f) {
    for (int i = 0; i < window; ++i) x[i] = pcm[size_t(f) * config.stride_samples + i] / 32768.0 * hann[i];
    for (int k = filterbank.start(); k <= filterbank.end(); ++k) {
      double re = 0, im = 0;
      for (int i = 0; i < window; ++i) {
        const int t = int((int64_t{k} * i) % n);
        re += x[i] * cos_table[t];
        im -= x[i] * sin_table[t];
      }
      magnitude[k] = std::sqrt(re * re + im * im);
    }
    std::vector<double> mel = filterbank.Compute(magnitude);
    for (double& v : mel) v = std::log(std::max(v, 1e-12));
    if (!mfcc) {
      out.insert(out.end(), mel.begin(), mel.end());
      continue;
    }
    // tensorflow/core/kernels/mfcc_dct.cc
    const double fnorm = std::sqrt(2.0 / m), arg = M_PI / m;
    for (int i = 0; i < per_frame; ++i) {
      double sum = 0;
      for (int j = 0; j < m; ++j) sum += fnorm * std::cos(i * arg * (j + 0.5)) * mel[j];
      out.push_back(sum);
    }
  }
  return out;
}

}  // namespace unas::data::audio::testing
