// The firmware benchmark behind docs/firmware.md. Needs arm-none-eabi-gcc
// and qemu-system-arm; every build's outputs are checked against
// quant::RunInt8 on the quantised graph.
//
//   bench_firmware [--speed] [MODEL ...]
//     Instructions per inference (QEMU -icount, mean of 3 random inputs) of
//     the whole-tensor build: Cortex-M4 -Os and -O2 (DSP path), the portable
//     C on the M4 at -O2 (-DUNAS_PORTABLE), Cortex-M7 -O2, Cortex-M0+ -O2
//     (ARMv6-M code on QEMU's M3 board); flash (model + kernels, M4 -O2) and
//     arena + stack. MODEL: worked_example, fashion_mnist_larger,
//     reference-N (line N of ../shared/testdata/unas_reference_costs.jsonl),
//     ARCH.json (28x28x1, 10 classes; random weights, quantised), or
//     ARCH.json=DIR for a trained model (DIR/model.tflite as `unas train
//     --out DIR` writes it). Default: the five benchmark networks of issue
//     #26 with random weights. Options: --images FILE (an IDX3 file of 8-bit
//     images: the first three, quantised as the model's input, instead of
//     random inputs), --inputs-out DIR (writes each model's input vectors
//     to DIR/NAME.bin and the outputs to DIR/NAME.out.bin, for running
//     another runtime on the same inputs).
//   bench_firmware --pex [ARCH.json ...]
//     Whole vs partial execution: flash, arena + stack and instructions on
//     M4 and M7 (-Os), int8 agreement with the float network (the examples
//     and four random networks by default).
//   bench_firmware --reference
//     --pex's table for the μNAS reference candidates with at most 1.5 M
//     MACs and 200,000 parameters.
//   bench_firmware --steps MODEL ...
//     Instructions of every step of the M4 -O2 build.
//   bench_firmware --arch reference-N
//     Prints the candidate's architecture (uNAS JSON, for `unas train`).
//   bench_firmware --emit MODEL DIR
//     Writes MODEL's whole-execution C library to DIR/c (with
//     DIR/c/test_inputs.h for tests/firmware/arm_main.c: 3 random inputs).
//   bench_firmware --calibrate CPU FILE [--held-out-only]
//     Measurements for the unas-c latency profile of CPU (cortex-m4 and
//     cortex-m7: -O2, the DSP path; cortex-m0plus: -O2, the portable C on
//     QEMU's M3 board): instructions per operator (a profiled build) of the
//     calibration networks, 12 random ones and the reference candidates at
//     even positions of --reference's list; instructions per inference
//     (unprofiled) of the held-out networks: the candidates at odd positions,
//     6 random networks of another seed and the two examples.
//     Appends to FILE; networks FILE has are skipped, so a stopped run
//     resumes. --held-out-only: only the held-out networks (to check one
//     core's fitted table on another). --held-out-ops [NETWORK ...]: the
//     held-out networks (or those named) profiled operator by operator
//     instead, into a file of their own (never fitted on).
//   bench_firmware --held-out-ops FILE PROFILE
//     Per operator of the held-out networks in FILE (--held-out-ops above):
//     measured instructions against PROFILE's estimate.
//   bench_firmware --fit FILE [PROFILE]
//     Fits the kernel-path model (costmodel/mcu.h) on FILE's calibration
//     operators by non-negative least squares, prints the table for mcu.cc
//     and the held-out networks' measured and predicted instructions; with
//     PROFILE (a name in costmodel/mcu.cc) evaluates that profile instead.
//   bench_firmware --fit FILE --cv
//     Leave-one-network-out cross-validation on the calibration networks
//     only (for choosing the model's terms without the held-out networks).
//   bench_firmware --ops FILE PROFILE
//     --held-out-ops's table for every network FILE has operators of (a
//     calibration file: the fit's residuals).
//   bench_firmware --list
//     The calibration and held-out networks, operator by operator.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "firmware/trial_library.h"
#include "costmodel/cost_model.h"
#include "costmodel/mcu.h"
#include "costmodel/reference_executor.h"
#include "firmware/generator.h"
#include "quant/int8_executor.h"
#include "quant/quantize.h"
#include "tests/costmodel/path_fit.h"
#include "tests/firmware/c_build.h"
#include "tests/firmware/test_networks.h"
#include "tflite/reader.h"

