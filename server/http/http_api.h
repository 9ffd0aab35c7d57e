// The REST API under /api/v1/ plus /healthz and /readyz, as plain functions
// from a parsed request to a response: no Beast or Asio types here, so the
// routing and status codes read in one place and http_server.cc only moves
// bytes. Every handler is a short call into the Coordinator.
//
// Routes (all JSON; errors are {"error": "..."}):
//   POST /api/v1/jobs                        submit (body: the job spec JSON) -> 201
//   GET  /api/v1/jobs                        list: ?page_size=1..1000 (100)&page_token=&order=asc|desc
//   GET  /api/v1/jobs/{id}                   one job
//   POST /api/v1/jobs/{id}/cancel            cancel
//   POST /api/v1/jobs/{id}/finalize          retrain the front (optional body {"epochs": N});
//                                            409 for a cancelled or failed job or no completed trial
//   GET  /api/v1/jobs/{id}/trials            ?page_size=1..1000&page_token=&status=&sort=&order=
//   GET  /api/v1/jobs/{id}/trials/{n}        one trial with its full cost report
//   GET  /api/v1/jobs/{id}/trials/{n}/export the same as a download
//   GET  /api/v1/jobs/{id}/pareto            the Pareto front
//   GET  /api/v1/jobs/{id}/hypervolume       hypervolume history
//   GET  /api/v1/jobs/{id}/events            server-sent events (see HttpResponse::events)
//   POST /api/v1/analyze                     a .tflite's analysis (server/http/analyze_route.h),
//                                            answered from the analysis pool (HttpResponse::deferred)
//   GET  /healthz, /readyz                   probes, no token
// Status codes: 400 invalid input (the message names the field), 401 no or
// wrong bearer token (logged, rate-limited: ApiContext::rejections), 404,
// 405 wrong method, 413 body over the limit (set by the server), 422 a model
// over an analysis limit or budget, 429 too many unfinished jobs, 500 store
// errors, 503 not ready or the analysis queue full (with Retry-After).
//
// Thread safety: HandleApi may run on several threads at once (it only calls
// the thread-safe Coordinator).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "server/core/coordinator.h"
#include "server/core/rejection_log.h"

namespace unas::server {

struct HttpRequest {
  std::string method;         // "GET", "POST", ...
  std::string target;         // path and query as sent, e.g. "/api/v1/jobs?x=1"
  std::string authorization;  // the Authorization header, possibly empty
  std::string host;           // Host, Origin and Content-Type headers, possibly empty
  std::string origin;         // (server/http/request_guard.h checks them)
  std::string content_type;
  std::string body;
  std::string peer;           // the client's address (no port), for the log of refused calls
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  // Set for /events: the server streams this subscription as text/event-stream
  // instead of sending `body`.
  std::shared_ptr<Subscription> events;
  // Set for work too long for the threads that answer requests (an analysis):
  // the server runs it on its analysis pool (server/http/analysis_pool.h: a
  // child process with a time and memory budget, cancelled when the client
  // goes away) and sends what it returns instead of this response.
  std::function<HttpResponse()> deferred;
};

struct ApiContext {
  Coordinator* coordinator = nullptr;
  std::string token;             // empty: no authentication (--no-auth)
  std::function<bool()> ready;   // for /readyz: gRPC serving and coordinator loaded
  // Where calls refused for their token are logged; none when null
  // (HttpServer::Start makes one).
  std::shared_ptr<RejectionLog> rejections;
  // The example job specs GET /api/v1/recipes lists (catalog_routes.h);
  // HttpServer::Start sets it beside the dashboard's files when empty.
  std::string recipes_dir;
};

// Whether the request is for the API or a probe (otherwise: static files).
bool IsApiPath(const std::string& target);

HttpResponse HandleApi(const ApiContext& context, const HttpRequest& request);

HttpResponse JsonError(int status, const std::string& message);

// Splits "path?query" and percent-decodes each query value ('+' is a space).
// Returns false on malformed escapes.
bool ParseQuery(const std::string& target, std::string* path, std::map<std::string, std::string>* query);
// Percent-decodes; false on a malformed escape or an encoded NUL.
bool PercentDecode(const std::string& in, std::string* out, bool plus_is_space);

}  // namespace unas::server
