// Boards: real microcontroller parts, so that a job can say "it must run on
// an STM32F746" instead of repeating its memory sizes and guessing a latency
// profile. A board's SRAM and flash, less a reserve for what the model does
// not own, become hard constraints on the candidate's peak SRAM and flash;
// its core and clock pick the latency profile (costmodel/mcu.h).
//
// The reserve (ModelBudget), per runtime, documented in docs/cost-model.md:
//   SRAM  - 8 KiB for TFLM (tflm, tflm_cmsis_nn: the MicroInterpreter and op
//           resolver objects, ~0.5 KB, the stack during Invoke, 1.3-1.5 KB
//           measured on the five models of ../shared/spec/deployment.md, and
//           the C runtime's and application's own data);
//         - 4 KiB for unas's C runtime (firmware: its stack is under 200 B;
//           the rest is the application's) and for the unas accounting.
//  flash  - 128 KiB for TFLM's code (74-119 KB measured for these models
//           with the default registrations, plus the application);
//         - 16 KiB for unas's C kernels (7 KB measured) and the application.
// The model gets the rest: peak_sram_bytes <= sram_bytes - SRAM reserve and
// flash_bytes <= flash_bytes - flash reserve.
//
// Thread safety: the table is immutable; functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "costmodel/cost_model.h"
#include "costmodel/mcu.h"

namespace unas {

struct Board {
  std::string name;         // "stm32f746"
  std::string description;  // "STMicroelectronics STM32F746 ..."
  std::string core;         // "cortex-m7", "cortex-m4", "cortex-m0plus"
  bool dsp = false;         // has the Armv7E-M DSP extension (SMLAD, ...)
  double clock_hz = 0;
  int64_t sram_bytes = 0;
  int64_t flash_bytes = 0;
};

// The built-in parts (unas cost --list-boards).
const std::vector<Board>& Boards();
// By name; the error lists the known names.
Result<const Board*> FindBoard(const std::string& name);

// The cores a board may name, and whether they have the DSP extension.
const std::vector<std::string>& KnownCores();
bool CoreHasDsp(const std::string& core);

// Checks a board made by hand (a job's custom board): a known core, a clock
// in (0, 2 GHz], SRAM and flash larger than the accounting's reserve. Errors
// name the field.
Status ValidateBoard(const Board& board);

struct ModelBudget {
  int64_t sram_bytes = 0;   // what the model's peak SRAM (in `accounting`) may use
  int64_t flash_bytes = 0;  // what the model's weights may use
  int64_t sram_reserve_bytes = 0, flash_reserve_bytes = 0;
};
// The board's memory less the reserve of the runtime `accounting` stands
// for (above). Fails (kOutOfRange) when the board is smaller than the reserve.
Result<ModelBudget> BoardBudget(const Board& board, Accounting accounting);

// The latency profile of `accounting`'s runtime on the board's core at the
// board's clock: tflm_cmsis_nn (and tflm) -> "tflm-cmsis-nn-<core>";
// firmware and unas -> unas's C on that core ("unas-c-<core>-..."). Fails
// (kNotFound) when no profile exists for the pair.
Result<const McuProfile*> BoardProfile(const Board& board, Accounting accounting);

}  // namespace unas
