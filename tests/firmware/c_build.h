// Test-only: building and running generated C libraries, on the host under
// AddressSanitizer and on emulated Cortex-M boards. Every temporary file
// lives in a TempDir that is removed when it goes out of scope.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "tests/temp_dir.h"

namespace unas::firmware::testing {

// The suite's one temporary directory class (tests/temp_dir.h).
using TempDir = unas::testing::TempDir;

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
CommandResult RunCommand(const std::string& command);

Status WriteBytes(const std::string& path, const void* data, size_t size);
std::vector<int8_t> ReadBytes(const std::string& path);

// gcc -std=c99 -Wall -Wextra -Werror with ASan and UBSan: DIR/c plus
// tests/firmware/host_main.c into DIR/host (arena shrunk by `shrink_bytes`).
// `defines` are extra compiler flags, e.g. "-DUNAS_DSP_EMULATE" for the
// kernels' DSP path with the instructions emulated in C. The error carries
// the compiler's output.
Status BuildHost(const std::string& dir, int shrink_bytes = 0, const std::string& defines = "");

// As BuildHost, with tests/firmware/pixels_main.c into DIR/pixels_host: raw
// 8-bit pixels through unas_model_quantize_pixels, then unas_model_invoke.
Status BuildPixelHost(const std::string& dir);
struct PixelRun {
  std::vector<int8_t> inputs;   // what unas_model_quantize_pixels made, by record
  std::vector<int8_t> outputs;  // the logits, by record
};
Result<PixelRun> RunPixelHost(const std::string& dir, const std::vector<uint8_t>& pixels);

// Runs DIR/host over the concatenated inputs; fails with the program's
// output (e.g. AddressSanitizer's report) when it exits non-zero.
Result<std::vector<int8_t>> RunHost(const std::string& dir, const std::vector<int8_t>& inputs);

// What a C test driver printed (tests/firmware/test_main.h): rows
// "KEY INDEX: v0 v1 ..." in the order printed, and values "KEY: v". Other
// lines (a driver's error message) are not read.
class DriverLines {
 public:
  explicit DriverLines(const std::string& output);
  // The rows printed under `key`; none when there are none.
  const std::vector<std::vector<int64_t>>& Rows(const std::string& key) const;
  // The value printed as "`key`: v"; `absent` when there is none.
  int64_t Value(const std::string& key, int64_t absent = 0) const;

 private:
  std::map<std::string, std::vector<std::vector<int64_t>>> rows_;
  std::map<std::string, int64_t> values_;
};
// Value k of `row`, 0 when the row is shorter.
inline int64_t Column(const std::vector<int64_t>& row, size_t k) { return k < row.size() ? row[k] : 0; }

// Links Cortex-M `cpu` objects (firmware/arm/startup.c's among them) with
// firmware/arm/mps2.ld and newlib's semihosting into DIR/prog.elf;
// kInternal with the linker's output when it fails.
Status LinkForQemu(const std::string& dir, const std::string& cpu, const std::vector<std::string>& objects);

// Runs DIR/prog.elf on QEMU board `board` with -icount shift=0 (SysTick
// then counts 40 instructions per tick), for at most `timeout_seconds`:
// what it printed, or kInternal with the exit code and the output.
Result<std::string> RunOnQemu(const std::string& dir, const std::string& board, int timeout_seconds);

// text + data of one Cortex-M object file (what it puts in flash), from
// arm-none-eabi-size's Berkeley format; kInternal with the tool's output
// when it cannot be read.
Result<int64_t> ObjectFlashBytes(const std::string& object);

// Writes DIR/c/test_inputs.h: the inputs as a C array for arm_main.c.
Status WriteTestInputs(const std::string& dir, const std::vector<int8_t>& inputs, int64_t input_bytes);

struct ArmRun {
  std::vector<std::vector<int8_t>> outputs;  // by input
  std::vector<int64_t> instructions;         // by input: executed instructions of the invoke
  int64_t stack_bytes = 0;        // high-water mark of the stack below main's frame
  int64_t model_flash_bytes = 0;  // model.o: weights, parameters and schedule (.text + .rodata + .data)
  int64_t kernels_flash_bytes = 0;  // unas_kernels.o
  int64_t arena_symbol_bytes = 0;   // size of the `arena` array in the ELF (nm -S)
  std::vector<int64_t> step_instructions;  // profile builds: by step of model.c, first input
};

// A Cortex-M build and the QEMU board that runs it.
struct ArmTarget {
  std::string cpu = "cortex-m4";     // -mcpu
  std::string board = "mps2-an386";  // qemu-system-arm -M
  std::string opt = "-Os";           // optimisation flag
  std::string defines;               // extra flags, e.g. "-DUNAS_PORTABLE"
  bool profile = false;              // -DUNAS_PROFILE: time every step
};
constexpr const char* kCortexM4Board = "mps2-an386";
constexpr const char* kCortexM7Board = "mps2-an500";
// The M3 board also runs ARMv6-M (Cortex-M0+) code: QEMU has no M0+ board,
// and Thumb-1 is a subset of the M3's instruction set.
constexpr const char* kCortexM3Board = "mps2-an385";

// Cross-compiles DIR/c with arm-none-eabi-gcc -mcpu=CPU -mthumb OPT, the
// startup file and linker script of firmware/arm/ and arm_main.c, runs it
// on the target's board (qemu-system-arm -M board -icount shift=0
// -semihosting) and parses its report. Instructions = SysTick ticks x 40:
// with shift=0 one instruction takes 1 ns of virtual time and SysTick counts
// the boards' 25 MHz clock; the report's calibration loop checks that
// factor. With `profile`, model.c and the driver are built with
// -DUNAS_PROFILE and every step is timed (the hook adds a few dozen
// instructions per step).
Result<ArmRun> RunOnArm(const std::string& dir, const ArmTarget& target, int inputs, int64_t output_bytes);

// True when arm-none-eabi-gcc and qemu-system-arm are on the PATH.
bool HaveArmTools();

}  // namespace unas::firmware::testing
