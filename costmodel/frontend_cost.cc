#include "costmodel/frontend_cost.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace unas {
namespace {

// Instructions = prepare + frames x per frame, fitted by least squares to
// 18 measured parameter sets (docs/cost-model.md lists them and the six
// held-out sets). The terms follow the code's loops: prepare builds the
// Hann window (a Taylor series per sample), the twiddle-free bit-reversal
// and filterbank tables (per FFT point and per in-band bin) and the DCT's
// cosines (per mel channel); a frame windows and scales (per sample), runs
// the FFT (per butterfly: fft/2 log2(fft/2)) and the real-spectrum split
// (per point), takes the magnitude and weights it (per in-band bin), takes
// the logs (per channel), the DCT (per channel x coefficient) and quantises
// (per feature).
struct Fit {
  double prepare_fixed = 1370.317;
  double prepare_per_window_sample = 157.659;
  double prepare_per_fft_point = 10.019;
  double prepare_per_bin = 512.505;
  double prepare_per_mel = 641.258;
  double frame_fixed = 718.531;
  double frame_per_window_sample = 31.188;
  double frame_per_butterfly = 19.269;
  double frame_per_fft_point = 11.457;
  double frame_per_bin = 161.940;
  double frame_per_mel = 59.222;
  double frame_per_dct_term = 6.725;
  double frame_per_feature = 56.550;
};

}  // namespace

int64_t FrontendFilterbankBins(const unas_frontend_config& c) {
  const int64_t n = unas_frontend_fft_size(&c);
  const int64_t rate = c.sample_rate_hz;
  // frontend.c's integers: floor(1.5 + lower / (rate / n)) .. floor(upper / (rate / n)).
  const int64_t start = (3 * rate + 2 * static_cast<int64_t>(c.lower_hz) * n) / (2 * rate);
  const int64_t end = static_cast<int64_t>(c.upper_hz) * n / rate;
  return std::max<int64_t>(0, end - start + 1);
}

Result<FrontendCost> EstimateFrontendCost(const unas_frontend_config& config) {
  const char* field = nullptr;
  if (unas_frontend_check(&config, &field) != 0) {
    return Status::Invalid(std::string("audio front end: ") + (field ? field : "config") + " is out of range");
  }
  const Fit fit;
  const double window = config.window_samples;
  const double fft = unas_frontend_fft_size(&config);
  const double half = fft / 2;
  const double bins = static_cast<double>(FrontendFilterbankBins(config));
  const double mel = config.mel_channels;
  const double dct_terms = config.output == UNAS_FRONTEND_MFCC ? mel * config.mfcc_coefficients : 0.0;
  const double features = unas_frontend_features_per_frame(&config);
  const double frames = unas_frontend_frames(&config);
  const double prepare = fit.prepare_fixed + fit.prepare_per_window_sample * window +
                         fit.prepare_per_fft_point * fft + fit.prepare_per_bin * bins + fit.prepare_per_mel * mel;
  const double frame = fit.frame_fixed + fit.frame_per_window_sample * window +
                       fit.frame_per_butterfly * half * std::log2(half) + fit.frame_per_fft_point * fft +
                       fit.frame_per_bin * bins + fit.frame_per_mel * mel + fit.frame_per_dct_term * dct_terms +
                       fit.frame_per_feature * features;
  FrontendCost cost;
  cost.instructions = std::llround(prepare + frames * frame);
  cost.flash_bytes = kFrontendFlashBytes;
  cost.scratch_bytes = static_cast<int64_t>(unas_frontend_scratch_bytes(&config));
  return cost;
}

void AddFrontendCost(const FrontendCost& frontend, Accounting accounting, const McuProfile* mcu,
                     CostSummary& summary, std::optional<double>& latency_ms) {
  if (accounting == Accounting::kUnas) return;
  summary.flash_bytes += frontend.flash_bytes;
  if (accounting == Accounting::kFirmware) {
    summary.peak_sram_bytes = std::max(summary.peak_sram_bytes, frontend.scratch_bytes);
    summary.build_order_peak_bytes = std::max(summary.build_order_peak_bytes, frontend.scratch_bytes);
  } else {
    summary.peak_sram_bytes += frontend.scratch_bytes;
    summary.build_order_peak_bytes += frontend.scratch_bytes;
  }
  if (mcu != nullptr && latency_ms) {
    *latency_ms += static_cast<double>(frontend.instructions) / mcu->clock_hz * 1e3;
  }
}

Costs WithFrontendCost(Costs costs, const FrontendCost& frontend, Accounting accounting, const McuProfile* mcu) {
  AddFrontendCost(frontend, accounting, mcu, costs, costs.latency_ms);
  return costs;
}

void AddFrontendToReport(const FrontendCost& frontend, CostReport& report) {
  report.network_summary = report.summary;
  report.network_latency_ms = report.latency_ms;
  report.frontend = frontend;
  AddFrontendCost(frontend, report.accounting, report.mcu, report.summary, report.latency_ms);
}

}  // namespace unas
