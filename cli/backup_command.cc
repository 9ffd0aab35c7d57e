// unas backup: an online, consistent copy of a coordinator's database, taken
// while it serves (SQLite's backup API; WAL keeps the coordinator writing).
#include <iostream>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/connection.h"
#include "server/store/store.h"

namespace unas::cli {

int RunBackup(const std::vector<std::string>& argv) {
  Args args("backup", "--data-dir DIR OUT.db",
            "Copies DIR/unas.db into the new file OUT.db as one consistent snapshot, while the\n"
            "coordinator keeps serving, then opens the copy to check it. Restore: stop the\n"
            "coordinator, remove DIR/unas.db-wal and DIR/unas.db-shm, put the copy at DIR/unas.db\n"
            "(docs/deploy.md).");
  AddDataDirFlag(args, "the coordinator's data directory");
  if (auto rc = args.ParseOrExit(argv)) return *rc;
  if (args.positional().size() != 1) {
    std::cerr << "unas backup: expected one argument, the output file (see 'unas backup --help')\n";
    return 2;
  }
  const std::string source = args.Get("data-dir") + "/unas.db";
  const std::string out = args.positional()[0];
  if (FILE* f = std::fopen(source.c_str(), "rb")) {
    std::fclose(f);
  } else {
    std::cerr << "unas backup: no database at " << source << "\n";
    return 1;
  }
  auto store = server::Store::Open(source);
  Status s = store.ok() ? (*store)->BackupTo(out) : store.status();
  if (!s.ok()) {
    std::cerr << "unas backup: " << s.message() << "\n";
    return 1;
  }
  auto copy = server::Store::Open(out);
  auto jobs = copy.ok() ? (*copy)->ListJobs() : Result<std::vector<server::JobRecord>>(copy.status());
  if (!jobs.ok()) {
    std::cerr << "unas backup: the copy does not open: " << jobs.status().message() << "\n";
    return 1;
  }
  std::cout << "backed up " << source << " to " << out << " (" << jobs->size() << " jobs)\n";
  return 0;
}

}  // namespace unas::cli
