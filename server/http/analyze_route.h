// REST POST /api/v1/analyze: the body is a .tflite model
// (application/octet-stream), limited by the HTTP server's body limit like
// every request (413 beyond). Answers the "Analyze JSON" of
// costmodel/model_analysis.h (AnalysisToJson), or with `?reorder=best` the
// model with its operators in the best order (application/octet-stream).
//
// The request is checked here at once (405, 400 for a bad query or an empty
// body); the analysis itself is returned as HttpResponse::deferred, which the
// server runs on its analysis pool (server/http/analysis_pool.h), never on the
// threads that answer requests: a model's analysis may take seconds. Its
// answers: 200; 400 with the reader's message for a model that is not a
// valid .tflite; 422 naming the limit for a model over the analysis' limits
// (costmodel/model_analysis.h, kOutOfRange or kResourceExhausted) or over the
// pool's time or memory budget; 503 with Retry-After when the pool's queue is
// full.
#pragma once

#include <map>
#include <string>

#include "server/http/http_api.h"

namespace unas::server {

HttpResponse AnalyzeRoute(const HttpRequest& req, const std::map<std::string, std::string>& query);

}  // namespace unas::server
