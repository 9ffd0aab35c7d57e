// unas cost: the cost model on one candidate, or a JSON-lines batch.
#include <fstream>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "costmodel/boards.h"
#include "costmodel/byte_units.h"
#include "costmodel/cost_model.h"
#include "costmodel/frontend_cost.h"
#include "costmodel/partial_execution.h"
#include "costmodel/pex_report.h"
#include "costmodel/report.h"
#include "data/dataset_spec.h"

namespace unas::cli {
namespace {

Result<std::string> ReadAll(const std::string& path) {
  if (path == "-") {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kNotFound, path + ": cannot open file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// --audio-frontend: "default" or NAME=VALUE,... of the job's "audio" front-end
// fields (docs/keyword-spotting.md), checked as a job's are.
Result<unas_frontend_config> ParseAudioFrontend(const std::string& text) {
  data::SpeechCommandsSpec spec;
  std::stringstream items(text == "default" ? std::string() : text);
  for (std::string item; std::getline(items, item, ',');) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) return Status::Invalid("'" + item + "': expected NAME=VALUE or 'default'");
    const std::string name = item.substr(0, eq), value = item.substr(eq + 1);
    if (name == "features") {
      if (value != "mfcc" && value != "log_mel") return Status::Invalid("features: '" + value + "' is not mfcc or log_mel");
      spec.log_mel = value == "log_mel";
      continue;
    }
    int* field = name == "window_ms"           ? &spec.window_ms
                 : name == "stride_ms"         ? &spec.stride_ms
                 : name == "mel_channels"      ? &spec.mel_channels
                 : name == "lower_hz"          ? &spec.lower_hz
                 : name == "upper_hz"          ? &spec.upper_hz
                 : name == "mfcc_coefficients" ? &spec.mfcc_coefficients
                                               : nullptr;
    if (field == nullptr) {
      return Status::Invalid("'" + name + "' is not a front-end field (window_ms, stride_ms, mel_channels, lower_hz, "
                             "upper_hz, features, mfcc_coefficients)");
    }
    char* end = nullptr;
    const long v = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || v < -1000000 || v > 1000000) {
      return Status::Invalid(name + ": '" + value + "' is not an integer");
    }
    *field = static_cast<int>(v);
  }
  return data::SpeechFrontendConfig(spec);
}

int RunBatch(Accounting accounting) {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::cout << CostBatchLine(line, accounting).dump() << "\n";
  }
  std::cout.flush();
  return 0;
}

Args CostArgs() {
  Args args("cost", "ARCH.json [options]  |  unas cost --jsonl [--accounting A] < lines",
            "Exact resource costs of a candidate architecture (uNAS JSON format; '-' reads stdin):\n"
            "flash, MACs, peak SRAM under the build order and the best execution order, an arena\n"
            "layout, an estimated latency on a named MCU, and the peak with partial execution\n"
            "(channel-sliced operator chains, docs/pex.md) with its schedule and layout.");
  AddInputSpecFlags(args);
  args.Flag("accounting", "unas|tflm|tflm_cmsis_nn|firmware",
            "memory accounting (see docs/cost-model.md): tflm is TFLM with its reference kernels, tflm_cmsis_nn "
            "with CMSIS-NN's; partial execution is planned in firmware's",
            "tflm");
  args.Flag("mcu", "NAME", "estimate latency on this MCU profile (see --list-mcus; NAME@<N>mhz for another clock)");
  args.Flag("board", "NAME", "check against this board's memory (less the runtime's reserve) and, without --mcu, "
                             "estimate latency with its core's profile at its clock (see --list-boards)");
  args.Flag("audio-frontend", "default|NAME=VALUE,...",
            "a keyword model: add its audio front end (docs/keyword-spotting.md; the job's audio fields window_ms, "
            "stride_ms, mel_channels, lower_hz, upper_hz, features, mfcc_coefficients) to flash, SRAM and latency; "
            "the input shape defaults to its frames x features x 1");
  args.Switch("json", "print the report as JSON");
  args.Switch("no-pex", "skip the partial-execution plan (see docs/pex.md)");
  args.Switch("jsonl", "batch mode: one {input_shape,num_classes,architecture} object per stdin line");
  args.Switch("list-mcus", "list the MCU profiles and exit");
  args.Switch("list-boards", "list the boards and exit");
  return args;
}

