// unas worker: a remote training worker pulling trials over gRPC.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <thread>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/connection.h"
#include "cli/signals.h"
#include "cli/torch_commands.h"
#include "worker/dataset_cache.h"
#include "worker/evaluator.h"
#include "server/core/log.h"

namespace unas::cli {

namespace {

// --cache-dir, else $XDG_CACHE_HOME/unas/datasets, else $HOME/.cache/unas/datasets.
std::string CacheDir(const Args& args) {
  if (args.Given("cache-dir")) return args.Get("cache-dir");
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && *xdg != '\0') return std::string(xdg) + "/unas/datasets";
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && *home != '\0' ? home : ".") + "/.cache/unas/datasets";
}

}  // namespace

int RunWorker(const std::vector<std::string>& argv) {
  Args args = WorkerArgs();
  if (auto rc = args.ParseOrExit(argv)) return *rc;
  auto threads = args.GetInt("threads", 0, 256);
  auto max_trials = args.GetInt("max-trials", 0, 1LL << 40);
  if (!threads.ok() || !max_trials.ok()) {
    std::cerr << "unas worker: " << (threads.ok() ? max_trials.status() : threads.status()).message() << "\n";
    return 2;
  }
  auto cache_bytes = args.GetInt("cache-max-bytes", 1, 1LL << 50);
  if (!cache_bytes.ok()) return args.Error(cache_bytes.status());
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
  // Registered data sets come from the coordinator into this cache.
  worker::DatasetCacheOptions cache_options;
  cache_options.directory = CacheDir(args);
  cache_options.max_bytes = *cache_bytes;
  cache_options.log = options.log;
  server::Client& client_ref = **client;
  auto cache = worker::DatasetCache::Open(
      cache_options, [&client_ref](const std::string& sha256, int64_t offset, const auto& on_chunk) {
        return client_ref.FetchDataset(sha256, offset, on_chunk, 3'600'000);
      });
  if (!cache.ok()) {
    std::cerr << "unas worker: " << cache.status().message() << "\n";
    return 1;
  }
  worker::WorkerLoop loop(source, worker::WithDatasetCache(worker::MakeEvaluator(static_cast<int>(*threads)), cache->get()),
                          options);
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
