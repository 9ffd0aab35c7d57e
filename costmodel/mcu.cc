#include "costmodel/mcu.h"

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <utility>

namespace unas {

// TFLM + CMSIS-NN (tflite-micro 90b983c2, CMSIS-NN 4ab83cc3, built with
// arm-none-eabi-g++ 12.2 -O2 for -mcpu=cortex-m4 / cortex-m7), fitted per
// kernel path by non-negative least squares to the instructions each operator
// took on QEMU (mps2-an386 / mps2-an500, -icount shift=0, SysTick) in 84
// random int8 networks (inputs 28x28x1, 32x32x3, 49x10x1, 40x40x1; up to 64
// filters, 128 units, 4 M MACs), checked on 36 others: mean error 1.5 %,
// largest 7.9 % on Cortex-M4 (1.6 % and 8.4 % on M7); docs/cost-model.md has
// the table and the commands (tests/costmodel/bench_tflm_latency.cc). Counted
// at one cycle per instruction: a real M4 takes more (loads and taken
// branches take 2 or more), a real M7 fewer (dual issue); QEMU models
// neither. Fields: per_op, per_mac, per_output, per_tap, per_column,
// per_odd_channel_mac, per_leftover_pixel_mac (mcu.h).
constexpr PathCostTable kTflmCmsisNnM4 = {{
    {1525, 1.614, 50.03, 40.71, 3.373, 0.4326, 1.073},  // conv
    {1251, 1.509, 42.21, 0, 4.056, 0, 2.392},           // pointwise
    {386.8, 4.821, 88.81, 0, 4.207, 0, 0},              // pointwise_strided
    {784.5, 8.44, 0, 14.4, 0, 0, 0},                    // depthwise_3x3
    {1078, 7.729, 38.49, 48.23, 0, 0, 0},               // depthwise
    {439.8, 7.62, 2.834, 34.58, 0, 0, 0},               // max_pool
    {558.8, 5.838, 10.65, 42.28, 0, 0, 0},              // avg_pool
    {488.3, 1.877, 54, 0, 0, 0, 0},                     // dense
    {826.8, 81.82, 0, 0, 0, 0, 0},                      // add
}};
constexpr PathCostTable kTflmCmsisNnM7 = {{
    {1724, 1.609, 50.79, 42.48, 3.472, 0.4353, 1.071},  // conv
    {1281, 1.487, 42.28, 0, 4.067, 0, 2.377},           // pointwise
    {395.1, 4.828, 87.06, 0, 4.032, 0, 0},              // pointwise_strided
    {791, 8.441, 0, 14.4, 0, 0, 0},                     // depthwise_3x3
    {1098, 7.481, 37.86, 48.67, 0, 0, 0},               // depthwise
    {446.1, 7.617, 2.856, 34.65, 0, 0, 0},              // max_pool
    {568.7, 5.862, 10.48, 41.77, 0, 0, 0},              // avg_pool
    {484.3, 1.877, 54.3, 0, 0, 0, 0},                   // dense
    {823.5, 81.08, 0.3924, 0, 0, 0, 0},                 // add
}};

// unas's generated C (firmware/, whole execution, arm-none-eabi-gcc 12.2
// -O2), the same kernel-path model fitted per path by non-negative least
// squares to the instructions each operator took (profiled builds, SysTick
// under QEMU -icount shift=0) in 25 calibration networks (12 small random
// networks, 13 μNAS reference candidates: 363 operators) and checked on 20
// held-out ones (12 other candidates, 6 random networks of another seed,
// the two examples): mean error 5.3 % (M4), 5.7 % (M7), 3.7 % (M0+),
// largest 14.1 %, 11.4 %, 12.2 %. docs/firmware.md "Calibrating the
// latency model" has the tables, the measurements
// (bench/firmware_calibration/) and the commands (tests/firmware/
// bench_firmware.cc --calibrate, --fit). The terms named after CMSIS-NN's
// kernels count here what unas's kernels walk: window rows and bytes, the
// channels and pixels an unrolled loop leaves. One cycle per instruction.
//   M4: -mcpu=cortex-m4, the DSP path (SMLAD, SXTB16), QEMU mps2-an386.
//   M7: -mcpu=cortex-m7, the DSP path, mps2-an500 (GCC schedules the same
//       kernels differently: 0.89-1.21x the M4's instructions per operator).
//   M0+: the portable C (ARMv6-M, no DSP extension) on QEMU's Cortex-M3
//       board mps2-an385 (QEMU has no M0+; Thumb-1 code runs unchanged).
constexpr PathCostTable kUnasCM4 = {{
    {46.09, 1.59, 42.2, 1.64, 0.2266, 0.5261, 0},       // conv
    {32.79, 1.666, 29.39, 0, 0.8547, 0, 0},             // pointwise
    {7.106, 1.554, 41.11, 0, 0.7278, 0, 0},             // pointwise_strided
    {0, 4.468, 0, 0, 0, 0.776, 0},                      // depthwise_3x3
    {18.14, 2.472, 18.02, 0, 0, 0.5803, 0},             // depthwise
    {32.04, 1.271, 0, 1.617, 0, 3.767, 0},              // max_pool
    {32.7, 2.466, 2.341, 7.265, 0, 0, 0},               // avg_pool
    {0, 1.546, 37.29, 0, 0, 0, 0},                      // dense
    {22.73, 40.34, 0, 0, 0, 0, 0},                      // add
}};
constexpr PathCostTable kUnasCM7 = {{
    {47.25, 1.602, 39.81, 2.008, 0.1158, 0.6271, 0},    // conv
    {14.33, 1.621, 31.27, 0, 0.7131, 0, 0},             // pointwise
    {6.973, 1.541, 41.22, 0, 0.7409, 0, 0},             // pointwise_strided
    {0, 4.343, 0, 0, 0, 0.8433, 0},                     // depthwise_3x3
    {24.11, 2.511, 15.91, 0, 0, 0.6219, 0},             // depthwise
    {43.57, 1.288, 0, 1.642, 0, 3.744, 0},              // max_pool
    {29.78, 2.642, 1.929, 8.011, 0, 0, 0},              // avg_pool
    {2.247, 1.547, 37.46, 0, 0, 0, 0},                  // dense
    {25.76, 40.27, 0, 0, 0, 0, 0},                      // add
}};
constexpr PathCostTable kUnasCM0Plus = {{
    {0, 7.081, 153.3, 2.637, 0, 0, 0},                  // conv
    {0, 7.002, 94.48, 0, 0, 0, 0},                      // pointwise
    {17.75, 6.963, 93.14, 0, 0.5702, 0, 0},             // pointwise_strided
    {0, 15.32, 4.428e-13, 0, 0, 1.819, 0},              // depthwise_3x3
    {0, 7.686, 75.33, 0, 0, 0.2048, 0},                 // depthwise
    {0, 6.054, 0, 0, 0, 2.578, 0},                      // max_pool
    {0, 11.44, 0, 20.25, 0, 0, 0},                      // avg_pool
    {27.53, 6.999, 82.28, 0, 0, 0, 0},                  // dense
    {11.88, 151.5, 0, 0, 0, 0, 0},                      // add
}};

const std::vector<McuProfile>& McuProfiles() {
  static const std::vector<McuProfile> profiles = {
      {"tflm-cmsis-nn-cortex-m4", "TFLM with CMSIS-NN kernels on an Arm Cortex-M4F, 80 MHz nominal",
       80e6, 128 * 1024, 1024 * 1024, 0, 0, 0, 0, 0, 0, 0, 0, &kTflmCmsisNnM4},
      {"tflm-cmsis-nn-cortex-m7", "TFLM with CMSIS-NN kernels on an Arm Cortex-M7, 216 MHz nominal",
       216e6, 320 * 1024, 1024 * 1024, 0, 0, 0, 0, 0, 0, 0, 0, &kTflmCmsisNnM7},
      {"unas-c-cortex-m4", "unas's generated C (-O2, DSP path) on an Arm Cortex-M4F, 80 MHz nominal",
       80e6, 128 * 1024, 1024 * 1024, 0, 0, 0, 0, 0, 0, 0, 0, &kUnasCM4},
      {"unas-c-cortex-m7", "unas's generated C (-O2, DSP path) on an Arm Cortex-M7, 216 MHz nominal",
       216e6, 320 * 1024, 1024 * 1024, 0, 0, 0, 0, 0, 0, 0, 0, &kUnasCM7},
      {"unas-c-cortex-m0plus", "unas's generated C (-O2, portable C) on an Arm Cortex-M0+, 133 MHz nominal",
       133e6, 264 * 1024, 2048 * 1024, 0, 0, 0, 0, 0, 0, 0, 0, &kUnasCM0Plus},
  };
  return profiles;
}

namespace {

// Old names: the profiles before they were named by runtime and core. They
// resolve to the new profile at the clock they named, keeping their own name
// so that stored jobs read back as they were written.
struct Alias {
  const char* old_name;
  const char* profile;
  double clock_hz;
};
constexpr Alias kAliases[] = {{"cortex-m4-80mhz", "tflm-cmsis-nn-cortex-m4", 80e6},
                              {"cortex-m7-216mhz", "tflm-cmsis-nn-cortex-m7", 216e6},
                              {"unas-c-cortex-m4-80mhz", "unas-c-cortex-m4", 80e6}};

// Profiles at other clocks or under old names, made on demand; std::deque
// keeps their addresses stable. Guarded by ClockedMutex().
std::mutex& ClockedMutex() {
  static std::mutex m;
  return m;
}
std::deque<McuProfile>& Clocked() {
  static std::deque<McuProfile> profiles;
  return profiles;
}

std::string MhzText(double clock_hz) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", clock_hz / 1e6);
  return buf;
}

const McuProfile* Interned(const McuProfile& base, const std::string& name, double clock_hz) {
  std::lock_guard<std::mutex> lock(ClockedMutex());
  for (const McuProfile& p : Clocked()) {
    if (p.name == name) return &p;
  }
  McuProfile p = base;
  p.name = name;
  if (clock_hz != base.clock_hz) p.description = base.description + ", at " + MhzText(clock_hz) + " MHz";
  p.clock_hz = clock_hz;
  Clocked().push_back(std::move(p));
  return &Clocked().back();
}

}  // namespace