namespace unas::firmware {
namespace {

using testing::ArmTarget;

constexpr InputSpec kFashionMnist{28, 28, 1, 10};

ArmTarget Target(const std::string& cpu, const std::string& opt, const std::string& defines = "") {
  ArmTarget t;
  t.cpu = cpu;
  t.board = cpu == "cortex-m4" ? testing::kCortexM4Board
            : cpu == "cortex-m7" ? testing::kCortexM7Board
                                 : testing::kCortexM3Board;
  t.opt = opt;
  t.defines = defines;
  return t;
}

// A quantised model: random weights calibrated on random images, or a
// trained one read back from its .tflite.
struct Model {
  std::string name;
  Network network;
  testing::QuantisedModel m;
  bool trained = false;
};

Result<Network> LoadArchitecture(const std::string& path, const InputSpec& input) {
  std::ifstream f(path);
  if (!f) return Status::Invalid(path + ": cannot read");
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  UNAS_ASSIGN_OR_RETURN(Candidate c, ParseCandidate(text));
  return BuildNetwork(c, input);
}

// Line `index` of the reference costs (its own input shape).
Result<Network> ReferenceNetwork(int index, nlohmann::json* line_out = nullptr) {
  std::ifstream f(UNAS_SHARED_DIR "/testdata/unas_reference_costs.jsonl");
  int i = 0;
  for (std::string line; std::getline(f, line); ++i) {
    if (i != index) continue;
    const nlohmann::json j = nlohmann::json::parse(line);
    if (line_out) *line_out = j;
    UNAS_ASSIGN_OR_RETURN(Candidate c, ParseCandidate(j["architecture"].dump()));
    return BuildNetwork(c, InputSpec{j["input_shape"][0], j["input_shape"][1], j["input_shape"][2], j["num_classes"]});
  }
  return Status::Invalid("no reference candidate " + std::to_string(index));
}

Result<Model> RandomModel(const std::string& name, const Network& network, uint64_t seed) {
  Model model{name, network, {}, false};
  UNAS_ASSIGN_OR_RETURN(model.m, testing::QuantiseRandom(network, seed));
  return model;
}

Result<Model> LoadModel(const std::string& spec, uint64_t seed) {
  if (spec == "worked_example" || spec == "fashion_mnist_larger") {
    UNAS_ASSIGN_OR_RETURN(Network n, LoadArchitecture(UNAS_SOURCE_DIR "/examples/" + spec + ".json", kFashionMnist));
    return RandomModel(spec, n, seed);
  }
  if (spec.rfind("reference-", 0) == 0) {
    UNAS_ASSIGN_OR_RETURN(Network n, ReferenceNetwork(std::stoi(spec.substr(10))));
    return RandomModel(spec, n, seed);
  }
  const size_t eq = spec.find('=');
  if (eq == std::string::npos) {
    UNAS_ASSIGN_OR_RETURN(Network n, LoadArchitecture(spec, kFashionMnist));
    return RandomModel(spec, n, seed);
  }
  const std::string arch = spec.substr(0, eq), dir = spec.substr(eq + 1);
  UNAS_ASSIGN_OR_RETURN(Network network, LoadArchitecture(arch, kFashionMnist));
  UNAS_ASSIGN_OR_RETURN(ModelGraph graph, ReadTfliteFile(dir + "/model.tflite"));
  Model model{dir, network, {}, true};
  UNAS_ASSIGN_OR_RETURN(model.m.graph, MatchLoweredNetwork(network, graph));
  UNAS_ASSIGN_OR_RETURN(model.m.q, FromModelGraph(network, model.m.graph));
  return model;
}

// One generated library, built and run for several targets.
class Bench {
 public:
  // `input_data`: `inputs` vectors back to back; empty: random ones.
  Bench(const testing::QuantisedModel& m, bool partial, int inputs, std::vector<int8_t> input_data = {})
      : m_(m), inputs_(inputs), input_data_(std::move(input_data)) {
    FirmwareOptions options;
    options.partial_execution = partial;
    auto lib = GenerateCLibrary(m.q, options);
    if (!lib.ok()) {
      status_ = lib.status();
      return;
    }
    lib_ = *lib;
    if (input_data_.empty()) input_data_ = testing::RandomInputs(m.q.network, inputs, 77);
    status_ = WriteCLibrary(dir_.path(), lib_);
    if (status_.ok()) status_ = testing::WriteTestInputs(dir_.path(), input_data_, lib_.input_bytes);
  }
  const Status& status() const { return status_; }
  const CLibrary& lib() const { return lib_; }

  // Runs on the target; fails unless every output equals RunInt8's.
  Result<testing::ArmRun> Run(const ArmTarget& target) {
    UNAS_RETURN_IF_ERROR(status_);
    UNAS_ASSIGN_OR_RETURN(testing::ArmRun run, testing::RunOnArm(dir_.path(), target, inputs_, lib_.output_bytes));
    for (int k = 0; k < inputs_; ++k) {
      const std::vector<int8_t> in(input_data_.begin() + k * lib_.input_bytes,
                                   input_data_.begin() + (k + 1) * lib_.input_bytes);
      UNAS_ASSIGN_OR_RETURN(std::vector<int8_t> expected, quant::RunInt8(m_.graph, in));
      if (run.outputs[k] != expected) {
        return Status::Internal(target.cpu + " " + target.opt + " " + target.defines + ": output differs from RunInt8");
      }
    }
    if (run.arena_symbol_bytes != lib_.arena_bytes) return Status::Internal("arena size differs");
    return run;
  }

