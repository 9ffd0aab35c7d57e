// A full disk under a running job: the coordinator's memory and the database
// keep agreeing, the job says it is paused (not failed), /healthz's probe
// fails, and once space is back the job carries on and finishes. The disk is
// a real 2 MiB tmpfs, so this runs as root only (skipped otherwise).
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstring>
#include <map>

#include <gtest/gtest.h>

#include "server/core/coordinator.h"
#include "tests/temp_dir.h"

namespace unas::server {
namespace {

// A tmpfs mounted for the test, unmounted (and its directory removed) after.
class SmallDisk {
 public:
  explicit SmallDisk(const std::string& dir) : dir_(dir) {
    mounted_ = mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=2m,mode=0700") == 0;
    if (!mounted_) why_ = std::strerror(errno);
  }
  ~SmallDisk() {
    if (mounted_) umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }

  // Writes a filler file until the disk is full.
  void Fill() {
    const int fd = open((dir_ + "/filler").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ASSERT_GE(fd, 0);
    const std::string block(4096, 'f');
    while (write(fd, block.data(), block.size()) > 0) {
    }
    std::string byte(1, 'f');
    while (write(fd, byte.data(), 1) > 0) {
    }
    close(fd);
  }
  void Free() { unlink((dir_ + "/filler").c_str()); }

 private:
  std::string dir_, why_;
  bool mounted_ = false;
};

std::string Spec(int trials) {
  return R"({"name":"full","dataset":"synthetic","evaluator":"synthetic","seed":3,"budget":{"trials":)" +
         std::to_string(trials) + R"(},"bounds":{"val_error":0.5,"peak_sram_bytes":64000,"flash_bytes":64000,"macs":30000000},
         "constraints":{"peak_sram_bytes":64000,"flash_bytes":64000}})";
}

TrialResult Good() {
  TrialResult r;
  r.succeeded = true;
  r.metrics.val_error = 0.2;
  r.metrics.test_error = 0.2;
  return r;
}

// Every stored trial's status as the database has it, through a second connection.
std::map<int64_t, TrialStatus> StoredTrials(const std::string& db, const std::string& job_id) {
  std::map<int64_t, TrialStatus> out;
  auto store = Store::Open(db);
  EXPECT_TRUE(store.ok()) << store.status().message();
  if (!store.ok()) return out;
  auto trials = (*store)->AllTrials(job_id);
  EXPECT_TRUE(trials.ok());
  if (trials.ok()) {
    for (const TrialRecord& t : *trials) out[t.trial_id] = t.status;
  }
  return out;
}

TEST(FullDiskTest, WritesThatFailPauseTheJobAndMemoryKeepsAgreeingWithDisk) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a 2 MiB tmpfs";
  testing::TempDir dir("full_disk");
  SmallDisk disk(dir.path());
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here: " << disk.why();
  const std::string db = dir / "unas.db";
  ManualClock clock;
  CoordinatorOptions o;
  o.expiry_check_interval_ms = 3'600'000;
  o.resolve_input = [](const data::DatasetSpec&) -> Result<InputSpec> { return InputSpec{8, 8, 1, 10}; };
  auto c = Coordinator::Open(Store::Open(db).value(), &clock, o).value();
  const std::string job_id = c->Submit(Spec(40)).value().record.job_id;
  const std::string w = c->RegisterWorker("w");
  for (int i = 0; i < 3; ++i) {
    auto a = c->Acquire(w, 0);
    ASSERT_TRUE(a.has_value());
    ASSERT_TRUE(c->Complete(w, a->lease_id, Good()).ok());
  }
  ASSERT_TRUE(c->CheckStore().ok());

  auto held = c->Acquire(w, 0);  // a lease taken before the disk fills
  ASSERT_TRUE(held.has_value());

  disk.Fill();
  // A result that cannot be stored is refused; its lease stays, in memory as on disk.
  const Result<bool> refused = c->Complete(w, held->lease_id, Good());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("full"), std::string::npos) << refused.status().message();
  EXPECT_EQ(c->GetTrial(job_id, held->trial_id)->status, TrialStatus::kLeased);
  EXPECT_FALSE(c->GetTrial(job_id, held->trial_id)->metrics.has_value());
  // A lease that cannot be stored: no trial, and the job says it is paused, not failed.
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(c->Acquire(w, 0).has_value());
  const JobView paused = c->GetJob(job_id).value();
  EXPECT_EQ(paused.record.status, JobStatus::kRunning);
  EXPECT_EQ(paused.record.error.rfind("paused: a database write failed (", 0), 0u) << paused.record.error;
  EXPECT_NE(paused.record.error.find("the job resumes by itself once writes succeed"), std::string::npos);
  EXPECT_FALSE(c->CheckStore().ok());  // /healthz: 503

  // Memory and disk agree on every stored trial; memory has at most the one
  // proposal that could not be stored, pending.
  const std::map<int64_t, TrialStatus> stored = StoredTrials(db, job_id);
  auto page = c->ListTrials(job_id, 0, "", 1000).value();
  int memory_only = 0;
  for (const TrialRecord& t : page.trials) {
    auto it = stored.find(t.trial_id);
    if (it == stored.end()) {
      ++memory_only;
      EXPECT_EQ(t.status, TrialStatus::kPending) << t.trial_id;
    } else {
      EXPECT_EQ(t.status, it->second) << "trial " << t.trial_id;
    }
  }
  EXPECT_LE(memory_only, 1);
  EXPECT_EQ(page.trials.size(), stored.size() + memory_only);

  // Space again: the job resumes by itself and finishes its budget.
  disk.Free();
  EXPECT_TRUE(c->CheckStore().ok());  // /healthz: 200
  const Result<bool> accepted = c->Complete(w, held->lease_id, Good());  // the worker's retry
  ASSERT_TRUE(accepted.ok()) << accepted.status().message();
  EXPECT_TRUE(*accepted);
  for (int i = 0; i < 400 && c->GetJob(job_id)->record.status == JobStatus::kRunning; ++i) {
    auto a = c->Acquire(w, 0);
    if (a) {
      ASSERT_TRUE(c->Complete(w, a->lease_id, Good()).ok());
    }
  }
  const JobView done = c->GetJob(job_id).value();
  EXPECT_EQ(done.record.status, JobStatus::kSucceeded);
  EXPECT_EQ(done.record.error, "");
  EXPECT_EQ(done.completed, 40);
  // And a restart finds the same.
  c.reset();
  auto again = Coordinator::Open(Store::Open(db).value(), &clock, o).value();
  EXPECT_EQ(again->GetJob(job_id)->record.status, JobStatus::kSucceeded);
  EXPECT_EQ(again->GetJob(job_id)->completed, 40);
  EXPECT_EQ(StoredTrials(db, job_id).size(), 40u);
}

}  // namespace
}  // namespace unas::server