const McuProfile* McuAtClock(const McuProfile& base, double clock_hz) {
  if (base.clock_hz == clock_hz) return &base;
  return Interned(base, base.name + "@" + MhzText(clock_hz) + "mhz", clock_hz);
}

Result<const McuProfile*> FindMcu(const std::string& name) {
  std::string base = name;
  double clock_hz = 0;
  if (const size_t at = name.find('@'); at != std::string::npos) {
    base = name.substr(0, at);
    const std::string clock = name.substr(at + 1);
    char* end = nullptr;
    const double mhz = clock.size() > 3 ? std::strtod(clock.c_str(), &end) : 0;
    if (!end || std::string(end) != "mhz" || !(mhz >= 1 && mhz <= 2000)) {
      return Status::Invalid("MCU profile '" + name + "': the clock after '@' must be 1..2000 MHz, e.g. '@120mhz'");
    }
    clock_hz = mhz * 1e6;
  }
  const Alias* alias = nullptr;
  for (const Alias& a : kAliases) {
    if (base == a.old_name) alias = &a;
  }
  std::string known;
  for (const McuProfile& p : McuProfiles()) {
    if (p.name == (alias ? alias->profile : base)) {
      if (alias && clock_hz == 0) return Interned(p, alias->old_name, alias->clock_hz);
      return clock_hz > 0 ? McuAtClock(p, clock_hz) : &p;
    }
    known += (known.empty() ? "" : ", ") + p.name;
  }
  return Status(StatusCode::kNotFound, "unknown MCU profile '" + name + "' (known: " + known +
                                           "; any of them at another clock as NAME@<N>mhz)");
}

