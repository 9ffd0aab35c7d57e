#include "tests/firmware/c_build.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace unas::firmware::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "unas_firmware_XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

CommandResult RunCommand(const std::string& command) {
  CommandResult r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return r;
}

Status WriteBytes(const std::string& path, const void* data, size_t size) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  f.close();
  return f ? Status::Ok() : Status::Invalid(path + ": cannot write");
}

std::vector<int8_t> ReadBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<char> v((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return std::vector<int8_t>(v.begin(), v.end());
}

Status BuildHost(const std::string& dir, int shrink_bytes) {
  const std::string cmd = "gcc -std=c99 -Wall -Wextra -Werror -O1 -g -fsanitize=address,undefined "
                          "-fno-sanitize-recover=all -fno-omit-frame-pointer -DUNAS_TEST_SHRINK=" +
                          std::to_string(shrink_bytes) + " -I" + dir + "/c " + dir + "/c/model.c " + dir +
                          "/c/unas_kernels.c " UNAS_SOURCE_DIR "/tests/firmware/host_main.c -o " + dir + "/host";
  const CommandResult r = RunCommand(cmd);
  if (r.exit_code != 0) return Status::Internal("host build failed: " + cmd + "\n" + r.output);
  return Status::Ok();
}

Result<std::vector<int8_t>> RunHost(const std::string& dir, const std::vector<int8_t>& inputs) {
  UNAS_RETURN_IF_ERROR(WriteBytes(dir + "/inputs.bin", inputs.data(), inputs.size()));
  const CommandResult r =
      RunCommand("ASAN_OPTIONS=detect_leaks=0 " + dir + "/host " + dir + "/inputs.bin " + dir + "/outputs.bin");
  if (r.exit_code != 0) {
    return Status::Internal("host run exited " + std::to_string(r.exit_code) + ":\n" + r.output);
  }
  return ReadBytes(dir + "/outputs.bin");
}

bool HaveArmTools() {
  return RunCommand("command -v arm-none-eabi-gcc && command -v qemu-system-arm").exit_code == 0;
}

}  // namespace unas::firmware::testing
