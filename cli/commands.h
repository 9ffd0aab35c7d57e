// The subcommands of `unas`. Each lives in its own file and returns the
// process exit code: 0 success, 1 failure while working, 2 bad usage.
// RunServe, RunWorker and RunTrain are linked into unas-torch only; unas
// reaches them through ExecTorchCommand (cli/torch_commands.h).
#pragma once

#include <string>
#include <vector>

namespace unas::cli {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
};

// Every command, in the order `unas --help` lists them (main.cc).
const std::vector<Command>& Commands();

int RunCost(const std::vector<std::string>& args);
int RunAnalyze(const std::vector<std::string>& args);
int RunSimulate(const std::vector<std::string>& args);
int RunTrain(const std::vector<std::string>& args);
int RunServe(const std::vector<std::string>& args);
int RunWorker(const std::vector<std::string>& args);
int RunSubmit(const std::vector<std::string>& args);
int RunJobs(const std::vector<std::string>& args);
int RunStatus(const std::vector<std::string>& args);
int RunTrials(const std::vector<std::string>& args);
int RunPareto(const std::vector<std::string>& args);
int RunCancel(const std::vector<std::string>& args);
int RunFinalize(const std::vector<std::string>& args);
int RunExport(const std::vector<std::string>& args);
int RunHealth(const std::vector<std::string>& args);
int RunBackup(const std::vector<std::string>& args);
int RunData(const std::vector<std::string>& args);

}  // namespace unas::cli
