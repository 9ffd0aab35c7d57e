// unas serve: the coordinator (gRPC API, SQLite store, search drivers) with
// embedded workers.
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
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

bool IsLoopback(const std::string& address) {
  return address.rfind("127.", 0) == 0 || address.rfind("localhost:", 0) == 0 || address.rfind("[::1]", 0) == 0;
}

// Serve's flags, checked: ranges, the heartbeat against the lease, and
// --no-auth only on loopback addresses.
struct ServeFlags {
  long long workers = 0;
  long long worker_threads = 0;
  long long lease_ms = 0;
  long long heartbeat_ms = 0;
  long long idle_exit_seconds = 0;  // 0: never
  long long max_jobs = 0;
  long long max_dataset_bytes = 0;  // the largest registered data set an upload may bring
  std::string listen;  // gRPC HOST:PORT
  std::string http;    // REST and dashboard HOST:PORT, or "off"
};

Result<ServeFlags> ReadServeFlags(const Args& args) {
  ServeFlags f;
  for (const Status& s : {args.ReadInt("workers", 0, 1024, &f.workers),
                          args.ReadInt("worker-threads", 0, 256, &f.worker_threads),
                          args.ReadInt("lease-timeout-ms", 100, 86'400'000, &f.lease_ms),
                          args.ReadInt("heartbeat-ms", 10, 3'600'000, &f.heartbeat_ms),
                          args.ReadInt("exit-when-idle", 0, 86'400'000, &f.idle_exit_seconds),
                          args.ReadInt("max-running-jobs", 0, 1'000'000, &f.max_jobs),
                          args.ReadInt("max-dataset-bytes", 1, 1LL << 50, &f.max_dataset_bytes)}) {
    if (!s.ok()) return s;
  }
  if (f.heartbeat_ms * 2 > f.lease_ms) {
    return Status::Invalid("--heartbeat-ms must be at most half of --lease-timeout-ms");
  }
  f.listen = args.Get("listen");
  if (args.On("no-auth") && !IsLoopback(f.listen)) {
    return Status::Invalid("--no-auth is only allowed with a loopback --listen address");
  }
  f.http = args.Get("http");
  if (args.On("no-auth") && f.http != "off" && !IsLoopback(f.http)) {
    return Status::Invalid("--no-auth is only allowed with a loopback --http address");
  }
  return f;
}

// The token clients must send (empty with --no-auth) and, for the start-up
// lines, where clients find it.
struct ServeToken {
  std::string token;
  std::string hint = "none needed (--no-auth)";
};

