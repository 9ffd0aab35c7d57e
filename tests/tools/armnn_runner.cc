#include "tests/tools/armnn_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

namespace unas::testing {
namespace {

// A fresh directory removed with its files when the object goes away.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/unas_armnn_XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) != nullptr) path_ = buf.data();
  }
  ~TempDir() {
    if (path_.empty()) return;
    for (const char* name : {"model.tflite", "input.bin", "output.bin", "stderr.txt"}) {
      unlink((path_ + "/" + name).c_str());
    }
    rmdir(path_.c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  bool ok() const { return !path_.empty(); }
  std::string File(const char* name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

bool WriteFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out.flush());
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace

Result<std::vector<uint8_t>> RunArmNn(const std::string& armnn_run_path,
                                      const std::vector<uint8_t>& model,
                                      const std::vector<uint8_t>& input, bool all_outputs,
                                      int timeout_ms) {
  TempDir dir;
  if (!dir.ok()) return Status::Internal(std::string("armnn: cannot make a temp dir: ") + std::strerror(errno));
  const std::string model_path = dir.File("model.tflite");
  const std::string input_path = dir.File("input.bin");
  const std::string output_path = dir.File("output.bin");
  const std::string stderr_path = dir.File("stderr.txt");
  if (!WriteFile(model_path, model) || !WriteFile(input_path, input)) {
    return Status::Internal("armnn: cannot write the model or input to " + model_path);
  }

  std::vector<std::string> args = {armnn_run_path};
  if (all_outputs) args.push_back("--all-outputs");
  args.insert(args.end(), {model_path, input_path, output_path});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) return Status::Internal(std::string("armnn: fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    const int fd = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 2);
      dup2(fd, 1);  // Arm NN prints some warnings to stdout
      close(fd);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }

  int status = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool exited = false;
  while (std::chrono::steady_clock::now() < until) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      exited = true;
      break;
    }
    if (r < 0 && errno != EINTR) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return Status::Internal("armnn: armnn_run did not finish within " + std::to_string(timeout_ms) + " ms");
  }
  const std::string messages = ReadText(stderr_path);
  if (WIFSIGNALED(status)) {
    return Status(StatusCode::kFailedPrecondition,
                  "armnn: Arm NN aborted on the model (signal " + std::to_string(WTERMSIG(status)) +
                      ")" + (messages.empty() ? "" : ": " + messages));
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 3) return Status(StatusCode::kFailedPrecondition, "armnn: " + messages);
  if (code == 2) return Status::Invalid("armnn: " + messages);
  if (code == 127) return Status::Internal("armnn: cannot execute " + armnn_run_path);
  if (code != 0) return Status::Internal("armnn: armnn_run exited " + std::to_string(code) + ": " + messages);

  std::ifstream out(output_path, std::ios::binary);
  if (!out) return Status::Internal("armnn: armnn_run wrote no output file");
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
}

}  // namespace unas::testing
