#include "server/http/analyze_route.h"

#include <nlohmann/json.hpp>

#include "costmodel/model_analysis.h"
#include "tflite/reader.h"
#include "tflite/reorder.h"

namespace unas::server {
namespace {

// A model the analysis refuses for its size or cost is well-formed but too
// much: 422 with the message naming the limit. Anything else it refuses is a
// bad model: 400.
int AnalysisErrorStatus(const Status& s) {
  return s.code() == StatusCode::kOutOfRange || s.code() == StatusCode::kResourceExhausted ? 422 : 400;
}

// Reads, analyses and answers; runs in the analysis pool's child process.
HttpResponse Analyze(const std::string& body, bool reorder) {
  const auto* data = reinterpret_cast<const uint8_t*>(body.data());
  auto graph = ReadTflite(data, body.size());
  if (!graph.ok()) return JsonError(AnalysisErrorStatus(graph.status()), graph.status().message());
  auto analysis = AnalyzeModel(*graph);
  if (!analysis.ok()) return JsonError(AnalysisErrorStatus(analysis.status()), analysis.status().message());
  HttpResponse r;
  if (reorder) {
    auto file = ReorderOperators(std::vector<uint8_t>(data, data + body.size()), analysis->best_order.order);
    if (!file.ok()) return JsonError(400, file.status().message());
    r.content_type = "application/octet-stream";
    r.body.assign(file->begin(), file->end());
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"reordered.tflite\"");
    return r;
  }
  r.body = AnalysisToJson(*analysis).dump();
  return r;
}

}  // namespace

HttpResponse AnalyzeRoute(const HttpRequest& req, const std::map<std::string, std::string>& query) {
  if (req.method != "POST") {
    HttpResponse r = JsonError(405, "method not allowed (use POST)");
    r.headers.emplace_back("Allow", "POST");
    return r;
  }
  std::string reorder;
  for (const auto& [key, value] : query) {
    if (key != "reorder") return JsonError(400, "unknown query parameter '" + key + "' (known: reorder)");
    reorder = value;
  }
  if (!reorder.empty() && reorder != "best") return JsonError(400, "reorder: '" + reorder + "' is not 'best'");
  if (req.body.empty()) return JsonError(400, "the request body must be a .tflite model");
  HttpResponse r;
  r.deferred = [body = req.body, best = reorder == "best"] { return Analyze(body, best); };
  return r;
}

}  // namespace unas::server
