// Boards, their memory budgets and latency profiles (costmodel/boards.h),
// and MCU profiles by runtime, core and clock (costmodel/mcu.h).
#include "costmodel/boards.h"

#include <gtest/gtest.h>

namespace unas {
namespace {

TEST(BoardsTest, ListsTheFourPartsWithTheirDatasheetFigures) {
  ASSERT_EQ(Boards().size(), 4u);
  const Board& f7 = *FindBoard("stm32f746").value();
  EXPECT_EQ(f7.core, "cortex-m7");
  EXPECT_EQ(f7.clock_hz, 216e6);
  EXPECT_EQ(f7.sram_bytes, 320 * 1024);
  EXPECT_EQ(f7.flash_bytes, 1024 * 1024);
  EXPECT_TRUE(f7.dsp);
  const Board& l4 = *FindBoard("stm32l4r5").value();
  EXPECT_EQ(l4.sram_bytes, 640 * 1024);
  EXPECT_EQ(l4.flash_bytes, 2048 * 1024);
  EXPECT_EQ(l4.clock_hz, 120e6);
  const Board& nrf = *FindBoard("nrf52840").value();
  EXPECT_EQ(nrf.sram_bytes, 256 * 1024);
  EXPECT_EQ(nrf.clock_hz, 64e6);
  const Board& rp = *FindBoard("rp2040").value();
  EXPECT_EQ(rp.core, "cortex-m0plus");
  EXPECT_FALSE(rp.dsp);
  EXPECT_EQ(rp.sram_bytes, 264 * 1024);
  EXPECT_EQ(rp.flash_bytes, 2048 * 1024);
  EXPECT_EQ(FindBoard("esp32").status().message(),
            "unknown board 'esp32' (known: stm32f746, stm32l4r5, nrf52840, rp2040)");
}

TEST(BoardsTest, BudgetIsTheMemoryLessTheRuntimesReserve) {
  const Board& f7 = *FindBoard("stm32f746").value();
  // TFLM: 8 KiB of SRAM and 128 KiB of flash for the interpreter, stack and code.
  for (Accounting a : {Accounting::kTflm, Accounting::kTflmCmsisNn}) {
    auto b = BoardBudget(f7, a);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->sram_bytes, (320 - 8) * 1024);
    EXPECT_EQ(b->flash_bytes, (1024 - 128) * 1024);
  }
  // unas's C runtime: 4 KiB and 16 KiB.
  auto c = BoardBudget(f7, Accounting::kFirmware);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->sram_bytes, (320 - 4) * 1024);
  EXPECT_EQ(c->flash_bytes, (1024 - 16) * 1024);
  Board tiny = f7;
  tiny.name = "tiny";
  tiny.flash_bytes = 64 * 1024;
  auto none = BoardBudget(tiny, Accounting::kTflm);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(none.status().message().find("smaller than the tflm runtime's reserve (8 KiB SRAM, 128 KiB flash)"),
            std::string::npos)
      << none.status().message();
}

TEST(BoardsTest, TheCoreAndClockPickTheLatencyProfile) {
  auto l4 = BoardProfile(*FindBoard("stm32l4r5").value(), Accounting::kTflmCmsisNn);
  ASSERT_TRUE(l4.ok()) << l4.status().message();
  EXPECT_EQ((*l4)->name, "tflm-cmsis-nn-cortex-m4@120mhz");
  EXPECT_EQ((*l4)->clock_hz, 120e6);
  const McuProfile& m4 = *FindMcu("tflm-cmsis-nn-cortex-m4").value();
  EXPECT_EQ((*l4)->cycles_per_mac_conv, m4.cycles_per_mac_conv);
  // The STM32F746 runs at the M7 profile's own clock: the profile itself.
  auto f7 = BoardProfile(*FindBoard("stm32f746").value(), Accounting::kTflm);
  ASSERT_TRUE(f7.ok());
  EXPECT_EQ(*f7, FindMcu("tflm-cmsis-nn-cortex-m7").value());
  // Asking twice gives the same profile (they live as long as the process).
  EXPECT_EQ(*BoardProfile(*FindBoard("stm32l4r5").value(), Accounting::kTflm), *l4);
  // unas's C: its profile for the core (the RP2040's M0+ runs the portable C).
  const Board& rp = *FindBoard("rp2040").value();
  auto c = BoardProfile(rp, Accounting::kFirmware);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(*c, FindMcu("unas-c-cortex-m0plus").value());
  EXPECT_EQ((*BoardProfile(*FindBoard("stm32f746").value(), Accounting::kUnas))->name, "unas-c-cortex-m7");
  EXPECT_EQ((*BoardProfile(*FindBoard("nrf52840").value(), Accounting::kFirmware))->name, "unas-c-cortex-m4@64mhz");
  // No TFLM profile for the M0+ (CMSIS-NN's M0+ path is not measured).
  EXPECT_EQ(BoardProfile(rp, Accounting::kTflmCmsisNn).status().code(), StatusCode::kNotFound);
}

TEST(BoardsTest, CustomBoardsAreChecked) {
  Board b{"mine", "", "cortex-m33", true, 100e6, 128 * 1024, 512 * 1024};
  EXPECT_EQ(ValidateBoard(b).message(), "core: 'cortex-m33' is not a known core (known: cortex-m0plus, cortex-m4, cortex-m7)");
  b.core = "cortex-m4";
  EXPECT_TRUE(ValidateBoard(b).ok());
  b.clock_hz = 0;
  EXPECT_EQ(ValidateBoard(b).message(), "clock_mhz: must be in (0, 2000]");
  b.clock_hz = 1e8;
  b.sram_bytes = 0;
  EXPECT_EQ(ValidateBoard(b).message(), "sram: must be positive");
}

TEST(McuProfilesTest, OldNamesAndOtherClocksResolve) {
  // The old names are the tflm-cmsis-nn profiles at the clock they named.
  auto old = FindMcu("cortex-m4-80mhz");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ((*old)->name, "cortex-m4-80mhz");
  EXPECT_EQ((*old)->clock_hz, 80e6);
  EXPECT_EQ((*old)->cycles_per_mac_conv, FindMcu("tflm-cmsis-nn-cortex-m4").value()->cycles_per_mac_conv);
  auto m7 = FindMcu("cortex-m7-216mhz");
  ASSERT_TRUE(m7.ok());
  EXPECT_EQ((*m7)->cycles_per_op, FindMcu("tflm-cmsis-nn-cortex-m7").value()->cycles_per_op);
  auto at = FindMcu("tflm-cmsis-nn-cortex-m4@168mhz");
  ASSERT_TRUE(at.ok());
  EXPECT_EQ((*at)->clock_hz, 168e6);
  EXPECT_EQ((*at)->name, "tflm-cmsis-nn-cortex-m4@168mhz");
  for (const char* bad : {"tflm-cmsis-nn-cortex-m4@0mhz", "tflm-cmsis-nn-cortex-m4@fast", "tflm-cmsis-nn-cortex-m4@80"}) {
    EXPECT_EQ(FindMcu(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(FindMcu("z80@80mhz").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace unas
