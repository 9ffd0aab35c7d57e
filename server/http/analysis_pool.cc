#include "server/http/analysis_pool.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

namespace unas::server {
namespace {

// How often a running analysis' parent looks at the clock and the shutdown
// flag when nothing else happens.
constexpr int kPollMs = 50;

std::string MiB(int64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

std::string Seconds(int64_t ms) {
  std::string s = std::to_string(ms / 1000);
  if (ms % 1000 != 0) {
    std::string frac = std::to_string(1000 + ms % 1000).substr(1);
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    s += "." + frac;
  }
  return s + " s";
}

// ---------------------------------------------------------------- the answer's bytes

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutString(std::string* out, const std::string& s) {
  PutU64(out, s.size());
  out->append(s);
}

// The child's answer: whether a budget stopped it, then the response.
std::string Serialise(const HttpResponse& r, bool over_budget) {
  std::string out;
  PutU64(&out, over_budget ? 1 : 0);
  PutU64(&out, static_cast<uint64_t>(r.status));
  PutString(&out, r.content_type);
  PutU64(&out, r.headers.size());
  for (const auto& [name, value] : r.headers) {
    PutString(&out, name);
    PutString(&out, value);
  }
  PutString(&out, r.body);
  return out;
}

class Reader {
 public:
  explicit Reader(const std::string& bytes) : bytes_(bytes) {}
  bool U64(uint64_t* v) {
    if (bytes_.size() - at_ < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) *v |= static_cast<uint64_t>(static_cast<unsigned char>(bytes_[at_ + i])) << (8 * i);
    at_ += 8;
    return true;
  }
  bool String(std::string* s) {
    uint64_t n = 0;
    if (!U64(&n) || n > bytes_.size() - at_) return false;
    s->assign(bytes_, at_, n);
    at_ += n;
    return true;
  }
  bool done() const { return at_ == bytes_.size(); }

 private:
  const std::string& bytes_;
  size_t at_ = 0;
};

bool Deserialise(const std::string& bytes, HttpResponse* r, bool* over_budget) {
  Reader in(bytes);
  uint64_t budget = 0, status = 0, headers = 0;
  if (!in.U64(&budget) || !in.U64(&status) || status < 100 || status > 599 || !in.String(&r->content_type) || !in.U64(&headers)) {
    return false;
  }
  for (uint64_t i = 0; i < headers; ++i) {
    std::string name, value;
    if (!in.String(&name) || !in.String(&value)) return false;
    r->headers.emplace_back(std::move(name), std::move(value));
  }
  r->status = static_cast<int>(status);
  *over_budget = budget != 0;
  return in.String(&r->body) && in.done();
}

// ---------------------------------------------------------------- the child

bool WriteAll(int fd, const std::string& bytes) {
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// The process' address space in bytes (/proc/self/statm's first field).
int64_t AddressSpaceBytes() {
  const int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[128];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  return std::strtoll(buf, nullptr, 10) * ::sysconf(_SC_PAGESIZE);
}

// Every descriptor from `first` up is closed.
void CloseFrom(int first) {
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, static_cast<unsigned>(first), ~0u, 0u) == 0) return;
#endif
  const long max = std::min<long>(::sysconf(_SC_OPEN_MAX), 1 << 20);
  for (long fd = first; fd < max; ++fd) ::close(static_cast<int>(fd));
}

// The child: isolate, set the budgets, run, answer on `answer_fd`, exit
// without running the parent's exit handlers or destructors.
[[noreturn]] void ChildMain(const AnalysisPool::Task& task, int answer_fd, pid_t parent,
                            const AnalysisPoolOptions& options) {
  // Only the answer pipe stays open (as descriptor 3): a client socket held
  // here would stay open after the server closed it.
  if (answer_fd != 3 && ::dup2(answer_fd, 3) != 3) ::_exit(120);
  CloseFrom(4);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(121);  // the coordinator died before the line above
  ::setpriority(PRIO_PROCESS, 0, 10);
  const int64_t now_bytes = AddressSpaceBytes();
  if (now_bytes > 0) {
    const rlim_t limit = static_cast<rlim_t>(now_bytes + options.memory_budget_bytes);
    const rlimit as{limit, limit};
    ::setrlimit(RLIMIT_AS, &as);
  }
  // The CPU limit is a backstop: the parent kills at the wall-time budget.
  const rlim_t cpu_seconds = static_cast<rlim_t>(options.time_budget_ms / 1000 + 2);
  const rlimit cpu{cpu_seconds, cpu_seconds + 1};
  ::setrlimit(RLIMIT_CPU, &cpu);
  HttpResponse answer;
  bool over_budget = false;
  try {
    answer = task();
  } catch (const std::bad_alloc&) {
    answer = JsonError(422, "the analysis needed more memory than its budget of " + MiB(options.memory_budget_bytes));
    over_budget = true;
  } catch (const std::exception& e) {
    answer = JsonError(500, std::string("the analysis failed: ") + e.what());
  } catch (...) {
    answer = JsonError(500, "the analysis failed");
  }
  ::_exit(WriteAll(3, Serialise(answer, over_budget)) ? 0 : 122);
}

}  // namespace

// ---------------------------------------------------------------- the pool

AnalysisPool::AnalysisPool(AnalysisPoolOptions options) : options_(options) {
  for (int i = 0; i < std::max(1, options_.workers); ++i) threads_.emplace_back([this] { Loop(); });
}

AnalysisPool::~AnalysisPool() { Shutdown(); }

bool AnalysisPool::Submit(Task task, int client_fd, Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || static_cast<int>(queue_.size()) >= options_.queue) {
      ++stats_.refused;
      cv_.notify_all();
      return false;
    }
    queue_.push_back(Item{std::move(task), client_fd, std::move(done)});
    stats_.queued = static_cast<int>(queue_.size());
  }
  cv_.notify_all();
  return true;
}

