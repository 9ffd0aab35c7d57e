// Structured logs: one logfmt line per event on stderr, e.g.
//   ts=2026-11-22T04:20:00.123Z level=info msg="trial done" job=job-1 trial=7
// Thread-safe (one mutex around the write).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace unas::server {

using LogFields = std::vector<std::pair<std::string, std::string>>;
void LogInfo(const std::string& message, const LogFields& fields = {});
void LogWarn(const std::string& message, const LogFields& fields = {});
void LogError(const std::string& message, const LogFields& fields = {});

}  // namespace unas::server
