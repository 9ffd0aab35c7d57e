#include "server/core/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace unas::server {
namespace {

std::mutex log_mu;  // guards stderr writes so lines never interleave

std::string Quote(const std::string& v) {
  if (!v.empty() && v.find_first_of(" \"=\n") == std::string::npos) return v;
  std::string q = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') q += '\\';
    q += c == '\n' ? ' ' : c;
  }
  return q + "\"";
}

void Write(const char* level, const std::string& message, const LogFields& fields) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const int ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm;
  gmtime_r(&secs, &tm);
  char ts[40];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  std::string line = std::string("ts=") + ts + " level=" + level + " msg=" + Quote(message);
  for (const auto& [k, v] : fields) line += " " + k + "=" + Quote(v);
  line += "\n";
  std::lock_guard<std::mutex> lock(log_mu);
  std::fputs(line.c_str(), stderr);
}

}  // namespace

void LogInfo(const std::string& message, const LogFields& fields) { Write("info", message, fields); }
void LogWarn(const std::string& message, const LogFields& fields) { Write("warn", message, fields); }
void LogError(const std::string& message, const LogFields& fields) { Write("error", message, fields); }

}  // namespace unas::server
