// unas worker: a remote training worker pulling trials over gRPC.
#include <unistd.h>

#include <iostream>
#include <thread>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/connection.h"
#include "cli/signals.h"
#include "cli/torch_commands.h"
#include "worker/evaluator.h"
#include "server/core/log.h"

namespace unas::cli {

int RunWorker(const std::vector<std::string>& argv) {
  Args args = WorkerArgs();
  if (auto rc = args.ParseOrExit(argv)) return *rc;
  auto threads = args.GetInt("threads", 0, 256);
  auto max_trials = args.GetInt("max-trials", 0, 1LL << 40);
  if (!threads.ok() || !max_trials.ok()) {
    std::cerr << "unas worker: " << (threads.ok() ? max_trials.status() : threads.status()).message() << "\n";
    return 2;
  }
  auto client = ConnectFromFlags(args);
  if (!client.ok()) {
    std::cerr << "unas worker: " << client.status().message() << "\n";
    return 1;
  }
  char host[256] = "worker";
  gethostname(host, sizeof host - 1);
  server::GrpcTrialSource source(**client);
  worker::WorkerLoopOptions options;
  options.name = args.Has("name") ? args.Get("name") : host;
  options.threads = static_cast<int>(*threads);
  options.max_trials = *max_trials;
  options.log = [](const std::string& line) { server::LogInfo(line, {{"component", "worker"}}); };
  worker::WorkerLoop loop(source, worker::MakeEvaluator(static_cast<int>(*threads)), options);
  InstallStopHandlers();
  std::thread watcher([&] {
    while (!StopRequested().load() && !loop.stop_flag().load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    loop.Stop();
  });
  const worker::WorkerLoopStats stats = loop.Run();
  loop.Stop();
  watcher.join();
  const server::LogFields counts = {{"completed", std::to_string(stats.trials_completed)},
                                    {"failed", std::to_string(stats.trials_failed)},
                                    {"released", std::to_string(stats.trials_released)},
                                    {"ignored", std::to_string(stats.results_ignored)}};
  switch (stats.exit) {
    case worker::WorkerExit::kStopped:
      server::LogInfo("worker stopped", counts);
      return 0;
    case worker::WorkerExit::kUnauthenticated:
      server::LogError("worker exits: the coordinator refuses its token; check --token or UNAS_TOKEN",
                       {{"reason", stats.exit_reason}});
      return 3;
    case worker::WorkerExit::kToldToStop:
      server::LogError("worker exits: the coordinator told it to stop", {{"reason", stats.exit_reason}});
      return 4;
  }
  return 0;
}

}  // namespace unas::cli
