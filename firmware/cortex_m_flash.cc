#include "firmware/cortex_m_flash.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace unas::firmware {
namespace {

// A directory made by mkdtemp under $TMPDIR (/tmp when unset), removed with
// everything in it when this goes away.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
    if (pattern.back() != '/') pattern += '/';
    pattern += "unas-c-flash-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
    else error_ = pattern + ": " + std::strerror(errno);
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  Status status() const { return path_.empty() ? Status::Internal("temporary directory " + error_) : Status::Ok(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_, error_;
};

std::string Joined(const std::vector<std::string>& argv) {
  std::string s;
  for (const std::string& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

// Runs argv (looked up on PATH) with stdin from /dev/null and stdout and
// stderr into `log`; returns what it printed when it exits 0 and adds its
// CPU seconds to *cpu_seconds. kNotFound when argv[0] is not on PATH.
Result<std::string> Run(const std::vector<std::string>& argv, const std::string& log, double* cpu_seconds) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&files, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&files, 1, 2);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, args[0], &files, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  if (spawned == ENOENT) return Status(StatusCode::kNotFound, argv[0] + " not found");
  if (spawned != 0) return Status::Internal(argv[0] + ": cannot start: " + std::strerror(spawned));
  // Polled, so a tool that hangs is killed after 10 minutes (5 ms a poll).
  int status = 0;
  rusage usage{};
  bool exited = false;
  for (int polls = 0; polls < 120000 && !exited; ++polls) {
    const pid_t done = wait4(pid, &status, WNOHANG, &usage);
    exited = done == pid || (done < 0 && errno != EINTR);
    if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!exited) {
    kill(pid, SIGKILL);
    wait4(pid, &status, 0, &usage);
    return Status::Internal(Joined(argv) + ": killed after 10 minutes");
  }
  *cpu_seconds += usage.ru_utime.tv_sec + usage.ru_utime.tv_usec * 1e-6 + usage.ru_stime.tv_sec +
                  usage.ru_stime.tv_usec * 1e-6;
  std::ifstream in(log);
  std::stringstream printed;
  printed << in.rdbuf();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::Internal(Joined(argv) + " failed:\n" + printed.str().substr(0, 4000));
  }
  return printed.str();
}

// Compiles DIR/NAME.c to DIR/NAME.o with kCortexM4FlashFlags and returns the
// object's text + data (arm-none-eabi-size's Berkeley format: text counts
// code and read-only data, data the initialised writable data).
Result<int64_t> CompileAndSize(const std::string& dir, const std::string& name, double* cpu_seconds) {
  std::vector<std::string> cc = {"arm-none-eabi-gcc"};
  std::istringstream flags(kCortexM4FlashFlags);
  for (std::string f; flags >> f;) cc.push_back(f);
  const std::string base = dir + "/" + name, object = base + ".o";
  for (const std::string& a : {std::string("-c"), base + ".c", std::string("-o"), object}) cc.push_back(a);
  UNAS_RETURN_IF_ERROR(Run(cc, base + ".log", cpu_seconds).status());
  UNAS_ASSIGN_OR_RETURN(const std::string table, Run({"arm-none-eabi-size", "-B", object}, base + ".size", cpu_seconds));
  std::istringstream lines(table);
  std::string header;
  int64_t text = 0, data = 0;
  if (!std::getline(lines, header) || !(lines >> text >> data) || text < 0 || data < 0) {
    return Status::Internal("arm-none-eabi-size -B " + object + ": unexpected output: " + table.substr(0, 400));
  }
  return text + data;
}

// The sizes of the objects that are the same for every model (the kernels,
// the front end), by file name: compiled once per process.
std::mutex shared_mu;
std::map<std::string, int64_t> shared_bytes;  // guarded by shared_mu

Result<int64_t> SharedObjectBytes(const std::string& dir, const std::string& name, double* cpu_seconds) {
  std::lock_guard<std::mutex> lock(shared_mu);
  if (auto it = shared_bytes.find(name); it != shared_bytes.end()) return it->second;
  UNAS_ASSIGN_OR_RETURN(int64_t bytes, CompileAndSize(dir, name, cpu_seconds));
  shared_bytes[name] = bytes;
  return bytes;
}

}  // namespace

Result<CLibraryFlash> MeasureCortexM4Flash(const CLibrary& library) {
  ScratchDir scratch;
  UNAS_RETURN_IF_ERROR(scratch.status());
  UNAS_RETURN_IF_ERROR(WriteCLibrary(scratch.path(), library));
  const std::string c_dir = scratch.path() + "/c";  // where WriteCLibrary puts the sources
  CLibraryFlash flash;
  // The kernels first: a missing compiler shows before anything else runs.
  UNAS_ASSIGN_OR_RETURN(flash.kernels_bytes, SharedObjectBytes(c_dir, "unas_kernels", &flash.cpu_seconds));
  if (library.has_frontend) {
    UNAS_ASSIGN_OR_RETURN(flash.frontend_bytes, SharedObjectBytes(c_dir, "frontend", &flash.cpu_seconds));
  }
  UNAS_ASSIGN_OR_RETURN(flash.model_bytes, CompileAndSize(c_dir, "model", &flash.cpu_seconds));
  return flash;
}

}  // namespace unas::firmware
