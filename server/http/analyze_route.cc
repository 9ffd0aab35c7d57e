#include "server/http/analyze_route.h"

#include <nlohmann/json.hpp>

#include "costmodel/model_analysis.h"
#include "tflite/reader.h"
#include "tflite/reorder.h"

namespace unas::server {

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
  const auto* data = reinterpret_cast<const uint8_t*>(req.body.data());
  auto graph = ReadTflite(data, req.body.size());
  if (!graph.ok()) return JsonError(400, graph.status().message());
  auto analysis = AnalyzeModel(*graph);
  if (!analysis.ok()) return JsonError(400, analysis.status().message());
  HttpResponse r;
  if (reorder == "best") {
    auto file = ReorderOperators(std::vector<uint8_t>(data, data + req.body.size()), analysis->best_order.order);
    if (!file.ok()) return JsonError(400, file.status().message());
    r.content_type = "application/octet-stream";
    r.body.assign(file->begin(), file->end());
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"reordered.tflite\"");
    return r;
  }
  r.body = AnalysisToJson(*analysis).dump();
  return r;
}

}  // namespace unas::server