void ListMcus() {
  for (const McuProfile& p : McuProfiles()) std::cout << p.name << "\t" << p.description << "\n";
}

void ListBoards() {
  for (const Board& b : Boards()) {
    std::cout << b.name << "\t" << b.core << (b.dsp ? "" : " (no DSP)") << "\t" << b.clock_hz / 1e6 << " MHz\t"
              << FormatByteSize(b.sram_bytes) << " SRAM\t" << FormatByteSize(b.flash_bytes) << " flash\t"
              << b.description << "\n";
  }
}

// What --mcu and --board ask the report for: a latency profile (--mcu, or
// the board's core at its clock) and the board with its budget in the
// accounting.
struct CostTarget {
  const McuProfile* mcu = nullptr;
  const Board* board = nullptr;
  std::optional<ModelBudget> budget;
};

// Errors name the flag ("--mcu: ...").
Result<CostTarget> ReadCostTarget(const Args& args, Accounting accounting) {
  CostTarget target;
  if (args.Has("mcu")) {
    auto found = FindMcu(args.Get("mcu"));
    if (!found.ok()) return Status(found.status().code(), "--mcu: " + found.status().message());
    target.mcu = *found;
  }
  if (args.Has("board")) {
    auto found = FindBoard(args.Get("board"));
    auto b = found.ok() ? BoardBudget(**found, accounting) : Result<ModelBudget>(found.status());
    if (!b.ok()) return Status(b.status().code(), "--board: " + b.status().message());
    target.board = *found;
    target.budget = *b;
    if (!target.mcu) {
      if (auto profile = BoardProfile(*target.board, accounting); profile.ok()) target.mcu = *profile;
    }
  }
  return target;
}

// The candidate in `path` ('-': stdin) built for `spec`; errors name the file.
Result<Network> ReadNetwork(const std::string& path, const InputSpec& spec) {
  UNAS_ASSIGN_OR_RETURN(std::string text, ReadAll(path));
  auto candidate = ParseCandidate(text);
  if (!candidate.ok()) return Status(candidate.status().code(), path + ": " + candidate.status().message());
  return BuildNetwork(*candidate, spec);
}

// --audio-frontend: the keyword front end's cost, and the input shape it
// gives the network (or a check that --input-shape is that shape). Errors
// name the flag.
Result<std::optional<FrontendCost>> ReadFrontendCost(const Args& args, InputSpec* spec) {
  if (!args.Has("audio-frontend")) return std::optional<FrontendCost>();
  auto config = ParseAudioFrontend(args.Get("audio-frontend"));
  auto cost = config.ok() ? EstimateFrontendCost(*config) : Result<FrontendCost>(config.status());
  if (!cost.ok()) return Status(cost.status().code(), "--audio-frontend: " + cost.status().message());
  const int frames = unas_frontend_frames(&*config), features = unas_frontend_features_per_frame(&*config);
  if (!args.Has("input-shape")) {
    spec->height = frames;
    spec->width = features;
    spec->channels = 1;
  } else if (spec->height != frames || spec->width != features || spec->channels != 1) {
    return Status::Invalid("--input-shape " + args.Get("input-shape") + " is not the front end's " +
                           std::to_string(frames) + "," + std::to_string(features) + ",1");
  }
  return std::optional<FrontendCost>(*cost);
}

// The partial-execution plan's peak, with the front end's scratch when it has
// one: the front end runs before the network, whatever its schedule. 0 when
// there is no plan.
int64_t PexPeakWithFrontend(const std::optional<PexPlan>& pex, const std::optional<FrontendCost>& frontend,
                            Accounting accounting) {
  if (!pex) return 0;
  if (!frontend) return pex->peak_bytes;
  CostSummary with_frontend;
  with_frontend.peak_sram_bytes = pex->peak_bytes;
  std::optional<double> no_latency;
  AddFrontendCost(*frontend, accounting, nullptr, with_frontend, no_latency);
  return with_frontend.peak_sram_bytes;
}