HttpResponse AnalysisPool::Busy() const {
  const AnalysisPoolStats now = stats();
  HttpResponse r = JsonError(503, "the analysis queue is full (" + std::to_string(now.running) + " running, " +
                                      std::to_string(now.queued) + " waiting); try again in " +
                                      std::to_string(options_.retry_after_seconds) + " s");
  r.headers.emplace_back("Retry-After", std::to_string(options_.retry_after_seconds));
  return r;
}

AnalysisPoolStats AnalysisPool::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

bool AnalysisPool::WaitFor(const std::function<bool(const AnalysisPoolStats&)>& until, int64_t timeout_ms) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return until(stats_); });
}

bool AnalysisPool::Stopping() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

void AnalysisPool::Shutdown() {
  std::deque<Item> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    dropped.swap(queue_);
    stats_.queued = 0;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();  // each kills its running analysis within kPollMs
  threads_.clear();
  dropped.clear();  // outside the lock: a Done may own a connection
}

namespace {

// Whether the client at `fd` hung up (never for -1). POLLRDHUP only: data the
// client sends meanwhile (a pipelined request) is not a hang-up.
bool ClientGone(int fd) {
  if (fd < 0) return false;
  pollfd p{fd, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

}  // namespace

void AnalysisPool::Loop() {
  for (;;) {
    Item item;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      item = std::move(queue_.front());
      queue_.pop_front();
      stats_.queued = static_cast<int>(queue_.size());
      ++stats_.running;
    }
    cv_.notify_all();
    HttpResponse answer;
    const Ended ended = ClientGone(item.client_fd) ? Ended::kCancelled : Run(item, &answer);
    {
      std::lock_guard<std::mutex> lock(mu_);
      --stats_.running;
      if (ended == Ended::kCancelled) {
        ++stats_.cancelled;
      } else {
        ++stats_.answered;
        if (ended == Ended::kOverBudget) ++stats_.over_budget;
      }
    }
    cv_.notify_all();
    if (ended != Ended::kCancelled && item.done) item.done(std::move(answer));
  }
}

AnalysisPool::Ended AnalysisPool::Run(const Item& item, HttpResponse* answer) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    *answer = JsonError(503, std::string("cannot start an analysis: pipe: ") + std::strerror(errno));
    return Ended::kAnswered;
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    *answer = JsonError(503, std::string("cannot start an analysis: fork: ") + std::strerror(err));
    return Ended::kAnswered;
  }
  if (pid == 0) ChildMain(item.task, pipe_fds[1], parent, options_);
  ::close(pipe_fds[1]);
  const int from_child = pipe_fds[0];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.time_budget_ms);
  std::string bytes;
  enum { kReading, kDone, kLate, kGone, kTooLarge } state = kReading;
  while (state == kReading) {
    if (Stopping() || ClientGone(item.client_fd)) {
      state = kGone;
      break;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      state = kLate;
      break;
    }
    const int64_t left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;
    pollfd p[2] = {{from_child, POLLIN, 0}, {item.client_fd, POLLRDHUP, 0}};
    const int n = ::poll(p, item.client_fd >= 0 ? 2 : 1, static_cast<int>(std::min<int64_t>(kPollMs, left_ms)));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0 || (p[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    char buf[1 << 16];
    const ssize_t got = ::read(from_child, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      state = kDone;  // the child closed its end: it exited
      break;
    }
    bytes.append(buf, static_cast<size_t>(got));
    if (static_cast<int64_t>(bytes.size()) > options_.max_answer_bytes) state = kTooLarge;
  }
  ::close(from_child);
  if (state != kDone) ::kill(pid, SIGKILL);
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  switch (state) {
    case kGone:
      return Ended::kCancelled;
    case kLate:
      *answer = JsonError(422, "the analysis took longer than its time budget of " + Seconds(options_.time_budget_ms) +
                                   " (unas analyze runs it without one)");
      return Ended::kOverBudget;
    case kTooLarge:
      *answer = JsonError(500, "the analysis' answer is larger than " + MiB(options_.max_answer_bytes));
      return Ended::kAnswered;
    default:
      break;
  }
  if (WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGXCPU) {
    *answer = JsonError(422, "the analysis used more CPU time than its time budget of " +
                                 Seconds(options_.time_budget_ms) + " (unas analyze runs it without one)");
    return Ended::kOverBudget;
  }
  bool over_budget = false;
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0 && Deserialise(bytes, answer, &over_budget)) {
    return over_budget ? Ended::kOverBudget : Ended::kAnswered;
  }
  *answer = HttpResponse{};
  const std::string how = WIFSIGNALED(wstatus) ? "was killed by signal " + std::to_string(WTERMSIG(wstatus))
                                               : "exited with status " + std::to_string(WEXITSTATUS(wstatus));
  *answer = JsonError(500, "the analysis process " + how + " without an answer (its memory budget is " +
                               MiB(options_.memory_budget_bytes) + ")");
  return Ended::kAnswered;
}

}  // namespace unas::server
