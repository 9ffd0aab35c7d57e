// The input contract of a trained model: what a device must feed it and what
// its outputs mean. Training normalises every value (worker/dataset.h); the
// exported int8 model expects those normalised values quantised. Without this
// record a firmware feeding `pixel / 255` gets a different network (the
// worked example drops from 73 % to 34 %), so it travels with every artefact:
// inside the .tflite (tflite/metadata.h: a "unas_input_contract" JSON entry
// and TFLite's standard "TFLITE_METADATA"), in the generated C
// (unas_model_quantize_pixels, firmware/generator.h), in metrics.json,
// export.json and trial.json. docs/data.md explains the design.
//
// One value of the graph input, for channel c of a raw 8-bit pixel p:
//   x = (float(p) / 255 - mean[c]) / std[c]      (float32, as training did)
// (for a sensor value v: x = (v - mean[c]) / std[c], no / 255), then
//   q = clamp(round(x / input_scale) + input_zero_point, -128, 127)
// (round half away from zero, float32 division: quant::QuantizeInput's
// arithmetic, which is what the trial's int8 evaluation fed the network).
//
// For a keyword model (audio_features) the raw input is one clip of 16-bit
// PCM; the audio front end named in `audio_frontend` (frontend.c, shipped
// with the C library as unas_model_features) turns it into int16 features f,
// and x = (f - mean[c]) / std[c] with mean 0 and std 128 (f / 128, the
// feature's real value). The device path quantises f with the front end's
// integer quantiser (unas_model_features), which is what the trial's int8
// evaluation fed the network.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace unas::data {

// What one element of the model's input is before normalisation.
enum class InputValueKind {
  kPixel8,       // an 8-bit image sample 0..255 (grey or one of R, G, B), HWC order
  kSensorValue,  // a sensor window's value in the CSV's own units (H = time, W = 1, C = channels)
  kAudioFeatures,  // the audio front end's int16 feature (H = frames, W = features per frame, C = 1)
};
const char* InputValueKindName(InputValueKind kind);  // "pixel8", "sensor_value", "audio_features"

// The audio front end a keyword model's features come from
// (data/audio/frontend.h unas_frontend_config, in the contract's words).
struct AudioFrontendContract {
  int sample_rate_hz = 0, clip_samples = 0;      // the PCM clip: mono 16-bit
  int window_samples = 0, stride_samples = 0;    // analysis frames
  int mel_channels = 0, lower_hz = 0, upper_hz = 0;
  bool log_mel = false;                          // false: MFCC
  int coefficients = 0;                          // features per frame
};
bool operator==(const AudioFrontendContract& a, const AudioFrontendContract& b);

inline constexpr const char* kInputContractFormat = "unas-input-contract/1";

struct InputContract {
  int height = 0, width = 0, channels = 0;  // the graph input is [1, height, width, channels]
  // The layout of the input tensor and of the raw values a device supplies;
  // always "NHWC" (TFLite's, batch 1).
  std::string layout = "NHWC";
  InputValueKind value_kind = InputValueKind::kPixel8;
  // Per channel, in the units training used (pixel / 255, so 0..1; sensor
  // values: their own units): the
  // training split's mean and standard deviation, float32 exactly as training
  // computed them. mean_pixels() / std_pixels() are the same in raw 0..255
  // units (TFLite Metadata's NormalizationOptions convention).
  std::vector<float> mean, std;
  std::vector<std::string> class_names;  // output index -> name; size = number of outputs
  // The int8 graph input's quantisation: real = input_scale * (q - input_zero_point).
  float input_scale = 1;
  int32_t input_zero_point = 0;
  // kAudioFeatures only (required there): the front end of the features.
  std::optional<AudioFrontendContract> audio_frontend;

  int num_classes() const { return static_cast<int>(class_names.size()); }
  // In the raw input's units, per channel: 255 * mean / 255 * std for
  // pixels, mean / std themselves for sensor values.
  std::vector<double> mean_pixels() const;
  std::vector<double> std_pixels() const;
};

// Errors (kInvalidArgument, naming the field): a non-positive dimension, a
// layout other than NHWC, mean/std not one per channel, a std <= 0 or a
// non-finite value, no class names, a scale <= 0, a zero point outside int8,
// audio_features without a front end (or with a non-positive field) or a
// front end for another kind.
Status ValidateInputContract(const InputContract& contract);

// The machine-readable form every artefact carries:
//   {"format": "unas-input-contract/1", "shape": [H, W, C], "layout": "NHWC",
//    "value": "pixel8",
//    "normalization": {"formula": "x = (pixel / 255 - mean[c]) / std[c]",
//                      "mean": [...], "std": [...],
//                      "mean_pixels": [...], "std_pixels": [...]},
//   (for "sensor_value": formula "x = (value - mean[c]) / std[c]", no
//   mean_pixels / std_pixels; for "audio_features": "x = (feature - mean[c]) /
//   std[c]" and "audio_frontend": {"source": "frontend.c", "sample_rate_hz",
//   "clip_samples", "window_samples", "stride_samples", "mel_channels",
//   "lower_hz", "upper_hz", "features": "mfcc" | "log_mel", "coefficients"}),
//    "class_names": [...],
//    "input_quantization": {"formula": "q = clamp(round(x / scale) + zero_point, -128, 127)",
//                           "scale": s, "zero_point": z}}
// mean/std/scale are written so that reading them back as float32 gives the
// same bits (float -> double is exact; JSON writes doubles round-trip).
nlohmann::json InputContractToJson(const InputContract& contract);
// Reads the form above (mean_pixels/std_pixels and the formulas are ignored:
// they follow from the rest); then ValidateInputContract. Errors:
// kInvalidArgument naming the missing or malformed field.
Result<InputContract> InputContractFromJson(const nlohmann::json& json);

// Per channel, the int8 input value of every raw 8-bit pixel value, with
// exactly the arithmetic in this file's comment: table[c][p]. The contract
// must be valid; kInvalidArgument unless its kind is kPixel8.
Result<std::vector<std::array<int8_t, 256>>> PixelQuantizationTable(const InputContract& contract);

// The class names a data set without its own uses: "0", "1", ...
std::vector<std::string> NumberedClassNames(int num_classes);

}  // namespace unas::data
