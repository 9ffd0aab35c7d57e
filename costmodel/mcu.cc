#include "costmodel/mcu.h"

namespace unas {

// Cycle constants. Sources: CMSIS-NN's int8 kernels use the M4's dual 16-bit
// MAC (SMLAD) for convolutions and dense layers, which in published CMSIS-NN
// and TFLM benchmarks lands at roughly 1.5-2.5 cycles per MAC once im2col,
// requantisation and loads are included; depthwise kernels reuse little data
// and run about twice as slow per MAC. The M7's dual-issue pipeline and
// caches roughly halve those figures. Treat results as +-50% estimates for
// ranking candidates, not as a substitute for measuring on the device.
const std::vector<McuProfile>& McuProfiles() {
  static const std::vector<McuProfile> profiles = {
      {"cortex-m4-80mhz", "Arm Cortex-M4F at 80 MHz (STM32L4 class, 128 KB SRAM, 1 MB flash)",
       80e6, 128 * 1024, 1024 * 1024,
       /*conv=*/2.0, /*pointwise=*/1.6, /*depthwise=*/4.0, /*dense=*/2.2, /*pool=*/1.2, /*add=*/3.0,
       /*per op=*/3000},
      {"cortex-m7-216mhz", "Arm Cortex-M7 at 216 MHz (STM32F7 class, 320 KB SRAM, 1 MB flash)",
       216e6, 320 * 1024, 1024 * 1024,
       /*conv=*/0.9, /*pointwise=*/0.75, /*depthwise=*/2.0, /*dense=*/1.1, /*pool=*/0.6, /*add=*/1.5,
       /*per op=*/1500},
      // unas's own C kernels (firmware/c, arm-none-eabi-gcc -Os), calibrated
      // from instruction counts on QEMU (-icount, SysTick) by a least-squares
      // fit per operator kind over 172 operators of 16 random networks;
      // 12.8% mean absolute error on 8 held-out networks (docs/firmware.md,
      // tests/firmware/bench_firmware.cc). Counted at one cycle per
      // instruction, so a lower bound on a real M4 (loads and taken branches
      // take 2 or more).
      {"unas-c-cortex-m4-80mhz", "unas's generated C on an Arm Cortex-M4F at 80 MHz, 1 cycle per instruction",
       80e6, 128 * 1024, 1024 * 1024,
       /*conv=*/8.57, /*pointwise=*/6.98, /*depthwise=*/17.47, /*dense=*/7.72, /*pool=*/21.51, /*add=*/175.25,
       /*per op=*/57, /*per output=*/107.8},
  };
  return profiles;
}

Result<const McuProfile*> FindMcu(const std::string& name) {
  std::string known;
  for (const McuProfile& p : McuProfiles()) {
    if (p.name == name) return &p;
    known += (known.empty() ? "" : ", ") + p.name;
  }
  return Status(StatusCode::kNotFound, "unknown MCU profile '" + name + "' (known: " + known + ")");
}

double EstimateOpCycles(const McuProfile& mcu, const Op& op) {
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