const char* KernelPathName(KernelPath path) {
  static constexpr const char* kNames[kKernelPaths] = {"conv",    "pointwise", "pointwise_strided", "depthwise_3x3",
                                                        "depthwise", "max_pool", "avg_pool",          "dense",
                                                        "add"};
  return kNames[static_cast<int>(path)];
}

KernelPath KernelPathOf(const Op& op) {
  switch (op.kind) {
    case OpKind::kConv2D:
      if (op.kernel > 1) return KernelPath::kConv;
      return op.stride == 1 ? KernelPath::kPointwise : KernelPath::kPointwiseStrided;
    // unas's depthwise layers are VALID, so a 3x3 kernel has padding 0 <= 1.
    case OpKind::kDWConv2D: return op.kernel == 3 ? KernelPath::kDepthwise3x3 : KernelPath::kDepthwise;
    case OpKind::kMaxPool: return KernelPath::kMaxPool;
    case OpKind::kAvgPool: return KernelPath::kAvgPool;
    case OpKind::kDense: return KernelPath::kDense;
    case OpKind::kAdd: return KernelPath::kAdd;
  }
  return KernelPath::kAdd;
}

std::array<double, kPathTerms> PathTerms(const Op& op) {
  const double pixels = static_cast<double>(op.out.h) * op.out.w;
  const double outputs = static_cast<double>(op.out.elements());
  const double taps = op.kind == OpKind::kMaxPool || op.kind == OpKind::kAvgPool
                          ? static_cast<double>(op.pool_h) * op.pool_w
                          : static_cast<double>(op.kernel) * op.kernel;
  const double operators = op.kind == OpKind::kAdd ? static_cast<double>(op.inputs.size()) - 1 : 1;
  std::array<double, kPathTerms> t{};
  t[0] = operators;
  t[1] = static_cast<double>(op.macs());
  t[2] = outputs;
  switch (KernelPathOf(op)) {
    case KernelPath::kConv: {
      const double column = taps * op.in.c;  // im2col bytes per output pixel
      const int leftover_pixels = (op.out.h * op.out.w) % 2;
      t[3] = pixels * taps;
      t[4] = pixels * column;
      t[5] = op.out.c % 2 ? pixels * column : 0;
      t[6] = leftover_pixels * static_cast<double>(op.out.c) * column;
      break;
    }
    case KernelPath::kPointwise:
      t[4] = pixels * op.in.c;
      t[6] = ((op.out.h * op.out.w) % 4) * static_cast<double>(op.out.c) * op.in.c;
      break;
    case KernelPath::kPointwiseStrided: t[4] = pixels * op.in.c; break;
    case KernelPath::kDepthwise3x3:
    case KernelPath::kDepthwise:
    case KernelPath::kMaxPool:
    case KernelPath::kAvgPool:
      t[3] = pixels * taps;
      // Channel-wise kernels that take four channels a word (unas's DSP
      // path) leave c % 4 channels to an element-wise loop. CMSIS-NN's
      // tables have no cost on it (fitted before the term existed: 0).
      t[5] = pixels * taps * (op.out.c % 4);
      break;
    case KernelPath::kDense:
    case KernelPath::kAdd: break;
  }
  return t;
}

