// A trial's stored int8 model (.tflite, as the coordinator serves it) turned
// back into the C library: the file is read with tflite/reader.h, its
// operators matched to the trial's lowered network (the file stores them in
// the tflm accounting's planned order; build order is accepted too) and
// handed to firmware's WriteCLibrary. Used by `unas export` and `unas train
// --out`.
//
// Thread safety: pure functions (they write only under `dir`).
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "costmodel/model_graph.h"
#include "costmodel/network.h"
#include "data/input_contract.h"

namespace unas::cli {

// `graph` (read from a .tflite, no source ops) with its operators put back in
// the lowering's build order and each one's GraphOp::source_op set. Fails with
// kInvalidArgument when the file's operators are neither in the tflm planned
// order nor in build order of `network`'s lowering (another network's model).
Result<ModelGraph> MatchLoweredNetwork(const Network& network, const ModelGraph& graph);

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
