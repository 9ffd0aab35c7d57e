// The C code generator: a quantised network in, a self-contained C99
// library out (model.h, model.c, unas_kernels.h, unas_kernels.c) that runs
// the network inside ONE caller-owned arena of exactly the planned size.
//
// model.h's interface is fixed (other tools drive it by these names):
//   #define UNAS_MODEL_INPUT_BYTES / UNAS_MODEL_OUTPUT_BYTES / UNAS_MODEL_ARENA_BYTES
//   extern const float unas_model_input_scale, unas_model_output_scale;
//   extern const int32_t unas_model_input_zero_point, unas_model_output_zero_point;
//   void unas_model_invoke(const int8_t *input, int8_t *output, uint8_t *arena);
//   #define UNAS_MODEL_INPUT_HEIGHT / UNAS_MODEL_INPUT_WIDTH / UNAS_MODEL_INPUT_CHANNELS
//   #define UNAS_MODEL_CLASSES, UNAS_MODEL_HAS_INPUT_CONTRACT (0 or 1)
//   extern const char *const unas_model_class_names[UNAS_MODEL_CLASSES];
//   void unas_model_quantize_pixels(const uint8_t *pixels, int8_t *input);
//     (with an input contract only: raw HWC 8-bit pixels to the int8 input,
//     bit-identical to the int8 evaluation's; firmware/contract_source.h)
// The arena is UNAS_MODEL_ARENA_BYTES bytes, 16-byte aligned, owned by the
// caller; invoke copies the input into it (the accounting counts the input),
// runs the schedule, and copies the output out. No heap, no floating point at
// run time, only C standard headers.
//
// The schedule: whole execution is the best order of the firmware
// accounting (in-place Add at its input's last use) and partial execution is
// PlanPartialExecution's plan; both are laid out by LayoutArena, so
// UNAS_MODEL_ARENA_BYTES == plan.layout.arena_bytes, which is the cost
// model's figure (CostNetwork(network, kFirmware).layout.arena_bytes for
// whole execution) by construction. model.c is straight-line kernel calls at fixed arena
// offsets, one per step of the plan, with the live bytes of each step in a
// comment, each followed by UNAS_STEP_DONE(step): empty unless model.c is
// built with -DUNAS_PROFILE, when it calls unas_profile_step(step) (the
// firmware benchmark times steps with it). Convolution, depthwise and dense
// ops run through opN_kernel, their kernel body instantiated with the op's
// constant parameter struct (shape-specialised by the compiler); biases are
// emitted with the input zero point folded in (unas_kernels.h). The kernels
// use the Cortex-M DSP extension where the target has it
// (__ARM_FEATURE_DSP) and portable C elsewhere, with identical outputs.
//
// Thread safety: pure functions; the generated invoke is reentrant given
// distinct arenas.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "costmodel/cost_model.h"
#include "costmodel/partial_execution.h"
#include "base/status.h"
#include "data/input_contract.h"
#include "data/audio/frontend.h"
#include "firmware/quantized_network.h"

namespace unas::firmware {

// The plan is always Accounting::kFirmware's: the accounting of this
// runtime (input counted, int32 biases, in-place Add at its input's last use).
struct FirmwareOptions {
  bool partial_execution = false;
  // The model's input contract (its .tflite's metadata, tflite/metadata.h):
  // class names and unas_model_quantize_pixels come from it. Without one,
  // classes are named "0", "1", ... and there is no pixel function. Its shape
  // must be the network's input and its class count the output's (a single
  // logit: 2 classes), else kInvalidArgument.
  std::optional<data::InputContract> contract;
  // Keyword models (docs/keyword-spotting.md): the audio front end the
  // network was trained on. When set, model.h also declares
  //   #define UNAS_MODEL_PCM_SAMPLES <clip samples>
  //   #define UNAS_MODEL_FEATURES_SCRATCH_BYTES <front end scratch>
  //   void unas_model_features(const int16_t *pcm, int8_t *input, uint8_t *arena);
  // which turns one clip of raw int16 PCM into the quantised network input
  // (UNAS_MODEL_INPUT_BYTES, the caller's buffer) using the arena's first
  // UNAS_MODEL_FEATURES_SCRATCH_BYTES as the front end's scratch, and
  // frontend.h/frontend.c (data/audio/, unchanged) are written beside
  // model.c. UNAS_MODEL_ARENA_BYTES is then max(network plan, scratch): the
  // front end runs before the network, so the two share the arena. The
  // network input must be frames x features x 1 of this config.
  std::optional<unas_frontend_config> audio_frontend;
};

struct CLibrary {
  std::string model_h, model_c;
  PexPlan plan;              // the schedule and layout model.c follows
  int64_t arena_bytes = 0;   // UNAS_MODEL_ARENA_BYTES
  int64_t input_bytes = 0;   // UNAS_MODEL_INPUT_BYTES
  int64_t output_bytes = 0;  // UNAS_MODEL_OUTPUT_BYTES
  int64_t weight_bytes = 0;  // int8 weights + int32 biases (the cost model's flash figure)
  int64_t constant_bytes = 0;  // all constant arrays, multipliers and shifts included
  int kernel_calls = 0;      // steps in model.c
  // Keyword models only (FirmwareOptions::audio_frontend), else 0 / false.
  bool has_frontend = false;
  int64_t network_arena_bytes = 0;   // the plan's arena (== arena_bytes without a front end)
  int64_t frontend_scratch_bytes = 0;  // unas_frontend_scratch_bytes of the config
};

// A requantisation (TFLite's multiplier and shift) in the form the kernels'
// unas_requant takes (firmware/c/unas_kernels.h): for a right shift
// (shift <= -1) and a multiplier >= 0, which is every convolution and dense
// layer whose real multiplier is below 0.5; nullopt otherwise (the kernels
// then use the multiplier and shift as they are).
struct PreparedRequant {
  int32_t multiplier = 0, neg_below = 0;
  uint32_t k_lo = 0;
  int32_t k_hi = 0, k_hi_neg = 0, shift = 0;
};
std::optional<PreparedRequant> PrepareRequant(int32_t multiplier, int32_t shift);

// Fails with kInvalidArgument when the network is not valid (Validate), or
// for an audio front end whose config is out of range or whose frames x
// features x 1 is not the network's input (the message says which).
Result<CLibrary> GenerateCLibrary(const QuantizedNetwork& q, const FirmwareOptions& options = {});

// The kernel sources copied beside every model (firmware/c/ at build time):
// unas_kernels.h, unas_kernels_impl.h, unas_kernels.c.
const std::string& KernelsHeader();
const std::string& KernelsImplHeader();
const std::string& KernelsSource();
// data/audio/frontend.h and frontend.c, copied beside keyword models.
const std::string& FrontendHeader();
const std::string& FrontendSource();

// Writes DIR/c/{model.h, model.c, unas_kernels.h, unas_kernels_impl.h,
// unas_kernels.c} (and frontend.h, frontend.c for a keyword model), creating
// DIR/c. Errors name the file that could not be written.
Status WriteCLibrary(const std::string& dir, const CLibrary& library);
Status WriteCLibrary(const std::string& dir, const QuantizedNetwork& q, const FirmwareOptions& options = {});
// The one call for `unas train --out` / `unas export`: FromModelGraph on the
// quantiser's graph (quant::QuantizeNetwork), then the above.
Status WriteCLibrary(const std::string& dir, const Network& network, const ModelGraph& quantised_graph,
                     const FirmwareOptions& options = {});

}  // namespace unas::firmware
