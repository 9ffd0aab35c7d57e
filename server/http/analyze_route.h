// REST POST /api/v1/analyze: the body is a .tflite model (any Content-Type;
// application/octet-stream expected), limited by the HTTP server's body
// limit like every request. Answers the "Analyze JSON" of
// costmodel/model_analysis.h (AnalysisToJson), or with `?reorder=best` the
// model with its operators in the best order (application/octet-stream).
// Bad models get 400 with the reader's message. Runs on the calling thread:
// an analysis is bounded (the planner's state limit) and takes milliseconds
// for the models in ../shared/testdata/tflite.
#pragma once

#include <map>
#include <string>

#include "server/http/http_api.h"

namespace unas::server {

HttpResponse AnalyzeRoute(const HttpRequest& req, const std::map<std::string, std::string>& query);

}  // namespace unas::server
