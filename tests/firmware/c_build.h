// Test-only: building and running generated C libraries, on the host under
// AddressSanitizer and on emulated Cortex-M boards. Every temporary file
// lives in a TempDir that is removed when it goes out of scope.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "costmodel/status.h"

namespace unas::firmware::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
CommandResult RunCommand(const std::string& command);

Status WriteBytes(const std::string& path, const void* data, size_t size);
std::vector<int8_t> ReadBytes(const std::string& path);

// gcc -std=c99 -Wall -Wextra -Werror with ASan and UBSan: DIR/c plus
// tests/firmware/host_main.c into DIR/host (arena shrunk by `shrink_bytes`).
// The error carries the compiler's output.
Status BuildHost(const std::string& dir, int shrink_bytes = 0);

// Runs DIR/host over the concatenated inputs; fails with the program's
// output (e.g. AddressSanitizer's report) when it exits non-zero.
Result<std::vector<int8_t>> RunHost(const std::string& dir, const std::vector<int8_t>& inputs);

// True when arm-none-eabi-gcc and qemu-system-arm are on the PATH.
bool HaveArmTools();

}  // namespace unas::firmware::testing
