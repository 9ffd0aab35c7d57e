// The generated C library on the host: strict C99, AddressSanitizer with the
// arena malloc'ed at exactly UNAS_MODEL_ARENA_BYTES, outputs bit-identical
// to quant::RunInt8 on the quantised graph, whole and partial execution.
// Every library is built twice: the portable kernels, and the DSP path
// (Cortex-M4/M7) with its instructions emulated in C (-DUNAS_DSP_EMULATE),
// so that the sanitisers check the fast path's loops and loads too.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <set>

#include "costmodel/cost_model.h"
#include "costmodel/lowering.h"
#include "firmware/generator.h"
#include "quant/fixed_point.h"
#include "quant/int8_executor.h"
#include "tests/firmware/c_build.h"
#include "tests/firmware/test_networks.h"

namespace unas::firmware {
namespace {

using testing::BuildHost;
using testing::RunHost;
using testing::TempDir;

constexpr int kInputsPerNetwork = 4;

Network WorkedExample() {
  std::ifstream f(UNAS_SOURCE_DIR "/examples/worked_example.json");
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto candidate = ParseCandidate(text);
  EXPECT_TRUE(candidate.ok()) << candidate.status().message();
  auto network = BuildNetwork(*candidate, InputSpec{28, 28, 1, 10});
  EXPECT_TRUE(network.ok());
  return *network;
}

std::vector<Network> RandomNetworks(uint64_t seed, int count) {
  std::mt19937_64 rng(seed);
  std::vector<Network> out;
  while (static_cast<int>(out.size()) < count) {
    const InputSpec input{std::uniform_int_distribution<int>(8, 20)(rng), std::uniform_int_distribution<int>(8, 20)(rng),
                          std::uniform_int_distribution<int>(1, 3)(rng), 10};
    auto network = BuildNetwork(testing::SmallRandomCandidate(rng), input);
    if (network.ok()) out.push_back(*network);
  }
  return out;
}

// Builds DIR/c with `defines`, runs it on the inputs and expects
// quant::RunInt8's outputs.
void ExpectOutputsMatch(const std::string& dir, const std::string& defines, const CLibrary& lib,
                        const ModelGraph& graph, const std::vector<int8_t>& inputs) {
  const Status built = BuildHost(dir, 0, defines);
  ASSERT_TRUE(built.ok()) << built.message();
  auto outputs = RunHost(dir, inputs);
  ASSERT_TRUE(outputs.ok()) << outputs.status().message();
  const size_t in_bytes = static_cast<size_t>(lib.input_bytes), out_bytes = static_cast<size_t>(lib.output_bytes);
  ASSERT_EQ(outputs->size(), kInputsPerNetwork * out_bytes);
  for (int k = 0; k < kInputsPerNetwork; ++k) {
    const std::vector<int8_t> input(inputs.begin() + k * in_bytes, inputs.begin() + (k + 1) * in_bytes);
    auto expected = quant::RunInt8(graph, input);
    ASSERT_TRUE(expected.ok()) << expected.status().message();
    const std::vector<int8_t> got(outputs->begin() + k * out_bytes, outputs->begin() + (k + 1) * out_bytes);
    EXPECT_EQ(got, *expected) << "input " << k << " of a network with " << lib.kernel_calls << " steps, "
                             << lib.plan.segments.size() << " segments";
  }
  // A comparison of saturated or constant outputs would prove little.
  std::set<int8_t> distinct(outputs->begin(), outputs->end());
  EXPECT_GE(distinct.size(), 3u) << "outputs nearly constant";
}

// Generates, builds and runs one network; expects the reference's outputs.
// Returns the number of Pex segments the plan used.
int ExpectMatchesReference(const Network& network, uint64_t seed, bool partial) {
  auto model = testing::QuantiseRandom(network, seed);
  EXPECT_TRUE(model.ok()) << model.status().message();
  if (!model.ok()) return 0;
  const QuantizedNetwork& q = model->q;
  FirmwareOptions options;
  options.partial_execution = partial;
  auto lib = GenerateCLibrary(q, options);
  EXPECT_TRUE(lib.ok()) << lib.status().message();
  if (!lib.ok()) return 0;
  // The arena is the cost model's layout, by construction.
  if (partial) {
    auto plan = PlanPartialExecution(network, Accounting::kFirmware);
    EXPECT_TRUE(plan.ok());
    EXPECT_EQ(lib->arena_bytes, plan->layout.arena_bytes);
    EXPECT_EQ(lib->plan.peak_bytes, plan->peak_bytes);
  } else {
    auto report = CostNetwork(network, Accounting::kFirmware);
    EXPECT_TRUE(report.ok());
    EXPECT_EQ(lib->arena_bytes, report->layout.arena_bytes);
    EXPECT_EQ(lib->weight_bytes, report->summary.flash_bytes);
    EXPECT_TRUE(lib->plan.segments.empty());
  }
  TempDir dir;
  EXPECT_TRUE(WriteCLibrary(dir.path(), *lib).ok());
  const std::vector<int8_t> inputs = testing::RandomInputs(network, kInputsPerNetwork, seed + 1);
  for (const char* defines : {"", "-DUNAS_DSP_EMULATE"}) {
    SCOPED_TRACE(std::string("kernels built with '") + defines + "'");
    ExpectOutputsMatch(dir.path(), defines, *lib, model->graph, inputs);
  }
  return static_cast<int>(lib->plan.segments.size());
}

TEST(FirmwareHost, WorkedExampleWholeAndPartialMatchReference) {

  const Network network = WorkedExample();
  EXPECT_EQ(ExpectMatchesReference(network, 7, false), 0);
  EXPECT_GT(ExpectMatchesReference(network, 7, true), 0);
}

// How many random networks each of the two tests below builds and runs.
// Every one costs two ASan builds of its C library (about 10 s of CPU): the
// test suite runs the first kCiRandomNetworks of each fixed sequence, and
// bench/firmware_random_networks.sh all kAllRandomNetworks
// (UNAS_FIRMWARE_RANDOM_NETWORKS=16); the networks of the short run are the
// first ones of the long run, and every assertion is the same.
constexpr int kCiRandomNetworks = 4;
constexpr int kAllRandomNetworks = 16;

int RandomNetworkCount() {
  const char* value = std::getenv("UNAS_FIRMWARE_RANDOM_NETWORKS");
  if (value == nullptr) return kCiRandomNetworks;
  const int count = std::atoi(value);
  EXPECT_TRUE(count >= 1 && count <= kAllRandomNetworks)
      << "UNAS_FIRMWARE_RANDOM_NETWORKS=" << value << ": expected 1 to " << kAllRandomNetworks;
  return count >= 1 && count <= kAllRandomNetworks ? count : kCiRandomNetworks;
}

TEST(FirmwareHost, RandomNetworksWholeExecutionMatchReference) {
  const std::vector<Network> networks = RandomNetworks(1001, RandomNetworkCount());
  for (size_t i = 0; i < networks.size(); ++i) {
    SCOPED_TRACE("network " + std::to_string(i));
    ExpectMatchesReference(networks[i], 100 + i, false);
  }
}

TEST(FirmwareHost, RandomNetworksPartialExecutionMatchReference) {
  const std::vector<Network> networks = RandomNetworks(2002, RandomNetworkCount());
  std::vector<int> sliced;  // the networks whose plan slices something
  for (size_t i = 0; i < networks.size(); ++i) {
    SCOPED_TRACE("network " + std::to_string(i));
    if (ExpectMatchesReference(networks[i], 200 + i, true) > 0) sliced.push_back(static_cast<int>(i));
  }
  // The seed is fixed, so which plans slice something is known (14 of the
  // 16; the short run's 4 all do): a change to the planner that stops
  // slicing shows here, in the short run as in the long one.
  const std::vector<int> expected_sliced_of_16 = {0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 13, 14, 15};
  std::vector<int> expected;
  for (int i : expected_sliced_of_16) {
    if (i < static_cast<int>(networks.size())) expected.push_back(i);
  }
  EXPECT_EQ(sliced, expected);
  EXPECT_FALSE(sliced.empty());
}

TEST(FirmwareHost, ShrunkenArenaIsCaught) {
  const Network network = WorkedExample();
  const QuantizedNetwork q = testing::QuantiseRandom(network, 3)->q;
  for (bool partial : {false, true}) {
    FirmwareOptions options;
    options.partial_execution = partial;
    auto lib = GenerateCLibrary(q, options);
    ASSERT_TRUE(lib.ok());
    TempDir dir;
    ASSERT_TRUE(WriteCLibrary(dir.path(), *lib).ok());
    const Status built = BuildHost(dir.path(), 1);
    ASSERT_TRUE(built.ok()) << built.message();
    auto outputs = RunHost(dir.path(), testing::RandomInputs(network, 1, 4));
    ASSERT_FALSE(outputs.ok()) << "one byte less arena went unnoticed (partial " << partial << ")";
    EXPECT_NE(outputs.status().message().find("heap-buffer-overflow"), std::string::npos)
        << outputs.status().message();
  }
}

TEST(FirmwareHost, ModelHeaderHasTheFixedInterface) {
  const Network network = WorkedExample();
  auto lib = GenerateCLibrary(testing::QuantiseRandom(network, 5)->q);
  ASSERT_TRUE(lib.ok());
  for (const char* line :
       {"#define UNAS_MODEL_INPUT_BYTES 784\n", "#define UNAS_MODEL_OUTPUT_BYTES 10\n",
        "extern const float unas_model_input_scale, unas_model_output_scale;\n",
        "extern const int32_t unas_model_input_zero_point, unas_model_output_zero_point;\n",
        "void unas_model_invoke(const int8_t *input, int8_t *output, uint8_t *arena);\n"}) {
    EXPECT_NE(lib->model_h.find(line), std::string::npos) << line;
  }
  EXPECT_NE(lib->model_h.find("#define UNAS_MODEL_ARENA_BYTES " + std::to_string(lib->arena_bytes) + "\n"),
            std::string::npos);
  // No floating point at run time: the only float objects are the two scales.
  const std::regex fp("\\b(float|double)\\b");
  const std::string c = lib->model_c;
  EXPECT_EQ(std::distance(std::sregex_iterator(c.begin(), c.end(), fp), std::sregex_iterator()), 2);
  for (const std::string* k : {&KernelsHeader(), &KernelsImplHeader(), &KernelsSource()}) {
    EXPECT_FALSE(std::regex_search(*k, fp));
  }
}

// The kernels' fixed-point multiply against quant/fixed_point.h (TFLite's
// arithmetic) on edge values and random ones: the general function, and
// the prepared form (one SMLAL and a shift) for every right shift. Where
// x * 2^shift leaves int32 both wrap the same way (two's complement; both
// shift as uint32, which is defined, where the former `x * (1 << shift)` on
// int32 was not).
TEST(FirmwareHost, MultiplierArithmeticAgreesWithQuantIncludingThePreparedFormAndWrappingShifts) {
  std::vector<int32_t> xs = {0,       1,        -1,        2,          -2,         3,         1000,
                             -1000,   123456789, -123456789, 1 << 29,  -(1 << 29), 1 << 30,   INT32_MAX,
                             INT32_MIN, INT32_MIN + 1, 0x40000001, -0x40000001};
  std::vector<int32_t> multipliers = {0, 1, 1 << 30, (1 << 30) + 1, 1518500250, INT32_MAX, -1, -(1 << 30), INT32_MIN};
  std::mt19937_64 rng(26);
  for (int i = 0; i < 40; ++i) xs.push_back(static_cast<int32_t>(rng()));
  for (int i = 0; i < 40; ++i) xs.push_back(std::uniform_int_distribution<int32_t>(-70000, 70000)(rng));
  for (int i = 0; i < 8; ++i) multipliers.push_back(std::uniform_int_distribution<int32_t>(1 << 30, INT32_MAX)(rng));
  std::ostringstream cases;
  std::vector<int32_t> expected;
  int prepared = 0;
  for (int32_t x : xs) {
    for (int32_t m : multipliers) {
      for (int32_t shift = -31; shift <= 30; ++shift) {
        const int32_t want = quant::MultiplyByQuantizedMultiplier(x, m, shift);
        cases << "g " << x << " " << m << " " << shift << "\n";
        expected.push_back(want);
        if (const std::optional<PreparedRequant> r = PrepareRequant(m, shift)) {
          cases << "p " << x << " " << r->multiplier << " " << r->neg_below << " " << r->k_lo << " " << r->k_hi << " "
                << r->k_hi_neg << " " << r->shift << "\n";
          expected.push_back(want);
          ++prepared;
        }
      }
    }
  }
  EXPECT_GT(prepared, 20000);
  TempDir dir;
  ASSERT_TRUE(WriteCLibrary(dir.path(), *GenerateCLibrary(testing::QuantiseRandom(WorkedExample(), 5)->q)).ok());
  const std::string cases_path = dir.path() + "/cases.txt", text = cases.str();
  ASSERT_TRUE(testing::WriteBytes(cases_path, text.data(), text.size()).ok());
  const testing::CommandResult built = testing::RunCommand(
      "gcc -std=c99 -pedantic-errors -Wall -Wextra -Werror -O1 -fsanitize=undefined -fno-sanitize-recover=all -I" +
      dir.path() + "/c " UNAS_SOURCE_DIR "/tests/firmware/multiply_main.c " + dir.path() + "/c/unas_kernels.c -o " +
      dir.path() + "/multiply");
  ASSERT_EQ(built.exit_code, 0) << built.output;
  const testing::CommandResult run = testing::RunCommand(dir.path() + "/multiply < " + cases_path);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::istringstream lines(run.output);
  std::vector<int32_t> got;
  for (long long v; lines >> v;) got.push_back(static_cast<int32_t>(v));
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], expected[i]) << "case " << i;
  // The wrapping case is among them: 2^30 + 1 shifted left by 1 is negative.
  EXPECT_EQ(quant::MultiplyByQuantizedMultiplier(0x40000001, 1 << 30, 1), -1073741823);
}

