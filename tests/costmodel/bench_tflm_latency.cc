// The calibration behind the TFLM latency profiles (costmodel/mcu.cc,
// docs/cost-model.md "Latency"): random int8 networks are written as
// .tflite files, a TFLM build (kept outside the repository) runs them on
// QEMU and reports instructions per operator, and this tool fits the
// profile's constants on some networks and reports the error on others.
//
//   bench_tflm_latency write DIR FIRST COUNT SEED
//       DIR/net_<k>/ for k = FIRST .. FIRST+COUNT-1: arch.json ({input_shape,
//       num_classes, architecture}), model.tflite (random weights, quantised
//       by quant/ on random images, operators in the tflm accounting's
//       order, as unas exports them), ops.json (per operator of the file:
//       its builtin code and the Network op it implements) and inputs.bin
//       (two random int8 inputs).
//   bench_tflm_latency fit DIR MEASUREMENT CALIBRATE HOLDOUT [PROFILE]
//       Reads DIR/net_<k>/MEASUREMENT (the harness's output: lines
//       "op_instructions <i> <name> <n>" for the first invoke and
//       "instructions <r>: <n>" per invoke) for the networks listed in
//       CALIBRATE and HOLDOUT (ranges "a-b", comma-separated); fits the
//       kernel-path model of costmodel/mcu.h (instructions per Network
//       operator, its TFLite operators summed) by non-negative least squares
//       on CALIBRATE, prints the table for mcu.cc and, per network, predicted
//       against measured instructions per inference (mean over invokes) with
//       the error. With PROFILE (a name from costmodel/mcu.cc) it evaluates
//       that profile instead of fitting.
//   bench_tflm_latency ops DIR MEASUREMENT RANGES: per Network operator,
//       what it is and its measured instructions.
//   bench_tflm_latency models DIR...: the same evaluation for trained
//       models: each DIR holds arch.json and MEASUREMENT files.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "costmodel/cost_model.h"
#include "costmodel/lowering.h"
#include "costmodel/mcu.h"
#include "costmodel/reference_executor.h"
#include "quant/quantize.h"
#include "tests/costmodel/path_fit.h"
#include "tests/costmodel/random_candidates.h"
#include "tests/costmodel/random_images.h"
#include "tflite/writer.h"

