// The flash a generated C library takes on a Cortex-M4, measured, never
// estimated: its sources compiled with arm-none-eabi-gcc and the flags the
// README's "Put it on a board" uses (kCortexM4FlashFlags), and text + data of
// each object as `arm-none-eabi-size -B` reports them. Objects before
// linking: --gc-sections at link time can only drop code, and the board's
// startup code, libc and the caller's main are not counted.
//
// The objects: model.o (weights, biases, requantisation constants, the
// schedule's code and its shape-specialised kernel bodies), unas_kernels.o
// and, for a keyword model, frontend.o. The kernels and the front end are the
// same for every model this process generates, so each is compiled once per
// process and its size reused; model.o is compiled every call.
//
// Thread safety: safe to call from several threads (the reused sizes are
// guarded by one mutex; each call compiles in its own temporary directory,
// under $TMPDIR or /tmp, removed on every path).
#pragma once

#include <cstdint>

#include "base/status.h"
#include "firmware/generator.h"

namespace unas::firmware {

// The flags every object is compiled with (the README's, Cortex-M4, -O2).
inline constexpr const char* kCortexM4FlashFlags =
    "-std=c99 -mcpu=cortex-m4 -mthumb -O2 -ffunction-sections -fdata-sections";

struct CLibraryFlash {
  int64_t model_bytes = 0;     // model.o, text + data
  int64_t kernels_bytes = 0;   // unas_kernels.o, text + data
  int64_t frontend_bytes = 0;  // frontend.o (keyword models), text + data; 0 otherwise
  // CPU seconds (user + sys) of the compiler and size processes this call
  // ran: the measurement's own cost (0 for the objects it reused).
  double cpu_seconds = 0;
  int64_t total_bytes() const { return model_bytes + kernels_bytes + frontend_bytes; }
};

// Compiles `library`'s sources and sizes the objects. Errors: kNotFound
// "arm-none-eabi-gcc not found" (or arm-none-eabi-size) when the tool is not
// on PATH; kInternal with the command and its output when a tool fails, and
// when it runs for more than 10 minutes (it is killed).
Result<CLibraryFlash> MeasureCortexM4Flash(const CLibrary& library);

}  // namespace unas::firmware