// The prepared form's constants for two shifts, worked by hand: K = 2^30 +
// 2^(30 + R); for R = 1 that is 3 * 2^30 (high word 0, low 0xC0000000) and
// K - 2^31 = 2^30; for R = 3, K = 2^33 + 2^30 (high 2, low 0x40000000) and
// K - 2^31 = 2^33 - 2^30 (high 1, low 0xC0000000). neg_below =
// -floor(2^30 / m): 0 above 2^30, -1 at 2^30.
TEST(FirmwareHost, PreparedRequantConstants) {
  const auto r1 = PrepareRequant((1 << 30) + 5, -1);
  ASSERT_TRUE(r1.has_value());
  EXPECT_EQ(r1->k_lo, 0xC0000000u);
  EXPECT_EQ(r1->k_hi, 0);
  EXPECT_EQ(r1->k_hi_neg, 0);
  EXPECT_EQ(r1->neg_below, 0);
  EXPECT_EQ(r1->shift, 0);
  const auto r3 = PrepareRequant(1 << 30, -3);
  ASSERT_TRUE(r3.has_value());
  EXPECT_EQ(r3->k_lo, 0x40000000u);
  EXPECT_EQ(r3->k_hi, 2);
  EXPECT_EQ(r3->k_hi_neg, 1);
  EXPECT_EQ(r3->neg_below, -1);
  EXPECT_EQ(r3->shift, 2);
  EXPECT_FALSE(PrepareRequant(1 << 30, 0).has_value());
  EXPECT_FALSE(PrepareRequant(1 << 30, 2).has_value());
  EXPECT_FALSE(PrepareRequant(-5, -3).has_value());
}