namespace unas {
namespace {

using nlohmann::json;

int Uniform(std::mt19937_64& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

// Wider than the firmware tests' networks: filters up to 64, dense up to 128.
Candidate WideRandomCandidate(std::mt19937_64& rng) {
  testing::DrawnCandidateShape wide;
  wide.max_blocks = 5;
  wide.max_layers = 2;
  wide.min_filters = 4;
  wide.max_filters = 64;
  wide.prepool_in = 1;  // 1 in 4
  wide.prepool_of = 4;
  wide.pooling_in_ten = 9;
  wide.max_pool_half = 2;
  wide.max_units = 128;
  return testing::DrawCandidate(rng, wide);
}

constexpr InputSpec kInputs[] = {{28, 28, 1, 10}, {32, 32, 3, 10}, {49, 10, 1, 12}, {40, 40, 1, 4}};

Status WriteFile(const std::string& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  return out ? Status::Ok() : Status::Internal("cannot write " + path);
}

Status WriteNetwork(const std::string& dir, uint64_t seed, std::mt19937_64& rng) {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const Candidate c = WideRandomCandidate(rng);
    const InputSpec input = kInputs[Uniform(rng, 0, 3)];
    auto network = BuildNetwork(c, input);
    if (!network.ok()) continue;
    auto summary = SummariseCosts(*network, Accounting::kTflm);
    if (!summary.ok()) return summary.status();
    // Small enough for QEMU runs of the reference kernels and the harness's
    // 384 KiB arena.
    if (summary->macs > 4'000'000 || summary->macs < 20'000 || summary->params > 150'000 ||
        summary->tflm_total_arena_bytes > 200'000) {
      continue;
    }
    UNAS_ASSIGN_OR_RETURN(CostReport report, CostNetwork(*network, Accounting::kTflm));
    UNAS_ASSIGN_OR_RETURN(ModelGraph graph,
                          quant::QuantizeWithImages(*network, RandomWeights(*network, seed),
                                                    testing::RandomImages(*network, 4, seed * 16)));
    std::vector<GraphOp> ops;
    json op_list = json::array();
    for (int x : report.tflm_order) {
      ops.push_back(graph.ops[x]);
      op_list.push_back({{"builtin_code", graph.ops[x].builtin_code}, {"source_op", graph.ops[x].source_op}});
    }
    graph.ops = std::move(ops);
    UNAS_ASSIGN_OR_RETURN(std::vector<uint8_t> file, WriteTflite(graph));
    if (std::system(("mkdir -p " + dir).c_str()) != 0) return Status::Internal("mkdir " + dir);
    const json arch = {{"input_shape", {input.height, input.width, input.channels}},
                       {"num_classes", input.num_classes},
                       {"architecture", CandidateToJson(c)}};
    const std::string a = arch.dump(1), o = op_list.dump();
    UNAS_RETURN_IF_ERROR(WriteFile(dir + "/arch.json", a.data(), a.size()));
    UNAS_RETURN_IF_ERROR(WriteFile(dir + "/ops.json", o.data(), o.size()));
    UNAS_RETURN_IF_ERROR(WriteFile(dir + "/model.tflite", file.data(), file.size()));
    std::vector<int8_t> inputs(static_cast<size_t>(2 * network->input_shape().elements()));
    for (int8_t& v : inputs) v = static_cast<int8_t>(Uniform(rng, -128, 127));
    UNAS_RETURN_IF_ERROR(WriteFile(dir + "/inputs.bin", inputs.data(), inputs.size()));
    std::printf("%s: %s, %lld MACs, %zu TFLite operators\n", dir.c_str(), OpKindName(network->ops[0].kind),
                static_cast<long long>(summary->macs), report.tflm_order.size());
    return Status::Ok();
  }
  return Status::ResourceExhausted("no candidate within the limits in 1000 draws");
}

// ---- fitting ----

struct Measured {
  std::string name;
  Network network;
  std::vector<double> op_instructions;  // by Network op (its TFLite operators summed)
  double total = 0;                     // mean instructions per invoke
};

Result<Network> NetworkOf(const std::string& dir) {
  std::ifstream in(dir + "/arch.json");
  std::stringstream s;
  s << in.rdbuf();
  const json arch = json::parse(s.str(), nullptr, false);
  if (arch.is_discarded()) return Status::Invalid(dir + "/arch.json: not JSON");
  UNAS_ASSIGN_OR_RETURN(InputSpec input, InputSpecFromJson(arch["input_shape"], arch["num_classes"]));
  UNAS_ASSIGN_OR_RETURN(Candidate c, CandidateFromJson(arch["architecture"]));
  return BuildNetwork(c, input);
}

Result<Measured> ReadMeasured(const std::string& dir, const std::string& measurement) {
  Measured m;
  m.name = dir;
  UNAS_ASSIGN_OR_RETURN(m.network, NetworkOf(dir));
  std::vector<int> source;
  {
    std::ifstream in(dir + "/ops.json");
    if (in) {
      std::stringstream s;
      s << in.rdbuf();
      for (const auto& o : json::parse(s.str())) source.push_back(o["source_op"].get<int>());
    } else {
      // A trained model written by unas: the lowered graph in the tflm order.
      UNAS_ASSIGN_OR_RETURN(CostReport report, CostNetwork(m.network, Accounting::kTflm));
      UNAS_ASSIGN_OR_RETURN(ModelGraph lowered, LowerNetwork(m.network));
      for (int x : report.tflm_order) source.push_back(lowered.ops[x].source_op);
    }
  }
  m.op_instructions.assign(m.network.ops.size(), 0);
  std::ifstream in(dir + "/" + measurement);
  if (!in) return Status::NotFound(dir + "/" + measurement);
  double sum = 0;
  int invokes = 0;
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string key;
    f >> key;
    if (key == "op_instructions") {
      int i = 0;
      std::string name;
      double n = 0;
      f >> i >> name >> n;
      if (i < 0 || i >= static_cast<int>(source.size())) return Status::Invalid(dir + ": operator " + std::to_string(i));
      m.op_instructions[source[i]] += n;
    } else if (key == "instructions") {
      std::string index;
      double n = 0;
      f >> index >> n;
      sum += n;
      ++invokes;
    }
  }
  if (invokes == 0) return Status::Invalid(dir + "/" + measurement + ": no invokes");
  m.total = sum / invokes;
  return m;
}

std::vector<int> ParseRanges(const std::string& text) {
  std::vector<int> out;
  std::istringstream s(text);
  for (std::string part; std::getline(s, part, ',');) {
    const size_t dash = part.find('-');
    const int a = std::stoi(part.substr(0, dash));
    const int b = dash == std::string::npos ? a : std::stoi(part.substr(dash + 1));
    for (int k = a; k <= b; ++k) out.push_back(k);
  }
  return out;
}

// The kernel-path model fitted (testing::FitPathCosts) on every operator of
// the calibration networks.
PathCostTable Fit(const std::vector<Measured>& nets) {
  std::vector<testing::MeasuredOp> ops;
  for (const Measured& m : nets) {
    for (size_t j = 0; j < m.network.ops.size(); ++j) {
      ops.push_back({m.network.ops[j], m.op_instructions[j], &m.network});
    }
  }
  return testing::FitPathCosts(ops);
}

// Prints per-network errors; returns the largest |relative error|.
double Report(const char* title, const std::vector<Measured>& nets, const McuProfile& p) {
  std::printf("\n%s\n%-40s %12s %12s %8s\n", title, "network", "measured", "predicted", "error");
  double worst = 0, sum = 0;
  for (const Measured& m : nets) {
    const double predicted = EstimateLatency(p, m.network).cycles;
    const double error = (predicted - m.total) / m.total;
    worst = std::max(worst, std::fabs(error));
    sum += std::fabs(error);
    std::printf("%-40s %12.0f %12.0f %+7.1f%%\n", m.name.c_str(), m.total, predicted, 100 * error);
  }
  if (!nets.empty()) {
    std::printf("mean |error| %.1f%%, largest %.1f%% over %zu networks\n", 100 * sum / nets.size(), 100 * worst,
                nets.size());
  }
  return worst;
}

int Usage() {
  std::cerr << "usage: bench_tflm_latency write DIR FIRST COUNT SEED\n"
               "       bench_tflm_latency fit DIR MEASUREMENT CALIBRATE HOLDOUT [PROFILE]\n"
               "       bench_tflm_latency models PROFILE MEASUREMENT DIR...\n";
  return 2;
}

int Main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 5 && args[0] == "write") {
    const int first = std::stoi(args[2]), count = std::stoi(args[3]);
    std::mt19937_64 rng(std::stoull(args[4]));
    for (int k = first; k < first + count; ++k) {
      Status s = WriteNetwork(args[1] + "/net_" + std::to_string(k), std::stoull(args[4]) * 1000 + k, rng);
      if (!s.ok()) {
        std::cerr << s.message() << "\n";
        return 1;
      }
    }
    return 0;
  }
  if ((args.size() == 5 || args.size() == 6) && args[0] == "fit") {
    std::vector<Measured> calibrate, holdout;
    for (auto [list, into] : {std::pair{ParseRanges(args[3]), &calibrate}, std::pair{ParseRanges(args[4]), &holdout}}) {
      for (int k : list) {
        auto m = ReadMeasured(args[1] + "/net_" + std::to_string(k), args[2]);
        if (!m.ok()) {
          std::cerr << m.status().message() << "\n";
          return 1;
        }
        into->push_back(std::move(*m));
      }
    }
    McuProfile p;
    static PathCostTable fitted;
    if (args.size() == 6) {
      auto found = FindMcu(args[5]);
      if (!found.ok()) {
        std::cerr << found.status().message() << "\n";
        return 1;
      }
      p = **found;
    } else {
      fitted = Fit(calibrate);
      testing::PrintPathCosts(fitted);
      p.clock_hz = 1;
      p.paths = &fitted;
    }
    Report("calibration networks", calibrate, p);
    Report("held-out networks", holdout, p);
    return 0;
  }
  if (args.size() == 4 && args[0] == "ops") {
    // Per Network operator of every listed network: what it is and what it took.
    for (int k : ParseRanges(args[3])) {
      auto m = ReadMeasured(args[1] + "/net_" + std::to_string(k), args[2]);
      if (!m.ok()) {
        std::cerr << m.status().message() << "\n";
        return 1;
      }
      for (size_t j = 0; j < m->network.ops.size(); ++j) {
        const Op& op = m->network.ops[j];
        std::printf("net_%d %2zu %-28s in %-10s out %-10s macs %9lld instr %9.0f per_mac %7.2f\n", k, j,
                    op.Describe().c_str(), op.in.ToString().c_str(), op.out.ToString().c_str(),
                    static_cast<long long>(op.macs()), m->op_instructions[j],
                    op.macs() ? m->op_instructions[j] / static_cast<double>(op.macs()) : 0.0);
      }
    }
    return 0;
  }
  if (args.size() >= 4 && args[0] == "models") {
    auto found = FindMcu(args[1]);
    if (!found.ok()) {
      std::cerr << found.status().message() << "\n";
      return 1;
    }
    std::vector<Measured> nets;
    for (size_t k = 3; k < args.size(); ++k) {
      auto m = ReadMeasured(args[k], args[2]);
      if (!m.ok()) {
        std::cerr << m.status().message() << "\n";
        return 1;
      }
      nets.push_back(std::move(*m));
    }
    Report("trained models", nets, **found);
    return 0;
  }
  return Usage();
}

}  // namespace
}  // namespace unas

int main(int argc, char** argv) { return unas::Main(argc, argv); }
