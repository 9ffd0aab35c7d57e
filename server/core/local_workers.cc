#include "server/core/local_workers.h"

namespace unas::server {

Result<std::pair<std::string, int>> LocalTrialSource::Register(const std::string& name, int threads) {
  return std::make_pair(c_.RegisterWorker(name), static_cast<int>(c_.options().heartbeat_interval_ms));
}

Result<std::optional<worker::WorkAssignment>> LocalTrialSource::Acquire(const std::string& worker_id, int wait_ms) {
  UNAS_RETURN_IF_ERROR(c_.CheckWorker(worker_id));  // told to stop: the loop ends, saying why
  return c_.Acquire(worker_id, wait_ms);
}

Result<worker::HeartbeatAnswer> LocalTrialSource::Heartbeat(const std::string& worker_id,
                                                            const std::string& lease_id, double progress) {
  worker::HeartbeatAnswer answer;
  answer.keep_going = c_.Heartbeat(worker_id, lease_id, progress).keep_going;
  return answer;
}

Result<bool> LocalTrialSource::Complete(const std::string& worker_id, const std::string& lease_id,
                                        const TrialResult& result) {
  return c_.Complete(worker_id, lease_id, result);
}

Result<worker::CompleteAnswer> LocalTrialSource::CompleteAndAcquire(const std::string& worker_id,
                                                                    const std::string& lease_id,
                                                                    const TrialResult& result, int wait_ms) {
  worker::CompleteAnswer answer;
  UNAS_ASSIGN_OR_RETURN(answer.accepted, c_.Complete(worker_id, lease_id, result));
  // A worker told to stop gets no next trial; its Acquire says why.
  if (!c_.CheckWorker(worker_id).ok()) return answer;
  answer.next_answered = true;
  answer.next = c_.Acquire(worker_id, wait_ms);
  return answer;
}

LocalWorkers::LocalWorkers(Coordinator& coordinator, int count, worker::EvaluateFn evaluate,
                           worker::WorkerLoopOptions options)
    : source_(coordinator) {
  for (int i = 0; i < count; ++i) {
    worker::WorkerLoopOptions o = options;
    o.name = options.name + "-" + std::to_string(i + 1);
    o.acquire_wait_ms = 1000;  // wake up often enough to notice Stop()
    loops_.push_back(std::make_unique<worker::WorkerLoop>(source_, evaluate, o));
  }
  for (auto& loop : loops_) threads_.emplace_back([l = loop.get()] { l->Run(); });
}

LocalWorkers::~LocalWorkers() { Stop(); }

void LocalWorkers::Stop() {
  for (auto& loop : loops_) loop->Stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

}  // namespace unas::server
