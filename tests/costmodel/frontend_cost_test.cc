// The audio front end's cost (costmodel/frontend_cost.h): the fitted formula
// at worked parameter sets, and how each accounting adds it to a network's.
#include "costmodel/frontend_cost.h"

#include <gtest/gtest.h>

#include <cmath>

#include "costmodel/report.h"

namespace unas {
namespace {

unas_frontend_config Defaults() {
  unas_frontend_config c;
  unas_frontend_default_config(&c);
  return c;
}

// MLPerf Tiny's KWS front end: 40 ms windows, 10 MFCC (49 x 10).
unas_frontend_config MlperfTiny() {
  unas_frontend_config c = Defaults();
  c.window_samples = 640;
  c.mfcc_coefficients = 10;
  return c;
}

TEST(FrontendCost, FilterbankBinsFollowTensorFlowsRange) {
  // 512-point FFT at 16 kHz, 31.25 Hz a bin: floor(1.5 + 20 / 31.25) = 2 to
  // floor(4000 / 31.25) = 128, 127 bins.
  EXPECT_EQ(FrontendFilterbankBins(Defaults()), 127);
  // 1024 points, 15.625 Hz a bin: 2 to 256.
  EXPECT_EQ(FrontendFilterbankBins(MlperfTiny()), 255);
  unas_frontend_config c = Defaults();
  c.lower_hz = 100;  // floor(1.5 + 3.2) = 4 to 128
  EXPECT_EQ(FrontendFilterbankBins(c), 125);
}

TEST(FrontendCost, DefaultsCostTheFormulasInstructionsTheObjectsFlashAndTheScratch) {
  auto cost = EstimateFrontendCost(Defaults());
  ASSERT_TRUE(cost.ok()) << cost.status().message();
  // prepare 1370.317 + 157.659 x 480 + 10.019 x 512 + 512.505 x 127 + 641.258 x 40 = 172,914.82;
  // a frame 718.531 + 31.188 x 480 + 19.269 x 256 x 8 + 11.457 x 512 + 161.940 x 127
  //   + 59.222 x 40 + 6.725 x 40 x 40 + 56.550 x 40 = 96,974.927; x 49 frames + prepare = 4,924,686.24.
  EXPECT_EQ(cost->instructions, 4924686);
  // QEMU measured 4,933,182 (bench/frontend_cost_fit.sh: 172,917 + 4,760,265): -0.17 %.
  EXPECT_LT(std::abs(cost->instructions - 4933182) / 4933182.0, 0.005);
  EXPECT_EQ(cost->flash_bytes, 5797);
  EXPECT_EQ(cost->scratch_bytes, 6256);  // docs/keyword-spotting.md, "Scratch"
}

TEST(FrontendCost, InstructionsFollowTheParameters) {
  auto mlperf = EstimateFrontendCost(MlperfTiny());
  ASSERT_TRUE(mlperf.ok());
  // prepare 1370.317 + 157.659 x 640 + 10.019 x 1024 + 512.505 x 255 + 641.258 x 40 = 268,870.628;
  // a frame 718.531 + 31.188 x 640 + 19.269 x 512 x 9 + 11.457 x 1024 + 161.940 x 255
  //   + 59.222 x 40 + 6.725 x 40 x 10 + 56.550 x 10 = 168,121.451; x 49 + prepare = 8,506,821.73.
  EXPECT_EQ(mlperf->instructions, 8506822);  // QEMU: 8,503,150
  unas_frontend_config log_mel = Defaults();
  log_mel.output = UNAS_FRONTEND_LOG_MEL;  // no DCT: 49 x 6.725 x 1600 = 527,240 fewer
  auto no_dct = EstimateFrontendCost(log_mel);
  ASSERT_TRUE(no_dct.ok());
  EXPECT_EQ(no_dct->instructions, 4924686 - 527240);  // QEMU: 4,383,120
}

TEST(FrontendCost, AnInvalidConfigNamesItsField) {
  unas_frontend_config c = Defaults();
  c.mel_channels = 0;
  auto cost = EstimateFrontendCost(c);
  ASSERT_FALSE(cost.ok());
  EXPECT_EQ(cost.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cost.status().message(), "audio front end: mel_channels is out of range");
}

TEST(FrontendCost, EachAccountingAddsItAsItsRuntimeRunsIt) {
  const FrontendCost frontend{4924686, 5797, 6256};
  McuProfile mcu;
  mcu.name = "test";
  mcu.clock_hz = 80e6;
  Costs network;
  network.flash_bytes = 10000;
  network.peak_sram_bytes = 5000;
  network.build_order_peak_bytes = 7000;
  network.macs = 123;
  network.latency_ms = 1.0;

  const Costs firmware = WithFrontendCost(network, frontend, Accounting::kFirmware, &mcu);
  EXPECT_EQ(firmware.flash_bytes, 15797);
  EXPECT_EQ(firmware.peak_sram_bytes, 6256);          // max(5000, 6256): the arena is shared
  EXPECT_EQ(firmware.build_order_peak_bytes, 7000);   // max(7000, 6256)
  EXPECT_EQ(firmware.macs, 123);
  ASSERT_TRUE(firmware.latency_ms);
  EXPECT_DOUBLE_EQ(*firmware.latency_ms, 1.0 + 4924686 / 80e6 * 1e3);  // + 61.558575 ms

  const Costs tflm = WithFrontendCost(network, frontend, Accounting::kTflmCmsisNn, &mcu);
  EXPECT_EQ(tflm.flash_bytes, 15797);
  EXPECT_EQ(tflm.peak_sram_bytes, 11256);  // 5000 + 6256: its own buffer beside TFLM's arena
  EXPECT_EQ(tflm.build_order_peak_bytes, 13256);

  const Costs unas = WithFrontendCost(network, frontend, Accounting::kUnas, &mcu);
  EXPECT_EQ(unas.flash_bytes, 10000);  // μNAS's figures, unchanged
  EXPECT_EQ(unas.peak_sram_bytes, 5000);
  EXPECT_DOUBLE_EQ(*unas.latency_ms, 1.0);

  Costs no_mcu = network;
  no_mcu.latency_ms.reset();
  EXPECT_FALSE(WithFrontendCost(no_mcu, frontend, Accounting::kFirmware, nullptr).latency_ms);
}

TEST(FrontendCost, TheReportCarriesTheFrontEndBesideTheNetworksOwnFigures) {
  // One 3x3 convolution of 8 filters on 49 x 40 x 1, pooling, dense 16, 12 classes.
  auto candidate = ParseCandidate(R"({"conv_blocks":[{"is_branch":false,"layers":[{"type":"Conv2D","ker_size":3,
    "filters":8,"2x_stride":true,"has_bn":false,"has_relu":true,"has_prepool":false}]}],
    "pooling":{"type":"avg","pool_size":2},"dense_blocks":[{"units":16,"activation":"relu"}]})");
  ASSERT_TRUE(candidate.ok()) << candidate.status().message();
  auto network = BuildNetwork(*candidate, InputSpec{49, 40, 1, 12});
  ASSERT_TRUE(network.ok()) << network.status().message();
  auto mcu = FindMcu("unas-c-cortex-m4-80mhz");
  ASSERT_TRUE(mcu.ok()) << mcu.status().message();
  auto report = CostNetwork(*network, Accounting::kFirmware, *mcu);
  ASSERT_TRUE(report.ok());
  const CostReport alone = *report;
  const FrontendCost frontend{4924686, 5797, 6256};
  AddFrontendToReport(frontend, *report);

  EXPECT_EQ(report->summary.flash_bytes, alone.summary.flash_bytes + 5797);
  EXPECT_EQ(report->summary.peak_sram_bytes, std::max<int64_t>(alone.summary.peak_sram_bytes, 6256));
  EXPECT_NEAR(*report->latency_ms - *alone.latency_ms, 4924686 / ((*mcu)->clock_hz) * 1e3, 1e-9);
  nlohmann::json j = CostReportToJson(*network, *report);
  EXPECT_EQ(j["flash_bytes"], alone.summary.flash_bytes + 5797);
  EXPECT_EQ(j["audio_frontend"]["instructions"], 4924686);
  EXPECT_EQ(j["audio_frontend"]["flash_bytes"], 5797);
  EXPECT_EQ(j["audio_frontend"]["scratch_bytes"], 6256);
  EXPECT_EQ(j["audio_frontend"]["network_flash_bytes"], alone.summary.flash_bytes);
  EXPECT_EQ(j["audio_frontend"]["network_peak_sram_bytes"], alone.summary.peak_sram_bytes);
  EXPECT_DOUBLE_EQ(j["audio_frontend"]["network_latency_ms"].get<double>(), *alone.latency_ms);
  const std::string table = FormatCostTable(*network, *report);
  EXPECT_NE(table.find("audio front end   4,924,686 instructions per inference"), std::string::npos) << table;
  EXPECT_NE(table.find("+ audio front end 5,797)"), std::string::npos) << table;
  // Without a front end the report has no such key.
  EXPECT_FALSE(CostReportToJson(*network, alone).contains("audio_frontend"));
}

}  // namespace
}  // namespace unas
