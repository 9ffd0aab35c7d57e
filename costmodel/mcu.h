// Latency estimates on named microcontroller profiles, one per runtime and
// core ("tflm-cmsis-nn-cortex-m4", "unas-c-cortex-m4-80mhz").
//
// An ESTIMATE, not a measurement. Two models:
//   - the per-kind model: cycles = sum over operators of (MACs x
//     cycles-per-MAC for the operator's kind) + (requantised output elements
//     x cycles-per-output) + a fixed per-operator overhead;
//   - the kernel-path model (profiles with `paths`, fitted to TFLM with
//     CMSIS-NN): each operator runs one kernel path (KernelPathOf: CMSIS-NN
//     picks different kernels for 1x1 and k x k convolutions, strided 1x1,
//     3x3 depthwise, ...) and costs the dot product of the path's PathCosts
//     with the operator's counts (PathTerms): operators, MACs, output
//     elements, kernel taps (im2col copies, window steps), im2col columns,
//     and the MACs of the odd output channel and of leftover pixels, which
//     CMSIS-NN's kernels handle outside their unrolled loops; for unas's
//     generated C also the MACs its general (not shape-folded) loops take,
//     the weight words and weight rows its convolutions compute and the
//     element-wise channels of clipped pools.
// Profiles measured on QEMU count instructions, i.e. cycles at one
// instruction per cycle. The constants are in mcu.cc, in one table, with
// where they come from.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "costmodel/network.h"
#include "base/status.h"

namespace unas {

// The kernel a TFLM + CMSIS-NN build runs for a Network operator.
enum class KernelPath {
  kConv,               // k x k convolution, k > 1 (arm_convolve_s8: im2col + 2x2 matrix kernel)
  kPointwise,          // 1x1, stride 1 (arm_convolve_1x1_s8_fast)
  kPointwiseStrided,   // 1x1, stride 2 (arm_convolve_1x1_s8)
  kDepthwise3x3,       // arm_depthwise_conv_3x3_s8
  kDepthwise,          // any other depthwise (arm_depthwise_conv_s8_opt)
  kMaxPool,
  kAvgPool,
  kDense,              // FULLY_CONNECTED
  kAdd,                // the binary ADDs of an Add, with any PAD of unequal terms
};
constexpr int kKernelPaths = 9;
const char* KernelPathName(KernelPath path);  // "conv", "pointwise", ...
KernelPath KernelPathOf(const Op& op);

// Cycles per unit of each count of PathTerms, in its order.
struct PathCosts {
  double per_op = 0;                  // per TFLite operator (an n-term Add has n - 1 ADDs)
  double per_mac = 0;
  double per_output = 0;              // output elements
  double per_tap = 0;                 // output pixels x kernel (or window) taps
  double per_column = 0;              // output pixels x taps x input channels: im2col bytes
  double per_odd_channel_mac = 0;     // MACs of the last output channel when the count is odd
  double per_leftover_pixel_mac = 0;  // MACs of the pixels a 2-pixel (k x k) or 4-pixel (1x1) kernel leaves
  // The next five count what unas's generated C walks (0 in the TFLM
  // tables, fitted before they existed):
  double per_general_mac = 0;  // MACs of a pool whose windows are clipped at the input's edge
                               // (ceil mode) or of an Add whose terms differ in shape (padded)
  double per_weight_word = 0;  // convolutions: weight words multiplied (4 bytes; a row's masked tail and
                               // the repeated row of a 3-channel group count whole)
  double per_group_row = 0;    // convolutions: output pixels x groups of up to 4 output channels x kernel
                               // rows (the inner loop's set-up)
  double per_computed_row = 0;  // convolutions: output pixels x weight rows computed x kernel rows (a last
                                // group of 3 output channels computes 4 rows on the DSP path)
  double per_general_channel_window = 0;  // clipped (general-loop) pools: output pixels x the c % 4 channels
                                          // their element-wise loop walks, each with run-time window bounds
};
constexpr int kPathTerms = 12;
using PathCostTable = std::array<PathCosts, kKernelPaths>;
// The counts PathCosts multiply, in its field order. `network`: the
// operator's network (an Add's terms' shapes).
std::array<double, kPathTerms> PathTerms(const Op& op, const Network& network);

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
  // When set, the kernel-path model replaces the per-kind constants above.
  const PathCostTable* paths = nullptr;
};

const std::vector<McuProfile>& McuProfiles();
// Looks a profile up by name; the error lists the known names. Also takes
// "NAME@<N>mhz" (e.g. "tflm-cmsis-nn-cortex-m4@120mhz"): the same profile at
// N MHz (1..2000), named so; and the old names "cortex-m4-80mhz" and
// "cortex-m7-216mhz", which are the tflm-cmsis-nn profiles of those cores.
// The returned profile lives as long as the process. Thread-safe.
Result<const McuProfile*> FindMcu(const std::string& name);
// The profile `base` at `clock_hz`, named "<base>@<MHz>mhz" (or `base` itself
// at its own clock). Thread-safe; lives as long as the process.
const McuProfile* McuAtClock(const McuProfile& base, double clock_hz);

// `op` is an operator of `network`.
double EstimateOpCycles(const McuProfile& mcu, const Op& op, const Network& network);

struct LatencyEstimate {
  double cycles = 0;
  double latency_ms = 0;
  std::vector<double> op_cycles;  // by op index
};
LatencyEstimate EstimateLatency(const McuProfile& mcu, const Network& network);

}  // namespace unas
