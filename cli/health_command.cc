// unas health: checks that a coordinator does what its probes claim, for
// container exec probes and operators. Each check prints one line; the exit
// code is 0 only if every check passed.
#include <sys/stat.h>

#include <iostream>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/connection.h"
#include "server/store/store.h"

namespace unas::cli {
namespace {

void Report(bool ok, const std::string& check, const std::string& detail) {
  std::cout << (ok ? "ok   " : "FAIL ") << check << ": " << detail << std::endl;
}

// gRPC serving and the token accepted: the cheapest authenticated call.
bool CheckGrpc(const Args& args, int deadline_ms) {
  const std::string what = "grpc " + args.Get("coordinator");
  auto client = ConnectFromFlags(args, deadline_ms);
  if (!client.ok()) {
    Report(false, what, client.status().message());
    return false;
  }
  auto jobs = (*client)->ListJobs();
  if (!jobs.ok()) {
    Report(false, what, jobs.status().message());
    return false;
  }
  Report(true, what, "serving, token accepted (" + std::to_string(jobs->size()) + " jobs)");
  return true;
}

// The database in the data directory accepts writes. An existing file only:
// a health check must not create an empty database where none was.
bool CheckDatabase(const std::string& data_dir) {
  const std::string path = data_dir + "/unas.db";
  const std::string what = "database " + path;
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    Report(false, what, "no such file");
    return false;
  }
  auto store = server::Store::Open(path);
  Status s = store.ok() ? (*store)->CheckWritable() : store.status();
  Report(s.ok(), what, s.ok() ? "writable" : s.message());
  return s.ok();
}

}  // namespace

int RunHealth(const std::vector<std::string>& argv) {
  Args args("health", "[--coordinator HOST:PORT] [--data-dir DIR]",
            "Checks a coordinator: that it serves gRPC and accepts the token (one ListJobs call with a\n"
            "deadline), and with --data-dir, that the SQLite database there is writable (commits a\n"
            "row inserted and deleted; safe while the coordinator runs). One line per check; exits 0\n"
            "only if all pass, 1 otherwise. For container exec probes.");
  AddConnectionFlags(args);
  args.Flag("timeout-ms", "MS", "deadline of the gRPC call", "3000");
  args.Switch("no-grpc", "skip the gRPC check (only the database)");
  if (auto rc = args.ParseOrExit(argv)) return *rc;
  auto timeout_ms = args.GetInt("timeout-ms", 1, 600'000);
  if (!timeout_ms.ok()) {
    std::cerr << "unas health: " << timeout_ms.status().message() << "\n";
    return 2;
  }
  if (args.On("no-grpc") && !args.Has("data-dir")) {
    std::cerr << "unas health: --no-grpc leaves nothing to check without --data-dir\n";
    return 2;
  }
  bool ok = true;
  if (!args.On("no-grpc")) ok = CheckGrpc(args, static_cast<int>(*timeout_ms)) && ok;
  if (args.Has("data-dir")) ok = CheckDatabase(args.Get("data-dir")) && ok;
  return ok ? 0 : 1;
}

}  // namespace unas::cli
