// A job whose store write fails (a full disk, an I/O error) is paused, not
// failed. The write that failed changed nothing in memory either, so the
// coordinator's view and the database keep agreeing; the job stays
// `running` with `error` saying why it is paused, and resumes by itself at
// the next write that succeeds (GET /healthz is 503 meanwhile, since its
// probe write fails too). A restart resumes it as well, as always.
//
// The message lives only in memory: a store that cannot be written cannot
// record it. It is cleared before the job's next stored update.
#pragma once

#include <string>

#include "base/status.h"

namespace unas::server {

inline std::string PausedError(const Status& failed_write) {
  return "paused: a database write failed (" + failed_write.message() +
         "); the job resumes by itself once writes succeed";
}

inline bool IsPausedError(const std::string& error) { return error.rfind("paused: ", 0) == 0; }

}  // namespace unas::server
