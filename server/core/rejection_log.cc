#include "server/core/rejection_log.h"

#include "base/json_limits.h"

namespace unas::server {

RejectionLog::RejectionLog(const Clock* clock, RejectionLogOptions options)
    : clock_(clock), options_(std::move(options)) {
  if (!options_.sink) options_.sink = [](const std::string& m, const LogFields& f) { LogWarn(m, f); };
}

void RejectionLog::Refused(const std::string& protocol, const std::string& source, const std::string& call,
                           const std::string& reason) {
  const int64_t now = clock_->NowUnixMs();
  // A source is whatever the peer says it is: cut it, like any echoed value.
  std::string key = QuotePrefix(source.empty() ? "unknown" : source);
  LogFields fields;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!sources_.count(key) && sources_.size() >= options_.max_sources) {
      for (auto it = sources_.begin(); it != sources_.end();) {
        it = now - it->second.last_line_unix_ms >= options_.window_ms ? sources_.erase(it) : std::next(it);
      }
      if (sources_.size() >= options_.max_sources) key = "other";
    }
    auto [it, fresh] = sources_.try_emplace(key);
    Entry& e = it->second;
    if (!fresh && now - e.last_line_unix_ms < options_.window_ms) {
      ++e.suppressed;
      return;
    }
    fields = {{"protocol", protocol},
              {"source", key},
              {"call", QuotePrefix(call)},
              {"reason", reason},
              {"suppressed", std::to_string(e.suppressed)}};
    e.last_line_unix_ms = now;
    e.suppressed = 0;
  }
  options_.sink("call refused", fields);  // outside the lock: the sink may be slow
}

std::string PeerAddress(const std::string& peer) {
  std::string rest = peer;
  for (const char* scheme : {"ipv4:", "ipv6:"}) {
    if (rest.rfind(scheme, 0) == 0) {
      rest = rest.substr(5);
      if (!rest.empty() && rest.front() == '[') {
        const size_t close = rest.find(']');
        return close == std::string::npos ? rest : rest.substr(1, close - 1);
      }
      const size_t colon = rest.rfind(':');
      return colon == std::string::npos ? rest : rest.substr(0, colon);
    }
  }
  return peer;
}

}  // namespace unas::server
