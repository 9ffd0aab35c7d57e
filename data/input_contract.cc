#include "data/input_contract.h"

#include <algorithm>
#include <cmath>

namespace unas::data {
namespace {

Status Bad(const std::string& message) { return Status::Invalid("input contract: " + message); }

// A JSON number as float32, or an error naming `what`.
Result<float> Float(const nlohmann::json& j, const std::string& what) {
  if (!j.is_number()) return Bad(what + " is not a number");
  return static_cast<float>(j.get<double>());
}

Result<std::vector<float>> Floats(const nlohmann::json& j, const std::string& what) {
  if (!j.is_array()) return Bad(what + " is not an array of numbers");
  std::vector<float> out;
  for (size_t i = 0; i < j.size(); ++i) {
    UNAS_ASSIGN_OR_RETURN(float v, Float(j[i], what + "[" + std::to_string(i) + "]"));
    out.push_back(v);
  }
  return out;
}

}  // namespace

const char* InputValueKindName(InputValueKind kind) {
  switch (kind) {
    case InputValueKind::kPixel8: return "pixel8";
    case InputValueKind::kSensorValue: return "sensor_value";
    case InputValueKind::kAudioFeatures: return "audio_features";
  }
  return "unknown";
}

bool operator==(const AudioFrontendContract& a, const AudioFrontendContract& b) {
  return a.sample_rate_hz == b.sample_rate_hz && a.clip_samples == b.clip_samples &&
         a.window_samples == b.window_samples && a.stride_samples == b.stride_samples &&
         a.mel_channels == b.mel_channels && a.lower_hz == b.lower_hz && a.upper_hz == b.upper_hz &&
         a.log_mel == b.log_mel && a.coefficients == b.coefficients;
}

std::vector<double> InputContract::mean_pixels() const {
  std::vector<double> out;
  const double unit = value_kind == InputValueKind::kPixel8 ? 255.0 : 1.0;
  for (float m : mean) out.push_back(unit * m);
  return out;
}

std::vector<double> InputContract::std_pixels() const {
  std::vector<double> out;
  const double unit = value_kind == InputValueKind::kPixel8 ? 255.0 : 1.0;
  for (float s : std) out.push_back(unit * s);
  return out;
}

Status ValidateInputContract(const InputContract& c) {
  if (c.height <= 0 || c.width <= 0 || c.channels <= 0) {
    return Bad("shape " + std::to_string(c.height) + "x" + std::to_string(c.width) + "x" + std::to_string(c.channels) +
               " has a non-positive dimension");
  }
  if (c.layout != "NHWC") return Bad("layout '" + c.layout + "' is not NHWC");
  if (c.mean.size() != static_cast<size_t>(c.channels) || c.std.size() != static_cast<size_t>(c.channels)) {
    return Bad(std::to_string(c.mean.size()) + " means and " + std::to_string(c.std.size()) + " stds for " +
               std::to_string(c.channels) + " channels (one each per channel)");
  }
  for (int k = 0; k < c.channels; ++k) {
    if (!std::isfinite(c.mean[k])) return Bad("mean[" + std::to_string(k) + "] is not finite");
    if (!std::isfinite(c.std[k]) || c.std[k] <= 0) return Bad("std[" + std::to_string(k) + "] is not positive");
  }
  if (c.class_names.empty()) return Bad("no class names");
  if ((c.value_kind == InputValueKind::kAudioFeatures) != c.audio_frontend.has_value()) {
    return Bad(c.audio_frontend ? "an audio front end for a model whose input is not audio features"
                                : "audio features without their audio front end");
  }
  if (const auto& a = c.audio_frontend) {
    for (int v : {a->sample_rate_hz, a->clip_samples, a->window_samples, a->stride_samples, a->mel_channels,
                  a->upper_hz, a->coefficients}) {
      if (v <= 0) return Bad("the audio front end has a non-positive field");
    }
  }
  if (!std::isfinite(c.input_scale) || c.input_scale <= 0) return Bad("input scale is not positive");
  if (c.input_zero_point < -128 || c.input_zero_point > 127) {
    return Bad("input zero point " + std::to_string(c.input_zero_point) + " is outside int8");
  }
  return Status::Ok();
}

nlohmann::json InputContractToJson(const InputContract& c) {
  auto doubles = [](const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); };
  const bool pixels = c.value_kind == InputValueKind::kPixel8;
  const char* formula = pixels ? "x = (pixel / 255 - mean[c]) / std[c]"
                        : c.value_kind == InputValueKind::kAudioFeatures ? "x = (feature - mean[c]) / std[c]"
                                                                         : "x = (value - mean[c]) / std[c]";
  nlohmann::json norm = {{"formula", formula},
                         {"mean", doubles(c.mean)},
                         {"std", doubles(c.std)}};
  if (pixels) {
    norm["mean_pixels"] = c.mean_pixels();
    norm["std_pixels"] = c.std_pixels();
  }
  nlohmann::json out = {{"format", kInputContractFormat},
                        {"shape", {c.height, c.width, c.channels}},
                        {"layout", c.layout},
                        {"value", InputValueKindName(c.value_kind)},
                        {"normalization", norm},
                        {"class_names", c.class_names},
                        {"input_quantization",
                         {{"formula", "q = clamp(round(x / scale) + zero_point, -128, 127)"},
                          {"scale", static_cast<double>(c.input_scale)},
                          {"zero_point", c.input_zero_point}}}};
  if (const auto& a = c.audio_frontend) {
    out["audio_frontend"] = {{"source", "frontend.c (unas_model_features in the C library)"},
                             {"sample_rate_hz", a->sample_rate_hz},
                             {"clip_samples", a->clip_samples},
                             {"window_samples", a->window_samples},
                             {"stride_samples", a->stride_samples},
                             {"mel_channels", a->mel_channels},
                             {"lower_hz", a->lower_hz},
                             {"upper_hz", a->upper_hz},
                             {"features", a->log_mel ? "log_mel" : "mfcc"},
                             {"coefficients", a->coefficients}};
  }
  return out;
}

