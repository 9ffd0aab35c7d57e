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
// per_odd_channel_mac, per_leftover_pixel_mac, then three terms of unas's
// kernels that these tables do not use (0; mcu.h).
constexpr PathCostTable kTflmCmsisNnM4 = {{
    {1525, 1.614, 50.03, 40.71, 3.373, 0.4326, 1.073, 0, 0, 0},  // conv
    {1251, 1.509, 42.21, 0, 4.056, 0, 2.392, 0, 0, 0},           // pointwise
    {386.8, 4.821, 88.81, 0, 4.207, 0, 0, 0, 0, 0},              // pointwise_strided
    {784.5, 8.44, 0, 14.4, 0, 0, 0, 0, 0, 0},                    // depthwise_3x3
    {1078, 7.729, 38.49, 48.23, 0, 0, 0, 0, 0, 0},               // depthwise
    {439.8, 7.62, 2.834, 34.58, 0, 0, 0, 0, 0, 0},               // max_pool
    {558.8, 5.838, 10.65, 42.28, 0, 0, 0, 0, 0, 0},              // avg_pool
    {488.3, 1.877, 54, 0, 0, 0, 0, 0, 0, 0},                     // dense
    {826.8, 81.82, 0, 0, 0, 0, 0, 0, 0, 0},                      // add
}};
constexpr PathCostTable kTflmCmsisNnM7 = {{
    {1724, 1.609, 50.79, 42.48, 3.472, 0.4353, 1.071, 0, 0, 0},  // conv
    {1281, 1.487, 42.28, 0, 4.067, 0, 2.377, 0, 0, 0},           // pointwise
    {395.1, 4.828, 87.06, 0, 4.032, 0, 0, 0, 0, 0},              // pointwise_strided
    {791, 8.441, 0, 14.4, 0, 0, 0, 0, 0, 0},                     // depthwise_3x3
    {1098, 7.481, 37.86, 48.67, 0, 0, 0, 0, 0, 0},               // depthwise
    {446.1, 7.617, 2.856, 34.65, 0, 0, 0, 0, 0, 0},              // max_pool
    {568.7, 5.862, 10.48, 41.77, 0, 0, 0, 0, 0, 0},              // avg_pool
    {484.3, 1.877, 54.3, 0, 0, 0, 0, 0, 0, 0},                   // dense
    {823.5, 81.08, 0.3924, 0, 0, 0, 0, 0, 0, 0},                 // add
}};

