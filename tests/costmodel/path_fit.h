// Fitting the kernel-path latency model of costmodel/mcu.h to measured
// instructions per operator; shared by the two calibration tools
// (tests/costmodel/bench_tflm_latency.cc for TFLM, tests/firmware/
// bench_firmware.cc --calibrate for unas's generated C). Header-only: the
// tools are single files.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <vector>

#include "costmodel/mcu.h"

namespace unas::testing {

// One operator as measured: instructions it took on the target.
struct MeasuredOp {
  Op op;
  double instructions = 0;
  const Network* network = nullptr;  // op's network (PathTerms), alive while fitting
};

// Non-negative least squares per kernel path: instructions ~ PathCosts .
// PathTerms, each row weighted by 1 / sqrt(instructions) (so small operators
// count as well as large ones), solved by coordinate descent on the normal
// equations (20,000 sweeps; converges on these 7-term systems). Terms a path
// never uses stay 0.
inline PathCostTable FitPathCosts(const std::vector<MeasuredOp>& ops) {
  double ata[kKernelPaths][kPathTerms][kPathTerms] = {}, atb[kKernelPaths][kPathTerms] = {};
  for (const MeasuredOp& m : ops) {
    const int path = static_cast<int>(KernelPathOf(m.op));
    const double w = 1.0 / std::sqrt(std::max(m.instructions, 100.0));
    std::array<double, kPathTerms> t = PathTerms(m.op, *m.network);
    for (double& v : t) v *= w;
    for (int a = 0; a < kPathTerms; ++a) {
      atb[path][a] += t[a] * m.instructions * w;
      for (int b = 0; b < kPathTerms; ++b) ata[path][a][b] += t[a] * t[b];
    }
  }
  PathCostTable table{};
  for (int path = 0; path < kKernelPaths; ++path) {
    double x[kPathTerms] = {};
    for (int sweep = 0; sweep < 20000; ++sweep) {
      for (int a = 0; a < kPathTerms; ++a) {
        if (ata[path][a][a] <= 0) continue;
        double g = atb[path][a];
        for (int b = 0; b < kPathTerms; ++b) {
          if (b != a) g -= ata[path][a][b] * x[b];
        }
        x[a] = std::max(0.0, g / ata[path][a][a]);
      }
    }
    table[path] = {x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], x[10], x[11]};
  }
  return table;
}

// Prints the table as the initializer mcu.cc holds.
inline void PrintPathCosts(const PathCostTable& t) {
  std::printf("fitted PathCostTable (per_op, per_mac, per_output, per_tap, per_column, per_odd_channel_mac, "
              "per_leftover_pixel_mac, per_general_mac, per_weight_word, per_group_row, per_computed_row, "
              "per_general_channel_window):\n");
  for (int p = 0; p < kKernelPaths; ++p) {
    const PathCosts& c = t[p];
    std::printf("    {%.4g, %.4g, %.4g, %.4g, %.4g, %.4g, %.4g, %.4g, %.4g, %.4g, %.4g, %.4g},  // %s\n", c.per_op,
                c.per_mac, c.per_output, c.per_tap, c.per_column, c.per_odd_channel_mac, c.per_leftover_pixel_mac,
                c.per_general_mac, c.per_weight_word, c.per_group_row, c.per_computed_row,
                c.per_general_channel_window,
                KernelPathName(static_cast<KernelPath>(p)));
  }
}

}  // namespace unas::testing
