// unas-torch: the commands that link LibTorch (serve, worker, train). Users
// type `unas serve`; unas parses the flags and execs this binary with the
// same arguments (cli/torch_commands.h).
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"

int main(int argc, char** argv) {
  using namespace unas::cli;
  const std::string name = argc >= 2 ? argv[1] : "";
  const std::vector<std::string> args(argv + std::min(argc, 2), argv + argc);
  if (name == "serve") return RunServe(args);
  if (name == "worker") return RunWorker(args);
  if (name == "train") return RunTrain(args);
  if (name == "--version") {
    std::cout << "unas-torch 0.1.0\n";
    return 0;
  }
  std::cerr << "unas-torch: runs unas's serve, worker and train commands: type 'unas serve', 'unas worker' or "
               "'unas train' ('unas --help' lists every command)\n";
  return 2;
}
