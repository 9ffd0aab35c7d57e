// The coordinator core without gRPC: one thread acquires and completes trials
// of a synthetic job in-process, so the figure is the cost of proposing,
// leasing, committing and bookkeeping a trial (strategy + SQLite + state).
//
//   build/bench/bench_coordinator [TRIALS] [random|aging]
#include <unistd.h>

#include <chrono>
#include <iostream>

#include "server/core/coordinator.h"

using namespace unas;
using namespace unas::server;

int main(int argc, char** argv) {
  const int trials = argc > 1 ? std::atoi(argv[1]) : 3000;
  const std::string strategy = argc > 2 ? argv[2] : "random";
  const std::string db = "/tmp/bench_coordinator_" + std::to_string(getpid()) + ".db";
  auto store = Store::Open(db);
  if (!store.ok()) {
    std::cerr << store.status().message() << "\n";
    return 1;
  }
  SystemClock clock;
  CoordinatorOptions options;
  options.resolve_input = [](const data::DatasetSpec&) -> Result<InputSpec> { return InputSpec{8, 8, 1, 10}; };
  auto c = Coordinator::Open(std::move(store).value(), &clock, options);
  const std::string spec = R"({"dataset":"synthetic","evaluator":"synthetic","strategy":")" + strategy +
                           R"(","budget":{"trials":)" + std::to_string(trials) +
                           R"(},"bounds":{"val_error":0.5,"peak_sram_bytes":64000,"flash_bytes":64000,"macs":30000000}})";
  auto job = (*c)->Submit(spec);
  if (!job.ok()) {
    std::cerr << job.status().message() << "\n";
    return 1;
  }
  const std::string w = (*c)->RegisterWorker("bench");
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  int done = 0;
  while (auto a = (*c)->Acquire(w, 0)) {
    TrialResult r;
    r.succeeded = true;
    r.metrics.val_error = 0.1 + 0.3 * ((a->trial_id * 7919) % 1000) / 1000.0;
    if (!(*c)->Complete(w, a->lease_id, r).ok()) return 1;
    ++done;
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  std::cout << "trials " << done << " (" << strategy << "), " << wall << " s wall, " << cpu << " s CPU\n";
  std::cout << "trials/s " << done / wall << ", CPU per trial " << cpu / done * 1e3 << " ms\n";
  c->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) unlink((db + suffix).c_str());
  return 0;
}