namespace {

Result<AudioFrontendContract> AudioFrontendFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Bad("audio_frontend is not an object");
  AudioFrontendContract a;
  const std::pair<const char*, int*> fields[] = {
      {"sample_rate_hz", &a.sample_rate_hz}, {"clip_samples", &a.clip_samples},     {"window_samples", &a.window_samples},
      {"stride_samples", &a.stride_samples}, {"mel_channels", &a.mel_channels},     {"lower_hz", &a.lower_hz},
      {"upper_hz", &a.upper_hz},             {"coefficients", &a.coefficients}};
  for (const auto& [key, field] : fields) {
    const nlohmann::json v = j.value(key, nlohmann::json());
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 1'000'000) {
      return Bad(std::string("audio_frontend.") + key + " is not an integer in 0..1000000");
    }
    *field = v.get<int>();
  }
  const std::string features = j.value("features", std::string());
  if (features != "mfcc" && features != "log_mel") return Bad("audio_frontend.features is not 'mfcc' or 'log_mel'");
  a.log_mel = features == "log_mel";
  return a;
}

}  // namespace

Result<InputContract> InputContractFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Bad("not a JSON object");
  if (j.value("format", std::string()) != kInputContractFormat) {
    return Bad("format is not '" + std::string(kInputContractFormat) + "'");
  }
  InputContract c;
  const nlohmann::json shape = j.value("shape", nlohmann::json());
  if (!shape.is_array() || shape.size() != 3 || !shape[0].is_number_integer() || !shape[1].is_number_integer() ||
      !shape[2].is_number_integer()) {
    return Bad("shape is not [H, W, C]");
  }
  c.height = shape[0].get<int>();
  c.width = shape[1].get<int>();
  c.channels = shape[2].get<int>();
  if (!j.contains("layout") || !j["layout"].is_string()) return Bad("layout is missing");
  c.layout = j["layout"].get<std::string>();
  const std::string value = j.value("value", std::string());
  if (value == InputValueKindName(InputValueKind::kPixel8)) {
    c.value_kind = InputValueKind::kPixel8;
  } else if (value == InputValueKindName(InputValueKind::kSensorValue)) {
    c.value_kind = InputValueKind::kSensorValue;
  } else if (value == InputValueKindName(InputValueKind::kAudioFeatures)) {
    c.value_kind = InputValueKind::kAudioFeatures;
  } else {
    return Bad("value is not 'pixel8', 'sensor_value' or 'audio_features'");
  }
  if (auto a = j.find("audio_frontend"); a != j.end()) {
    UNAS_ASSIGN_OR_RETURN(c.audio_frontend, AudioFrontendFromJson(*a));
  }
  const nlohmann::json norm = j.value("normalization", nlohmann::json());
  if (!norm.is_object()) return Bad("normalization is missing");
  UNAS_ASSIGN_OR_RETURN(c.mean, Floats(norm.value("mean", nlohmann::json()), "normalization.mean"));
  UNAS_ASSIGN_OR_RETURN(c.std, Floats(norm.value("std", nlohmann::json()), "normalization.std"));
  const nlohmann::json names = j.value("class_names", nlohmann::json());
  if (!names.is_array()) return Bad("class_names is not an array of strings");
  for (const nlohmann::json& n : names) {
    if (!n.is_string()) return Bad("class_names holds a non-string");
    c.class_names.push_back(n.get<std::string>());
  }
  const nlohmann::json q = j.value("input_quantization", nlohmann::json());
  if (!q.is_object()) return Bad("input_quantization is missing");
  UNAS_ASSIGN_OR_RETURN(c.input_scale, Float(q.value("scale", nlohmann::json()), "input_quantization.scale"));
  const nlohmann::json zp = q.value("zero_point", nlohmann::json());
  if (!zp.is_number_integer()) return Bad("input_quantization.zero_point is not an integer");
  const int64_t z = zp.get<int64_t>();
  if (z < -128 || z > 127) return Bad("input zero point " + std::to_string(z) + " is outside int8");
  c.input_zero_point = static_cast<int32_t>(z);
  UNAS_RETURN_IF_ERROR(ValidateInputContract(c));
  return c;
}

