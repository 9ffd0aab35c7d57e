// The input contract's part of the generated C library (internal to
// firmware/generator.cc): model.h's shape and class macros and declarations,
// model.c's class names and unas_model_quantize_pixels.
//
// unas_model_quantize_pixels turns HWC 8-bit pixels of exactly the model's
// input shape into the int8 input with one 256-entry table per channel, made
// here by data::PixelQuantizationTable: the arithmetic the trial's int8
// evaluation used, so the input is bit-identical to what it fed the network
// and no floating point runs on the device.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "data/input_contract.h"

namespace unas::firmware {

struct ContractShape {
  int height = 0, width = 0, channels = 0;  // the network's input
  int64_t outputs = 0;                      // the network's output elements
};

// model.h's lines: UNAS_MODEL_INPUT_HEIGHT/WIDTH/CHANNELS, UNAS_MODEL_CLASSES,
// UNAS_MODEL_HAS_INPUT_CONTRACT (1 with a contract), unas_model_class_names
// and, with a contract, unas_model_quantize_pixels.
std::string ContractDeclarations(const ContractShape& shape, const std::optional<data::InputContract>& contract);
// model.c's definitions of the same. Without a contract the class names are
// "0", "1", ... and there is no pixel function (the model does not say how
// its input was normalised).
std::string ContractDefinitions(const ContractShape& shape, const std::optional<data::InputContract>& contract);

// A C string literal holding `text` exactly (quotes, backslashes and bytes
// outside printable ASCII escaped in octal).
std::string CStringLiteral(const std::string& text);

}  // namespace unas::firmware
