// Warnings about refused calls (a wrong or missing bearer token), at most one
// line per source per window, so an operator sees who is knocking without a
// client that retries in a loop filling the log.
//
// Refused(source, ...) logs
//   level=warn msg="call refused" protocol=grpc source=10.0.0.7 call=RegisterWorker
//     reason="invalid bearer token" suppressed=41
// when the source had no line within the last window; otherwise it only counts
// the call, and the count ("suppressed": refused calls from that source not
// logged since its previous line) rides on the source's next line. A source
// is an address without its port (each connection has a new port).
//
// Memory is bounded: at most max_sources sources are remembered; when that
// many are, sources whose window has passed are forgotten first, and beyond
// that further sources share the entry "other".
//
// Thread safety: every method may be called from any thread (one mutex).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "server/core/clock.h"
#include "server/core/log.h"

namespace unas::server {

struct RejectionLogOptions {
  int64_t window_ms = 60'000;  // at most one line per source per this
  size_t max_sources = 10'000;
  // Where lines go; LogWarn when empty (tests capture them here).
  std::function<void(const std::string& message, const LogFields& fields)> sink;
};

class RejectionLog {
 public:
  RejectionLog(const Clock* clock, RejectionLogOptions options = {});

  // One refused call. `protocol` "grpc" or "http", `call` the RPC or the
  // method and path, `reason` what was wrong (never the token itself).
  void Refused(const std::string& protocol, const std::string& source, const std::string& call,
               const std::string& reason);

 private:
  struct Entry {
    int64_t last_line_unix_ms = 0;
    int64_t suppressed = 0;
  };
  const Clock* clock_;
  RejectionLogOptions options_;
  std::mutex mu_;  // guards sources_
  std::map<std::string, Entry> sources_;
};

// The address part of a gRPC peer string ("ipv4:127.0.0.1:5000" ->
// "127.0.0.1", "ipv6:[::1]:5000" -> "::1"); the text itself when it has no
// such form.
std::string PeerAddress(const std::string& peer);

}  // namespace unas::server
