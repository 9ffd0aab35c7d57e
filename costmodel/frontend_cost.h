// The audio front end's cost (data/audio/frontend.c: one second of PCM to
// the int8 MFCC/log-mel input, run by a keyword model's
// unas_model_features before every inference), and its place in a keyword
// model's figures. docs/cost-model.md, "The audio front end", says why each
// figure is counted as it is.
//
// The instruction count is an ESTIMATE from a formula whose coefficients
// were fitted to QEMU measurements (Cortex-M4, arm-none-eabi-gcc -Os,
// -icount shift=0; bench/frontend_cost_fit.sh) at 18 parameter sets and
// checked on 6 others (max error 0.41 %). It is the cost of
// unas_frontend_prepare plus unas_frontend_features_int8 on a clip whose
// every frame carries sound (a frame of exact zeros skips the FFT, so
// silence costs less): the worst case, what a microphone gives.
//
// FrontendCost itself is declared in cost_model.h (CostReport carries it).
// Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <optional>

#include "base/status.h"
#include "costmodel/cost_model.h"
#include "costmodel/costs.h"
#include "costmodel/mcu.h"
#include "data/audio/frontend.h"

namespace unas {

// frontend.o's text + rodata + data for Cortex-M4 (-Os, every function of
// frontend.c; bench/frontend_cost_fit.sh prints it). The code and its
// tables do not depend on the config: the config-dependent tables are built
// in the scratch at run time.
constexpr int64_t kFrontendFlashBytes = 5797;

// The filterbank's FFT bins for a valid config (TensorFlow's
// MfccMelFilterbank range, computed as frontend.c does): 127 for the defaults.
int64_t FrontendFilterbankBins(const unas_frontend_config& config);

// The cost of a config; Invalid naming the first field out of range (as
// unas_frontend_check) for an invalid one.
Result<FrontendCost> EstimateFrontendCost(const unas_frontend_config& config);

// A network's figures with the front end added, per accounting:
//   kUnas         unchanged: μNAS's own accounting, comparable with μNAS's
//                 published figures, which have no front end;
//   kFirmware     flash + the front end's; peak SRAM (and the build-order
//                 peak) max(network, scratch): the generated C runs the front
//                 end in the model's arena before the network overwrites it;
//   kTflm, kTflmCmsisNn  flash + the front end's; peak SRAM + scratch: TFLM's
//                 arena is TFLM's, so the front end needs its own buffer.
// With an MCU profile (latency present), latency + instructions at the
// profile's clock (one instruction per cycle, as the QEMU-measured profiles).
void AddFrontendCost(const FrontendCost& frontend, Accounting accounting, const McuProfile* mcu,
                     CostSummary& summary, std::optional<double>& latency_ms);
Costs WithFrontendCost(Costs costs, const FrontendCost& frontend, Accounting accounting, const McuProfile* mcu);
// The same on a report (its accounting and MCU), keeping the network's own
// summary and latency in network_summary / network_latency_ms.
void AddFrontendToReport(const FrontendCost& frontend, CostReport& report);

}  // namespace unas
