#include "server/http/http_api.h"

#include <algorithm>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "base/json_limits.h"
#include "server/http/analyze_route.h"
#include "server/http/catalog_routes.h"
#include "server/core/auth.h"
#include "server/core/json_convert.h"
#include "server/http/request_guard.h"

namespace unas::server {
namespace {

int HttpStatusOf(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kInternal: return 500;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
  }
  return 500;
}

HttpResponse Error(const Status& s) { return JsonError(HttpStatusOf(s), s.message()); }

HttpResponse Json(const nlohmann::json& j, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.body = j.dump();
  return r;
}

// A coordinator call's answer: its value as JSON (json_convert.h), or its error.
template <typename T>
HttpResponse JsonOrError(const Result<T>& answer) {
  return answer.ok() ? Json(ToJson(*answer)) : Error(answer.status());
}

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool ParseInt(const std::string& s, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  *out = std::strtoll(s.c_str(), nullptr, 10);
  return true;
}

HttpResponse MethodNotAllowed(const std::string& allow) {
  HttpResponse r = JsonError(405, "method not allowed; use " + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

HttpResponse ListTrials(Coordinator& c, const std::string& job_id, const std::map<std::string, std::string>& q) {
  auto get = [&](const char* k, const std::string& def) {
    auto it = q.find(k);
    return it == q.end() ? def : it->second;
  };
  int64_t page_size = 100;
  if (!ParseInt(get("page_size", "100"), &page_size) || page_size < 1 || page_size > 1000) {
    return JsonError(400, "page_size: '" + get("page_size", "") + "' is not within 1..1000");
  }
  int64_t offset = 0;
  const std::string page_token = get("page_token", "");
  if (!page_token.empty() && !ParseInt(page_token, &offset)) {
    return JsonError(400, "page_token: '" + get("page_token", "") + "' is not a token from this API");
  }
  int status = 0;
  const std::string status_name = get("status", "");
  if (!status_name.empty()) {
    for (int s = 1; s <= static_cast<int>(TrialStatus::kCancelled); ++s) {
      if (status_name == TrialStatusName(static_cast<TrialStatus>(s))) status = s;
    }
    if (status == 0) {
      return JsonError(400, "status: '" + status_name + "' is not one of pending, leased, completed, failed, cancelled");
    }
  }
  const std::string sort = get("sort", "trial_id");
  std::string keys;
  bool known = false;
  for (const auto& [key, column] : kTrialSortKeys) {
    known = known || sort == key;
    keys += (keys.empty() ? "" : ", ") + std::string(key);
  }
  if (!known) return JsonError(400, "sort: '" + sort + "' is not one of " + keys);
  const std::string order = get("order", "asc");
  if (order != "asc" && order != "desc") return JsonError(400, "order: '" + order + "' is not asc or desc");

  // One page, sorted and paged by the store; the page token is the offset
  // into that order.
  int64_t total = 0;
  auto page = c.ListTrialsSorted(job_id, status, sort, order == "desc", offset, static_cast<int>(page_size), &total);
  if (!page.ok()) return Error(page.status());
  nlohmann::json trials = nlohmann::json::array();
  for (const TrialRecord& t : *page) trials.push_back(ToJson(t));
  const int64_t end = offset + static_cast<int64_t>(page->size());
  return Json({{"trials", std::move(trials)},
               {"total", total},
               {"next_page_token", end < total ? std::to_string(end) : ""}});
}

// GET /api/v1/jobs?page_size=&page_token=&order=: a page of jobs in
// submission order (order=desc: newest first).
HttpResponse ListJobs(Coordinator& c, const std::map<std::string, std::string>& q) {
  for (const auto& [key, value] : q) {
    if (key != "page_size" && key != "page_token" && key != "order") {
      return JsonError(400, QuotePrefix(key) + ": unknown query parameter (known: page_size, page_token, order)");
    }
  }
  auto get = [&](const char* k, const std::string& def) {
    auto it = q.find(k);
    return it == q.end() ? def : it->second;
  };
  int64_t page_size = 100;
  if (!ParseInt(get("page_size", "100"), &page_size) || page_size < 1 || page_size > 1000) {
    return JsonError(400, "page_size: '" + QuotePrefix(get("page_size", "")) + "' is not within 1..1000");
  }
  const std::string order = get("order", "asc");
  if (order != "asc" && order != "desc") return JsonError(400, "order: '" + QuotePrefix(order) + "' is not asc or desc");
  auto page = c.ListJobPage(get("page_token", ""), static_cast<int>(page_size), order == "desc");
  if (!page.ok()) return Error(page.status());
  nlohmann::json jobs = nlohmann::json::array();
  for (const JobView& v : page->jobs) jobs.push_back(ToJson(v));
  return Json({{"jobs", std::move(jobs)}, {"total", page->total}, {"next_page_token", page->next_page_token}});
}

HttpResponse TrialDetail(Coordinator& c, const std::string& job_id, const std::string& trial, bool download) {
  int64_t trial_id = 0;
  if (!ParseInt(trial, &trial_id)) return JsonError(400, "trial id: '" + trial + "' is not a number");
  auto job = c.GetJob(job_id);
  if (!job.ok()) return Error(job.status());
  auto record = c.GetTrial(job_id, trial_id);
  if (!record.ok()) return Error(record.status());
  auto spec = c.GetSpec(job_id);
  if (!spec.ok()) return Error(spec.status());
  std::string model;  // the export's input contract is read from the trial's model
  if (download && record->has_tflite) {
    auto stored = c.TrialModelTflite(job_id, trial_id);
    if (!stored.ok()) return Error(stored.status());
    model = std::move(*stored);
  }
  auto detail = download ? TrialExportJson(*job, *spec, *record, c.options(), model)
                         : TrialDetailJson(*spec, *record, c.options());
  if (!detail.ok()) return Error(detail.status());
  if (!download) {
    // The int8 model's exact size (the file a device flashes), null without one.
    (*detail)["tflite_bytes"] = nullptr;
    if (record->has_tflite) {
      auto stored = c.TrialModelTflite(job_id, trial_id);
      if (stored.ok()) (*detail)["tflite_bytes"] = stored->size();
    }
    return Json(*detail);
  }
  HttpResponse r = Json(*detail);
  r.body = detail->dump(2);
  r.headers.emplace_back("Content-Disposition",
                         "attachment; filename=\"" + job_id + "-trial-" + std::to_string(trial_id) + ".json\"");
  return r;
}

// GET .../trials/{n}/model.tflite: the trial's int8 model, 404 when it has none.
HttpResponse TrialModel(Coordinator& c, const std::string& job_id, const std::string& trial) {
  int64_t trial_id = 0;
  if (!ParseInt(trial, &trial_id)) return JsonError(400, "trial id: '" + trial + "' is not a number");
  auto model = c.TrialModelTflite(job_id, trial_id);
  if (!model.ok()) return Error(model.status());
  HttpResponse r;
  r.content_type = "application/octet-stream";
  r.body = std::move(model).value();
  r.headers.emplace_back("Content-Disposition",
                         "attachment; filename=\"" + job_id + "-trial-" + std::to_string(trial_id) + ".tflite\"");
  return r;
}

// POST .../finalize: an optional body {"epochs": N}; empty or {} keeps the
// job's final recipe. The range of N is the coordinator's to check.
HttpResponse Finalize(Coordinator& c, const std::string& job_id, const std::string& body) {
  FinalizeOptions options;
  if (body.find_first_not_of(" \t\r\n") != std::string::npos) {
    auto parsed = ParseLimitedJson(body);
    if (!parsed.ok()) return JsonError(400, "finalize body: " + parsed.status().message());
    if (!parsed->is_object()) return JsonError(400, "finalize body: expected an object such as {\"epochs\": 30}");
    for (auto it = parsed->begin(); it != parsed->end(); ++it) {
      if (it.key() != "epochs") return JsonError(400, QuotePrefix(it.key()) + ": unknown field (allowed: epochs)");
    }
    if (parsed->contains("epochs")) {
      const nlohmann::json& e = (*parsed)["epochs"];
      if (!e.is_number_integer()) return JsonError(400, "epochs: " + QuotePrefix(e.dump()) + " is not an integer");
      // Beyond int: refused here, before the cast (1..1000 is the coordinator's check).
      const bool fits = e.is_number_unsigned() ? e.get<uint64_t>() <= (1u << 30) : e.get<int64_t>() >= -(1 << 30);
      if (!fits) return JsonError(400, "epochs: " + QuotePrefix(e.dump()) + " is outside 1..1000");
      options.epochs = e.get<int>();
    }
  }
  return JsonOrError(c.Finalize(job_id, options));
}

// GET .../events: the job's events as a server-sent stream.
HttpResponse Events(Coordinator& c, const std::string& job_id) {
  auto sub = c.Watch(job_id);
  if (!sub.ok()) return Error(sub.status());
  HttpResponse r;
  r.content_type = "text/event-stream";
  r.events = std::move(sub).value();
  return r;
}

HttpResponse JobRoutes(const ApiContext& ctx, const HttpRequest& req, const std::vector<std::string>& seg,
                       const std::map<std::string, std::string>& query) {
  Coordinator& c = *ctx.coordinator;
  const bool get = req.method == "GET";
  const bool post = req.method == "POST";
  // seg: api v1 jobs [id [action [n [export | model.tflite]]]]
  if (seg.size() == 3) {
    if (post) {
      auto view = c.Submit(req.body);
      if (!view.ok()) return Error(view.status());
      HttpResponse r = Json(ToJson(*view), 201);
      r.headers.emplace_back("Location", "/api/v1/jobs/" + view->record.job_id);
      return r;
    }
    if (!get) return MethodNotAllowed("GET, POST");
    return ListJobs(c, query);
  }
  const std::string& id = seg[3];
  if (seg.size() == 4) return get ? JsonOrError(c.GetJob(id)) : MethodNotAllowed("GET");
  const std::string& action = seg[4];
  if (seg.size() == 5) {
    if (action == "cancel") return post ? JsonOrError(c.Cancel(id)) : MethodNotAllowed("POST");
    if (action == "finalize") return post ? Finalize(c, id, req.body) : MethodNotAllowed("POST");
    if (action == "pareto") return get ? JsonOrError(c.Pareto(id)) : MethodNotAllowed("GET");
    if (action == "hypervolume") return get ? JsonOrError(c.HypervolumeHistory(id)) : MethodNotAllowed("GET");
    if (action == "events") return get ? Events(c, id) : MethodNotAllowed("GET");
  }
  if (action == "trials" && seg.size() <= 7) {
    if (!get) return MethodNotAllowed("GET");
    if (seg.size() == 5) return ListTrials(c, id, query);
    if (seg.size() == 6) return TrialDetail(c, id, seg[5], false);
    if (seg[6] == "export") return TrialDetail(c, id, seg[5], true);
    if (seg[6] == "model.tflite") return TrialModel(c, id, seg[5]);
    return JsonError(404, "no such API path");
  }
  return JsonError(404, "no such API path");
}

}  // namespace

HttpResponse JsonError(int status, const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.body = nlohmann::json{{"error", message}}.dump();
  return r;
}

bool PercentDecode(const std::string& in, std::string* out, bool plus_is_space) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    const char ch = in[i];
    if (ch == '%') {
      if (i + 2 >= in.size()) return false;
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      const int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      const char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return false;
      out->push_back(decoded);
      i += 2;
    } else if (ch == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(ch);
    }
  }
  return true;
}

