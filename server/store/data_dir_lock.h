// One owner per data directory. Two coordinators on one --data-dir would
// both schedule the same jobs into one database (the second one's trials
// then fail with "UNIQUE constraint failed"), so `unas serve` takes this lock
// before it opens the store and holds it until it exits.
//
// The lock is flock(2) on DATA_DIR/lock, which holds the owner's pid as text.
// The kernel drops the lock when the owning process dies, however it dies
// (kill -9 included), so there is never a stale lock to clean up; the file
// itself stays and is reused by the next owner.
//
// Errors: kFailedPrecondition when another process holds the lock, naming
// the lock file and that process's pid; kInternal when the file cannot be
// created or locked for another reason (the message carries errno's text).
// Thread safety: a DataDirLock is owned by one thread; the lock is per
// process (a second Acquire in the same process, on another descriptor, is
// refused like any other process's).
#pragma once

#include <memory>
#include <string>

#include "base/status.h"

namespace unas::server {

class DataDirLock {
 public:
  static Result<std::unique_ptr<DataDirLock>> Acquire(const std::string& data_dir);
  ~DataDirLock();  // releases the lock (the file stays)
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  DataDirLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

}  // namespace unas::server
