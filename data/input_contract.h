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
// Extensible: a value kind other than 8-bit pixels (e.g. an audio front end's
// features) adds its kind and its parameters beside these fields.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace unas::data {

// What one element of the model's input is before normalisation.
enum class InputValueKind {
  kPixel8,       // an 8-bit image sample 0..255 (grey or one of R, G, B), HWC order
  kSensorValue,  // a sensor window's value in the CSV's own units (H = time, W = 1, C = channels)
};
const char* InputValueKindName(InputValueKind kind);  // "pixel8", "sensor_value"

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

  int num_classes() const { return static_cast<int>(class_names.size()); }
  // In the raw input's units, per channel: 255 * mean / 255 * std for
  // pixels, mean / std themselves for sensor values.
  std::vector<double> mean_pixels() const;
  std::vector<double> std_pixels() const;
};

// Errors (kInvalidArgument, naming the field): a non-positive dimension, a
// layout other than NHWC, mean/std not one per channel, a std <= 0 or a
// non-finite value, no class names, a scale <= 0, a zero point outside int8.
Status ValidateInputContract(const InputContract& contract);

// The machine-readable form every artefact carries:
//   {"format": "unas-input-contract/1", "shape": [H, W, C], "layout": "NHWC",
//    "value": "pixel8",
//    "normalization": {"formula": "x = (pixel / 255 - mean[c]) / std[c]",
//                      "mean": [...], "std": [...],
//                      "mean_pixels": [...], "std_pixels": [...]},
//   (for "sensor_value": formula "x = (value - mean[c]) / std[c]", no
//   mean_pixels / std_pixels),
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