TEST(FirmwareHost, RejectsBadQuantisation) {
  const Network network = WorkedExample();
  QuantizedNetwork q = testing::QuantiseRandom(network, 9)->q;
  q.ops[0].weights.pop_back();
  auto bad = GenerateCLibrary(q);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("op 0 (conv 3x3/2 x8 bn relu).weights"), std::string::npos)
      << bad.status().message();
  q = testing::QuantiseRandom(network, 9)->q;
  q.ops[1].output.zero_point = 300;
  EXPECT_FALSE(GenerateCLibrary(q).ok());
}

TEST(FirmwareFromModelGraph, RefusesUnquantisedAndMismatchedGraphs) {
  const Network network = WorkedExample();
  auto lowered = LowerNetwork(network);  // no quantisation, no weight data
  ASSERT_TRUE(lowered.ok());
  auto unquantised = FromModelGraph(network, *lowered);
  ASSERT_FALSE(unquantised.ok());
  EXPECT_EQ(unquantised.status().message(), "graph input: tensor 'input' is not quantised per tensor");
  auto model = testing::QuantiseRandom(network, 11);
  ASSERT_TRUE(model.ok());
  std::mt19937_64 rng(5);
  auto other = BuildNetwork(testing::SmallRandomCandidate(rng), InputSpec{28, 28, 1, 10});
  ASSERT_TRUE(other.ok());
  auto mismatched = FromModelGraph(*other, model->graph);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_EQ(mismatched.status().code(), StatusCode::kInvalidArgument);
  ModelGraph stripped = model->graph;
  for (GraphTensor& t : stripped.tensors) {
    if (t.is_constant && t.type == TensorType::kInt8) t.data.clear();
  }
  auto no_data = FromModelGraph(network, stripped);
  ASSERT_FALSE(no_data.ok());
  EXPECT_NE(no_data.status().message().find("op 0 (conv 3x3/2 x8 bn relu): weights"), std::string::npos)
      << no_data.status().message();
}

}  // namespace
}  // namespace unas::firmware
