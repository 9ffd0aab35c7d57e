// What the data benches (bench_audio, bench_image_folder) share: the wall
// time of a step, and their messages on stderr (a usage error exits 2, a
// failure 1, each line starting with the program's name).
// Header-only, for the bench programs.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "base/status.h"

namespace unas::bench {

// Wall seconds since `since`.
inline double SecondsSince(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

struct Program {
  const char* name;

  // "usage: NAME ARGS"; returns the usage error's exit code, 2.
  int Usage(const char* args) const {
    std::fprintf(stderr, "usage: %s %s\n", name, args);
    return 2;
  }
  // "NAME: MESSAGE"; returns the failure's exit code, 1.
  int Fail(const std::string& message) const {
    std::fprintf(stderr, "%s: %s\n", name, message.c_str());
    return 1;
  }
  int Fail(const Status& status) const { return Fail(status.message()); }
};

}  // namespace unas::bench
