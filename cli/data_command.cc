// unas data add|list|remove: registered data sets (docs/deploy.md), kept by
// the coordinator and fetched by remote workers.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/connection.h"
#include "data/dataset_pack.h"
#include "server/store/dataset_json.h"

namespace unas::cli {
namespace {

int Fail(const std::string& verb, const Status& s) {
  std::cerr << "unas data " << verb << ": " << s.message() << "\n";
  return 1;
}

std::string ShapeText(const server::DatasetRecord& d) {
  return std::to_string(d.input_height) + "x" + std::to_string(d.input_width) + "x" +
         std::to_string(d.input_channels);
}

std::string DatasetLine(const server::DatasetRecord& d) {
  std::string classes;
  for (size_t i = 0; i < d.class_names.size() && i < 10; ++i) classes += (i ? "," : "") + d.class_names[i];
  if (d.class_names.size() > 10) classes += ",...";
  return d.name + "  " + d.kind + "  sha256:" + d.sha256.substr(0, 12) + "  " + std::to_string(d.file_count) +
         " files  " + std::to_string(d.content_bytes) + " bytes  " + ShapeText(d) + "  " +
         std::to_string(d.num_classes) + " classes" + (classes.empty() ? "" : " (" + classes + ")") + "\n";
}

int RunAdd(const std::vector<std::string>& argv) {
  Args args("data add", "PATH [--name NAME]",
            "Copies a data set to the coordinator, which keeps it under the SHA-256 of its files (names\n"
            "and contents) and describes it; a job then names it \"dataset\": \"data:NAME\", and remote\n"
            "workers fetch it. PATH is an image folder, an IDX folder, a CIFAR-10 folder, a Speech\n"
            "Commands folder, or a CSV file or folder (docs/data.md); the kind is detected unless\n"
            "--kind says it.");
  args.Flag("name", "NAME", "what jobs call it (default: PATH's last component)");
  args.Flag("kind", "KIND", "folder, idx, csv, cifar10 or speech_commands (default: detected)");
  args.Flag("classes", "N", "idx only: labels are below N", "10");
  AddConnectionFlags(args);
  if (auto rc = args.ParseOrExit(argv, 1)) return *rc;
  server::Client::DatasetUpload upload;
  upload.path = args.positional()[0];
  while (upload.path.size() > 1 && upload.path.back() == '/') upload.path.pop_back();
  upload.name = args.Has("name") ? args.Get("name") : upload.path.substr(upload.path.rfind('/') + 1);
  if (Status name = data::CheckDatasetName(upload.name); !name.ok()) return args.Error(name);
  upload.kind = args.Has("kind") ? args.Get("kind") : data::DetectDatasetKind(upload.path);
  auto classes = args.GetInt("classes", 2, 256);
  if (!classes.ok()) return args.Error(classes.status());
  upload.num_classes = static_cast<int>(*classes);
  auto connection = Connection::Open(args);
  if (!connection.ok()) return Fail("add", connection.status());
  auto added = connection->client().UploadDataset(upload);
  if (!added.ok()) return Fail("add", connection->Explain(added.status()));
  std::cout << "added " << DatasetLine(*added);
  return 0;
}

int RunList(const std::vector<std::string>& argv) {
  Args args("data list", "[--json]", "Lists the coordinator's registered data sets.");
  args.Switch("json", "one JSON array");
  AddConnectionFlags(args);
  if (auto rc = args.ParseOrExit(argv, 0)) return *rc;
  auto connection = Connection::Open(args);
  if (!connection.ok()) return Fail("list", connection.status());
  auto all = connection->client().ListDatasets();
  if (!all.ok()) return Fail("list", connection->Explain(all.status()));
  if (args.On("json")) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& d : *all) out.push_back(server::DatasetRecordJson(d));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (all->empty()) std::cout << "no registered data sets (unas data add PATH)\n";
  for (const auto& d : *all) std::cout << DatasetLine(d);
  return 0;
}

int RunRemove(const std::vector<std::string>& argv) {
  Args args("data remove", "NAME",
            "Removes a registered data set's name, and its files when no other name has the same\n"
            "content. Refused while a queued or running job trains on it.");
  AddConnectionFlags(args);
  if (auto rc = args.ParseOrExit(argv, 1)) return *rc;
  auto connection = Connection::Open(args);
  if (!connection.ok()) return Fail("remove", connection.status());
  if (Status removed = connection->client().RemoveDataset(args.positional()[0]); !removed.ok()) {
    return Fail("remove", connection->Explain(removed));
  }
  std::cout << "removed " << args.positional()[0] << "\n";
  return 0;
}

}  // namespace

int RunData(const std::vector<std::string>& argv) {
  const std::string verb = argv.empty() ? "" : argv[0];
  const std::vector<std::string> rest(argv.begin() + (argv.empty() ? 0 : 1), argv.end());
  if (verb == "add") return RunAdd(rest);
  if (verb == "list") return RunList(rest);
  if (verb == "remove") return RunRemove(rest);
  const bool help = verb == "--help" || verb == "-h" || verb == "help";
  (help ? std::cout : std::cerr)
      << (help || verb.empty() ? "" : "unas data: unknown command '" + verb + "'\n")
      << "usage: unas data add PATH [--name NAME] | list [--json] | remove NAME\n"
         "Registered data sets: kept by the coordinator, named by jobs as \"data:NAME\", fetched by\n"
         "remote workers ('unas data add --help' for more).\n";
  return help ? 0 : 2;
}

}  // namespace unas::cli
