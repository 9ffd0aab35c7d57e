#include "tests/firmware/c_build.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace unas::firmware::testing {

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

Status BuildHost(const std::string& dir, int shrink_bytes, const std::string& defines) {
  const std::string cmd = "gcc -std=c99 -pedantic-errors -Wall -Wextra -Werror -O1 -g -fsanitize=address,undefined "
                          "-fno-sanitize-recover=all -fno-omit-frame-pointer " + defines + " -DUNAS_TEST_SHRINK=" +
                          std::to_string(shrink_bytes) + " -I" + dir + "/c " + dir + "/c/model.c " + dir +
                          "/c/unas_kernels.c " UNAS_SOURCE_DIR "/tests/firmware/host_main.c -o " + dir + "/host";
  const CommandResult r = RunCommand(cmd);
  if (r.exit_code != 0) return Status::Internal("host build failed: " + cmd + "\n" + r.output);
  return Status::Ok();
}

Status BuildPixelHost(const std::string& dir) {
  const std::string cmd = "gcc -std=c99 -pedantic-errors -Wall -Wextra -Werror -O1 -g -fsanitize=address,undefined "
                          "-fno-sanitize-recover=all -fno-omit-frame-pointer -I" + dir + "/c " + dir + "/c/model.c " +
                          dir + "/c/unas_kernels.c " UNAS_SOURCE_DIR "/tests/firmware/pixels_main.c -o " + dir +
                          "/pixels_host";
  const CommandResult r = RunCommand(cmd);
  if (r.exit_code != 0) return Status::Internal("pixel host build failed: " + cmd + "\n" + r.output);
  return Status::Ok();
}

Result<PixelRun> RunPixelHost(const std::string& dir, const std::vector<uint8_t>& pixels) {
  UNAS_RETURN_IF_ERROR(WriteBytes(dir + "/pixels.bin", pixels.data(), pixels.size()));
  const CommandResult r = RunCommand("ASAN_OPTIONS=detect_leaks=0 " + dir + "/pixels_host " + dir + "/pixels.bin " +
                                     dir + "/quantised.bin " + dir + "/logits.bin");
  if (r.exit_code != 0) return Status::Internal("pixel host run exited " + std::to_string(r.exit_code) + ":\n" + r.output);
  PixelRun run;
  run.inputs = ReadBytes(dir + "/quantised.bin");
  run.outputs = ReadBytes(dir + "/logits.bin");
  return run;
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

Status WriteTestInputs(const std::string& dir, const std::vector<int8_t>& inputs, int64_t input_bytes) {
  const size_t count = inputs.size() / static_cast<size_t>(input_bytes);
  std::ostringstream s;
  s << "#define UNAS_TEST_INPUTS " << count << "\nstatic const int8_t unas_test_inputs[" << count
    << "][UNAS_MODEL_INPUT_BYTES] = {\n";
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (i % static_cast<size_t>(input_bytes) == 0) s << (i ? "},\n" : "") << "{";
    s << static_cast<int>(inputs[i]) << ",";
  }
  s << "}};\n";
  const std::string text = s.str();
  return WriteBytes(dir + "/c/test_inputs.h", text.data(), text.size());
}

Status LinkForQemu(const std::string& dir, const std::string& cpu, const std::vector<std::string>& objects) {
  std::string link = "arm-none-eabi-gcc -mcpu=" + cpu + " -mthumb --specs=rdimon.specs -nostartfiles -T " +
                     UNAS_SOURCE_DIR "/firmware/arm/mps2.ld -Wl,--gc-sections -o " + dir + "/prog.elf";
  for (const std::string& object : objects) link += " " + object;
  const CommandResult linked = RunCommand(link);
  if (linked.exit_code != 0) return Status::Internal("link:\n" + linked.output);
  return Status::Ok();
}

Result<std::string> RunOnQemu(const std::string& dir, const std::string& board, int timeout_seconds) {
  const CommandResult q = RunCommand("timeout " + std::to_string(timeout_seconds) + " qemu-system-arm -M " + board +
                                     " -nographic -semihosting -icount shift=0 -kernel " + dir + "/prog.elf");
  if (q.exit_code != 0) return Status::Internal("qemu exited " + std::to_string(q.exit_code) + ":\n" + q.output);
  return q.output;
}

Result<int64_t> ObjectFlashBytes(const std::string& object) {
  const CommandResult r = RunCommand("arm-none-eabi-size -B " + object);
  std::istringstream lines(r.output);
  std::string header;
  int64_t text = 0, data = 0;
  if (r.exit_code != 0 || !std::getline(lines, header) || !(lines >> text >> data)) {
    return Status::Internal("arm-none-eabi-size " + object + ": " + r.output);
  }
  return text + data;
}