// The report as --json asks (JSON) or as a table; `pex` when planned, with
// its peak as PexPeakWithFrontend gives it.
void PrintCostReport(bool json, const Network& network, const CostReport& report, const std::optional<PexPlan>& pex,
                     int64_t pex_peak_bytes, const CostTarget& target) {
  // The board's verdict: the accounting's peak SRAM and the weights against
  // what the board leaves the model.
  const std::optional<ModelBudget>& budget = target.budget;
  const Board* board = target.board;
  const bool fits = budget && report.summary.peak_sram_bytes <= budget->sram_bytes &&
                    report.summary.flash_bytes <= budget->flash_bytes;
  if (json) {
    nlohmann::json out = CostReportToJson(network, report);
    if (pex) {
      out["pex_peak_sram_bytes"] = pex_peak_bytes;
      out["partial_execution"] = PexPlanToJson(network, *pex);
    }
    if (board) {
      out["board"] = {{"name", board->name},
                      {"sram_budget_bytes", budget->sram_bytes},
                      {"flash_budget_bytes", budget->flash_bytes},
                      {"fits", fits}};
    }
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::cout << FormatCostTable(network, report);
  if (board) {
    std::cout << "board             " << board->name << ": " << (fits ? "fits" : "does NOT fit") << " (peak SRAM "
              << FormatByteSize(report.summary.peak_sram_bytes) << " of " << FormatByteSize(budget->sram_bytes)
              << ", flash " << FormatByteSize(report.summary.flash_bytes) << " of "
              << FormatByteSize(budget->flash_bytes) << " after the runtime's reserve)\n";
  }
  if (pex) std::cout << FormatPexPlan(network, *pex);
}

}  // namespace

int RunCost(const std::vector<std::string>& argv) {
  Args args = CostArgs();
  if (auto rc = args.ParseOrExit(argv)) return *rc;
  if (args.On("list-mcus")) {
    ListMcus();
    return 0;
  }
  if (args.On("list-boards")) {
    ListBoards();
    return 0;
  }
  auto accounting = ParseAccounting(args.Get("accounting"));
  if (!accounting.ok()) {
    std::cerr << "unas cost: --" << accounting.status().message() << "\n";
    return 2;
  }
  if (args.On("jsonl")) {
    if (!args.positional().empty()) {
      std::cerr << "unas cost: --jsonl reads standard input and takes no file\n";
      return 2;
    }
    return RunBatch(*accounting);
  }
  if (args.positional().size() != 1) {
    std::cerr << "unas cost: expected one architecture file (see 'unas cost --help')\n";
    return 2;
  }
  auto target = ReadCostTarget(args, *accounting);
  if (!target.ok()) {
    std::cerr << "unas cost: " << target.status().message() << "\n";
    return 2;
  }
  auto spec = GetInputSpec(args);
  if (!spec.ok()) {
    std::cerr << "unas cost: " << spec.status().message() << "\n";
    return 2;
  }
  auto frontend = ReadFrontendCost(args, &*spec);
  if (!frontend.ok()) {
    std::cerr << "unas cost: " << frontend.status().message() << "\n";
    return 2;
  }
  auto network = ReadNetwork(args.positional()[0], *spec);
  if (!network.ok()) {
    std::cerr << "unas cost: " << network.status().message() << "\n";
    return 1;
  }
  auto report = CostNetwork(*network, *accounting, target->mcu);
  if (!report.ok()) {
    std::cerr << "unas cost: " << report.status().message() << "\n";
    return 1;
  }
  if (*frontend) AddFrontendToReport(**frontend, *report);
  std::optional<PexPlan> pex;
  if (!args.On("no-pex")) {
    auto plan = PlanPartialExecution(*network, *accounting);
    if (!plan.ok()) {
      std::cerr << "unas cost: partial execution: " << plan.status().message() << "\n";
      return 1;
    }
    pex = std::move(plan).value();
  }
  PrintCostReport(args.On("json"), *network, *report, pex, PexPeakWithFrontend(pex, *frontend, *accounting), *target);
  return 0;
}

}  // namespace unas::cli