// --token, else --token-file, else UNAS_TOKEN, else DATA_DIR/token (made
// and shown once when missing). On failure prints why and returns the exit
// code: 2 for an unusable --token-file, 1 when DATA_DIR/token cannot be used.
std::optional<int> ResolveServeToken(const Args& args, const std::string& data_dir, ServeToken* out) {
  if (args.On("no-auth")) return std::nullopt;
  const char* env = std::getenv("UNAS_TOKEN");
  std::string given = args.Has("token") ? args.Get("token") : (env ? env : "");
  out->hint = args.Has("token") ? "the one given with --token" : "the one in UNAS_TOKEN";
  if (!args.Has("token") && args.Has("token-file")) {
    out->hint = "the one in " + args.Get("token-file");
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
  out->token = source->token;
  if (!source->path.empty()) {
    out->hint = "in " + source->path + " (clients on this machine read it there: --data-dir or UNAS_DATA_DIR)";
  }
  if (source->generated) {
    std::cout << "unas serve: generated an access token (stored in " << source->path << ", shown once):\n  "
              << out->token << std::endl;
  }
  return std::nullopt;
}

// The store in `data_dir` and the coordinator over it, resuming its jobs;
// registered data sets live in its datasets/ folder.
Result<std::unique_ptr<server::Coordinator>> OpenCoordinator(const std::string& data_dir, const ServeFlags& flags,
                                                             const server::Clock* clock) {
  UNAS_ASSIGN_OR_RETURN(std::unique_ptr<server::Store> store, server::Store::Open(data_dir + "/unas.db"));
  server::CoordinatorOptions options;
  options.lease_timeout_ms = flags.lease_ms;
  options.heartbeat_interval_ms = flags.heartbeat_ms;
  options.max_unfinished_jobs = flags.max_jobs;
  options.resolve_input = server::DatasetInput;
  options.datasets_dir = data_dir + "/datasets";  // registered data sets (unas data add)
  options.max_dataset_bytes = flags.max_dataset_bytes;
  return server::Coordinator::Open(std::move(store), clock, options);
}

// The REST API and dashboard unless --http off. The default address being
// taken is no error (null: run without HTTP); an address given with --http
// is (prints why and returns exit code 1).
std::optional<int> StartHttp(const Args& args, const ServeFlags& flags, server::Coordinator* coordinator,
                             const std::string& token, std::function<bool()> ready,
                             std::unique_ptr<server::HttpServer>* http) {
  if (flags.http == "off") return std::nullopt;
  server::ApiContext api;
  api.coordinator = coordinator;
  api.token = token;
  api.ready = std::move(ready);
  server::HttpServerOptions http_options;
  http_options.address = flags.http;
  http_options.web_dir = args.Get("web-dir");
  auto started = server::HttpServer::Start(api, http_options);
  if (!started.ok() && args.Has("http")) {
    std::cerr << "unas serve: " << started.status().message() << "\n";
    return 1;
  }
  if (started.ok()) {
    *http = std::move(started).value();
    server::LogInfo("http serving", {{"http", flags.http.substr(0, flags.http.rfind(':')) + ":" +
                                                  std::to_string((*http)->port())},
                                     {"web_dir", args.Get("web-dir")}});
    std::cout << "unas serve: dashboard at http://" << LocalAddress(flags.http, (*http)->port()) << "/" << std::endl;
  } else {  // the default address is taken: run without HTTP rather than not at all
    server::LogWarn("http disabled", {{"reason", started.status().message()}});
  }
  return std::nullopt;
}

// Until SIGINT/SIGTERM or, with --exit-when-idle, until no job has been
// unfinished for that long. Returns why it stopped: "signal" or "idle".
const char* WaitForStop(server::Coordinator& coordinator, long long idle_exit_seconds) {
  auto idle_since = std::chrono::steady_clock::now();
  while (!StopRequested().load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (idle_exit_seconds > 0) {
      bool busy = false;
      for (const auto& job : coordinator.ListJobs()) busy = busy || !server::IsFinal(job.record.status);
      if (busy) idle_since = std::chrono::steady_clock::now();
      if (std::chrono::steady_clock::now() - idle_since > std::chrono::seconds(idle_exit_seconds)) break;
    }
  }
  return StopRequested().load() ? "signal" : "idle";
}

}  // namespace

int RunServe(const std::vector<std::string>& argv) {
  Args args = ServeArgs();
  if (auto rc = args.ParseOrExit(argv)) return *rc;
  auto flags = ReadServeFlags(args);
  if (!flags.ok()) {
    std::cerr << "unas serve: " << flags.status().message() << "\n";
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
  ServeToken token;
  if (auto rc = ResolveServeToken(args, data_dir, &token)) return *rc;
  const std::string db_path = data_dir + "/unas.db";
  server::SystemClock clock;
  auto coordinator = OpenCoordinator(data_dir, *flags, &clock);
  if (!coordinator.ok()) {
    std::cerr << "unas serve: " << coordinator.status().message() << "\n";
    return 1;
  }
  server::GrpcServerOptions grpc_options;
  grpc_options.address = flags->listen;
  grpc_options.token = token.token;
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
  if (auto rc = StartHttp(args, *flags, coordinator->get(), token.token, [&ready] { return ready.load(); }, &http)) {
    return *rc;
  }
  InstallStopHandlers();
  server::LogInfo("coordinator serving", {{"grpc", flags->listen.substr(0, flags->listen.rfind(':')) + ":" +
                                                       std::to_string((*grpc)->port())},
                                          {"database", db_path},
                                          {"embedded_workers", std::to_string(flags->workers)},
                                          {"auth", token.token.empty() ? "off" : "bearer"}});
  std::cout << "unas serve: listening on port " << (*grpc)->port() << " for gRPC (clients and workers: --coordinator "
            << LocalAddress(flags->listen, (*grpc)->port()) << " or UNAS_COORDINATOR)\n"
            << "unas serve: token: " << token.hint << std::endl;
  worker::WorkerLoopOptions loop_options;
  loop_options.name = "local";
  loop_options.log = [](const std::string& line) { server::LogInfo(line, {{"component", "worker"}}); };
  server::LocalWorkers local(**coordinator, static_cast<int>(flags->workers),
                             worker::MakeEvaluator(static_cast<int>(flags->worker_threads)), loop_options);
  server::LogInfo("shutting down", {{"reason", WaitForStop(**coordinator, flags->idle_exit_seconds)}});
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
