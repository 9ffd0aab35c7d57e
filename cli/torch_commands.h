// The three commands that need LibTorch (serve, worker, train) run in a
// second binary, unas-torch, installed beside unas: LibTorch and its 300
// shared libraries take over a second to load, and the client commands need
// none of them (docs/architecture.md, "Two binaries"). Users still type
// `unas serve`: unas parses the command's flags, so --help and usage errors
// answer at once, then replaces itself with unas-torch and the same
// arguments. Both binaries declare these commands' flags with the functions
// below, so the two parses cannot disagree.
#pragma once

#include <string>
#include <vector>

#include "cli/args.h"

namespace unas::cli {

// Each command's flags, usage and description, as its --help shows them.
Args ServeArgs();
Args WorkerArgs();
Args TrainArgs();

// In unas: parses `argv` with `args` (--help prints it and returns 0, bad
// usage prints why and returns 2), then execs unas-torch from this binary's
// own directory with `command` and `argv`. The process keeps its id, so
// signals (Ctrl-C, a container's SIGTERM, a test's kill) reach the command.
// Returns only when it cannot exec: 1, with a message naming the path tried.
int ExecTorchCommand(Args args, const std::string& command, const std::vector<std::string>& argv);

// The path of unas-torch beside the running binary (/proc/self/exe's
// directory); kNotFound when /proc/self/exe cannot be read.
Result<std::string> TorchBinaryPath();

}  // namespace unas::cli
