#include "costmodel/boards.h"

#include <algorithm>

#include "costmodel/byte_units.h"

namespace unas {
namespace {

constexpr int64_t kKiB = 1024;

// The reserves of boards.h, by runtime.
struct Reserve {
  int64_t sram_bytes, flash_bytes;
};
Reserve ReserveFor(Accounting accounting) {
  if (IsTflm(accounting)) return {8 * kKiB, 128 * kKiB};
  return {4 * kKiB, 16 * kKiB};
}

}  // namespace

const std::vector<Board>& Boards() {
  // Datasheet figures: SRAM is all on-chip SRAM the application can use
  // (STM32F746: 320 KB incl. 64 KB DTCM; STM32L4R5: 640 KB; nRF52840: 256
  // KB; RP2040: 264 KB in six banks); flash is on-chip, except the RP2040's,
  // which is the external QSPI flash of the Raspberry Pi Pico (2 MB).
  static const std::vector<Board> boards = {
      {"stm32f746", "STMicroelectronics STM32F746 (Cortex-M7, 216 MHz, 320 KiB SRAM, 1 MiB flash)", "cortex-m7",
       true, 216e6, 320 * kKiB, 1024 * kKiB},
      {"stm32l4r5", "STMicroelectronics STM32L4R5 (Cortex-M4F, 120 MHz, 640 KiB SRAM, 2 MiB flash)", "cortex-m4",
       true, 120e6, 640 * kKiB, 2048 * kKiB},
      {"nrf52840", "Nordic nRF52840 (Cortex-M4F, 64 MHz, 256 KiB SRAM, 1 MiB flash)", "cortex-m4", true, 64e6,
       256 * kKiB, 1024 * kKiB},
      {"rp2040", "Raspberry Pi RP2040 (dual Cortex-M0+, one used, 133 MHz, 264 KiB SRAM, 2 MiB external flash, "
                 "no DSP extension)",
       "cortex-m0plus", false, 133e6, 264 * kKiB, 2048 * kKiB},
  };
  return boards;
}

Result<const Board*> FindBoard(const std::string& name) {
  std::string known;
  for (const Board& b : Boards()) {
    if (b.name == name) return &b;
    known += (known.empty() ? "" : ", ") + b.name;
  }
  return Status::NotFound("unknown board '" + name + "' (known: " + known + ")");
}

const std::vector<std::string>& KnownCores() {
  static const std::vector<std::string> cores = {"cortex-m0plus", "cortex-m4", "cortex-m7"};
  return cores;
}

bool CoreHasDsp(const std::string& core) { return core == "cortex-m4" || core == "cortex-m7"; }

Status ValidateBoard(const Board& board) {
  if (std::find(KnownCores().begin(), KnownCores().end(), board.core) == KnownCores().end()) {
    std::string known;
    for (const std::string& c : KnownCores()) known += (known.empty() ? "" : ", ") + c;
    return Status::Invalid("core: '" + board.core + "' is not a known core (known: " + known + ")");
  }
  if (!(board.clock_hz > 0 && board.clock_hz <= 2e9)) return Status::OutOfRange("clock_mhz: must be in (0, 2000]");
  if (board.sram_bytes <= 0) return Status::OutOfRange("sram: must be positive");
  if (board.flash_bytes <= 0) return Status::OutOfRange("flash: must be positive");
  return Status::Ok();
}

Result<ModelBudget> BoardBudget(const Board& board, Accounting accounting) {
  const Reserve r = ReserveFor(accounting);
  ModelBudget b;
  b.sram_reserve_bytes = r.sram_bytes;
  b.flash_reserve_bytes = r.flash_bytes;
  b.sram_bytes = board.sram_bytes - r.sram_bytes;
  b.flash_bytes = board.flash_bytes - r.flash_bytes;
  if (b.sram_bytes <= 0 || b.flash_bytes <= 0) {
    return Status::OutOfRange("board '" + board.name + "' (" + FormatByteSize(board.sram_bytes) + " SRAM, " +
                              FormatByteSize(board.flash_bytes) + " flash) is smaller than the " +
                              AccountingName(accounting) + " runtime's reserve (" + FormatByteSize(r.sram_bytes) +
                              " SRAM, " + FormatByteSize(r.flash_bytes) + " flash)");
  }
  return b;
}

Result<const McuProfile*> BoardProfile(const Board& board, Accounting accounting) {
  const std::string prefix = IsTflm(accounting) ? "tflm-cmsis-nn-" + board.core : "unas-c-" + board.core;
  for (const McuProfile& p : McuProfiles()) {
    if (p.name == prefix || p.name.rfind(prefix + "-", 0) == 0) return McuAtClock(p, board.clock_hz);
  }
  return Status::NotFound("no latency profile for " + std::string(AccountingName(accounting)) + " on " + board.core +
                          " (board '" + board.name + "'): name an MCU profile with \"mcu\"");
}

}  // namespace unas