Result<std::vector<std::array<int8_t, 256>>> PixelQuantizationTable(const InputContract& c) {
  UNAS_RETURN_IF_ERROR(ValidateInputContract(c));
  if (c.value_kind != InputValueKind::kPixel8) {
    return Bad(std::string("a pixel table needs 8-bit pixels, not ") + InputValueKindName(c.value_kind));
  }
  std::vector<std::array<int8_t, 256>> table(static_cast<size_t>(c.channels));
  for (int k = 0; k < c.channels; ++k) {
    for (int p = 0; p < 256; ++p) {
      // Separate float32 operations in training's order (worker/dataset.cc:
      // div_(255), sub_(mean), div_(std)), then quant::QuantizeInput's.
      const float scaled = static_cast<float>(p) / 255.0f;
      const float centred = scaled - c.mean[k];
      const float x = centred / c.std[k];
      const float steps = x / c.input_scale;
      const int64_t v = static_cast<int64_t>(std::round(steps)) + c.input_zero_point;
      table[k][p] = static_cast<int8_t>(std::clamp<int64_t>(v, -128, 127));
    }
  }
  return table;
}

std::vector<std::string> NumberedClassNames(int num_classes) {
  std::vector<std::string> names;
  for (int i = 0; i < num_classes; ++i) names.push_back(std::to_string(i));
  return names;
}

}  // namespace unas::data
