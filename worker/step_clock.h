// Wall and CPU time of a trial's steps (the profile in worker/trainer.h
// TrainProfile, the evaluator's int8 step). Plain C++, no LibTorch.
//
// Thread safety: a StepClock belongs to one thread; the CPU time it reads is
// the whole process's (every thread, LibTorch's intra-op threads included).
#pragma once

#include <time.h>

#include <chrono>

namespace unas::worker {

// Time spent in one step: wall seconds and the process's CPU seconds. On a
// machine shared with other work the wall time includes waiting for a core;
// the CPU time does not, so it is the figure to compare across runs.
struct StepTime {
  double wall_seconds = 0;
  double cpu_seconds = 0;
};

// Charges the time since the previous Lap (or construction) to a step.
class StepClock {
 public:
  StepClock() : wall_(std::chrono::steady_clock::now()), cpu_seconds_(ProcessCpuSeconds()) {}

  void Lap(StepTime* step) {
    const std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
    const double cpu_seconds = ProcessCpuSeconds();
    step->wall_seconds += std::chrono::duration<double>(wall - wall_).count();
    step->cpu_seconds += cpu_seconds - cpu_seconds_;
    wall_ = wall;
    cpu_seconds_ = cpu_seconds;
  }

  // CPU seconds used by this process so far, every thread.
  static double ProcessCpuSeconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  }

 private:
  std::chrono::steady_clock::time_point wall_;
  double cpu_seconds_;
};

}  // namespace unas::worker
