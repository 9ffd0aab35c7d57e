// Thin clients of the coordinator's gRPC API: submit, jobs, status, trials,
// pareto, cancel, export.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/connection.h"
#include "costmodel/cost_model.h"
#include "costmodel/json_limits.h"
#include "costmodel/report.h"
#include "server/evaluators.h"
#include "server/job_spec.h"

namespace unas::cli {
namespace {

// The job's normalised spec as JSON; text that is not (a coordinator of
// another version, or a damaged store) is shown as a short string.
nlohmann::json SpecAsJson(const std::string& text) {
  auto parsed = ParseLimitedJson(text);
  return parsed.ok() ? *parsed : nlohmann::json(QuotePrefix(text));
}

const char* JobStatusText(v1::JobStatus s) {
  switch (s) {
    case v1::JOB_QUEUED: return "queued";
    case v1::JOB_RUNNING: return "running";
    case v1::JOB_SUCCEEDED: return "succeeded";
    case v1::JOB_FAILED: return "failed";
    case v1::JOB_CANCELLED: return "cancelled";
    default: return "?";
  }
}

const char* TrialStatusText(v1::TrialStatus s) {
  switch (s) {
    case v1::TRIAL_PENDING: return "pending";
    case v1::TRIAL_LEASED: return "leased";
    case v1::TRIAL_COMPLETED: return "completed";
    case v1::TRIAL_FAILED: return "failed";
    case v1::TRIAL_CANCELLED: return "cancelled";
    default: return "?";
  }
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Parses argv for a client command; returns 0 to continue, else the exit code.
int ParseOrExit(Args& args, const std::vector<std::string>& argv, const char* name, size_t positionals) {
  if (Status s = args.Parse(argv); !s.ok()) {
    if (s.code() == StatusCode::kFailedPrecondition) {
      std::cout << args.Help();
      return -1;
    }
    std::cerr << "unas " << name << ": " << s.message() << "\n";
    return 2;
  }
  if (args.positional().size() != positionals) {
    std::cerr << "unas " << name << ": expected " << positionals << " argument(s) (see 'unas " << name
              << " --help')\n";
    return 2;
  }
  return 0;
}

int Fail(const char* name, const Status& s) {
  std::cerr << "unas " << name << ": " << s.message() << "\n";
  return 1;
}

void PrintJob(const v1::Job& j) {
  std::cout << j.job_id() << "  " << j.name() << "  " << JobStatusText(j.status()) << "  "
            << j.trials_completed() + j.trials_failed() << "/" << j.trials_budget() << " trials ("
            << j.trials_failed() << " failed, " << j.trials_running() << " running)"
            << "  rejected by constraints " << j.infeasible_rejected() << "  best val error "
            << (j.best_val_error() < 0 ? std::string("-") : Fixed(j.best_val_error(), 4)) << "  hypervolume "
            << Fixed(j.hypervolume(), 4);
  if (!j.error().empty()) std::cout << "  error: " << j.error();
  std::cout << "\n";
}

void PrintParetoTable(const v1::ParetoFront& front, bool csv) {
  if (csv) {
    std::cout << "trial,val_error,test_error,peak_sram_bytes,flash_bytes,macs,latency_ms,params\n";
  } else {
    std::printf("%6s %9s %10s %12s %12s %12s %11s %9s\n", "trial", "val err", "test err", "peak SRAM", "flash",
                "MACs", "latency ms", "params");
  }
  for (const v1::Trial& t : front.trials()) {
    const auto& c = t.costs();
    const auto& m = t.metrics();
    if (csv) {
      std::cout << t.trial_id() << "," << m.val_error() << "," << m.test_error() << "," << c.peak_sram_bytes() << ","
                << c.flash_bytes() << "," << c.macs() << "," << c.latency_ms() << "," << c.params() << "\n";
    } else {
      std::printf("%6lld %9.4f %10.4f %12lld %12lld %12lld %11.2f %9lld\n", static_cast<long long>(t.trial_id()),
                  m.val_error(), m.test_error(), static_cast<long long>(c.peak_sram_bytes()),
                  static_cast<long long>(c.flash_bytes()), static_cast<long long>(c.macs()), c.latency_ms(),
                  static_cast<long long>(c.params()));
    }
  }
  if (!csv) std::cout << "hypervolume " << Fixed(front.hypervolume(), 4) << "\n";
}

void ProgressBar(const v1::Job& j) {
  const int64_t done = j.trials_completed() + j.trials_failed();
  const int64_t budget = std::max<int64_t>(1, j.trials_budget());
  const int width = 30;
  const int filled = static_cast<int>(width * std::min<int64_t>(done, budget) / budget);
  std::string bar(filled, '#');
  bar += std::string(width - filled, '.');
  const std::string line = "[" + bar + "] " + std::to_string(done) + "/" + std::to_string(budget) +
                           " trials, best val error " +
                           (j.best_val_error() < 0 ? std::string("-") : Fixed(j.best_val_error(), 4)) +
                           ", hypervolume " + Fixed(j.hypervolume(), 4);
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
  if (int rc = ParseOrExit(args, argv, "submit", 1); rc != 0) return rc < 0 ? 0 : rc;
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
  auto client = ConnectFromFlags(args);
  if (!client.ok()) return Fail("submit", client.status());
  auto job = (*client)->Submit(text);
  if (!job.ok()) return Fail("submit", job.status());
  std::cout << "submitted " << job->job_id() << std::endl;  // scripts read it before --wait ends
  if (!args.On("wait")) return 0;
  auto max_wait = args.GetInt("max-wait", 1, 1LL << 30);
  if (!max_wait.ok()) return Fail("submit", max_wait.status());
  v1::Job last = *job;
  Status watched = (*client)->Watch(job->job_id(), [&](const v1::JobEvent& e) {
    last = e.job();
    if (e.kind() == v1::JobEvent::TRIAL_FINISHED || e.kind() == v1::JobEvent::TRIAL_FAILED ||
        e.kind() == v1::JobEvent::JOB_DONE) {
      ProgressBar(last);
    }
    return true;
  }, static_cast<int>(*max_wait));
  if (isatty(STDOUT_FILENO)) std::cout << "\n";
  if (!watched.ok()) return Fail("submit", watched);
  auto final_job = (*client)->GetJob(job->job_id());
  if (!final_job.ok()) return Fail("submit", final_job.status());
  PrintJob(*final_job);
  auto front = (*client)->Pareto(job->job_id());
  if (!front.ok()) return Fail("submit", front.status());
  std::cout << "\nPareto front (feasible trials):\n";
  PrintParetoTable(*front, false);
  return final_job->status() == v1::JOB_SUCCEEDED ? 0 : 1;
}

int RunJobs(const std::vector<std::string>& argv) {
  Args args("jobs", "", "Lists the coordinator's jobs.");
  AddConnectionFlags(args);
  if (int rc = ParseOrExit(args, argv, "jobs", 0); rc != 0) return rc < 0 ? 0 : rc;
  auto client = ConnectFromFlags(args);
  if (!client.ok()) return Fail("jobs", client.status());
  auto jobs = (*client)->ListJobs();
  if (!jobs.ok()) return Fail("jobs", jobs.status());
  for (const v1::Job& j : *jobs) PrintJob(j);
  return 0;
}

int RunStatus(const std::vector<std::string>& argv) {
  Args args("status", "JOB", "Shows one job's progress; --json prints the whole record with its spec.");
  AddConnectionFlags(args);
  args.Switch("json", "print as JSON");
  if (int rc = ParseOrExit(args, argv, "status", 1); rc != 0) return rc < 0 ? 0 : rc;
  auto client = ConnectFromFlags(args);
  if (!client.ok()) return Fail("status", client.status());
  auto job = (*client)->GetJob(args.positional()[0]);
  if (!job.ok()) return Fail("status", job.status());
  if (args.On("json")) {
    nlohmann::json j = {{"job_id", job->job_id()},
                        {"name", job->name()},
                        {"status", JobStatusText(job->status())},
                        {"trials_completed", job->trials_completed()},
                        {"trials_failed", job->trials_failed()},
                        {"trials_running", job->trials_running()},
                        {"trials_budget", job->trials_budget()},
                        {"infeasible_rejected", job->infeasible_rejected()},
                        {"best_val_error", job->best_val_error()},
                        {"hypervolume", job->hypervolume()},
                        {"error", job->error()},
                        {"spec", SpecAsJson(job->spec_json())}};
    std::cout << j.dump(2) << "\n";
  } else {
    PrintJob(*job);
  }
  return 0;
}

int RunTrials(const std::vector<std::string>& argv) {
  Args args("trials", "JOB", "Lists a job's trials, oldest first.");
  AddConnectionFlags(args);
  args.Flag("status", "STATUS", "only pending, leased, completed, failed or cancelled trials");
  args.Flag("limit", "N", "at most this many", "1000000");
  if (int rc = ParseOrExit(args, argv, "trials", 1); rc != 0) return rc < 0 ? 0 : rc;
  v1::TrialStatus status = v1::TRIAL_STATUS_UNSPECIFIED;
  if (args.Has("status")) {
    const std::string s = args.Get("status");
    const std::pair<const char*, v1::TrialStatus> names[] = {{"pending", v1::TRIAL_PENDING},
                                                              {"leased", v1::TRIAL_LEASED},
                                                              {"completed", v1::TRIAL_COMPLETED},
                                                              {"failed", v1::TRIAL_FAILED},
                                                              {"cancelled", v1::TRIAL_CANCELLED}};
    bool found = false;
    for (const auto& [n, v] : names) {
      if (s == n) status = v, found = true;
    }
    if (!found) {
      std::cerr << "unas trials: --status: '" << s << "' is not one of pending, leased, completed, failed, cancelled\n";
      return 2;
    }
  }
  auto limit = args.GetInt("limit", 1, 1LL << 40);
  if (!limit.ok()) return Fail("trials", limit.status());
  auto client = ConnectFromFlags(args);
  if (!client.ok()) return Fail("trials", client.status());
  std::printf("%6s %-10s %9s %10s %12s %12s %12s %8s  %s\n", "trial", "status", "val err", "test err", "peak SRAM",
              "flash", "MACs", "attempts", "error");
  std::string token;
  long long printed = 0;
  do {
    auto page = (*client)->ListTrials(args.positional()[0], status, token, 500);
    if (!page.ok()) return Fail("trials", page.status());
    for (const v1::Trial& t : page->trials()) {
      if (printed++ >= *limit) return 0;
      const bool has = t.has_metrics();
      std::printf("%6lld %-10s %9s %10s %12lld %12lld %12lld %8d  %s\n", static_cast<long long>(t.trial_id()),
                  TrialStatusText(t.status()), has ? Fixed(t.metrics().val_error(), 4).c_str() : "-",
                  has ? Fixed(t.metrics().test_error(), 4).c_str() : "-",
                  static_cast<long long>(t.costs().peak_sram_bytes()), static_cast<long long>(t.costs().flash_bytes()),
                  static_cast<long long>(t.costs().macs()), t.attempts(), t.error().c_str());
    }
    token = page->next_page_token();
  } while (!token.empty());
  return 0;
}

int RunPareto(const std::vector<std::string>& argv) {
  Args args("pareto", "JOB [--csv]", "Prints a job's Pareto front over its objectives (feasible trials only).");
  AddConnectionFlags(args);
  args.Switch("csv", "comma-separated values");
  if (int rc = ParseOrExit(args, argv, "pareto", 1); rc != 0) return rc < 0 ? 0 : rc;
  auto client = ConnectFromFlags(args);
  if (!client.ok()) return Fail("pareto", client.status());
  auto front = (*client)->Pareto(args.positional()[0]);
  if (!front.ok()) return Fail("pareto", front.status());
  PrintParetoTable(*front, args.On("csv"));
  return 0;
}

int RunCancel(const std::vector<std::string>& argv) {
  Args args("cancel", "JOB", "Cancels a job: no more trials are handed out and busy workers are told to stop.");
  AddConnectionFlags(args);
  if (int rc = ParseOrExit(args, argv, "cancel", 1); rc != 0) return rc < 0 ? 0 : rc;
  auto client = ConnectFromFlags(args);
  if (!client.ok()) return Fail("cancel", client.status());
  auto job = (*client)->Cancel(args.positional()[0]);
  if (!job.ok()) return Fail("cancel", job.status());
  PrintJob(*job);
  return 0;
}

int RunExport(const std::vector<std::string>& argv) {
  Args args("export", "JOB TRIAL DIR",
            "Writes a trial's architecture (architecture.json), its exact cost report in the job's\n"
            "accounting (cost_report.json), its trained weights (weights.pt, when kept) and its\n"
            "measured metrics (trial.json) into DIR.");
  AddConnectionFlags(args);
  if (int rc = ParseOrExit(args, argv, "export", 3); rc != 0) return rc < 0 ? 0 : rc;
  const std::string job_id = args.positional()[0], dir = args.positional()[2];
  char* end = nullptr;
  const long long trial_id = std::strtoll(args.positional()[1].c_str(), &end, 10);
  if (*end != '\0' || trial_id <= 0) {
    std::cerr << "unas export: TRIAL: '" << args.positional()[1] << "' is not a trial number\n";
    return 2;
  }
  auto client = ConnectFromFlags(args);
  if (!client.ok()) return Fail("export", client.status());
  auto job = (*client)->GetJob(job_id);
  if (!job.ok()) return Fail("export", job.status());
  auto page = (*client)->ListTrials(job_id, v1::TRIAL_STATUS_UNSPECIFIED, std::to_string(trial_id - 1), 1);
  if (!page.ok()) return Fail("export", page.status());
  if (page->trials_size() == 0 || page->trials(0).trial_id() != trial_id) {
    return Fail("export", Status(StatusCode::kNotFound, "no trial " + std::to_string(trial_id) + " in " + job_id));
  }
  const v1::Trial& t = page->trials(0);
  auto spec = server::ParseJobSpecText(job->spec_json());
  if (!spec.ok()) return Fail("export", spec.status());
  auto input = server::ResolveDatasetInput(spec->dataset);
  if (!input.ok()) return Fail("export", input.status());
  auto candidate = ParseCandidate(t.candidate_json());
  if (!candidate.ok()) return Fail("export", candidate.status());
  auto network = BuildNetwork(*candidate, *input);
  if (!network.ok()) return Fail("export", network.status());
  const McuProfile* mcu = nullptr;
  if (!spec->mcu.empty()) mcu = FindMcu(spec->mcu).value();
  auto report = CostNetwork(*network, ParseAccounting(spec->accounting).value(), mcu);
  if (!report.ok()) return Fail("export", report.status());
  mkdir(dir.c_str(), 0755);
  std::ofstream(dir + "/architecture.json") << CandidateToJson(*candidate).dump(2) << "\n";
  std::ofstream(dir + "/cost_report.json") << CostReportToJson(*network, *report).dump(2) << "\n";
  nlohmann::json trial = {{"job_id", job_id},
                          {"trial_id", trial_id},
                          {"status", TrialStatusText(t.status())},
                          {"input_shape", {input->height, input->width, input->channels}},
                          {"num_classes", input->num_classes},
                          {"worker_id", t.worker_id()},
                          {"error", t.error()}};
  if (t.has_metrics()) {
    trial["val_error"] = t.metrics().val_error();
    trial["test_error"] = t.metrics().test_error();
    trial["train_seconds"] = t.metrics().train_seconds();
    trial["epochs"] = t.metrics().epochs();
  }
  auto weights = (*client)->TrialWeights(job_id, trial_id);
  if (weights.ok()) {
    std::ofstream(dir + "/weights.pt", std::ios::binary) << *weights;
    trial["weights"] = "weights.pt (LibTorch serialisation of the trained network)";
  } else {
    trial["weights"] = nullptr;
    std::cerr << "unas export: no weights: " << weights.status().message() << "\n";
  }
  std::ofstream out(dir + "/trial.json");
  out << trial.dump(2) << "\n";
  if (!out) return Fail("export", Status::Internal("cannot write into " + dir));
  std::cout << "exported " << job_id << " trial " << trial_id << " to " << dir << "\n";
  return 0;
}

}  // namespace unas::cli
