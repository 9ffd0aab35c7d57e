// Browser-facing checks on REST requests, against cross-site request forgery
// (CSRF). With --no-auth nothing else stops a page on another site from
// making the user's browser POST a job to the coordinator on localhost; with
// a token the browser does not attach it by itself, but the checks cost
// nothing and apply the same way.
//
// A state-changing request (any method but GET, HEAD and OPTIONS):
//   - with an Origin header that is not this server's own (the scheme's
//     "://" followed by exactly the Host header, compared case-insensitively;
//     "null" is never our own) is refused with 403;
//   - with a body, or to a route that takes one (POST /api/v1/jobs, POST
//     /api/v1/analyze), must say the route's Content-Type (parameters such as
//     charset allowed): application/json, or application/octet-stream for a
//     model to analyse; else 415. An optional body (POST .../finalize) is
//     held to application/json when it is sent. A cross-site form or a
//     "simple" fetch cannot send either type without a CORS preflight, which
//     this server never grants.
// Requests without Origin (curl, the CLI, other programs) are not refused for
// that: CSRF needs a browser, and browsers send Origin on every POST.
//
// Thread safety: a plain function.
#pragma once

#include <string>

#include "server/http/http_api.h"

namespace unas::server {

// 0 when the request may go on; otherwise the HTTP status to refuse it with,
// and *why says what was wrong.
// `body_type` is the media type the route takes ("application/json").
int CheckRequestSafety(const HttpRequest& request, bool route_takes_body, const std::string& body_type,
                       std::string* why);

}  // namespace unas::server
