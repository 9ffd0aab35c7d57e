// unas cost: the cost model on one candidate, or a JSON-lines batch.
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "costmodel/boards.h"
#include "costmodel/byte_units.h"
#include "costmodel/cost_model.h"
#include "costmodel/partial_execution.h"
#include "costmodel/pex_report.h"
#include "costmodel/report.h"

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

int RunBatch(Accounting accounting) {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::cout << CostBatchLine(line, accounting).dump() << "\n";
  }
  std::cout.flush();
  return 0;
}

}  // namespace

int RunCost(const std::vector<std::string>& argv) {
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
  args.Switch("json", "print the report as JSON");
  args.Switch("no-pex", "skip the partial-execution plan (see docs/pex.md)");
  args.Switch("jsonl", "batch mode: one {input_shape,num_classes,architecture} object per stdin line");
  args.Switch("list-mcus", "list the MCU profiles and exit");
  args.Switch("list-boards", "list the boards and exit");
  if (auto rc = args.ParseOrExit(argv)) return *rc;
  if (args.On("list-mcus")) {
    for (const McuProfile& p : McuProfiles()) std::cout << p.name << "\t" << p.description << "\n";
    return 0;
  }
  if (args.On("list-boards")) {
    for (const Board& b : Boards()) {
      std::cout << b.name << "\t" << b.core << (b.dsp ? "" : " (no DSP)") << "\t" << b.clock_hz / 1e6 << " MHz\t"
                << FormatByteSize(b.sram_bytes) << " SRAM\t" << FormatByteSize(b.flash_bytes) << " flash\t"
                << b.description << "\n";
    }
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
  const McuProfile* mcu = nullptr;
  if (args.Has("mcu")) {
    auto found = FindMcu(args.Get("mcu"));
    if (!found.ok()) {
      std::cerr << "unas cost: --mcu: " << found.status().message() << "\n";
      return 2;
    }
    mcu = *found;
  }
  const Board* board = nullptr;
  std::optional<ModelBudget> budget;
  if (args.Has("board")) {
    auto found = FindBoard(args.Get("board"));
    auto b = found.ok() ? BoardBudget(**found, *accounting) : Result<ModelBudget>(found.status());
    if (!b.ok()) {
      std::cerr << "unas cost: --board: " << b.status().message() << "\n";
      return 2;
    }
    board = *found;
    budget = *b;
    if (!mcu) {
      if (auto profile = BoardProfile(*board, *accounting); profile.ok()) mcu = *profile;
    }
  }
  auto spec = GetInputSpec(args);
  if (!spec.ok()) {
    std::cerr << "unas cost: " << spec.status().message() << "\n";
    return 2;
  }
  const std::string path = args.positional()[0];
  auto text = ReadAll(path);
  if (!text.ok()) {
    std::cerr << "unas cost: " << text.status().message() << "\n";
    return 1;
  }
  auto candidate = ParseCandidate(*text);
  if (!candidate.ok()) {
    std::cerr << "unas cost: " << path << ": " << candidate.status().message() << "\n";
    return 1;
  }
  auto network = BuildNetwork(*candidate, *spec);
  if (!network.ok()) {
    std::cerr << "unas cost: " << network.status().message() << "\n";
    return 1;
  }
  auto report = CostNetwork(*network, *accounting, mcu);
  if (!report.ok()) {
    std::cerr << "unas cost: " << report.status().message() << "\n";
    return 1;
  }
  std::optional<PexPlan> pex;
  if (!args.On("no-pex")) {
    auto plan = PlanPartialExecution(*network, *accounting);
    if (!plan.ok()) {
      std::cerr << "unas cost: partial execution: " << plan.status().message() << "\n";
      return 1;
    }
    pex = std::move(plan).value();
  }
  // The board's verdict: the accounting's peak SRAM and the weights against
  // what the board leaves the model.
  const bool fits = budget && report->summary.peak_sram_bytes <= budget->sram_bytes &&
                    report->summary.flash_bytes <= budget->flash_bytes;
  if (args.On("json")) {
    nlohmann::json out = CostReportToJson(*network, *report);
    if (pex) {
      out["pex_peak_sram_bytes"] = pex->peak_bytes;
      out["partial_execution"] = PexPlanToJson(*network, *pex);
    }
    if (board) {
      out["board"] = {{"name", board->name},
                      {"sram_budget_bytes", budget->sram_bytes},
                      {"flash_budget_bytes", budget->flash_bytes},
                      {"fits", fits}};
    }
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << FormatCostTable(*network, *report);
    if (board) {
      std::cout << "board             " << board->name << ": " << (fits ? "fits" : "does NOT fit") << " (peak SRAM "
                << FormatByteSize(report->summary.peak_sram_bytes) << " of " << FormatByteSize(budget->sram_bytes)
                << ", flash " << FormatByteSize(report->summary.flash_bytes) << " of "
                << FormatByteSize(budget->flash_bytes) << " after the runtime's reserve)\n";
    }
    if (pex) std::cout << FormatPexPlan(*network, *pex);
  }
  return 0;
}

}  // namespace unas::cli
