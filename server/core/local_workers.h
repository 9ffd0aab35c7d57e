// Embedded workers: the worker loop running in the coordinator's process,
// talking to the Coordinator directly instead of over gRPC, so one `unas
// serve` does a whole search on a laptop. Same protocol, same leases.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include "server/core/coordinator.h"
#include "worker/worker_loop.h"

namespace unas::server {

class LocalTrialSource : public worker::TrialSource {
 public:
  explicit LocalTrialSource(Coordinator& coordinator) : c_(coordinator) {}
  Result<std::pair<std::string, int>> Register(const std::string& name, int threads) override;
  Result<std::optional<worker::WorkAssignment>> Acquire(const std::string& worker_id, int wait_ms) override;
  Result<worker::HeartbeatAnswer> Heartbeat(const std::string& worker_id, const std::string& lease_id,
                                            double progress) override;
  Result<bool> Complete(const std::string& worker_id, const std::string& lease_id,
                        const TrialResult& result) override;
  Result<worker::CompleteAnswer> CompleteAndAcquire(const std::string& worker_id, const std::string& lease_id,
                                                    const TrialResult& result, int wait_ms) override;

 private:
  Coordinator& c_;
};

// N worker loops on their own threads. Stop() asks each to stop (a trial in
// progress is cancelled and given back) and joins them.
class LocalWorkers {
 public:
  LocalWorkers(Coordinator& coordinator, int count, worker::EvaluateFn evaluate, worker::WorkerLoopOptions options);
  ~LocalWorkers();
  void Stop();
  int count() const { return static_cast<int>(loops_.size()); }

 private:
  LocalTrialSource source_;
  std::vector<std::unique_ptr<worker::WorkerLoop>> loops_;
  std::vector<std::thread> threads_;
};

}  // namespace unas::server
