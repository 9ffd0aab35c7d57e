// A trial's stored int8 model (.tflite, as the coordinator serves it) written
// out with its C library (firmware/trial_library.h makes the library, the
// same one the worker measured the flash of). Used by `unas export` and
// `unas train --out`.
//
// Thread safety: pure functions (they write only under `dir`).
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "costmodel/network.h"
#include "data/input_contract.h"

namespace unas::cli {

// Writes DIR/model.tflite (the bytes as given) and DIR/c/ (firmware's C
// library of the model; partial execution when `partial_execution`), and
// returns the model's input contract (tflite/metadata.h), which the C library
// was generated with; std::nullopt for a model stored without one. A keyword
// model's contract names its audio front end, so its C library also gets
// unas_model_features and frontend.c/.h (firmware/generator.h). DIR must
// exist. Errors name the file or the step that failed.
Result<std::optional<data::InputContract>> WriteTrialModel(const std::string& dir, const std::string& tflite,
                                                           const Network& network, bool partial_execution);

}  // namespace unas::cli
