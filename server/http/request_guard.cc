#include "server/http/request_guard.h"

#include <cctype>

#include "base/json_limits.h"

namespace unas::server {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

bool IsOwnOrigin(const std::string& origin, const std::string& host) {
  const std::string o = Lower(Trim(origin));
  const size_t sep = o.find("://");
  if (sep == std::string::npos || host.empty()) return false;
  const std::string scheme = o.substr(0, sep);
  if (scheme != "http" && scheme != "https") return false;
  return o.substr(sep + 3) == Lower(Trim(host));
}

// The media type without parameters ("application/json; charset=utf-8").
std::string MediaType(const std::string& content_type) {
  return Lower(Trim(content_type.substr(0, content_type.find(';'))));
}

}  // namespace

int CheckRequestSafety(const HttpRequest& request, bool route_takes_body, const std::string& body_type,
                       std::string* why) {
  const std::string& m = request.method;
  if (m == "GET" || m == "HEAD" || m == "OPTIONS") return 0;
  if (!request.origin.empty() && !IsOwnOrigin(request.origin, request.host)) {
    *why = "cross-origin request refused: Origin '" + QuotePrefix(request.origin) +
           "' is not this server's own (http://" + QuotePrefix(request.host) + ")";
    return 403;
  }
  if ((route_takes_body || !request.body.empty()) && MediaType(request.content_type) != body_type) {
    *why = "Content-Type must be " + body_type + ", got " +
           (request.content_type.empty() ? std::string("none") : "'" + QuotePrefix(request.content_type) + "'");
    return 415;
  }
  return 0;
}

}  // namespace unas::server