bool ParseQuery(const std::string& target, std::string* path, std::map<std::string, std::string>* query) {
  const size_t q = target.find('?');
  *path = target.substr(0, q);
  query->clear();
  if (q == std::string::npos) return true;
  const std::string rest = target.substr(q + 1);
  size_t i = 0;
  while (i <= rest.size()) {
    size_t j = rest.find('&', i);
    if (j == std::string::npos) j = rest.size();
    const std::string pair = rest.substr(i, j - i);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      std::string key, value;
      if (!PercentDecode(pair.substr(0, eq), &key, true)) return false;
      if (eq != std::string::npos && !PercentDecode(pair.substr(eq + 1), &value, true)) return false;
      (*query)[key] = value;
    }
    i = j + 1;
  }
  return true;
}

bool IsApiPath(const std::string& target) {
  const std::string path = target.substr(0, target.find('?'));
  return path == "/api" || path.rfind("/api/", 0) == 0 || path == "/healthz" || path == "/readyz";
}

HttpResponse HandleApi(const ApiContext& ctx, const HttpRequest& req) {
  std::string path;
  std::map<std::string, std::string> query;
  if (!ParseQuery(req.target, &path, &query)) return JsonError(400, "malformed query string");
  if (path == "/healthz" || path == "/readyz") {
    if (req.method != "GET") return MethodNotAllowed("GET");
    if (path == "/healthz") {
      Status s = ctx.coordinator->CheckStore();
      if (!s.ok()) return JsonError(503, "database not writable: " + s.message());
      return Json({{"status", "ok"}});
    }
    if (!ctx.ready || !ctx.ready()) return JsonError(503, "not ready");
    return Json({{"status", "ready"}});
  }
  if (!ctx.token.empty() && !BearerMatches(req.authorization, ctx.token)) {
    const std::string why =
        req.authorization.empty() ? "missing bearer token (Authorization: Bearer ...)" : "invalid bearer token";
    if (ctx.rejections) ctx.rejections->Refused("http", req.peer, req.method + " " + path, why);
    HttpResponse r = JsonError(401, why);
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  const std::vector<std::string> seg = Segments(path);
  std::string unsafe;
  // The routes that take a body: a job spec (JSON) and a model to analyse.
  const bool takes_body = seg.size() == 3 && req.method == "POST";
  const bool analyze = seg.size() == 3 && seg[2] == "analyze";
  const std::string body_type = analyze ? "application/octet-stream" : "application/json";
  if (const int refused = CheckRequestSafety(req, takes_body, body_type, &unsafe); refused != 0) {
    return JsonError(refused, unsafe);
  }
  if (seg.size() >= 3 && seg[0] == "api" && seg[1] == "v1" && seg[2] == "jobs") {
    return JobRoutes(ctx, req, seg, query);
  }
  if (seg.size() == 3 && seg[0] == "api" && seg[1] == "v1") {
    if (seg[2] == "analyze") return AnalyzeRoute(req, query);
    if (seg[2] == "boards") return BoardsRoute(req);
    if (seg[2] == "datasets") return DatasetsRoute(*ctx.coordinator, req);
    if (seg[2] == "recipes") return RecipesRoute(ctx.recipes_dir, req);
  }
  return JsonError(404, "no such API path");
}

}  // namespace unas::server
