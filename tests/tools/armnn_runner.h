// Runs a .tflite model on Debian's Arm NN 20.08 (CpuRef) through the
// `armnn_run` tool in a child process: Arm NN aborts the process on some
// malformed models and allows one runtime per process, so a test must never
// load it in its own process.
//
// Errors (returned, never thrown):
//   - kFailedPrecondition: Arm NN refused the model (armnn_run exit 3, or the
//     child died of a signal, e.g. Arm NN's abort); the message carries Arm
//     NN's own text from stderr.
//   - kInvalidArgument: armnn_run rejected its arguments (exit 2: the input
//     has the wrong size, ...), with its stderr.
//   - kInternal: the temporary files or the child process could not be made.
// Temporary files live in a fresh directory under $TMPDIR (or /tmp) and are
// removed before returning, on every path.
//
// Thread safety: each call uses its own directory and child; calls may run
// concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "costmodel/status.h"

namespace unas::testing {

// `input`: the raw bytes of the first input tensor (or of all inputs, one
// after another). Returns the raw bytes of the first output tensor, or with
// `all_outputs` of every output tensor one after another in the subgraph's
// output order. `timeout_ms` bounds the child's run (killed after it).
Result<std::vector<uint8_t>> RunArmNn(const std::string& armnn_run_path,
                                      const std::vector<uint8_t>& model,
                                      const std::vector<uint8_t>& input,
                                      bool all_outputs = false, int timeout_ms = 120000);

}  // namespace unas::testing
