// Latency estimates on named microcontroller profiles.
//
// An ESTIMATE, not a measurement: cycles = sum over operators of
// (MACs x cycles-per-MAC for the operator's kind) + (requantised output
// elements x cycles-per-output) + a fixed per-operator overhead (kernel
// dispatch, requantisation set-up, loop prologues). The constants are in
// mcu.cc, in one table, with where they come from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "costmodel/network.h"
#include "costmodel/status.h"

namespace unas {

struct McuProfile {
  std::string name;         // e.g. "cortex-m4-80mhz"
  std::string description;  // e.g. "Arm Cortex-M4F at 80 MHz (STM32L4 class)"
  double clock_hz = 0;
  int64_t sram_bytes = 0;   // the typical device's SRAM, for context in reports
  int64_t flash_bytes = 0;
  double cycles_per_mac_conv = 0;       // k x k convolution, k > 1
  double cycles_per_mac_pointwise = 0;  // 1x1 convolution
  double cycles_per_mac_depthwise = 0;
  double cycles_per_mac_dense = 0;
  double cycles_per_mac_pool = 0;       // per window element
  double cycles_per_mac_add = 0;        // per element per extra term
  double cycles_per_op = 0;             // fixed overhead of any operator
  // Per output element of conv, depthwise and dense (bias, requantisation
  // and clamp of each int8 output); 0 in profiles that fold it into the MACs.
  double cycles_per_output = 0;
};

const std::vector<McuProfile>& McuProfiles();
// Looks a profile up by name; the error lists the known names.
Result<const McuProfile*> FindMcu(const std::string& name);

double EstimateOpCycles(const McuProfile& mcu, const Op& op);

struct LatencyEstimate {
  double cycles = 0;
  double latency_ms = 0;
  std::vector<double> op_cycles;  // by op index
};
LatencyEstimate EstimateLatency(const McuProfile& mcu, const Network& network);

}  // namespace unas
