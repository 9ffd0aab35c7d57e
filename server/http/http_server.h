// The HTTP side of the coordinator: the REST API (server/http/http_api.h), the
// probes, server-sent events and the dashboard's static files, on Boost.Beast
// over Asio.
//
// Threads: `io_threads` run every socket's reads and writes and the API
// handlers (short coordinator calls only). Analyses (POST /api/v1/analyze)
// run on the analysis pool (server/http/analysis_pool.h), never on these
// threads: the request waits there, its answer is written when the pool
// has it, and a client that hangs up first cancels it. Each /events stream gets its own
// thread, because it waits on Subscription::Next; at most
// `max_event_streams` run at once (503 beyond), each ends when its client
// goes away (found by a keep-alive comment every 15 s), the job finishes or
// the server shuts down.
//
// Limits: request bodies over `body_limit_bytes` get 413; headers over 8 KiB
// and malformed requests get the connection closed; an idle connection is
// closed after 30 s.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "base/status.h"
#include "server/http/analysis_pool.h"
#include "server/http/http_api.h"

namespace unas::server {

struct HttpServerOptions {
  std::string address = "127.0.0.1:8080";  // HOST:PORT; port 0 picks a free one
  std::string web_dir;                     // the dashboard's files; empty: API only
  size_t body_limit_bytes = 1 << 20;
  int io_threads = 2;
  int max_event_streams = 64;
  AnalysisPoolOptions analysis;  // POST /api/v1/analyze's workers, queue and budgets
};

class HttpServer {
 public:
  // Binds and starts serving; kInvalidArgument for a bad address or web
  // directory, kInternal if the port cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Start(ApiContext api, HttpServerOptions options);
  ~HttpServer();  // Shutdown()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  // The pool POST /api/v1/analyze runs on (its figures; tests fill it).
  AnalysisPool& analyses();
  // Stops accepting, ends event streams, joins every thread. Idempotent.
  void Shutdown();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace unas::server
