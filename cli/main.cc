// unas: find neural networks that fit on microcontrollers. This binary links
// no LibTorch; serve, worker and train run in unas-torch beside it
// (cli/torch_commands.h).
#include <iostream>

#include "cli/commands.h"
#include "cli/torch_commands.h"

namespace unas::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"cost", "exact flash, peak SRAM, MACs and latency of a candidate", RunCost},
      {"analyze", "where a .tflite model's SRAM goes: best order, TFLM arena, partial execution", RunAnalyze},
      {"simulate", "run a search strategy against the synthetic evaluator", RunSimulate},
      {"train", "train a candidate on a data set; validation and test error",
       [](const std::vector<std::string>& a) { return ExecTorchCommand(TrainArgs(), "train", a); }},
      {"serve", "run the coordinator (gRPC API, SQLite store, embedded workers, dashboard)",
       [](const std::vector<std::string>& a) { return ExecTorchCommand(ServeArgs(), "serve", a); }},
      {"worker", "run a training worker that pulls trials from a coordinator",
       [](const std::vector<std::string>& a) { return ExecTorchCommand(WorkerArgs(), "worker", a); }},
      {"submit", "submit a search job (--wait to follow it)", RunSubmit},
      {"jobs", "list jobs (--json)", RunJobs},
      {"status", "show a job (--json)", RunStatus},
      {"trials", "list a job's trials (--json)", RunTrials},
      {"pareto", "print a job's Pareto fronts, final first (--csv, --json)", RunPareto},
      {"cancel", "cancel a job", RunCancel},
      {"finalize", "retrain a job's front from scratch with its final recipe (--epochs)", RunFinalize},
      {"export", "export a trial: architecture, cost report, metrics", RunExport},
      {"health", "check a coordinator: gRPC serving with the token, database writable (--json)", RunHealth},
      {"backup", "copy a coordinator's database while it serves", RunBackup},
      {"data", "registered data sets: add PATH, list, remove NAME (workers fetch them)", RunData},
  };
  return commands;
}

}  // namespace unas::cli

int main(int argc, char** argv) {
  using unas::cli::Commands;
  auto usage = [] {
    std::cout << "usage: unas COMMAND [OPTIONS]\n\ncommands:\n";
    for (const auto& c : Commands()) {
      std::string name = c.name;
      std::cout << "  " << name << std::string(name.size() < 12 ? 12 - name.size() : 1, ' ') << c.summary << "\n";
    }
    std::cout << "\n'unas COMMAND --help' describes a command.\n"
                 "\nenvironment (a flag on the command line wins):\n"
                 "  UNAS_COORDINATOR   the coordinator's gRPC address (--coordinator; default 127.0.0.1:7070)\n"
                 "  UNAS_DATA_DIR      a local coordinator's data directory (--data-dir; default unas-data)\n"
                 "  UNAS_TOKEN         the bearer token (after --token and --token-file; before DATA_DIR/token)\n"
                 "  UNAS_WEB_DIR       the dashboard's files for unas serve (--web-dir)\n";
  };
  if (argc < 2) {
    usage();
    return 2;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    usage();
    return 0;
  }
  if (name == "--version") {
    std::cout << "unas 0.1.0\n";
    return 0;
  }
  for (const auto& c : Commands()) {
    if (name == c.name) return c.run(std::vector<std::string>(argv + 2, argv + argc));
  }
  std::cerr << "unas: unknown command '" << name << "'\n";
  usage();
  return 2;
}
