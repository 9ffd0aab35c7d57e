// The firmware benchmark behind docs/firmware.md: per network, predicted vs
// measured flash, arena and stack of the whole-tensor and partial-execution
// builds, instructions per inference on Cortex-M4 and M7 (QEMU, -icount),
// int8 agreement with the float network; then a least-squares calibration
// of instructions per operator kind on training networks, with its error on
// held-out ones. Needs arm-none-eabi-gcc and qemu-system-arm.
//
//   bench_firmware [--calibrate-only | --reference] [ARCH.json ...]
//   (default networks: examples/*.json and four random ones; --reference:
//   the μNAS reference candidates of ../shared/testdata with at most 1.5 M
//   MACs and 200,000 parameters, then no calibration)
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "costmodel/cost_model.h"
#include "costmodel/reference_executor.h"
#include "firmware/generator.h"
#include "quant/int8_executor.h"
#include "quant/quantize.h"
#include "tests/firmware/c_build.h"
#include "tests/firmware/test_networks.h"

namespace unas::firmware {
namespace {

constexpr int kInputs = 2;

struct Build {
  int64_t arena = 0, stack_m4 = 0, instr_m4 = 0, instr_m7 = 0, model_flash = 0, kernels_flash = 0;
  std::vector<int64_t> steps;  // profiled instructions per step (M4)
  PexPlan plan;
};

Result<Build> BuildAndRun(const testing::QuantisedModel& m, bool partial, bool profile) {
  FirmwareOptions options;
  options.partial_execution = partial;
  UNAS_ASSIGN_OR_RETURN(CLibrary lib, GenerateCLibrary(m.q, options));
  testing::TempDir dir;
  UNAS_RETURN_IF_ERROR(WriteCLibrary(dir.path(), lib));
  const std::vector<int8_t> inputs = testing::RandomInputs(m.q.network, kInputs, 77);
  UNAS_RETURN_IF_ERROR(testing::WriteTestInputs(dir.path(), inputs, lib.input_bytes));
  Build b;
  b.arena = lib.arena_bytes;
  b.plan = lib.plan;
  for (const char* cpu : {"cortex-m4", "cortex-m7"}) {
    const bool m4 = std::string(cpu) == "cortex-m4";
    UNAS_ASSIGN_OR_RETURN(testing::ArmRun run, testing::RunOnArm(dir.path(), cpu, m4 ? "mps2-an386" : "mps2-an500",
                                                                  kInputs, lib.output_bytes, profile && m4));
    for (int k = 0; k < kInputs; ++k) {
      const std::vector<int8_t> in(inputs.begin() + k * lib.input_bytes, inputs.begin() + (k + 1) * lib.input_bytes);
      UNAS_ASSIGN_OR_RETURN(std::vector<int8_t> expected, quant::RunInt8(m.graph, in));
      if (run.outputs[k] != expected) return Status::Internal(std::string(cpu) + ": output differs from RunInt8");
    }
    if (run.arena_symbol_bytes != lib.arena_bytes) return Status::Internal("arena size differs");
    (m4 ? b.instr_m4 : b.instr_m7) = run.instructions[0];
    if (m4) {
      b.stack_m4 = run.stack_bytes;
      b.model_flash = run.model_flash_bytes;
      b.kernels_flash = run.kernels_flash_bytes;
      b.steps = run.step_instructions;
    }
  }
  return b;
}

// Fraction of random images whose int8 arg-max equals the float network's.
double Agreement(const Network& network, uint64_t seed, const testing::QuantisedModel& m) {
  const ReferenceWeights w = RandomWeights(network, seed);
  int agree = 0, total = 32;
  for (int k = 0; k < total; ++k) {
    const std::vector<float> image = RandomInput(network, 1000 + k);
    auto f = RunWhole(network, w, image);
    auto q = quant::RunInt8(m.graph, quant::QuantizeInput(m.graph, image));
    if (f.ok() && q.ok()) agree += quant::ArgMax(f->output) == quant::ArgMax(*q);
  }
  return static_cast<double>(agree) / total;
}

// Operator kinds of mcu.h's profile, in its order.
int KindIndex(const Op& op) {
  switch (op.kind) {
    case OpKind::kConv2D: return op.kernel == 1 ? 1 : 0;
    case OpKind::kDWConv2D: return 2;
    case OpKind::kDense: return 3;
    case OpKind::kMaxPool:
    case OpKind::kAvgPool: return 4;
    case OpKind::kAdd: return 5;
  }
  return 0;
}
const char* kKindNames[] = {"conv", "pointwise", "depthwise", "dense", "pool", "add"};
// Six per-MAC slopes, one per requantised output element (conv, depthwise,
// dense: the multiply-by-quantized-multiplier of every output) and one
// per-operator intercept, as mcu.h's profile has them.
constexpr int kUnknowns = 8;

// Solves the normal equations (A^T A) x = A^T y by Gaussian elimination.
// Rows arrive scaled by 1 / sqrt(y): a compromise between absolute errors
// (dominated by the largest operators) and relative ones (which let the many
// small operators pull every slope down).
std::vector<double> LeastSquares(const std::vector<std::array<double, kUnknowns>>& rows, const std::vector<double>& y) {
  double ata[kUnknowns][kUnknowns + 1] = {};
  for (size_t r = 0; r < rows.size(); ++r) {
    for (int i = 0; i < kUnknowns; ++i) {
      for (int j = 0; j < kUnknowns; ++j) ata[i][j] += rows[r][i] * rows[r][j];
      ata[i][kUnknowns] += rows[r][i] * y[r];
    }
  }
  for (int i = 0; i < kUnknowns; ++i) {
    if (ata[i][i] == 0) ata[i][i] = 1;  // a kind never seen: slope 0
    for (int k = 0; k < kUnknowns; ++k) {
      if (k == i) continue;
      const double f = ata[k][i] / ata[i][i];
      for (int j = i; j <= kUnknowns; ++j) ata[k][j] -= f * ata[i][j];
    }
  }
  std::vector<double> x(kUnknowns);
  for (int i = 0; i < kUnknowns; ++i) x[i] = ata[i][kUnknowns] / ata[i][i];
  return x;
}

std::array<double, kUnknowns> Row(const Op& op) {
  std::array<double, kUnknowns> row{};
  row[KindIndex(op)] = static_cast<double>(op.macs());
  const bool requantised = op.kind == OpKind::kConv2D || op.kind == OpKind::kDWConv2D || op.kind == OpKind::kDense;
  row[6] = requantised ? static_cast<double>(op.out.elements()) : 0.0;
  row[7] = 1;
  return row;
}

Network Load(const std::string& path) {
  std::ifstream f(path);
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto c = ParseCandidate(text);
  if (!c.ok()) {
    std::cerr << path << ": " << c.status().message() << "\n";
    std::exit(2);
  }
  return *BuildNetwork(*c, InputSpec{28, 28, 1, 10});
}

std::vector<Network> RandomNetworks(uint64_t seed, int count) {
  std::mt19937_64 rng(seed);
  std::vector<Network> out;
  while (static_cast<int>(out.size()) < count) {
    auto n = BuildNetwork(testing::SmallRandomCandidate(rng), InputSpec{28, 28, 1, 10});
    if (n.ok()) out.push_back(*n);
  }
  return out;
}

int Main(int argc, char** argv) {
  if (!testing::HaveArmTools()) {
    std::cerr << "bench_firmware: arm-none-eabi-gcc and qemu-system-arm are needed\n";
    return 2;
  }
  std::vector<std::pair<std::string, Network>> networks;
  const bool calibrate_only = argc > 1 && std::string(argv[1]) == "--calibrate-only";
  const bool reference = argc > 1 && std::string(argv[1]) == "--reference";
  for (int i = calibrate_only || reference ? 2 : 1; i < argc; ++i) networks.push_back({argv[i], Load(argv[i])});
  if (reference) {
    std::ifstream f(UNAS_SHARED_DIR "/testdata/unas_reference_costs.jsonl");
    int index = 0;
    for (std::string line; std::getline(f, line); ++index) {
      const nlohmann::json j = nlohmann::json::parse(line);
      if (j["macs"].get<int64_t>() > 1500000 || j["model_size"].get<int64_t>() > 200000) continue;
      auto c = ParseCandidate(j["architecture"].dump());
      const InputSpec input{j["input_shape"][0], j["input_shape"][1], j["input_shape"][2], j["num_classes"]};
      auto n = c.ok() ? BuildNetwork(*c, input) : Result<Network>(c.status());
      if (!n.ok()) return std::cerr << "reference " << index << ": " << n.status().message() << "\n", 1;
      networks.push_back({"reference-" + std::to_string(index), *n});
    }
  }
  if (networks.empty() && !calibrate_only) {
    networks.push_back({"worked_example", Load(UNAS_SOURCE_DIR "/examples/worked_example.json")});
    networks.push_back({"fashion_mnist_larger", Load(UNAS_SOURCE_DIR "/examples/fashion_mnist_larger.json")});
    const std::vector<Network> random = RandomNetworks(31, 4);
    for (size_t i = 0; i < random.size(); ++i) networks.push_back({"random-" + std::to_string(i), random[i]});
  }
  std::printf("| network | ops | MACs | flash predicted | flash model + kernels | whole: arena + stack | pex: arena + stack "
              "| pex segments | instr. M4 whole / pex | instr. M7 whole / pex | int8 = float arg-max |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < networks.size(); ++i) {
    const auto& [name, network] = networks[i];
    auto m = testing::QuantiseRandom(network, 500 + i);
    if (!m.ok()) return std::cerr << name << ": " << m.status().message() << "\n", 1;
    auto report = CostNetwork(network, Accounting::kFirmware);
    auto whole = BuildAndRun(*m, false, false);
    auto pex = BuildAndRun(*m, true, false);
    if (!report.ok() || !whole.ok() || !pex.ok()) {
      std::cerr << name << ": " << (whole.ok() ? pex.status().message() : whole.status().message()) << "\n";
      return 1;
    }
    std::printf("| %s | %zu | %lld | %lld | %lld + %lld | %lld + %lld | %lld + %lld | %zu | %lld / %lld | %lld / %lld | %.0f%% |\n",
                name.c_str(), network.ops.size(), static_cast<long long>(report->summary.macs),
                static_cast<long long>(report->summary.flash_bytes), static_cast<long long>(whole->model_flash),
                static_cast<long long>(whole->kernels_flash), static_cast<long long>(whole->arena),
                static_cast<long long>(whole->stack_m4), static_cast<long long>(pex->arena),
                static_cast<long long>(pex->stack_m4), pex->plan.segments.size(),
                static_cast<long long>(whole->instr_m4), static_cast<long long>(pex->instr_m4),
                static_cast<long long>(whole->instr_m7), static_cast<long long>(pex->instr_m7),
                100 * Agreement(network, 500 + i, *m));
    std::fflush(stdout);
  }
  if (reference) return 0;
  // Calibration: whole builds, each step one operator.
  std::vector<std::array<double, kUnknowns>> rows;
  std::vector<double> y;
  const std::vector<Network> train = RandomNetworks(1234, 16), test = RandomNetworks(5678, 8);
  for (size_t i = 0; i < train.size(); ++i) {
    auto m = testing::QuantiseRandom(train[i], 900 + i);
    if (!m.ok()) return 1;
    auto b = BuildAndRun(*m, false, true);
    if (!b.ok()) return std::cerr << b.status().message() << "\n", 1;
    for (size_t s = 0; s < b->steps.size(); ++s) {
      const double measured = static_cast<double>(std::max<int64_t>(b->steps[s], 40));
      auto row = Row(train[i].ops[b->plan.steps[b->plan.order[s]].op]);
      for (double& v : row) v /= std::sqrt(measured);
      rows.push_back(row);
      y.push_back(std::sqrt(measured));
    }
  }
  const std::vector<double> x = LeastSquares(rows, y);
  std::printf("\nFitted on %zu operators of %zu networks (Cortex-M4, whole builds):\n\n| kind | instructions per MAC |\n|---|---|\n",
              rows.size(), train.size());
  for (int k = 0; k < 6; ++k) std::printf("| %s | %.2f |\n", kKindNames[k], x[k]);
  std::printf("| per requantised output element | %.1f |\n", x[6]);
  std::printf("| per operator | %.0f |\n\n| held-out network | ops | MACs | measured M4 | predicted | error |\n|---|---|---|---|---|---|\n", x[7]);
  double sum_abs = 0;
  for (size_t i = 0; i < test.size(); ++i) {
    auto m = testing::QuantiseRandom(test[i], 950 + i);
    if (!m.ok()) return 1;
    auto b = BuildAndRun(*m, false, false);
    if (!b.ok()) return std::cerr << b.status().message() << "\n", 1;
    double predicted = 0;
    int64_t macs = 0;
    for (const Op& op : test[i].ops) {
      const auto row = Row(op);
      for (int k = 0; k < kUnknowns; ++k) predicted += row[k] * x[k];
      macs += op.macs();
    }
    const double error = (predicted - static_cast<double>(b->instr_m4)) / static_cast<double>(b->instr_m4);
    sum_abs += std::fabs(error);
    std::printf("| test-%zu | %zu | %lld | %lld | %.0f | %+.1f%% |\n", i, test[i].ops.size(),
                static_cast<long long>(macs), static_cast<long long>(b->instr_m4), predicted, 100 * error);
    std::fflush(stdout);
  }
  std::printf("\nMean absolute error on held-out networks: %.1f%%\n", 100 * sum_abs / test.size());
  return 0;
}

}  // namespace
}  // namespace unas::firmware

int main(int argc, char** argv) { return unas::firmware::Main(argc, argv); }