double EstimateOpCycles(const McuProfile& mcu, const Op& op) {
  if (mcu.paths) {
    const PathCosts& c = (*mcu.paths)[static_cast<int>(KernelPathOf(op))];
    const std::array<double, kPathTerms> t = PathTerms(op);
    return c.per_op * t[0] + c.per_mac * t[1] + c.per_output * t[2] + c.per_tap * t[3] + c.per_column * t[4] +
           c.per_odd_channel_mac * t[5] + c.per_leftover_pixel_mac * t[6];
  }
  double per_mac = 0;
  switch (op.kind) {
    case OpKind::kConv2D:
      per_mac = op.kernel == 1 ? mcu.cycles_per_mac_pointwise : mcu.cycles_per_mac_conv;
      break;
    case OpKind::kDWConv2D: per_mac = mcu.cycles_per_mac_depthwise; break;
    case OpKind::kDense: per_mac = mcu.cycles_per_mac_dense; break;
    case OpKind::kMaxPool:
    case OpKind::kAvgPool: per_mac = mcu.cycles_per_mac_pool; break;
    case OpKind::kAdd: per_mac = mcu.cycles_per_mac_add; break;
  }
  const bool requantised = op.kind == OpKind::kConv2D || op.kind == OpKind::kDWConv2D || op.kind == OpKind::kDense;
  return mcu.cycles_per_op + per_mac * static_cast<double>(op.macs()) +
         (requantised ? mcu.cycles_per_output * static_cast<double>(op.out.elements()) : 0.0);
}

LatencyEstimate EstimateLatency(const McuProfile& mcu, const Network& network) {
  LatencyEstimate estimate;
  for (const Op& op : network.ops) {
    const double cycles = EstimateOpCycles(mcu, op);
    estimate.op_cycles.push_back(cycles);
    estimate.cycles += cycles;
  }
  estimate.latency_ms = estimate.cycles / mcu.clock_hz * 1e3;
  return estimate;
}

}  // namespace unas