// unas's generated C (firmware/, whole execution, arm-none-eabi-gcc 12.2
// -O2), the same kernel-path model fitted per path by non-negative least
// squares to the instructions each operator took (profiled builds, SysTick
// under QEMU -icount shift=0) in 48 calibration networks (12 small random
// networks on 28x28x1, 12 on 32x32x3, 4 on 49x40x1, 7 narrow ones on
// 32x32x3, 13 μNAS reference candidates: 609 operators) and checked on 20
// held-out ones (12 other candidates, 6 random networks of another seed, the
// two examples): mean error 2.3 % (M4), 3.0 % (M7), 1.8 % (M0+), largest
// 8.7 %, 9.0 %, 8.8 %.
// docs/firmware.md "Calibrating the latency model" has the tables, the
// measurements (bench/firmware_calibration/) and the commands
// (tests/firmware/bench_firmware.cc --calibrate, --fit). The terms named
// after CMSIS-NN's kernels count here what unas's kernels walk: window rows
// and bytes, the channels and pixels an unrolled loop leaves; the last five
// (general-loop MACs, weight words, group rows, computed weight rows,
// clipped pools' element-wise channel windows) are unas's own (mcu.h). One
// cycle per instruction.
//   M4: -mcpu=cortex-m4, the DSP path (SMLAD, SXTB16), QEMU mps2-an386.
//   M7: -mcpu=cortex-m7, the DSP path, mps2-an500 (GCC schedules the same
//       kernels differently: 0.89-1.21x the M4's instructions per operator).
//   M0+: the portable C (ARMv6-M, no DSP extension) on QEMU's Cortex-M3
//       board mps2-an385 (QEMU has no M0+; Thumb-1 code runs unchanged).
constexpr PathCostTable kUnasCM4 = {{
    {59.08, 1.118, 22.08, 1.117, 0.3255, 0.5596, 0.09715, 0, 1.749, 0, 4.621, 0},  // conv
    {41.24, 1.667, 6.597, 0, 0.6164, 0, 0, 0, 0, 0, 22.69, 0},  // pointwise
    {10.06, 1.418, 30.89, 0, 0.6823, 0, 0, 0, 0.5559, 0, 8.893, 0},  // pointwise_strided
    {0, 4.467, 0, 0, 0, 0.8628, 0, 0, 0, 0, 0, 0},  // depthwise_3x3
    {13.59, 2.46, 18.31, 0, 0, 0.6887, 0, 0, 0, 0, 0, 0},  // depthwise
    {61.52, 1.151, 0, 0.1649, 0, 4.158, 0, 1.297, 0, 0, 0, 14.02},  // max_pool
    {5.836, 0, 8.05, 0, 0, 4.065, 0, 2.232, 0, 0, 0, 20.02},  // avg_pool
    {0, 1.549, 36.68, 0, 0, 0, 0, 0, 0, 0, 0, 0},  // dense
    {29.12, 35.83, 0, 0, 0, 0, 0, 13.71, 0, 0, 0, 0},  // add
}};
constexpr PathCostTable kUnasCM7 = {{
    {72.12, 1.111, 19, 1.194, 0.2595, 0.6298, 0.07723, 0, 1.815, 0, 4.849, 0},  // conv
    {32.37, 0.853, 21.32, 0, 0.5331, 0, 0, 0, 3.138, 0, 7.584, 0},  // pointwise
    {10.25, 1.391, 29.89, 0, 0.6904, 0, 0, 0, 0.6163, 0, 9.863, 0},  // pointwise_strided
    {0, 4.343, 1.378e-15, 0, 0, 0.9231, 0, 0, 0, 0, 0, 0},  // depthwise_3x3
    {20.13, 2.486, 16.5, 0, 0, 0.7285, 0, 0, 0, 0, 0, 0},  // depthwise
    {67.87, 1.176, 0, 0.2007, 0, 4.104, 0, 1.152, 0, 0, 0, 15.14},  // max_pool
    {13.59, 0, 7.073, 0, 0, 3.181, 0, 2.473, 0, 0, 0, 26.93},  // avg_pool
    {0, 1.55, 37.01, 0, 0, 0, 0, 0, 0, 0, 0, 0},  // dense
    {28.96, 35.82, 0, 0, 0, 0, 0, 14.51, 0, 0, 0, 0},  // add
}};
constexpr PathCostTable kUnasCM0Plus = {{
    {0, 7.026, 92.78, 0.5093, 0, 0, 0, 0, 0, 0, 16.55, 0},  // conv
    {0, 6.996, 76.48, 0, 0, 0, 0, 0, 0, 0, 18.21, 0},  // pointwise
    {0, 6.955, 84.57, 0, 0.3447, 0, 0, 0, 0.02832, 37.26, 0, 0},  // pointwise_strided
    {0, 15.37, 0, 0, 0, 1.818, 0, 0, 0, 0, 0, 0},  // depthwise_3x3
    {24.79, 7.849, 71.85, 0, 0, 0.205, 0, 0, 0, 0, 0, 0},  // depthwise
    {25.14, 5.566, 0, 0, 0, 1.746, 0, 5.39, 0, 0, 0, 8.436},  // max_pool
    {0.7514, 0, 12.86, 0, 0, 0, 0, 11.07, 0, 0, 0, 104},  // avg_pool
    {21.95, 6.999, 82.38, 0, 0, 0, 0, 0, 0, 0, 0, 0},  // dense
    {0.5499, 148.3, 0, 0, 0, 0, 0, 7.165, 0, 0, 0, 0},  // add
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

namespace {

// Whether an operator leaves the loops its shape folds for the general ones
// (firmware/c/unas_kernels_impl.h): a ceil-mode pool whose last windows are
// clipped at the input's edge computes every window's rows and columns at
// run time; an Add whose terms differ in shape pads them, looking each
// term's pixel up per output pixel.
bool TakesGeneralLoop(const Op& op, const Network& network) {
  switch (op.kind) {
    case OpKind::kMaxPool:
    case OpKind::kAvgPool: return op.out.h * op.pool_h != op.in.h || op.out.w * op.pool_w != op.in.w;
    case OpKind::kAdd:
      for (int input : op.inputs) {
        const Shape term = input == kNetworkInput ? network.input_shape() : network.ops[static_cast<size_t>(input)].out;
        if (term.h != op.out.h || term.w != op.out.w || term.c != op.out.c) return true;
      }
      return false;
    default: return false;
  }
}

// Weight words a convolution's DSP path multiplies: per output pixel and
// kernel row, ceil(k * in_c / 4) words (the masked tail word whole) against
// each computed weight row; output channels go four at a time, a last group
// of 3 computing 4 rows (one repeated), of 2 or 1 that many.
int ComputedRows(const Op& op) {
  static constexpr int kLastGroupRows[4] = {0, 1, 2, 4};
  return 4 * (op.out.c / 4) + kLastGroupRows[op.out.c % 4];
}
double WeightWords(const Op& op) {
  const double pixels = static_cast<double>(op.out.h) * op.out.w;
  const int row_words = (op.kernel * op.in.c + 3) / 4;
  return pixels * op.kernel * row_words * ComputedRows(op);
}

}  // namespace

std::array<double, kPathTerms> PathTerms(const Op& op, const Network& network) {
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
  const bool general = TakesGeneralLoop(op, network);
  if (general) t[7] = t[1];
  if (op.kind == OpKind::kConv2D) {
    // unas's convolutions (any kernel) run one loop: per output pixel,
    // groups of up to four output channels, per kernel row.
    t[8] = WeightWords(op);
    t[9] = pixels * ((op.out.c + 3) / 4) * op.kernel;
    // per kernel row of each computed weight row: the DSP path's masked
    // tail word and row pointers, the portable path's call of its row dot
    // product (a last group of 3 channels computes 4 rows on the DSP path)
    t[10] = pixels * ComputedRows(op) * op.kernel;
  }
  if (general && (op.kind == OpKind::kMaxPool || op.kind == OpKind::kAvgPool)) t[11] = pixels * (op.out.c % 4);
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

double EstimateOpCycles(const McuProfile& mcu, const Op& op, const Network& network) {
  if (mcu.paths) {
    const PathCosts& c = (*mcu.paths)[static_cast<int>(KernelPathOf(op))];
    const std::array<double, kPathTerms> t = PathTerms(op, network);
    return c.per_op * t[0] + c.per_mac * t[1] + c.per_output * t[2] + c.per_tap * t[3] + c.per_column * t[4] +
           c.per_odd_channel_mac * t[5] + c.per_leftover_pixel_mac * t[6] + c.per_general_mac * t[7] +
           c.per_weight_word * t[8] + c.per_group_row * t[9] + c.per_computed_row * t[10] +
           c.per_general_channel_window * t[11];
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
    const double cycles = EstimateOpCycles(mcu, op, network);
    estimate.op_cycles.push_back(cycles);
    estimate.cycles += cycles;
  }
  estimate.latency_ms = estimate.cycles / mcu.clock_hz * 1e3;
  return estimate;
}

}  // namespace unas
