// unas health: checks that a coordinator does what its probes claim, for
// container exec probes and operators. Each check prints one line (or one
// element of --json); the exit code is 0 only if every check passed.
#include <sys/stat.h>

#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/connection.h"
#include "server/store/store.h"

namespace unas::cli {
namespace {

struct Check {
  std::string name;    // "grpc" or "database"
  std::string target;  // the address or the database file
  bool ok = false;
  std::string detail;
};

// gRPC serving and the token accepted: the cheapest authenticated call.
Check CheckGrpc(const Args& args, int deadline_ms) {
  Check check{"grpc", args.Get("coordinator"), false, ""};
  auto c = Connection::Open(args, deadline_ms);
  if (!c.ok()) {
    check.detail = c.status().message();
    return check;
  }
  auto jobs = (*c)->ListJobs();
  if (!jobs.ok()) {
    check.detail = c->Explain(jobs.status()).message();
    return check;
  }
  check.ok = true;
  check.detail = "serving, token accepted (" + std::to_string(jobs->size()) + " jobs)";
  return check;
}

// The database in the data directory accepts writes. An existing file only:
// a health check must not create an empty database where none was.
Check CheckDatabase(const std::string& data_dir) {
  Check check{"database", data_dir + "/unas.db", false, ""};
  struct stat st {};
  if (stat(check.target.c_str(), &st) != 0) {
    check.detail = "no such file";
    return check;
  }
  auto store = server::Store::Open(check.target);
  Status s = store.ok() ? (*store)->CheckWritable() : store.status();
  check.ok = s.ok();
  check.detail = s.ok() ? "writable" : s.message();
  return check;
}

}  // namespace

int RunHealth(const std::vector<std::string>& argv) {
  Args args("health", "[--coordinator HOST:PORT] [--data-dir DIR] [--json]",
            "Checks a coordinator: that it serves gRPC and accepts the token (one ListJobs call with a\n"
            "deadline), and with --data-dir (or UNAS_DATA_DIR), that the SQLite database there is\n"
            "writable (commits a row inserted and deleted; safe while the coordinator runs). One line\n"
            "per check; exits 0 only if all pass, 1 otherwise. For container exec probes.");
  AddConnectionFlags(args);
  args.Flag("timeout-ms", "MS", "deadline of the gRPC call", "3000");
  args.Switch("no-grpc", "skip the gRPC check (only the database)");
  args.Switch("json", "print {\"ok\", \"checks\": [{\"check\", \"target\", \"ok\", \"detail\"}]}");
  if (auto rc = args.ParseOrExit(argv)) return *rc;
  auto timeout_ms = args.GetInt("timeout-ms", 1, 600'000);
  if (!timeout_ms.ok()) return args.Error(timeout_ms.status());
  if (args.On("no-grpc") && !args.Given("data-dir")) {
    return args.Error(Status::Invalid("--no-grpc leaves nothing to check without --data-dir or UNAS_DATA_DIR"));
  }
  std::vector<Check> checks;
  if (!args.On("no-grpc")) checks.push_back(CheckGrpc(args, static_cast<int>(*timeout_ms)));
  if (args.Given("data-dir")) checks.push_back(CheckDatabase(args.Get("data-dir")));
  bool ok = true;
  nlohmann::json out = nlohmann::json::array();
  for (const Check& c : checks) {
    ok = ok && c.ok;
    if (args.On("json")) {
      out.push_back({{"check", c.name}, {"target", c.target}, {"ok", c.ok}, {"detail", c.detail}});
    } else {
      std::cout << (c.ok ? "ok   " : "FAIL ") << c.name << " " << c.target << ": " << c.detail << std::endl;
    }
  }
  if (args.On("json")) std::cout << nlohmann::json({{"ok", ok}, {"checks", out}}).dump(2) << std::endl;
  return ok ? 0 : 1;
}

}  // namespace unas::cli
