// A remote worker's cache of registered data sets (docs/deploy.md, "Workers
// fetch what they need"): a trial whose data set has a sha256 (a job's
// "data:NAME") is trained on a local copy, fetched from the coordinator the
// first time and reused after.
//
// Layout of the cache directory:
//   <sha256>/               a complete copy, unpacked (data/dataset_pack.h)
//   <sha256>.pack.partial   a download in progress: the pack's first bytes
//                           (a later fetch resumes at its length)
//   <sha256>.inuse          held with a shared flock while a worker uses it
//   .lock                   held exclusively while fetching or evicting, so
//                           workers sharing the directory do not collide
// A copy is checked against its hash the first time a process uses it (a
// changed, missing or extra file is found: fetched again); after that the
// process trusts it until it switches to another data set. When the copies
// exceed max_bytes, the least recently used are removed, never one in use.
//
// Thread safety: Prepare may be called from any thread (one at a time, a
// mutex serialises them).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "base/status.h"
#include "data/dataset_spec.h"
#include "worker/worker_loop.h"

namespace unas::worker {

// Streams a pack from `offset` to its end through on_chunk(offset, bytes,
// pack_bytes), as server::Client::FetchDataset does.
using PackFetcher = std::function<Status(const std::string& sha256, int64_t offset,
                                         const std::function<Status(int64_t, const std::string&, int64_t)>& on_chunk)>;

struct DatasetCacheOptions {
  std::string directory;                   // created (mode 0700) if missing
  int64_t max_bytes = int64_t{20} << 30;   // the copies' files together
  int max_fetch_attempts = 3;              // a broken stream resumes this often
  int retry_wait_ms = 1000;                // times the attempt number, before the next
  std::function<void(const std::string&)> log;  // "data set ... fetched" / "reused"
};

class DatasetCache {
 public:
  static Result<std::unique_ptr<DatasetCache>> Open(DatasetCacheOptions options, PackFetcher fetch);
  ~DatasetCache();
  DatasetCache(const DatasetCache&) = delete;
  DatasetCache& operator=(const DatasetCache&) = delete;

  // `spec` with its directory in this cache (fetched if needed); a spec
  // without sha256 unchanged. `job_id` is only for the log: a job that finds
  // the copy the previous job used logs "reused for job ...". kFailedPrecondition when the coordinator
  // cannot be reached or the pack does not match its hash after every
  // attempt; kInternal for a local file error (the message names the file).
  Result<data::DatasetSpec> Prepare(const data::DatasetSpec& spec, const std::string& job_id = "");

  // Fetches made and copies reused by this process (for tests and logs).
  int64_t fetches() const { return fetches_; }
  int64_t reuses() const { return reuses_; }

 private:
  DatasetCache(DatasetCacheOptions options, PackFetcher fetch)
      : options_(std::move(options)), fetch_(std::move(fetch)) {}
  // Makes CACHE/<sha256> a complete, checked copy (the caller holds .lock).
  Status EnsureCopy(const std::string& sha256);
  // Downloads the pack into <sha256>.pack.partial, resuming, and unpacks it.
  Status Fetch(const std::string& sha256);
  // Removes least recently used copies until the rest fit (not `keep`).
  void Evict(const std::string& keep);
  // Holds <sha256>.inuse (shared), releasing the previous data set's.
  Status Use(const std::string& sha256);
  void Log(const std::string& line) const {
    if (options_.log) options_.log(line);
  }
  std::string Path(const std::string& name) const { return options_.directory + "/" + name; }

  const DatasetCacheOptions options_;
  const PackFetcher fetch_;
  std::mutex mu_;             // serialises Prepare
  std::string current_;       // the data set in use, checked by this process
  std::string current_job_;   // the job that used it last
  int in_use_fd_ = -1;        // its .inuse lock
  int64_t fetches_ = 0, reuses_ = 0;
};

// `evaluate` with each assignment's registered data set made local by
// `cache` first; a data set that cannot be made local fails the trial as the
// worker's fault (FailureKind::kWorker: another worker may have it).
EvaluateFn WithDatasetCache(EvaluateFn evaluate, DatasetCache* cache);

}  // namespace unas::worker
