// A trial's stored int8 model (.tflite, as the coordinator serves it) turned
// back into its C library: the file is read with tflite/reader.h, its
// operators matched to the trial's lowered network (the file stores them in
// the tflm accounting's planned order; build order is accepted too) and
// handed to GenerateCLibrary with the model's input contract. One function,
// so `unas export`, `unas train --out` and the worker's measurement of the
// library's flash (firmware/cortex_m_flash.h) generate the same C.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "costmodel/model_graph.h"
#include "costmodel/network.h"
#include "data/input_contract.h"
#include "firmware/generator.h"

namespace unas::firmware {

// `graph` (read from a .tflite, no source ops) with its operators put back in
// the lowering's build order and each one's GraphOp::source_op set. Fails with
// kInvalidArgument when the file's operators are neither in the tflm planned
// order nor in build order of `network`'s lowering (another network's model).
Result<ModelGraph> MatchLoweredNetwork(const Network& network, const ModelGraph& graph);

struct TrialLibrary {
  CLibrary library;
  // The model's input contract (tflite/metadata.h) the library was generated
  // with; nullopt for a model stored without one.
  std::optional<data::InputContract> contract;
};

// The C library of `tflite` (the trial's int8 model) for `network` (the
// network it was trained as, the pruned one when the job prunes); partial
// execution when `partial_execution` (the job's memory is
// partial_execution). A keyword model's contract names its audio front end,
// so its library also gets unas_model_features (firmware/generator.h).
// Errors: the reader's, the match's and the generator's, kInvalidArgument.
Result<TrialLibrary> TrialLibraryFromTflite(const std::string& tflite, const Network& network,
                                            bool partial_execution);

}  // namespace unas::firmware
