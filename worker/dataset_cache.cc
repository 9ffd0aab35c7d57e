#include "worker/dataset_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>
#include <utility>
#include <vector>

#include "data/dataset_pack.h"

namespace unas::worker {
namespace {

namespace fs = std::filesystem;

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// Opens (creating) `path` and takes flock `operation` (LOCK_EX or LOCK_SH) on
// it, waiting through signals; the descriptor holds the lock until closed.
Result<int> OpenLocked(const std::string& path, int operation) {
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal(Errno("opening '" + path + "'"));
  while (flock(fd, operation) != 0) {
    if (errno != EINTR) {
      close(fd);
      return Status::Internal(Errno("locking '" + path + "'"));
    }
  }
  return fd;
}

// An exclusive flock on a file, released when it goes out of scope.
class FileLock {
 public:
  static Result<FileLock> Exclusive(const std::string& path) {
    auto fd = OpenLocked(path, LOCK_EX);
    if (!fd.ok()) return fd.status();
    return FileLock(*fd);
  }
  FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileLock(const FileLock&) = delete;
  ~FileLock() {
    if (fd_ >= 0) close(fd_);  // closing releases the lock
  }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

int64_t TreeBytes(const std::string& path) {
  int64_t bytes = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) bytes += static_cast<int64_t>(it->file_size(ec));
  }
  return bytes;
}

std::string Short(const std::string& sha256) { return sha256.substr(0, 12); }

// Unpacks a complete pack file into `directory` (which must not exist),
// checking its SHA-256.
Status UnpackFile(const std::string& pack_path, const std::string& directory, const std::string& sha256) {
  const int fd = open(pack_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Internal(Errno("opening '" + pack_path + "'"));
  Status done = [&]() -> Status {
    UNAS_ASSIGN_OR_RETURN(std::unique_ptr<data::PackUnpacker> unpacker, data::PackUnpacker::Create(directory));
    std::string buffer(1 << 20, '\0');
    while (true) {
      const ssize_t n = read(fd, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::Internal(Errno("reading '" + pack_path + "'"));
      if (n == 0) break;
      UNAS_RETURN_IF_ERROR(unpacker->Write(std::string_view(buffer.data(), static_cast<size_t>(n))));
    }
    return unpacker->Finish(sha256);
  }();
  close(fd);
  if (!done.ok()) (void)data::RemoveTree(directory);
  return done;
}

}  // namespace

Result<std::unique_ptr<DatasetCache>> DatasetCache::Open(DatasetCacheOptions options, PackFetcher fetch) {
  if (options.directory.empty()) return Status::Invalid("cache directory: empty");
  if (options.max_bytes <= 0) return Status::Invalid("cache size limit: must be positive");
  std::error_code ec;
  fs::create_directories(options.directory, ec);
  if (ec) return Status::Internal("creating cache directory '" + options.directory + "': " + ec.message());
  chmod(options.directory.c_str(), 0700);
  return std::unique_ptr<DatasetCache>(new DatasetCache(std::move(options), std::move(fetch)));
}

DatasetCache::~DatasetCache() {
  if (in_use_fd_ >= 0) close(in_use_fd_);
}

Result<data::DatasetSpec> DatasetCache::Prepare(const data::DatasetSpec& spec, const std::string& job_id) {
  if (spec.sha256.empty()) return spec;
  if (!data::IsSha256Hex(spec.sha256)) return Status::Invalid("data set sha256: expected 64 lowercase hex characters");
  UNAS_ASSIGN_OR_RETURN(std::string subpath, data::RegisteredSubpath(spec));
  std::lock_guard<std::mutex> lock(mu_);
  if (spec.sha256 != current_) {
    UNAS_ASSIGN_OR_RETURN(FileLock cache_lock, FileLock::Exclusive(Path(".lock")));
    UNAS_RETURN_IF_ERROR(EnsureCopy(spec.sha256));
    UNAS_RETURN_IF_ERROR(Use(spec.sha256));
    Evict(spec.sha256);
  } else if (!job_id.empty() && !current_job_.empty() && job_id != current_job_) {
    ++reuses_;
    Log("data set " + Short(spec.sha256) + " reused for job " + job_id + " (this worker's copy, checked when " +
        "it was first used)");
  }
  current_job_ = job_id;
  data::DatasetSpec local = spec;
  local.directory = Path(spec.sha256) + subpath;
  return local;
}

Status DatasetCache::EnsureCopy(const std::string& sha256) {
  const std::string dir = Path(sha256);
  if (fs::exists(dir)) {
    const auto check_start = std::chrono::steady_clock::now();
    auto reader = data::PackReader::Open(dir);
    auto hash = reader.ok() ? reader->Sha256Hex() : Result<std::string>(reader.status());
    if (hash.ok() && *hash == sha256) {
      ++reuses_;
      char checked[32];
      std::snprintf(checked, sizeof checked, "%.3f s",
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - check_start).count());
      Log("data set " + Short(sha256) + " reused from the cache (" + std::to_string(reader->file_count()) +
          " files, " + std::to_string(reader->content_bytes()) + " bytes, hash checked in " + checked + ")");
      return Status::Ok();
    }
    Log("data set " + Short(sha256) + " in the cache does not match its hash (a file changed, vanished or " +
        "was added): fetching it again");
    UNAS_RETURN_IF_ERROR(data::RemoveTree(dir));
  }
  const auto start = std::chrono::steady_clock::now();
  UNAS_RETURN_IF_ERROR(Fetch(sha256));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int64_t bytes = TreeBytes(dir);
  ++fetches_;
  char rate[64];
  std::snprintf(rate, sizeof rate, "%.3f s, %.1f MB/s", seconds, seconds > 0 ? bytes / seconds / 1e6 : 0.0);
  Log("data set " + Short(sha256) + " fetched from the coordinator (" + std::to_string(bytes) + " bytes in " +
      rate + ")");
  return Status::Ok();
}

Status DatasetCache::Fetch(const std::string& sha256) {
  const std::string partial = Path(sha256 + ".pack.partial");
  Status last = Status::Ok();
  for (int attempt = 1; attempt <= options_.max_fetch_attempts; ++attempt) {
    const int fd = open(partial.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return Status::Internal(Errno("opening '" + partial + "'"));
    struct stat st {};
    fstat(fd, &st);
    const int64_t have = st.st_size;
    if (have > 0) Log("data set " + Short(sha256) + ": resuming its download at byte " + std::to_string(have));
    Status fetched = fetch_(sha256, have, [&](int64_t, const std::string& bytes, int64_t) -> Status {
      for (size_t done = 0; done < bytes.size();) {
        const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Status::Internal(Errno("writing '" + partial + "'"));
        done += static_cast<size_t>(n);
      }
      return Status::Ok();
    });
    close(fd);
    if (fetched.ok()) {
      const std::string staging = Path(".unpack-" + sha256);
      (void)data::RemoveTree(staging);
      fetched = UnpackFile(partial, staging, sha256);
      if (fetched.ok() && std::rename(staging.c_str(), Path(sha256).c_str()) != 0) {
        fetched = Status::Internal(Errno("moving '" + staging + "' into place"));
      }
      std::remove(partial.c_str());  // complete, or bytes that do not match: never resumed
      if (fetched.ok()) return Status::Ok();
    } else if (fetched.code() == StatusCode::kInvalidArgument || fetched.code() == StatusCode::kOutOfRange) {
      std::remove(partial.c_str());  // a bad chunk or offset: start over
    } else if (fetched.code() != StatusCode::kFailedPrecondition) {
      // Not a lost connection (which resumes): the coordinator has no such
      // data set, refuses the token, or a local file cannot be written.
      if (have == 0) std::remove(partial.c_str());  // nothing to resume
      return Status(fetched.code(), "data set " + sha256 + " could not be fetched: " + fetched.message());
    }
    last = fetched;
    if (attempt < options_.max_fetch_attempts) {
      // A restarting coordinator gets a moment: 1 s, then 2 s, ...
      std::this_thread::sleep_for(std::chrono::milliseconds(options_.retry_wait_ms * attempt));
    }
    Log("data set " + Short(sha256) + ": fetch attempt " + std::to_string(attempt) + " failed: " + last.message());
  }
  return Status::FailedPrecondition("data set " + sha256 + " could not be fetched: " + last.message());
}

Status DatasetCache::Use(const std::string& sha256) {
  const std::string path = Path(sha256 + ".inuse");
  auto fd = OpenLocked(path, LOCK_SH);
  if (!fd.ok()) return fd.status();
  if (in_use_fd_ >= 0) close(in_use_fd_);
  in_use_fd_ = *fd;
  current_ = sha256;
  utimensat(AT_FDCWD, Path(sha256).c_str(), nullptr, 0);  // most recently used now
  return Status::Ok();
}

void DatasetCache::Evict(const std::string& keep) {
  struct Entry {
    std::string sha256;
    int64_t bytes;
    fs::file_time_type used;
  };
  std::vector<Entry> entries;
  int64_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(options_.directory, ec)) {
    const std::string name = e.path().filename().string();
    if (!data::IsSha256Hex(name) || !e.is_directory(ec)) continue;
    entries.push_back({name, TreeBytes(e.path().string()), fs::last_write_time(e.path(), ec)});
    total += entries.back().bytes;
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.used < b.used; });
  for (const Entry& e : entries) {
    if (total <= options_.max_bytes) break;
    if (e.sha256 == keep) continue;
    const int fd = open(Path(e.sha256 + ".inuse").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) continue;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0 && data::RemoveTree(Path(e.sha256)).ok()) {
      total -= e.bytes;
      Log("data set " + Short(e.sha256) + " evicted from the cache (" + std::to_string(e.bytes) + " bytes)");
    }
    close(fd);  // a copy another worker uses is skipped
  }
}

EvaluateFn WithDatasetCache(EvaluateFn evaluate, DatasetCache* cache) {
  return [evaluate = std::move(evaluate), cache](const WorkAssignment& assignment, const std::atomic<bool>& cancel,
                                                 const std::function<void(double)>& progress) {
    if (assignment.task.dataset.sha256.empty()) return evaluate(assignment, cancel, progress);
    auto local = cache->Prepare(assignment.task.dataset, assignment.job_id);
    if (!local.ok()) {
      TrialResult failed;
      failed.failure = FailureKind::kWorker;
      failed.error = "data set " + assignment.task.dataset.sha256 + ": " + local.status().message();
      return failed;
    }
    WorkAssignment copy = assignment;
    copy.task.dataset = *local;
    return evaluate(copy, cancel, progress);
  };
}

}  // namespace unas::worker
