// Running the `unas` binary from a test through the shell, as a user does:
// its exit code and everything it printed, and its JSON output.
//
// Thread safety: none needed (tests run commands one at a time).
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace unas::testing {

// The environment of the test binary never leaks into what it checks: the
// variables `unas` reads are unset before any test runs.
[[maybe_unused]] inline const bool kUnasEnvironmentCleared = [] {
  for (const char* var : {"UNAS_COORDINATOR", "UNAS_DATA_DIR", "UNAS_TOKEN", "UNAS_WEB_DIR"}) unsetenv(var);
  return true;
}();

struct CliRun {
  int exit_code;    // -1 when the command did not exit normally
  std::string out;  // what the command wrote (stdout, and stderr where `command` redirects it)
};

// Runs shell command `command` to its end.
inline CliRun RunCommand(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed: " + command};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// The JSON a successful run printed. A failed run or output that is not JSON
// fails the test and gives an empty object (so the checks that follow fail
// with the field they expected). Hold it non-const: operator[] on a missing
// key then reads null rather than being undefined behaviour.
inline nlohmann::json JsonOutput(const CliRun& r) {
  EXPECT_EQ(r.exit_code, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    ADD_FAILURE() << "not JSON: " << r.out;
    return nlohmann::json::object();
  }
  return j;
}

}  // namespace unas::testing
