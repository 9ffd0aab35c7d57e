// unas serve: the coordinator (gRPC API, SQLite store, search drivers) with
// embedded workers.
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/connection.h"
#include "cli/signals.h"
#include "cli/torch_commands.h"
#include "server/core/auth.h"
#include "server/core/coordinator.h"
#include "server/store/data_dir_lock.h"
#include "worker/evaluator.h"
#include "server/grpc/grpc_service.h"
#include "server/http/http_server.h"
#include "server/core/local_workers.h"
#include "server/core/log.h"

namespace unas::cli {
namespace {

// HOST:PORT as a client on this machine reaches a listen address: a
// wildcard host (0.0.0.0, [::]) through loopback.
std::string LocalAddress(const std::string& listen, int port) {
  const std::string host = listen.substr(0, listen.rfind(':'));
  const bool wildcard = host == "0.0.0.0" || host == "[::]" || host.empty();
  return (wildcard ? std::string("127.0.0.1") : host) + ":" + std::to_string(port);
}

}  // namespace

int RunServe(const std::vector<std::string>& argv) {
  Args args = ServeArgs();
  if (auto rc = args.ParseOrExit(argv)) return *rc;
  auto workers = args.GetInt("workers", 0, 1024);
  auto worker_threads = args.GetInt("worker-threads", 0, 256);
  auto lease_ms = args.GetInt("lease-timeout-ms", 100, 86'400'000);
  auto heartbeat_ms = args.GetInt("heartbeat-ms", 10, 3'600'000);
  auto idle_exit = args.GetInt("exit-when-idle", 0, 86'400'000);
  auto max_jobs = args.GetInt("max-running-jobs", 0, 1'000'000);
  auto max_dataset_bytes = args.GetInt("max-dataset-bytes", 1, 1LL << 50);
  for (const Status* s : {&workers.status(), &worker_threads.status(), &lease_ms.status(), &heartbeat_ms.status(),
                          &idle_exit.status(), &max_jobs.status(), &max_dataset_bytes.status()}) {
    if (!s->ok()) {
      std::cerr << "unas serve: " << s->message() << "\n";
      return 2;
    }
  }
  if (*heartbeat_ms * 2 > *lease_ms) {
    std::cerr << "unas serve: --heartbeat-ms must be at most half of --lease-timeout-ms\n";
    return 2;
  }
  const std::string listen = args.Get("listen");
  const bool loopback = listen.rfind("127.", 0) == 0 || listen.rfind("localhost:", 0) == 0 || listen.rfind("[::1]", 0) == 0;
  if (args.On("no-auth") && !loopback) {
    std::cerr << "unas serve: --no-auth is only allowed with a loopback --listen address\n";
    return 2;
  }
  const std::string http_flag = args.Get("http");
  const bool http_loopback = http_flag == "off" || http_flag.rfind("127.", 0) == 0 ||
                             http_flag.rfind("localhost:", 0) == 0 || http_flag.rfind("[::1]", 0) == 0;
  if (args.On("no-auth") && !http_loopback) {
    std::cerr << "unas serve: --no-auth is only allowed with a loopback --http address\n";
    return 2;
  }
  const std::string data_dir = args.Get("data-dir");
  mkdir(data_dir.c_str(), 0700);
  // Held until this process exits: one coordinator per data directory.
  auto dir_lock = server::DataDirLock::Acquire(data_dir);
  if (!dir_lock.ok()) {
    std::cerr << "unas serve: " << dir_lock.status().message() << "\n";
    return 1;
  }
  std::string token;
  // Where clients find the token, for the start-up lines.
  std::string token_hint = "none needed (--no-auth)";
  if (!args.On("no-auth")) {
    const char* env = std::getenv("UNAS_TOKEN");
    std::string given = args.Has("token") ? args.Get("token") : (env ? env : "");
    token_hint = args.Has("token") ? "the one given with --token" : "the one in UNAS_TOKEN";
    if (!args.Has("token") && args.Has("token-file")) {
      token_hint = "the one in " + args.Get("token-file");
      auto from_file = ReadTokenFile(args.Get("token-file"));
      if (!from_file.ok()) {
        std::cerr << "unas serve: " << from_file.status().message() << "\n";
        return 2;
      }
      given = *from_file;
    }
    auto source = server::LoadOrCreateToken(data_dir, given);
    if (!source.ok()) {
      std::cerr << "unas serve: " << source.status().message() << "\n";
      return 1;
    }
    token = source->token;
    if (!source->path.empty()) {
      token_hint = "in " + source->path + " (clients on this machine read it there: --data-dir or UNAS_DATA_DIR)";
    }
    if (source->generated) {
      std::cout << "unas serve: generated an access token (stored in " << source->path << ", shown once):\n  "
                << token << std::endl;
    }
  }
  const std::string db_path = data_dir + "/unas.db";
  auto store = server::Store::Open(db_path);
  if (!store.ok()) {
    std::cerr << "unas serve: " << store.status().message() << "\n";
    return 1;
  }
  server::SystemClock clock;
  server::CoordinatorOptions options;
  options.lease_timeout_ms = *lease_ms;
  options.heartbeat_interval_ms = *heartbeat_ms;
  options.max_unfinished_jobs = *max_jobs;
  options.resolve_input = server::DatasetInput;
  options.datasets_dir = data_dir + "/datasets";  // registered data sets (unas data add)
  options.max_dataset_bytes = *max_dataset_bytes;
  auto coordinator = server::Coordinator::Open(std::move(store).value(), &clock, options);
  if (!coordinator.ok()) {
    std::cerr << "unas serve: " << coordinator.status().message() << "\n";
    return 1;
  }
  server::GrpcServerOptions grpc_options;
  grpc_options.address = listen;
  grpc_options.token = token;
  grpc_options.tls_cert_path = args.Get("tls-cert");
  grpc_options.tls_key_path = args.Get("tls-key");
  auto grpc = server::GrpcServer::Start(coordinator->get(), grpc_options);
  if (!grpc.ok()) {
    std::cerr << "unas serve: " << grpc.status().message() << "\n";
    return 1;
  }
  // Ready (for /readyz) while gRPC serves and the coordinator is loaded: from
  // here until shutdown begins.
  std::atomic<bool> ready{true};
  std::unique_ptr<server::HttpServer> http;
  const std::string& http_address = http_flag;
  if (http_address != "off") {
    server::ApiContext api;
    api.coordinator = coordinator->get();
    api.token = token;
    api.ready = [&ready] { return ready.load(); };
    server::HttpServerOptions http_options;
    http_options.address = http_address;
    http_options.web_dir = args.Get("web-dir");
    auto started = server::HttpServer::Start(api, http_options);
    if (!started.ok() && args.Has("http")) {
      std::cerr << "unas serve: " << started.status().message() << "\n";
      return 1;
    }
    if (started.ok()) {
      http = std::move(started).value();
    } else {  // the default address is taken: run without HTTP rather than not at all
      server::LogWarn("http disabled", {{"reason", started.status().message()}});
    }
  }
  if (http) {
    server::LogInfo("http serving", {{"http", http_address.substr(0, http_address.rfind(':')) + ":" +
                                                  std::to_string(http->port())},
                                     {"web_dir", args.Get("web-dir")}});
    std::cout << "unas serve: dashboard at http://" << LocalAddress(http_address, http->port()) << "/" << std::endl;
  }
  InstallStopHandlers();
  server::LogInfo("coordinator serving", {{"grpc", listen.substr(0, listen.rfind(':')) + ":" +
                                                       std::to_string((*grpc)->port())},
                                          {"database", db_path},
                                          {"embedded_workers", std::to_string(*workers)},
                                          {"auth", token.empty() ? "off" : "bearer"}});
  std::cout << "unas serve: listening on port " << (*grpc)->port() << " for gRPC (clients and workers: --coordinator "
            << LocalAddress(listen, (*grpc)->port()) << " or UNAS_COORDINATOR)\n"
            << "unas serve: token: " << token_hint << std::endl;
  worker::WorkerLoopOptions loop_options;
  loop_options.name = "local";
  loop_options.log = [](const std::string& line) { server::LogInfo(line, {{"component", "worker"}}); };
  server::LocalWorkers local(**coordinator, static_cast<int>(*workers),
                             worker::MakeEvaluator(static_cast<int>(*worker_threads)), loop_options);

  auto idle_since = std::chrono::steady_clock::now();
  while (!StopRequested().load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (*idle_exit > 0) {
      bool busy = false;
      for (const auto& job : (*coordinator)->ListJobs()) busy = busy || !server::IsFinal(job.record.status);
      if (busy) idle_since = std::chrono::steady_clock::now();
      if (std::chrono::steady_clock::now() - idle_since > std::chrono::seconds(*idle_exit)) break;
    }
  }
  server::LogInfo("shutting down", {{"reason", StopRequested().load() ? "signal" : "idle"}});
  ready.store(false);
  if (http) http->Shutdown();
  local.Stop();  // trials in progress go back to the queue
  (*grpc)->Shutdown();
  (*coordinator)->Shutdown();
  coordinator->reset();  // closes the database cleanly
  server::LogInfo("stopped");
  return 0;
}

}  // namespace unas::cli
