// The subcommands of the `unas` binary. Each lives in its own file and returns
// the process exit code: 0 success, 1 failure while working, 2 bad usage.
#pragma once

#include <string>
#include <vector>

namespace unas::cli {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
};

const std::vector<Command>& Commands();

int RunCost(const std::vector<std::string>& args);
int RunTrain(const std::vector<std::string>& args);

}  // namespace unas::cli
