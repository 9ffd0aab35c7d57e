// SIGTERM / SIGINT as a flag that long-running commands poll.
#pragma once

#include <atomic>
#include <csignal>

namespace unas::cli {

inline std::atomic<bool>& StopRequested() {
  static std::atomic<bool> stop{false};
  return stop;
}

inline void InstallStopHandlers() {
  auto handler = [](int) { StopRequested().store(true); };
  std::signal(SIGTERM, handler);
  std::signal(SIGINT, handler);
}

}  // namespace unas::cli
