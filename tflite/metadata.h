// A model's input contract (data/input_contract.h) inside its .tflite, so
// every later step (`unas export` from a stored trial, `unas analyze`, Arm NN,
// TFLite's metadata tools) reads it from the one artefact. Two entries of the
// model's `metadata` list:
//   - "unas_input_contract": the contract as JSON (InputContractToJson), with
//     mean and std bit-exact, which is what the C generator's pixel table is
//     computed from;
//   - "TFLITE_METADATA": TensorFlow Lite Metadata (tflite-support's
//     metadata_schema.fbs, identifier "M001"; the subset unas writes is
//     tflite/schema/metadata_subset.fbs): the input tensor's ImageProperties
//     (GRAYSCALE for 1 channel, RGB for 3, else UNKNOWN; default_size W x H)
//     and its NormalizationOptions in raw pixel units (mean = 255 * mean[c],
//     std = 255 * std[c]: normalised = (pixel - mean) / std), then quantised
//     with the input tensor's own scale and zero point; the output's
//     description lists the class names in index order. min_parser_version
//     1.0.0 (nothing newer is used).
// The model's input stays int8, as TFLM users expect.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "data/input_contract.h"
#include "tflite/writer.h"

namespace unas {

inline constexpr const char* kInputContractMetadataName = "unas_input_contract";
inline constexpr const char* kTfliteMetadataName = "TFLITE_METADATA";

// Both entries, for WriteOptions::metadata. Errors: ValidateInputContract's.
Result<std::vector<TfliteMetadataEntry>> InputContractMetadata(const data::InputContract& contract);

// The contract stored in a .tflite; std::nullopt when the model has no
// "unas_input_contract" entry (models from elsewhere, or trained before unas
// wrote one). Errors: ReadTfliteMetadata's, or kInvalidArgument when the
// entry is not a valid contract (the message says which field).
Result<std::optional<data::InputContract>> ReadInputContract(const uint8_t* data, size_t size);

// What a model's "TFLITE_METADATA" says about its first subgraph's first
// input and first output (read with flatbuffers' verifier; any model's).
struct StandardMetadata {
  std::string model_name, model_description, version, min_parser_version;
  std::string input_name, input_description;
  int color_space = 0;                 // 0 unknown, 1 RGB, 2 grayscale (TFLite's ColorSpaceType)
  uint32_t image_width = 0, image_height = 0;  // ImageProperties.default_size; 0 when absent
  std::vector<float> mean, std;        // NormalizationOptions, raw input units; empty when absent
  std::string output_name, output_description;
};
// std::nullopt when the model has no "TFLITE_METADATA". Errors:
// kInvalidArgument when that buffer is not ModelMetadata ("M001") or fails
// verification.
Result<std::optional<StandardMetadata>> ReadStandardMetadata(const uint8_t* data, size_t size);

}  // namespace unas
