#include "data/audio/feature_extractor.h"

#include <cmath>

namespace unas::data::audio {
namespace {

int32_t FieldValue(const FrontendConfig& c, const std::string& field) {
  if (field == "sample_rate_hz") return c.sample_rate_hz;
  if (field == "clip_samples") return c.clip_samples;
  if (field == "window_samples") return c.window_samples;
  if (field == "stride_samples") return c.stride_samples;
  if (field == "mel_channels") return c.mel_channels;
  if (field == "lower_hz") return c.lower_hz;
  if (field == "upper_hz") return c.upper_hz;
  if (field == "output") return c.output;
  return c.mfcc_coefficients;
}

}  // namespace

FrontendConfig DefaultFrontendConfig() {
  FrontendConfig c;
  unas_frontend_default_config(&c);
  return c;
}

Status CheckFrontendConfig(const FrontendConfig& config) {
  const char* field = nullptr;
  if (unas_frontend_check(&config, &field) == 0) return Status::Ok();
  return Status::Invalid(std::string("audio front end: ") + field + " = " +
                         std::to_string(FieldValue(config, field)) +
                         " is out of its range (data/audio/frontend.h lists each field's range)");
}

FeatureExtractor::FeatureExtractor(const FrontendConfig& config)
    : config_(config), scratch_((unas_frontend_scratch_bytes(&config) + 7) / 8) {}

Result<FeatureExtractor> FeatureExtractor::Create(const FrontendConfig& config) {
  UNAS_RETURN_IF_ERROR(CheckFrontendConfig(config));
  FeatureExtractor extractor(config);
  const int rc = unas_frontend_prepare(&extractor.config_, reinterpret_cast<uint8_t*>(extractor.scratch_.data()));
  if (rc != 0) return Status::Internal(std::string("unas_frontend_prepare: ") + unas_frontend_error_name(rc));
  return extractor;
}

Status FeatureExtractor::Compute(const int16_t* pcm, size_t samples, int16_t* features) {
  if (samples != size_t(config_.clip_samples)) {
    return Status::Invalid("audio front end: a clip of " + std::to_string(samples) + " samples; it takes " +
                           std::to_string(config_.clip_samples));
  }
  const int rc = unas_frontend_features(&config_, reinterpret_cast<uint8_t*>(scratch_.data()), pcm, features);
  if (rc != 0) return Status::Internal(std::string("unas_frontend_features: ") + unas_frontend_error_name(rc));
  return Status::Ok();
}

Result<std::vector<int16_t>> FeatureExtractor::Compute(const std::vector<int16_t>& pcm) {
  std::vector<int16_t> features(static_cast<size_t>(feature_count()));
  UNAS_RETURN_IF_ERROR(Compute(pcm.data(), pcm.size(), features.data()));
  return features;
}

Result<InputQuantizer> MakeInputQuantizer(double scale, int32_t zero_point) {
  if (!std::isfinite(scale) || scale <= 0) {
    return Status::Invalid("input quantiser: scale " + std::to_string(scale) + " is not a positive number");
  }
  if (zero_point < -128 || zero_point > 127) {
    return Status::Invalid("input quantiser: zero point " + std::to_string(zero_point) + " is outside -128..127");
  }
  // q = feature * real_multiplier (+ zero point), real_multiplier =
  // fraction * 2^exponent with fraction in [0.5, 1): multiplier =
  // fraction * 2^31, shift = 31 - exponent.
  const double real_multiplier = 1.0 / (scale * double(kFeatureScale));
  int exponent = 0;
  const double fraction = std::frexp(real_multiplier, &exponent);
  int64_t multiplier = std::llround(fraction * double(int64_t{1} << 31));
  if (multiplier == (int64_t{1} << 31)) {
    multiplier /= 2;
    ++exponent;
  }
  const int shift = 31 - exponent;
  if (shift < 1 || shift > 62) {
    return Status::Invalid("input quantiser: scale " + std::to_string(scale) +
                           " is outside the range the integer quantiser can express");
  }
  return InputQuantizer{int32_t(multiplier), int32_t(shift), zero_point};
}

Result<std::vector<int8_t>> QuantizeFeatures(const InputQuantizer& quantizer, const std::vector<int16_t>& features) {
  std::vector<int8_t> out(features.size());
  const int rc = unas_frontend_quantize(&quantizer, features.data(), int32_t(features.size()), out.data());
  if (rc != 0) return Status::Invalid(std::string("input quantiser: ") + unas_frontend_error_name(rc));
  return out;
}

}  // namespace unas::data::audio
