// The generated C library on emulated Cortex-M4 (mps2-an386, -Os) and
// Cortex-M7 (mps2-an500, -O2), whose builds take the kernels' DSP-extension
// path, and as Cortex-M0+ code (ARMv6-M, the portable path) on the
// Cortex-M3 board (mps2-an385; QEMU has no M0+ board): cross-compiled with
// our startup file and linker script, outputs equal to the host build's
// (portable C), the arena exactly the planned size, and the flash, stack
// and instruction figures measured from the ELF and the run. Skips (with a
// message) when the cross tools are not installed.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <random>

#include "costmodel/cost_model.h"
#include "firmware/generator.h"
#include "tests/firmware/c_build.h"
#include "tests/firmware/test_networks.h"

namespace unas::firmware {
namespace {

constexpr int kInputs = 3;

std::vector<testing::ArmTarget> Targets() {
  testing::ArmTarget m4, m7, m0plus;
  m7.cpu = "cortex-m7";
  m7.board = testing::kCortexM7Board;
  m7.opt = "-O2";
  m0plus.cpu = "cortex-m0plus";
  m0plus.board = testing::kCortexM3Board;
  return {m4, m7, m0plus};
}

std::vector<Network> Networks() {
  std::vector<Network> out;
  std::ifstream f(UNAS_SOURCE_DIR "/examples/worked_example.json");
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto candidate = ParseCandidate(text);
  EXPECT_TRUE(candidate.ok());
  out.push_back(*BuildNetwork(*candidate, InputSpec{28, 28, 1, 10}));
  // Random networks that partial execution slices (accumulating segments included).
  std::mt19937_64 rng(2002);
  while (out.size() < 3) {
    auto network = BuildNetwork(testing::SmallRandomCandidate(rng), InputSpec{16, 16, 2, 10});
    if (!network.ok()) continue;
    auto plan = PlanPartialExecution(*network, Accounting::kFirmware);
    if (plan.ok() && !plan->segments.empty()) out.push_back(*network);
  }
  return out;
}

TEST(FirmwareQemu, WholeAndPartialRunOnCortexM4M7AndM0PlusWithHostOutputs) {
  if (!testing::HaveArmTools()) GTEST_SKIP() << "arm-none-eabi-gcc or qemu-system-arm not installed";
  const std::vector<Network> networks = Networks();
  for (size_t n = 0; n < networks.size(); ++n) {
    const Network& network = networks[n];
    auto model = testing::QuantiseRandom(network, 40 + n);
    ASSERT_TRUE(model.ok()) << model.status().message();
    const QuantizedNetwork& q = model->q;
    const std::vector<int8_t> inputs = testing::RandomInputs(network, kInputs, 50 + n);
    for (bool partial : {false, true}) {
      SCOPED_TRACE("network " + std::to_string(n) + (partial ? " partial" : " whole"));
      FirmwareOptions options;
      options.partial_execution = partial;
      auto lib = GenerateCLibrary(q, options);
      ASSERT_TRUE(lib.ok()) << lib.status().message();
      testing::TempDir dir;
      ASSERT_TRUE(WriteCLibrary(dir.path(), *lib).ok());
      ASSERT_TRUE(testing::WriteTestInputs(dir.path(), inputs, lib->input_bytes).ok());
      const Status built = testing::BuildHost(dir.path());
      ASSERT_TRUE(built.ok()) << built.message();
      auto host = testing::RunHost(dir.path(), inputs);
      ASSERT_TRUE(host.ok()) << host.status().message();
      for (const testing::ArmTarget& target : Targets()) {
        SCOPED_TRACE(target.cpu + " " + target.opt);
        auto arm = testing::RunOnArm(dir.path(), target, kInputs, lib->output_bytes);
        ASSERT_TRUE(arm.ok()) << arm.status().message();
        for (int k = 0; k < kInputs; ++k) {
          const std::vector<int8_t> expected(host->begin() + k * lib->output_bytes,
                                             host->begin() + (k + 1) * lib->output_bytes);
          EXPECT_EQ(arm->outputs[k], expected) << "input " << k;
          EXPECT_GE(arm->instructions[k], lib->plan.macs) << "fewer instructions than multiply-accumulates";
        }
        // The arena is the planned figure by construction: the array the
        // driver declares from UNAS_MODEL_ARENA_BYTES is that size in the ELF.
        EXPECT_EQ(arm->arena_symbol_bytes, lib->arena_bytes);
        EXPECT_GT(arm->stack_bytes, 0);
        EXPECT_LT(arm->stack_bytes, 4096);
        // The weights are in model.o's flash, with parameters and code on top.
        EXPECT_GE(arm->model_flash_bytes, lib->weight_bytes);
        std::cout << "[figures] network " << n << " " << (partial ? "pex" : "whole") << " " << target.cpu << " " << target.opt
                  << " ops " << network.ops.size() << " macs " << lib->plan.macs << " predicted_flash "
                  << lib->weight_bytes << " model_flash " << arm->model_flash_bytes << " kernels_flash "
                  << arm->kernels_flash_bytes << " arena " << lib->arena_bytes << " peak " << lib->plan.peak_bytes
                  << " stack " << arm->stack_bytes << " instructions " << arm->instructions[0] << "\n";
      }
    }
  }
}

}  // namespace
}  // namespace unas::firmware