Result<ArmRun> RunOnArm(const std::string& dir, const ArmTarget& target, int inputs, int64_t output_bytes) {
  const std::string& cpu = target.cpu;
  const std::string cc = "arm-none-eabi-gcc -std=c99 -pedantic-errors -Wall -Wextra -Werror -mcpu=" + cpu +
                         " -mthumb " + target.opt + " -ffunction-sections -fdata-sections " +
                         (target.profile ? "-DUNAS_PROFILE " : "") + target.defines + " -I" + dir + "/c ";
  const std::string arm = UNAS_SOURCE_DIR "/firmware/arm/";
  const std::string objects[][2] = {{dir + "/c/model.c", dir + "/model.o"},
                                    {dir + "/c/unas_kernels.c", dir + "/unas_kernels.o"},
                                    {UNAS_SOURCE_DIR "/tests/firmware/arm_main.c", dir + "/arm_main.o"},
                                    {arm + "startup.c", dir + "/startup.o"}};
  std::vector<std::string> linked;
  for (const auto& [source, object] : objects) {
    const CommandResult r = RunCommand(cc + "-c " + source + " -o " + object);
    if (r.exit_code != 0) return Status::Internal("cross compile " + source + ":\n" + r.output);
    linked.push_back(object);
  }
  UNAS_RETURN_IF_ERROR(LinkForQemu(dir, cpu, linked));
  ArmRun run;
  UNAS_ASSIGN_OR_RETURN(run.model_flash_bytes, ObjectFlashBytes(dir + "/model.o"));
  UNAS_ASSIGN_OR_RETURN(run.kernels_flash_bytes, ObjectFlashBytes(dir + "/unas_kernels.o"));
  const CommandResult nm = RunCommand("arm-none-eabi-nm -S " + dir + "/prog.elf");
  std::istringstream symbols(nm.output);
  for (std::string line; std::getline(symbols, line);) {
    std::istringstream fields(line);
    std::string address, size, type, name;
    if (fields >> address >> size >> type >> name && name == "arena") run.arena_symbol_bytes = std::stoll(size, nullptr, 16);
  }
  UNAS_ASSIGN_OR_RETURN(const std::string output, RunOnQemu(dir, target.board, 120));
  const DriverLines printed(output);
  for (const auto& row : printed.Rows("output")) {
    std::vector<int8_t> out;
    for (int64_t v : row) out.push_back(static_cast<int8_t>(v));
    run.outputs.push_back(out);
  }
  for (const auto& row : printed.Rows("ticks")) run.instructions.push_back(Column(row, 0) * 40);
  for (const auto& row : printed.Rows("step")) run.step_instructions.push_back(Column(row, 0) * 40);
  run.stack_bytes = printed.Value("stack_bytes");
  const int64_t calibration = printed.Value("calibration_ticks_per_2M_instructions");
  // spin(1000000) is 2,000,000 loop instructions plus a few of call and timing.
  if (calibration < 50000 || calibration > 50002) {
    return Status::Internal("SysTick is not counting 40 instructions per tick (calibration " +
                            std::to_string(calibration) + " ticks):\n" + output);
  }
  if (static_cast<int>(run.outputs.size()) != inputs || static_cast<int>(run.instructions.size()) != inputs) {
    return Status::Internal("qemu run reported " + std::to_string(run.outputs.size()) + " outputs:\n" + output);
  }
  for (const auto& out : run.outputs) {
    if (static_cast<int64_t>(out.size()) != output_bytes) return Status::Internal("short output line:\n" + output);
  }
  return run;
}

DriverLines::DriverLines(const std::string& output) {
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream f(line);
    std::string key, index;
    if (!(f >> key)) continue;
    if (key.back() == ':') {
      int64_t v = 0;
      if (f >> v) values_[key.substr(0, key.size() - 1)] = v;
      continue;
    }
    if (!(f >> index) || index.back() != ':') continue;
    std::vector<int64_t> row;
    for (int64_t v; f >> v;) row.push_back(v);
    rows_[key].push_back(std::move(row));
  }
}

const std::vector<std::vector<int64_t>>& DriverLines::Rows(const std::string& key) const {
  static const std::vector<std::vector<int64_t>> kNone;
  const auto it = rows_.find(key);
  return it == rows_.end() ? kNone : it->second;
}

int64_t DriverLines::Value(const std::string& key, int64_t absent) const {
  const auto it = values_.find(key);
  return it == values_.end() ? absent : it->second;
}

bool HaveArmTools() {
  return RunCommand("command -v arm-none-eabi-gcc && command -v qemu-system-arm").exit_code == 0;
}

}  // namespace unas::firmware::testing
