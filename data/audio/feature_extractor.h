// The C++ side of the audio front end (frontend.h): a checked config, a
// feature extractor that owns its prepared scratch, and the int8 input
// quantiser made from a tensor's float scale and zero point.
//
// How the pieces are meant to be used:
//   - training: FeatureExtractor::Create(config) once per thread, then
//     Compute(clip) for every (augmented) one-second clip; the network is
//     fed float(feature) / kFeatureScale, a frames x features x 1 (HWC)
//     tensor;
//   - int8 evaluation: MakeInputQuantizer(input_scale, input_zero_point)
//     from the quantised model's input tensor, then QuantizeFeatures on the
//     same int16 features (not on the floats), which is what
//     unas_frontend_features_int8 does on the device;
//   - firmware: frontend.c/.h copied beside model.c, the config and the
//     quantiser's three integers written as constants, and
//     unas_frontend_prepare + unas_frontend_features_int8 called on the
//     arena (scratch = unas_frontend_scratch_bytes(config) bytes).
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "data/audio/frontend.h"

namespace unas::data::audio {

using FrontendConfig = unas_frontend_config;
using InputQuantizer = unas_frontend_quant;

// A feature's real value is feature / kFeatureScale.
constexpr float kFeatureScale = float(1 << UNAS_FRONTEND_FRAC_BITS);

// 30 ms windows, 20 ms stride, 40 MFCC of 40 mel channels over 20-4000 Hz:
// 49 x 40 features per second at 16 kHz.
FrontendConfig DefaultFrontendConfig();

// kInvalidArgument naming the first field out of range and its value.
Status CheckFrontendConfig(const FrontendConfig& config);

// Computes features with a scratch buffer prepared once. Not thread-safe
// (the scratch is work space): one extractor per thread. Copyable.
class FeatureExtractor {
 public:
  static Result<FeatureExtractor> Create(const FrontendConfig& config);

  const FrontendConfig& config() const { return config_; }
  int32_t frames() const { return unas_frontend_frames(&config_); }
  int32_t features_per_frame() const { return unas_frontend_features_per_frame(&config_); }
  int64_t feature_count() const { return int64_t{frames()} * features_per_frame(); }
  int64_t scratch_bytes() const { return int64_t(unas_frontend_scratch_bytes(&config_)); }

  // Features of one clip of exactly config().clip_samples samples into
  // `features` (feature_count() values, [frame][feature]).
  Status Compute(const int16_t* pcm, size_t samples, int16_t* features);
  Result<std::vector<int16_t>> Compute(const std::vector<int16_t>& pcm);

 private:
  explicit FeatureExtractor(const FrontendConfig& config);
  FrontendConfig config_;
  std::vector<uint64_t> scratch_;  // uint64 for the 8-byte alignment the front end needs
};

// The integer quantiser of the int8 input tensor with real = (q -
// zero_point) * scale. kInvalidArgument when scale is not finite and
// positive, the zero point is outside -128..127, or 1 / (scale *
// kFeatureScale) cannot be expressed (scale outside about 1e-11..3e7).
Result<InputQuantizer> MakeInputQuantizer(double scale, int32_t zero_point);

// unas_frontend_quantize over a vector.
Result<std::vector<int8_t>> QuantizeFeatures(const InputQuantizer& quantizer, const std::vector<int16_t>& features);

}  // namespace unas::data::audio