 private:
  const testing::QuantisedModel& m_;
  int inputs_;
  std::vector<int8_t> input_data_;
  Status status_;
  CLibrary lib_;
  testing::TempDir dir_;
};

int64_t Mean(const std::vector<int64_t>& v) {
  int64_t sum = 0;
  for (int64_t x : v) sum += x;
  return v.empty() ? 0 : (sum + static_cast<int64_t>(v.size()) / 2) / static_cast<int64_t>(v.size());
}

std::string Thousands(int64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

int Fail(const std::string& what, const Status& s) {
  std::cerr << what << ": " << s.message() << "\n";
  return 1;
}

// The first `count` images of an IDX3 file (raw 8-bit pixels, as a device
// reads them), each as the model's int8 input: x = pixel / 255 (unas's
// preprocessing of 8-bit images), quantised as TFLite's QUANTIZE does.
Result<std::vector<int8_t>> ImageInputs(const std::string& path, const ModelGraph& graph, const Network& network,
                                        int count) {
  std::ifstream f(path, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const Shape in = network.input_shape();
  const size_t pixels = static_cast<size_t>(in.elements());
  if (bytes.size() < 16 + pixels * count || bytes[2] != 0x08 || bytes[3] != 3) {
    return Status::Invalid(path + ": not an IDX3 file of at least " + std::to_string(count) + " " + in.ToString() +
                           " images");
  }
  std::vector<int8_t> out;
  for (int k = 0; k < count; ++k) {
    std::vector<float> image(pixels);
    for (size_t i = 0; i < pixels; ++i) image[i] = static_cast<float>(bytes[16 + k * pixels + i]) / 255.0f;
    const std::vector<int8_t> q = quant::QuantizeInput(graph, image);
    out.insert(out.end(), q.begin(), q.end());
  }
  return out;
}

// --speed
int Speed(const std::vector<std::string>& specs, const std::string& images, const std::string& inputs_out) {
  std::printf("| model | MACs | unas C -Os | unas C -O2 | portable C -O2 (M4) | M7 -O2 | M0+ -O2 | flash model + kernels "
              "(M4 -O2) | arena + stack (M4 -O2) |\n|---|---|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < specs.size(); ++i) {
    auto model = LoadModel(specs[i], 500 + i);
    if (!model.ok()) return Fail(specs[i], model.status());
    std::vector<int8_t> input_data;
    if (!images.empty()) {
      auto q = ImageInputs(images, model->m.graph, model->network, 3);
      if (!q.ok()) return Fail(images, q.status());
      input_data = *q;
    }
    if (!inputs_out.empty()) {
      // the same vectors for another runtime (e.g. a TFLM harness)
      const std::string base = model->name.substr(model->name.find_last_of('/') + 1);
      const std::vector<int8_t> data = input_data.empty() ? testing::RandomInputs(model->network, 3, 77) : input_data;
      const Status w = testing::WriteBytes(inputs_out + "/" + base + ".bin", data.data(), data.size());
      if (!w.ok()) return Fail(inputs_out, w);
    }
    Bench bench(model->m, false, 3, input_data);
    const ArmTarget targets[] = {Target("cortex-m4", "-Os"), Target("cortex-m4", "-O2"),
                                 Target("cortex-m4", "-O2", "-DUNAS_PORTABLE"), Target("cortex-m7", "-O2"),
                                 Target("cortex-m0plus", "-O2")};
    std::vector<testing::ArmRun> runs;
    for (const ArmTarget& t : targets) {
      auto run = bench.Run(t);
      if (!run.ok()) return Fail(model->name, run.status());
      runs.push_back(*run);
    }
    const testing::ArmRun& o2 = runs[1];
    if (!inputs_out.empty()) {
      // the outputs (all builds equal RunInt8's), to compare with another runtime's
      std::vector<int8_t> outputs;
      for (const auto& o : o2.outputs) outputs.insert(outputs.end(), o.begin(), o.end());
      const std::string base = model->name.substr(model->name.find_last_of('/') + 1);
      const Status w = testing::WriteBytes(inputs_out + "/" + base + ".out.bin", outputs.data(), outputs.size());
      if (!w.ok()) return Fail(inputs_out, w);
    }
    std::printf("| %s | %s | %s | %s | %s | %s | %s | %s + %s | %s + %s |\n", model->name.c_str(),
                Thousands(bench.lib().plan.macs).c_str(), Thousands(Mean(runs[0].instructions)).c_str(),
                Thousands(Mean(o2.instructions)).c_str(), Thousands(Mean(runs[2].instructions)).c_str(),
                Thousands(Mean(runs[3].instructions)).c_str(), Thousands(Mean(runs[4].instructions)).c_str(),
                Thousands(o2.model_flash_bytes).c_str(), Thousands(o2.kernels_flash_bytes).c_str(),
                Thousands(bench.lib().arena_bytes).c_str(), Thousands(o2.stack_bytes).c_str());
    std::fflush(stdout);
  }
  return 0;
}

// --steps: instructions of every step of the M4 -O2 build (profiled).
int Steps(const std::vector<std::string>& specs) {
  for (size_t i = 0; i < specs.size(); ++i) {
    auto model = LoadModel(specs[i], 500 + i);
    if (!model.ok()) return Fail(specs[i], model.status());
    Bench bench(model->m, false, 1);
    ArmTarget target = Target("cortex-m4", "-O2");
    target.profile = true;
    auto run = bench.Run(target);
    if (!run.ok()) return Fail(model->name, run.status());
    const PexPlan& plan = bench.lib().plan;
    std::printf("\n%s (M4 -O2, profiled)\n\n| step | op | in -> out | MACs | instructions | per MAC |\n|---|---|---|---|---|---|\n",
                model->name.c_str());
    for (size_t s = 0; s < run->step_instructions.size() && s < plan.order.size(); ++s) {
      const Op& op = model->network.ops[plan.steps[plan.order[s]].op];
      std::printf("| %zu | %s | %s -> %s | %lld | %lld | %.2f |\n", s, op.Describe().c_str(), op.in.ToString().c_str(),
                  op.out.ToString().c_str(), static_cast<long long>(op.macs()),
                  static_cast<long long>(run->step_instructions[s]),
                  static_cast<double>(run->step_instructions[s]) / std::max<int64_t>(1, op.macs()));
    }
  }
  return 0;
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

std::vector<Network> RandomNetworks(uint64_t seed, int count, const InputSpec& input = kFashionMnist) {
  std::mt19937_64 rng(seed);
  std::vector<Network> out;
  while (static_cast<int>(out.size()) < count) {
    auto n = BuildNetwork(testing::SmallRandomCandidate(rng), input);
    if (n.ok()) out.push_back(*n);
  }
  return out;
}

// The reference candidates with at most 1.5 M MACs and 200,000 parameters.
Result<std::vector<std::pair<std::string, Network>>> ReferenceNetworks() {
  std::vector<std::pair<std::string, Network>> out;
  std::ifstream f(UNAS_SHARED_DIR "/testdata/unas_reference_costs.jsonl");
  int index = 0;
  for (std::string line; std::getline(f, line); ++index) {
    const nlohmann::json j = nlohmann::json::parse(line);
    if (j["macs"].get<int64_t>() > 1500000 || j["model_size"].get<int64_t>() > 200000) continue;
    UNAS_ASSIGN_OR_RETURN(Network n, ReferenceNetwork(index));
    out.push_back({"reference-" + std::to_string(index), n});
  }
  return out;
}

// --pex and --reference: whole vs partial execution (-Os, M4 and M7).
int Pex(const std::vector<std::pair<std::string, Network>>& networks) {
  std::printf("| network | ops | MACs | flash predicted | flash model + kernels | whole: arena + stack | pex: arena + stack "
              "| pex segments | instr. M4 whole / pex | instr. M7 whole / pex | int8 = float arg-max |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < networks.size(); ++i) {
    const auto& [name, network] = networks[i];
    auto m = testing::QuantiseRandom(network, 500 + i);
    if (!m.ok()) return Fail(name, m.status());
    auto report = CostNetwork(network, Accounting::kFirmware);
    if (!report.ok()) return Fail(name, report.status());
    int64_t instr[2][2] = {};
    testing::ArmRun m4[2];
    Bench* benches[2] = {nullptr, nullptr};
    Bench whole(*m, false, 2), pex(*m, true, 2);
    benches[0] = &whole;
    benches[1] = &pex;
    for (int b = 0; b < 2; ++b) {
      for (int c = 0; c < 2; ++c) {
        auto run = benches[b]->Run(Target(c == 0 ? "cortex-m4" : "cortex-m7", "-Os"));
        if (!run.ok()) return Fail(name, run.status());
        instr[b][c] = run->instructions[0];
        if (c == 0) m4[b] = *run;
      }
    }
    std::printf("| %s | %zu | %lld | %lld | %lld + %lld | %lld + %lld | %lld + %lld | %zu | %lld / %lld | %lld / %lld | %.0f%% |\n",
                name.c_str(), network.ops.size(), static_cast<long long>(report->summary.macs),
                static_cast<long long>(report->summary.flash_bytes), static_cast<long long>(m4[0].model_flash_bytes),
                static_cast<long long>(m4[0].kernels_flash_bytes), static_cast<long long>(whole.lib().arena_bytes),
                static_cast<long long>(m4[0].stack_bytes), static_cast<long long>(pex.lib().arena_bytes),
                static_cast<long long>(m4[1].stack_bytes), pex.lib().plan.segments.size(),
                static_cast<long long>(instr[0][0]), static_cast<long long>(instr[1][0]),
                static_cast<long long>(instr[0][1]), static_cast<long long>(instr[1][1]),
                100 * Agreement(network, 500 + i, *m));
    std::fflush(stdout);
  }
  return 0;
}

Layer Pointwise(int filters, bool prepool = false, bool relu = true) {
  Layer l;
  l.type = LayerType::kConv1x1;
  l.filters = filters;
  l.has_prepool = prepool;
  l.has_relu = relu;
  return l;
}
Layer Convolution(int kernel, int filters, bool stride2, bool prepool = false) {
  Layer l = Pointwise(filters, prepool);
  l.type = LayerType::kConv2D;
  l.ker_size = kernel;
  l.stride2 = stride2;
  return l;
}
Layer Depthwise(int kernel, bool stride2, bool prepool = false) {
  Layer l = Convolution(kernel, 1, stride2, prepool);
  l.type = LayerType::kDWConv2D;
  return l;
}

// Seven networks on 32x32x3, one block per list of layers (prepools of 2x2
// on 15x15 and 7x7 inputs are clipped), a final pooling and one dense layer.
Result<std::vector<Network>> NarrowNetworks() {
  struct Spec {
    std::vector<std::vector<Layer>> blocks;
    PoolType pool;
    int pool_size, units;
    std::vector<bool> branch;  // per block: is_branch (none: no branches)
  };
  const std::vector<Spec> specs = {
      {{{Pointwise(3), Pointwise(2), Pointwise(3, false, false)},
        {Pointwise(1), Convolution(3, 3, true)},
        {Depthwise(3, false, true)}},
       PoolType::kMax, 2, 12, {}},
      {{{Pointwise(4), Pointwise(3), Pointwise(1, false, false)}, {Pointwise(2), Convolution(5, 2, true)},
        {Pointwise(3, true)}},
       PoolType::kAvg, 4, 16, {}},
      {{{Depthwise(3, true)}, {Pointwise(3, true), Pointwise(3)}, {Convolution(3, 2, false, true)}}, PoolType::kMax, 2, 10, {}},
      {{{Pointwise(2), Pointwise(1)}, {Depthwise(5, true)}, {Pointwise(3, true)}, {Pointwise(2, true)}}, PoolType::kMax, 4,
       14, {}},
      {{{Pointwise(3, false, false), Pointwise(4)},
        {Convolution(3, 3, true, true)},
        {Depthwise(3, false, true)},
        {Pointwise(1)}},
       PoolType::kAvg, 2, 10, {}},
      {{{Pointwise(1), Pointwise(3)}, {Convolution(3, 1, true)}, {Pointwise(2, true), Pointwise(3)}}, PoolType::kMax, 6, 11, {}},
      // branches of other sizes, pooled to the smallest for their Add
      {{{Depthwise(3, true)}, {Pointwise(3)}, {Convolution(5, 3, true)}, {Pointwise(2)}}, PoolType::kMax, 2, 10,
       {false, true, true, false}},
  };
  std::vector<Network> out;
  for (const Spec& spec : specs) {
    Candidate c;
    for (size_t b = 0; b < spec.blocks.size(); ++b) {
      c.conv_blocks.push_back({b < spec.branch.size() && spec.branch[b], spec.blocks[b]});
    }
    c.pooling = Pooling{spec.pool, spec.pool_size};
    c.dense_blocks.push_back({spec.units});
    UNAS_ASSIGN_OR_RETURN(Network n, BuildNetwork(c, InputSpec{32, 32, 3, 10}));
    out.push_back(std::move(n));
  }
  return out;
}

// --calibrate and --fit: the unas-c latency profiles of costmodel/mcu.cc.
// Networks: calibration ones (their operators are measured one by one in a
// profiled build) and held-out ones (whole inferences, unprofiled), of
// different generators: small random networks of two seeds, the examples
// and the reference candidates, alternately.
struct CalibrationNetwork {
  std::string name;
  Network network;
  bool held_out = false;
};

Result<std::vector<CalibrationNetwork>> CalibrationNetworks() {
  std::vector<CalibrationNetwork> out;
  const std::vector<Network> train = RandomNetworks(1234, 12), test = RandomNetworks(5678, 6);
  for (size_t i = 0; i < train.size(); ++i) out.push_back({"cal-random-" + std::to_string(i), train[i], false});
  UNAS_ASSIGN_OR_RETURN(auto reference, ReferenceNetworks());
  for (size_t i = 0; i < reference.size(); ++i) out.push_back({reference[i].first, reference[i].second, i % 2 == 1});
  for (size_t i = 0; i < test.size(); ++i) out.push_back({"random-" + std::to_string(i), test[i], true});
  for (const char* name : {"worked_example", "fashion_mnist_larger"}) {
    UNAS_ASSIGN_OR_RETURN(Network n, LoadArchitecture(std::string(UNAS_SOURCE_DIR "/examples/") + name + ".json",
                                                      kFashionMnist));
    out.push_back({name, n, true});
  }
  // Added later, so last (a network's weights' seed is its position): the
  // input shapes the first 12 lack, whose channel counts and clipped windows
  // the reference candidates have (32x32x3 images, 49x40x1 spectrograms).
  // (cal-rgb-6.. came after cal-audio-*: the same generator, further on.)
  const std::vector<Network> rgb = RandomNetworks(4321, 12, InputSpec{32, 32, 3, 10}),
                             audio = RandomNetworks(8765, 4, InputSpec{49, 40, 1, 12});
  for (size_t i = 0; i < 6; ++i) out.push_back({"cal-rgb-" + std::to_string(i), rgb[i], false});
  for (size_t i = 0; i < audio.size(); ++i) out.push_back({"cal-audio-" + std::to_string(i), audio[i], false});
  for (size_t i = 6; i < rgb.size(); ++i) out.push_back({"cal-rgb-" + std::to_string(i), rgb[i], false});
  // Narrow networks on 32x32x3 (docs/firmware.md, "Calibrating the latency
  // model"): 1x1 convolutions of 1-4 input and 1-4 output channels at full
  // resolution, and ceil-mode pools clipped at the edge on 2-3 channels, the
  // shapes of the reference candidates on 32x32x3 that the networks above
  // have few of.
  UNAS_ASSIGN_OR_RETURN(const std::vector<Network> narrow, NarrowNetworks());
  for (size_t i = 0; i < narrow.size(); ++i) out.push_back({"cal-narrow-" + std::to_string(i), narrow[i], false});
  return out;
}

// What --calibrate wrote: per network, instructions per Network operator
// (calibration) or per inference (held out).
struct CalibrationFile {
  std::map<std::string, std::vector<double>> op_instructions;
  std::map<std::string, double> total;
  std::set<std::string> done;
};

CalibrationFile ReadCalibration(const std::string& path) {
  CalibrationFile f;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string key, name;
    words >> key >> name;
    if (key == "op") {
      size_t index = 0;
      double n = 0;
      words >> index >> n;
      auto& v = f.op_instructions[name];
      if (v.size() <= index) v.resize(index + 1, 0);
      v[index] += n;
    } else if (key == "total") {
      words >> f.total[name];
    } else if (key == "done") {
      f.done.insert(name);
    }
  }
  return f;
}

// --calibrate CPU FILE: measures and appends to FILE (resumable: networks
// FILE marks done are skipped). `held_out_ops`: the held-out networks
// (those in `only` when it is not empty) profiled operator by operator, for
// --held-out-ops; --fit never reads held-out networks' operators.
int Calibrate(const std::string& cpu, const std::string& path, bool held_out_only, bool held_out_ops = false,
              const std::set<std::string>& only = {}) {
  if (cpu != "cortex-m4" && cpu != "cortex-m7" && cpu != "cortex-m0plus") {
    std::cerr << "--calibrate: CPU must be cortex-m4, cortex-m7 or cortex-m0plus\n";
    return 2;
  }
  auto networks = CalibrationNetworks();
  if (!networks.ok()) return Fail("networks", networks.status());
  const CalibrationFile before = ReadCalibration(path);
  std::ofstream out(path, std::ios::app);
  for (size_t i = 0; i < networks->size(); ++i) {
    const CalibrationNetwork& n = (*networks)[i];
    if (before.done.count(n.name) || ((held_out_only || held_out_ops) && !n.held_out)) continue;
    if (!only.empty() && !only.count(n.name)) continue;
    auto m = testing::QuantiseRandom(n.network, 900 + i);
    if (!m.ok()) return Fail(n.name, m.status());
    Bench bench(*m, false, 1);
    ArmTarget target = Target(cpu, "-O2");
    target.profile = !n.held_out || held_out_ops;
    auto run = bench.Run(target);
    if (!run.ok()) return Fail(n.name, run.status());
    if (!target.profile) {
      out << "total " << n.name << " " << run->instructions[0] << "\n";
    } else {
      const PexPlan& plan = bench.lib().plan;
      if (run->step_instructions.size() != plan.order.size()) return Fail(n.name, Status::Internal("step count"));
      for (size_t s = 0; s < plan.order.size(); ++s) {
        out << "op " << n.name << " " << plan.steps[plan.order[s]].op << " " << run->step_instructions[s] << "\n";
      }
    }
    out << "done " << n.name << "\n";
    out.flush();
    std::fprintf(stderr, "%s %s: %s\n", cpu.c_str(), n.name.c_str(), n.held_out ? "held out" : "calibration");
  }
  return 0;
}

// --held-out-ops FILE PROFILE: per operator of the held-out networks FILE
// holds (--calibrate CPU FILE --held-out-ops), measured against PROFILE's
// estimate, to see which operators a profile misses. Reads no fit.
int HeldOutOps(const std::string& path, const std::string& profile_name) {
  auto networks = CalibrationNetworks();
  if (!networks.ok()) return Fail("networks", networks.status());
  auto profile = FindMcu(profile_name);
  if (!profile.ok()) return Fail(profile_name, profile.status());
  const CalibrationFile f = ReadCalibration(path);
  std::printf("| network | op | path | in -> out | measured | predicted | difference |\n"
              "|---|---|---|---|---|---|---|\n");
  for (const CalibrationNetwork& n : *networks) {
    auto it = f.op_instructions.find(n.name);
    if (it == f.op_instructions.end()) continue;
    double measured_sum = 0, predicted_sum = 0;
    for (size_t j = 0; j < n.network.ops.size() && j < it->second.size(); ++j) {
      const Op& op = n.network.ops[j];
      const double measured = it->second[j], predicted = EstimateOpCycles(**profile, op, n.network);
      measured_sum += measured;
      predicted_sum += predicted;
      std::printf("| %s | %zu %s | %s | %s -> %s | %s | %s | %+lld |\n", n.name.c_str(), j, op.Describe().c_str(),
                  KernelPathName(KernelPathOf(op)), op.in.ToString().c_str(), op.out.ToString().c_str(),
                  Thousands(std::llround(measured)).c_str(), Thousands(std::llround(predicted)).c_str(),
                  std::llround(predicted - measured));
    }
    std::printf("| %s | all | | | %s | %s | %+.1f%% |\n", n.name.c_str(), Thousands(std::llround(measured_sum)).c_str(),
                Thousands(std::llround(predicted_sum)).c_str(), 100 * (predicted_sum - measured_sum) / measured_sum);
  }
  return 0;
}

// --list: the calibration and held-out networks, operator by operator.
int ListCalibrationNetworks() {
  auto networks = CalibrationNetworks();
  if (!networks.ok()) return Fail("networks", networks.status());
  for (const CalibrationNetwork& n : *networks) {
    std::printf("%s (%s)\n", n.name.c_str(), n.held_out ? "held out" : "calibration");
    for (size_t j = 0; j < n.network.ops.size(); ++j) {
      const Op& op = n.network.ops[j];
      std::printf("  %zu %s | %s | %s -> %s\n", j, op.Describe().c_str(), KernelPathName(KernelPathOf(op)),
                  op.in.ToString().c_str(), op.out.ToString().c_str());
    }
  }
  return 0;
}

// Relative errors, summed up as the tables below them print it.
struct ErrorTally {
  double sum_abs = 0, max_abs = 0;
  int count = 0;
  void Add(double error) {
    sum_abs += std::fabs(error);
    max_abs = std::max(max_abs, std::fabs(error));
    ++count;
  }
  void Print(const std::string& how, const std::string& which) const {
    if (count == 0) return;
    std::printf("\n%smean absolute error on %d %s networks %.1f%%, largest %.1f%%\n",
                how.empty() ? "" : (how + " ").c_str(), count, which.c_str(), 100 * sum_abs / count, 100 * max_abs);
  }
};

// The calibration operators FILE holds, leaving out the network named
// `except` (none: every network).
std::vector<unas::testing::MeasuredOp> CalibrationOps(const std::vector<CalibrationNetwork>& networks,
                                                      const CalibrationFile& f, const std::string& except = "") {
  std::vector<unas::testing::MeasuredOp> ops;
  for (const CalibrationNetwork& n : networks) {
    auto it = f.op_instructions.find(n.name);
    if (n.held_out || n.name == except || it == f.op_instructions.end()) continue;
    for (size_t j = 0; j < n.network.ops.size() && j < it->second.size(); ++j) {
      ops.push_back({n.network.ops[j], it->second[j], &n.network});
    }
  }
  return ops;
}

// --fit FILE --cv: leave-one-network-out cross-validation on the
// calibration networks alone (each network's operators summed, predicted by
// a fit on the other networks), to compare the model's terms without
// looking at the held-out networks.
int CrossValidate(const std::string& path) {
  auto networks = CalibrationNetworks();
  if (!networks.ok()) return Fail("networks", networks.status());
  const CalibrationFile f = ReadCalibration(path);
  std::printf("| calibration network | measured | predicted without it | error |\n|---|---|---|---|\n");
  ErrorTally tally;
  for (const CalibrationNetwork& n : *networks) {
    auto it = f.op_instructions.find(n.name);
    if (n.held_out || it == f.op_instructions.end()) continue;
    const PathCostTable table = unas::testing::FitPathCosts(CalibrationOps(*networks, f, n.name));
    McuProfile profile;
    profile.clock_hz = 1;
    profile.paths = &table;
    double measured = 0;
    for (double v : it->second) measured += v;
    const double predicted = EstimateLatency(profile, n.network).cycles, error = (predicted - measured) / measured;
    tally.Add(error);
    std::printf("| %s | %s | %s | %+.1f%% |\n", n.name.c_str(), Thousands(std::llround(measured)).c_str(),
                Thousands(std::llround(predicted)).c_str(), 100 * error);
  }
  tally.Print("leave-one-out", "calibration");
  return 0;
}

// --fit FILE [PROFILE]
int Fit(const std::string& path, const std::string& profile_name) {
  auto networks = CalibrationNetworks();
  if (!networks.ok()) return Fail("networks", networks.status());
  const CalibrationFile f = ReadCalibration(path);
  static PathCostTable fitted;
  McuProfile profile;
  if (!profile_name.empty()) {
    auto found = FindMcu(profile_name);
    if (!found.ok()) return Fail(profile_name, found.status());
    profile = **found;
  } else {
    const std::vector<unas::testing::MeasuredOp> ops = CalibrationOps(*networks, f);
    size_t nets = 0;
    for (const CalibrationNetwork& n : *networks) nets += !n.held_out && f.op_instructions.count(n.name);
    fitted = unas::testing::FitPathCosts(ops);
    std::printf("fitted on %zu operators of %zu calibration networks\n", ops.size(), nets);
    unas::testing::PrintPathCosts(fitted);
    profile.clock_hz = 1;
    profile.paths = &fitted;
  }
  std::printf("\n| held-out network | ops | MACs | measured | predicted | error |\n|---|---|---|---|---|---|\n");
  ErrorTally tally;
  for (const CalibrationNetwork& n : *networks) {
    auto it = f.total.find(n.name);
    if (!n.held_out || it == f.total.end()) continue;
    const double measured = it->second, predicted = EstimateLatency(profile, n.network).cycles;
    const double error = (predicted - measured) / measured;
    tally.Add(error);
    int64_t macs = 0;
    for (const Op& op : n.network.ops) macs += op.macs();
    std::printf("| %s | %zu | %s | %s | %s | %+.1f%% |\n", n.name.c_str(), n.network.ops.size(), Thousands(macs).c_str(),
                Thousands(std::llround(measured)).c_str(), Thousands(std::llround(predicted)).c_str(), 100 * error);
  }
  tally.Print("", "held-out");
  return 0;
}

int Main(int argc, char** argv) {
  if (!testing::HaveArmTools()) {
    std::cerr << "bench_firmware: arm-none-eabi-gcc and qemu-system-arm are needed\n";
    return 2;
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  const bool moded = !args.empty() && args[0].rfind("--", 0) == 0 && args[0] != "--images" &&
                     args[0] != "--inputs-out";
  const std::string mode = moded ? args[0] : "--speed";
  if (moded) args.erase(args.begin());
  if (mode == "--speed") {
    std::string images, inputs_out;
    for (size_t i = 0; i + 1 < args.size();) {
      if (args[i] == "--images" || args[i] == "--inputs-out") {
        (args[i] == "--images" ? images : inputs_out) = args[i + 1];
        args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
      } else {
        ++i;
      }
    }
    if (args.empty()) {
      args = {"worked_example", "fashion_mnist_larger", "reference-8", "reference-15", "reference-16"};
    }
    return Speed(args, images, inputs_out);
  }
  if (mode == "--pex") {
    std::vector<std::pair<std::string, Network>> networks;
    for (const std::string& a : args) {
      auto n = LoadArchitecture(a, kFashionMnist);
      if (!n.ok()) return Fail(a, n.status());
      networks.push_back({a, *n});
    }
    if (networks.empty()) {
      for (const char* name : {"worked_example", "fashion_mnist_larger"}) {
        auto n = LoadArchitecture(std::string(UNAS_SOURCE_DIR "/examples/") + name + ".json", kFashionMnist);
        if (!n.ok()) return Fail(name, n.status());
        networks.push_back({name, *n});
      }
      const std::vector<Network> random = RandomNetworks(31, 4);
      for (size_t i = 0; i < random.size(); ++i) networks.push_back({"random-" + std::to_string(i), random[i]});
    }
    return Pex(networks);
  }
  if (mode == "--reference") {
    auto reference = ReferenceNetworks();
    if (!reference.ok()) return Fail("reference", reference.status());
    return Pex(*reference);
  }
  if (mode == "--calibrate" && (args.size() == 2 || (args.size() == 3 && args[2] == "--held-out-only"))) {
    return Calibrate(args[0], args[1], args.size() == 3);
  }
  if (mode == "--calibrate" && args.size() >= 3 && args[2] == "--held-out-ops") {
    return Calibrate(args[0], args[1], false, true, std::set<std::string>(args.begin() + 3, args.end()));
  }
  if ((mode == "--held-out-ops" || mode == "--ops") && args.size() == 2) return HeldOutOps(args[0], args[1]);
  if (mode == "--fit" && args.size() == 2 && args[1] == "--cv") return CrossValidate(args[0]);
  if (mode == "--fit" && (args.size() == 1 || args.size() == 2)) return Fit(args[0], args.size() == 2 ? args[1] : "");
  if (mode == "--list" && args.empty()) return ListCalibrationNetworks();
  if (mode == "--steps") return Steps(args);
  if (mode == "--arch" && args.size() == 1 && args[0].rfind("reference-", 0) == 0) {
    // The architecture of a reference candidate, as `unas train` reads it.
    nlohmann::json line;
    auto n = ReferenceNetwork(std::stoi(args[0].substr(10)), &line);
    if (!n.ok()) return Fail(args[0], n.status());
    std::printf("%s\n", line["architecture"].dump().c_str());
    return 0;
  }
  if (mode == "--emit" && args.size() == 2) {
    // Writes the whole-execution library of MODEL to DIR/c (for reading the
    // generated code or building it by hand).
    auto model = LoadModel(args[0], 500);
    if (!model.ok()) return Fail(args[0], model.status());
    auto lib = GenerateCLibrary(model->m.q);
    if (!lib.ok()) return Fail(args[0], lib.status());
    Status s = WriteCLibrary(args[1], *lib);
    if (s.ok()) s = testing::WriteTestInputs(args[1], testing::RandomInputs(model->network, 3, 77), lib->input_bytes);
    return s.ok() ? 0 : Fail(args[1], s);
  }
  std::cerr << "usage: bench_firmware [--speed] [--images IDX3] [--inputs-out DIR] [MODEL ...] | --pex [ARCH.json ...] |\n"
               "       --reference | --calibrate CPU FILE [--held-out-only | --held-out-ops [NETWORK ...]] |\n"
               "       --fit FILE [PROFILE] | --held-out-ops FILE PROFILE | --steps MODEL ... | --arch reference-N |\n"
               "       --emit MODEL DIR\n";
  return 2;
}

}  // namespace
}  // namespace unas::firmware

int main(int argc, char** argv) { return unas::firmware::Main(argc, argv); }
