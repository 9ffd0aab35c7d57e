// Thin clients of the coordinator's gRPC API: submit, jobs, status, trials,
// pareto, cancel, finalize, export.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/connection.h"
#include "cli/job_output.h"
#include "cli/trial_model.h"
#include "base/json_limits.h"
#include "base/stored_json.h"
#include "costmodel/network.h"
#include "firmware/cortex_m_flash.h"
#include "server/store/job_json.h"

namespace unas::cli {
namespace {

int Fail(const std::string& name, const Status& s) {
  std::cerr << "unas " << name << ": " << s.message() << "\n";
  return 1;
}

// Connection::Open for a command whose flags are parsed; nullopt with
// *exit_code 1 (and the reason on stderr) when it fails.
std::optional<Connection> Connect(const Args& args, int* exit_code) {
  auto connection = Connection::Open(args);
  if (connection.ok()) return std::move(connection).value();
  *exit_code = Fail(args.command(), connection.status());
  return std::nullopt;
}

// A client command's start: adds the connection flags, parses argv (exactly
// `positionals` arguments) and connects. Nullopt with *exit_code set when the
// command ends here (--help: 0, bad usage: 2, an unusable --token-file or
// --tls-ca: 1).
std::optional<Connection> Start(Args& args, const std::vector<std::string>& argv, size_t positionals,
                                int* exit_code) {
  AddConnectionFlags(args);
  if (auto rc = args.ParseOrExit(argv, positionals)) {
    *exit_code = *rc;
    return std::nullopt;
  }
  return Connect(args, exit_code);
}

// A failed call: its status explained (Connection::Explain) on stderr; 1.
int CallFailed(const Connection& c, const Args& args, const Status& s) {
  return Fail(args.command(), c.Explain(s));
}

void PrintJob(const server::JobView& j) { std::cout << JobLine(j); }

void ProgressBar(const server::JobView& j) {
  const int64_t done = j.completed + j.failed;
  const int64_t budget = std::max<int64_t>(1, j.budget);
  const int width = 30;
  const int filled = static_cast<int>(width * std::min<int64_t>(done, budget) / budget);
  std::string bar(filled, '#');
  bar += std::string(width - filled, '.');
  // Trials count promotions and final retraining too; the budget counts proposals.
  std::string line = "[" + bar + "] " + std::to_string(done) + " trials done (budget " + std::to_string(budget) +
                     " proposals), best error " + ErrorText(j.best_val_error) + ", hypervolume " +
                     Fixed(j.hypervolume, 4);
  if (j.finalizing) line += ", final round " + std::to_string(j.record.final_round) + " running";
  if (isatty(STDOUT_FILENO)) {
    std::cout << "\r" << line << std::flush;
  } else {
    std::cout << line << std::endl;  // a log file follows the job live
  }
}

}  // namespace

int RunSubmit(const std::vector<std::string>& argv) {
  Args args("submit", "JOB.json [--wait]", "Submits a search job (docs/jobs.md); '-' reads standard input.");
  AddConnectionFlags(args);
  args.Switch("wait", "follow the job with a progress bar and print its Pareto front at the end");
  args.Flag("max-wait", "SECONDS", "with --wait: give up waiting after this long", "86400");
  if (auto rc = args.ParseOrExit(argv, 1)) return *rc;
  std::string text;
  if (args.positional()[0] == "-") {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    text = ss.str();
  } else {
    std::ifstream in(args.positional()[0]);
    if (!in) return Fail("submit", Status(StatusCode::kNotFound, args.positional()[0] + ": cannot open file"));
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  int rc = 0;
  auto c = Connect(args, &rc);
  if (!c) return rc;
  auto job = (*c)->Submit(text);
  if (!job.ok()) return CallFailed(*c, args, job.status());
  const std::string job_id = job->record.job_id;
  std::cout << "submitted " << job_id << std::endl;  // scripts read it before --wait ends
  if (!args.On("wait")) return 0;
  auto max_wait = args.GetInt("max-wait", 1, 1LL << 30);
  if (!max_wait.ok()) return Fail("submit", max_wait.status());
  using Kind = server::JobEvent::Kind;
  Status watched = (*c)->Watch(job_id, [&](const server::JobEvent& e) {
    if (e.kind == Kind::kTrialFinished || e.kind == Kind::kTrialFailed || e.kind == Kind::kJobDone) {
      ProgressBar(e.job);
    }
    return true;
  }, static_cast<int>(*max_wait));
  if (isatty(STDOUT_FILENO)) std::cout << "\n";
  if (!watched.ok()) return CallFailed(*c, args, watched);
  auto final_job = (*c)->GetJob(job_id);
  if (!final_job.ok()) return CallFailed(*c, args, final_job.status());
  PrintJob(*final_job);
  auto front = (*c)->Pareto(job_id);
  if (!front.ok()) return CallFailed(*c, args, front.status());
  std::cout << "\n" << ParetoText(*front, false);
  return final_job->record.status == server::JobStatus::kSucceeded ? 0 : 1;
}

int RunJobs(const std::vector<std::string>& argv) {
  Args args("jobs", "[--json]", "Lists the coordinator's jobs, oldest first.");
  args.Switch("json", "a JSON array of the jobs as 'unas status --json' shows them, without their specs");
  int rc = 0;
  auto c = Start(args, argv, 0, &rc);
  if (!c) return rc;
  auto jobs = (*c)->ListJobs();
  if (!jobs.ok()) return CallFailed(*c, args, jobs.status());
  if (args.On("json")) {
    nlohmann::json out = nlohmann::json::array();
    for (const server::JobView& j : *jobs) out.push_back(server::JobViewJson(j, /*with_spec=*/false));
    std::cout << out.dump(2) << "\n";
  } else {
    for (const server::JobView& j : *jobs) PrintJob(j);
  }
  return 0;
}

int RunStatus(const std::vector<std::string>& argv) {
  Args args("status", "JOB [--json]", "Shows one job's progress; --json prints the whole record with its spec.");
  args.Switch("json", "print as JSON");
  int rc = 0;
  auto c = Start(args, argv, 1, &rc);
  if (!c) return rc;
  auto job = (*c)->GetJob(args.positional()[0]);
  if (!job.ok()) return CallFailed(*c, args, job.status());
  if (args.On("json")) {
    std::cout << server::JobViewJson(*job, /*with_spec=*/true).dump(2) << "\n";
  } else {
    PrintJob(*job);
    // A registered data set: which bytes the job trains on (docs/deploy.md).
    const nlohmann::json spec = StoredJson(job->record.spec_json);
    if (spec.is_object() && spec.value("dataset_sha256", std::string()).size() == 64) {
      std::cout << "data set " << spec.value("dataset_name", std::string()) << " sha256:"
                << spec.value("dataset_sha256", std::string()) << "\n";
    }
  }
  return 0;
}

int RunTrials(const std::vector<std::string>& argv) {
  Args args("trials", "JOB [--status S] [--limit N] [--json]",
            "Lists a job's trials, oldest first. Errors are fractions (- where not measured); costs are\n"
            "the trained network's (the pruned one when the job prunes), in bytes and MACs.");
  AddConnectionFlags(args);
  args.Flag("status", "STATUS", "only pending, leased, completed, failed or cancelled trials");
  args.Flag("limit", "N", "at most this many", "1000000");
  args.Switch("json", "a JSON array of the trials (null for what was not measured)");
  if (auto rc = args.ParseOrExit(argv, 1)) return *rc;
  std::optional<server::TrialStatus> status;
  if (args.Has("status")) {
    const std::string s = args.Get("status");
    for (int v = 1; v <= static_cast<int>(server::TrialStatus::kCancelled); ++v) {
      if (s == server::TrialStatusName(static_cast<server::TrialStatus>(v))) status = static_cast<server::TrialStatus>(v);
    }
    if (!status) {
      return args.Error(
          Status::Invalid("--status: '" + s + "' is not one of pending, leased, completed, failed, cancelled"));
    }
  }
  auto limit = args.GetInt("limit", 1, 1LL << 40);
  if (!limit.ok()) return args.Error(limit.status());
  int rc = 0;
  auto c = Connect(args, &rc);
  if (!c) return rc;
  const bool json = args.On("json");
  // Page by page, printed as it comes: a job may hold millions of trials.
  std::string token;
  long long printed = 0;
  bool header_done = false;
  do {
    auto page = (*c)->ListTrials(args.positional()[0], status, token, 500);
    if (!page.ok()) return CallFailed(*c, args, page.status());
    if (!header_done) {
      std::cout << (json ? "[" : TrialsHeader());
      header_done = true;
    }
    for (const server::TrialRecord& t : page->trials) {
      if (printed >= *limit) break;
      if (json) {
        std::cout << (printed > 0 ? ",\n  " : "\n  ") << TrialJson(t).dump();
      } else {
        std::cout << TrialLine(t);
      }
      ++printed;
    }
    token = page->next_page_token;
  } while (!token.empty() && printed < *limit);
  if (json) std::cout << (printed > 0 ? "\n]\n" : "]\n");
  return 0;
}

int RunPareto(const std::vector<std::string>& argv) {
  Args args("pareto", "JOB [--csv | --json]",
            "Prints a job's Pareto fronts over its objectives (feasible trials only): the final front\n"
            "(retrained from scratch, `unas finalize`) first when there is one, then the search's, with\n"
            "the same columns: validation, test and int8 test accuracy (- where not measured), the\n"
            "trained network's peak SRAM, flash and MACs, and latency (- without an MCU in the job).");
  args.Switch("csv", "the search front as comma-separated values (an empty field where not measured)");
  args.Switch("json", "both fronts as JSON (null where not measured)");
  int rc = 0;
  auto c = Start(args, argv, 1, &rc);
  if (!c) return rc;
  if (args.On("csv") && args.On("json")) return args.Error(Status::Invalid("--csv and --json exclude each other"));
  auto front = (*c)->Pareto(args.positional()[0]);
  if (!front.ok()) return CallFailed(*c, args, front.status());
  if (args.On("json")) {
    std::cout << ParetoJson(*front).dump(2) << "\n";
  } else {
    std::cout << ParetoText(*front, args.On("csv"));
  }
  return 0;
}

int RunFinalize(const std::vector<std::string>& argv) {
  Args args("finalize", "JOB [--epochs N]",
            "Retrains a job's front from scratch with its final recipe (spec \"final\") and quantises it:\n"
            "a running job stops proposing, a finished one runs again until the round is done.\n"
            "`unas pareto JOB` then shows the final front first.");
  args.Flag("epochs", "N", "train each network this many epochs (1..1000) instead of the recipe's");
  int rc = 0;
  auto c = Start(args, argv, 1, &rc);
  if (!c) return rc;
  int epochs = 0;
  if (args.Has("epochs")) {
    auto n = args.GetInt("epochs", 1, 1000);
    if (!n.ok()) return args.Error(n.status());
    epochs = static_cast<int>(*n);
  }
  auto job = (*c)->Finalize(args.positional()[0], epochs);
  if (!job.ok()) return CallFailed(*c, args, job.status());
  PrintJob(*job);
  return 0;
}

int RunCancel(const std::vector<std::string>& argv) {
  Args args("cancel", "JOB", "Cancels a job: no more trials are handed out and busy workers are told to stop.");
  int rc = 0;
  auto c = Start(args, argv, 1, &rc);
  if (!c) return rc;
  auto job = (*c)->Cancel(args.positional()[0]);
  if (!job.ok()) return CallFailed(*c, args, job.status());
  PrintJob(*job);
  return 0;
}

// DIR/model.tflite and DIR/c/ from the trial's stored int8 model, for the
// network it was trained as (the pruned one when the job prunes).
Result<std::optional<data::InputContract>> ExportModel(server::Client& client, const std::string& job_id,
                                                       const server::TrialRecord& t, const nlohmann::json& document,
                                                       const std::string& dir) {
  UNAS_ASSIGN_OR_RETURN(std::string tflite, client.TrialModelTflite(job_id, t.trial_id));
  UNAS_ASSIGN_OR_RETURN(server::JobView job, client.GetJob(job_id));
  const nlohmann::json spec = StoredJson(job.record.spec_json);
  const bool partial = spec.is_object() && spec.value("memory", std::string()) == "partial_execution";
  const nlohmann::json input = document.value("input", nlohmann::json::object());
  const nlohmann::json shape = input.value("shape", nlohmann::json::array());
  bool numbers = shape.is_array() && shape.size() == 3 && input.value("num_classes", nlohmann::json()).is_number_integer();
  for (size_t i = 0; numbers && i < 3; ++i) numbers = shape[i].is_number_integer();
  if (!numbers) {
    return Status::Internal("the server's export has no input shape");
  }
  InputSpec in{shape[0].get<int>(), shape[1].get<int>(), shape[2].get<int>(), input["num_classes"].get<int>()};
  UNAS_ASSIGN_OR_RETURN(Candidate candidate,
                        ParseCandidate(t.pruned_candidate_json.empty() ? t.candidate_json : t.pruned_candidate_json));
  UNAS_ASSIGN_OR_RETURN(Network network, BuildNetwork(candidate, in));
  // A keyword model's front end comes from its input contract (the
  // .tflite's metadata), as the rest of its C library does.
  return WriteTrialModel(dir, tflite, network, partial);
}

namespace {

// TRIAL as a trial number (1 or more); nullopt when it is not one.
std::optional<long long> ParseTrialNumber(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const long long trial_id = std::strtoll(text.c_str(), &end, 10);
  // ERANGE: strtoll clamps to LLONG_MAX, which would export another trial.
  if (*end != '\0' || end == text.c_str() || errno == ERANGE || trial_id <= 0) return std::nullopt;
  return trial_id;
}

// trial.json's record and metrics, without the files (weights, model) the
// export adds as it writes them.
nlohmann::json ExportTrialJson(const std::string& job_id, long long trial_id, const server::TrialRecord& t,
                               const nlohmann::json& document) {
  const nlohmann::json input = document.value("input", nlohmann::json::object());
  nlohmann::json trial = {{"job_id", job_id},
                          {"trial_id", trial_id},
                          {"status", server::TrialStatusName(t.status)},
                          {"input_shape", input.value("shape", nlohmann::json())},
                          {"num_classes", input.value("num_classes", nlohmann::json())},
                          {"worker_id", t.worker_id},
                          {"error", t.error}};
  if (t.metrics) {
    trial["val_error"] = t.metrics->val_error;
    trial["test_error"] = t.metrics->test_error;
    trial["train_seconds"] = t.metrics->train_seconds;
    trial["epochs"] = t.metrics->epochs;
    trial["int8_val_error"] = t.metrics->int8_val_error ? nlohmann::json(*t.metrics->int8_val_error) : nullptr;
    trial["int8_test_error"] = t.metrics->int8_test_error ? nlohmann::json(*t.metrics->int8_test_error) : nullptr;
    trial["c_library_flash_bytes"] =
        t.metrics->c_library_flash_bytes ? nlohmann::json(*t.metrics->c_library_flash_bytes) : nullptr;
    trial["c_library_flash_note"] = t.metrics->c_library_flash_note;
  }
  return trial;
}

// The summary's line on the C library's flash, as the worker measured it
// when the trial was trained; "" for a trial without an int8 model.
std::string CLibraryLine(const server::TrialRecord& t, const std::string& dir) {
  if (!t.has_tflite || !t.metrics) return "";
  const server::Metrics& m = *t.metrics;
  if (!m.c_library_flash_bytes) {
    return "C library's flash: not measured (" +
           (m.c_library_flash_note.empty() ? std::string("a worker of an older version") : m.c_library_flash_note) +
           ")\n";
  }
  return "C library's flash: " + std::to_string(*m.c_library_flash_bytes) + " B (text + data of " + dir +
         "/c/*.c compiled with arm-none-eabi-gcc " + firmware::kCortexM4FlashFlags +
         ", before linking; measured by the worker)\n";
}

}  // namespace

int RunExport(const std::vector<std::string>& argv) {
  Args args("export", "JOB TRIAL DIR",
            "Writes a trial's architecture (architecture.json), the server's exact cost report in the\n"
            "job's accounting (cost_report.json), the whole export document as the dashboard's download\n"
            "gives it (export.json), its trained weights (weights.pt, when kept), its measured\n"
            "metrics (trial.json) and, when the trial was quantised, its int8 model (model.tflite) and\n"
            "the C library of it (c/: model.h, model.c and the kernels; partial execution when the job's\n"
            "memory is partial_execution) into DIR.");
  AddConnectionFlags(args);
  if (auto rc = args.ParseOrExit(argv, 3)) return *rc;
  const std::string job_id = args.positional()[0], dir = args.positional()[2];
  const std::optional<long long> trial_id = ParseTrialNumber(args.positional()[1]);
  if (!trial_id) {
    std::cerr << "unas export: TRIAL: '" << QuotePrefix(args.positional()[1])
              << "' is not a trial number (1.." << std::numeric_limits<long long>::max() << ")\n";
    return 2;
  }
  int rc = 0;
  auto c = Connect(args, &rc);
  if (!c) return rc;
  server::Client& client = c->client();
  auto detail = client.GetTrial(job_id, *trial_id);
  if (!detail.ok()) return CallFailed(*c, args, detail.status());
  auto parsed = ParseLimitedJson(detail->export_json);
  if (!parsed.ok() || !parsed->is_object()) {
    return Fail("export", Status::Internal("the server's export is not a JSON object"));
  }
  const nlohmann::json& document = *parsed;
  const server::TrialRecord& t = detail->trial;
  mkdir(dir.c_str(), 0755);
  std::ofstream(dir + "/architecture.json") << document.value("architecture", nlohmann::json()).dump(2) << "\n";
  std::ofstream(dir + "/cost_report.json") << document.value("cost_report", nlohmann::json()).dump(2) << "\n";
  std::ofstream(dir + "/export.json") << document.dump(2) << "\n";
  nlohmann::json trial = ExportTrialJson(job_id, *trial_id, t, document);
  auto weights = client.TrialWeights(job_id, *trial_id);
  if (weights.ok()) {
    std::ofstream(dir + "/weights.pt", std::ios::binary) << *weights;
    trial["weights"] = "weights.pt (LibTorch serialisation of the trained network)";
  } else {
    trial["weights"] = nullptr;
    std::cerr << "unas export: no weights: " << weights.status().message() << "\n";
  }
  trial["model_tflite"] = nullptr;
  if (t.has_tflite) {
    if (auto contract = ExportModel(client, job_id, t, document, dir); contract.ok()) {
      trial["model_tflite"] = "model.tflite (int8; its C library in c/)";
      // The model's own input contract (its metadata); null for a model
      // stored before unas wrote one.
      trial["input"] = *contract ? data::InputContractToJson(**contract) : nlohmann::json();
    } else {
      std::cerr << "unas export: int8 model: " << contract.status().message() << "\n";
      return 1;
    }
  } else {
    std::cerr << "unas export: no int8 model: the trial was not quantised (synthetic, failed, quantization "
                 "disabled, or its quantisation failed)\n";
  }
  std::ofstream out(dir + "/trial.json");
  out << trial.dump(2) << "\n";
  if (!out) return Fail("export", Status::Internal("cannot write into " + dir));
  std::cout << "exported " << job_id << " trial " << *trial_id << " to " << dir << "\n" << CLibraryLine(t, dir);
  return 0;
}

}  // namespace unas::cli
