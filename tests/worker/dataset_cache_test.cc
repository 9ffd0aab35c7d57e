// A remote worker's data set cache (worker/dataset_cache.h), fetching packs
// from a real coordinator registry (server/core/dataset_registry.h) in
// process: fetched once and reused, a corrupted copy fetched again, an
// interrupted download resumed where it stopped, least recently used copies
// evicted, and a data set that cannot be fetched failing the trial as the
// worker's fault.
#include "worker/dataset_cache.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "data/dataset_pack.h"
#include "server/core/dataset_registry.h"
#include "server/store/store.h"
#include "tests/temp_dir.h"

namespace unas::worker {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class DatasetCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = server::Store::Open(dir_ / "unas.db").value();
    registry_ = server::DatasetRegistry::Open(store_.get(), dir_ / "datasets", 1 << 20).value();
  }

  // Registers a one-file CSV data set holding `rows` rows per class.
  data::DatasetSpec Register(const std::string& name, int rows) {
    std::string csv = "label,a,b\n";
    for (int i = 0; i < rows; ++i) csv += "up," + std::to_string(i) + ",1\ndown," + std::to_string(i) + ",9\n";
    std::ofstream(dir_ / (name + ".csv")) << csv;
    data::PackReader pack = data::PackReader::Open(dir_ / (name + ".csv")).value();
    server::DatasetUploadHeader h;
    h.name = name;
    h.sha256 = pack.Sha256Hex().value();
    h.kind = "csv";
    h.entry = pack.entry();
    h.pack_bytes = pack.total_bytes();
    bool sent = false;
    auto added = registry_->Add(
        h,
        [&]() -> Result<std::optional<std::string>> {
          if (sent) return std::optional<std::string>();
          sent = true;
          return std::optional<std::string>(pack.Read(0, pack.total_bytes()).value());
        },
        1);
    EXPECT_TRUE(added.ok()) << added.status().message();
    return registry_->SpecOf(*added);
  }

  // The coordinator's side of FetchDataset: 16-byte chunks from the
  // registry; `offsets_` records where each fetch started.
  PackFetcher Fetcher() {
    return [this](const std::string& sha256, int64_t offset,
                  const std::function<Status(int64_t, const std::string&, int64_t)>& on_chunk) -> Status {
      offsets_.push_back(offset);
      int chunks = 0;
      while (true) {
        int64_t pack_bytes = 0;
        UNAS_ASSIGN_OR_RETURN(std::string bytes, registry_->ReadPack(sha256, offset, 16, &pack_bytes));
        if (bytes.empty()) return Status::Ok();
        // The connection drops after `drop_after_chunks_` chunks, once.
        if (drop_after_chunks_ > 0 && chunks == drop_after_chunks_) {
          drop_after_chunks_ = 0;
          return Status::FailedPrecondition("coordinator unavailable: connection reset");
        }
        UNAS_RETURN_IF_ERROR(on_chunk(offset, bytes, pack_bytes));
        offset += static_cast<int64_t>(bytes.size());
        ++chunks;
      }
    };
  }

  std::unique_ptr<DatasetCache> NewCache(int64_t max_bytes = int64_t{1} << 30) {
    DatasetCacheOptions o;
    o.directory = dir_ / "cache";
    o.max_bytes = max_bytes;
    o.retry_wait_ms = 1;
    o.log = [this](const std::string& line) { log_.push_back(line); };
    return DatasetCache::Open(o, Fetcher()).value();
  }

  bool Logged(const std::string& words) const {
    for (const std::string& line : log_) {
      if (line.find(words) != std::string::npos) return true;
    }
    return false;
  }

  testing::TempDir dir_{"dscache"};
  std::unique_ptr<server::Store> store_;
  std::unique_ptr<server::DatasetRegistry> registry_;
  std::vector<int64_t> offsets_;
  int drop_after_chunks_ = 0;
  std::vector<std::string> log_;
};

TEST_F(DatasetCacheTest, AnEmptyCacheFetchesOnceAndALaterWorkerReusesTheCopy) {
  const data::DatasetSpec spec = Register("walk", 5);
  auto first = NewCache();
  auto local = first->Prepare(spec, "job-a");
  ASSERT_TRUE(local.ok()) << local.status().message();
  EXPECT_EQ(local->directory, dir_ / ("cache/" + spec.sha256 + "/walk.csv"));
  EXPECT_EQ(ReadFile(local->directory), ReadFile(spec.directory));
  EXPECT_EQ(first->fetches(), 1);
  EXPECT_TRUE(Logged("fetched from the coordinator"));
  EXPECT_FALSE(fs::exists(dir_ / ("cache/" + spec.sha256 + ".pack.partial")));
  ASSERT_TRUE(first->Prepare(spec, "job-a").ok());  // the same job's next trial: nothing to do
  EXPECT_EQ(first->fetches() + first->reuses(), 1);
  ASSERT_TRUE(first->Prepare(spec, "job-b").ok());  // a second job on the same data
  EXPECT_EQ(first->reuses(), 1);
  EXPECT_TRUE(Logged("reused for job job-b"));

  auto second = NewCache();  // a worker started later on the same machine
  ASSERT_TRUE(second->Prepare(spec).ok());
  EXPECT_EQ(second->fetches(), 0);
  EXPECT_EQ(second->reuses(), 1);
  EXPECT_TRUE(Logged("reused from the cache"));
  EXPECT_EQ(offsets_, (std::vector<int64_t>{0}));
}

TEST_F(DatasetCacheTest, ACorruptedCopyIsDetectedAndFetchedAgain) {
  const data::DatasetSpec spec = Register("walk", 5);
  const std::string copy = NewCache()->Prepare(spec).value().directory;
  {
    std::fstream f(copy, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12);
    f.put('#');  // one byte flipped, same size
  }
  auto cache = NewCache();
  auto local = cache->Prepare(spec);
  ASSERT_TRUE(local.ok()) << local.status().message();
  EXPECT_EQ(cache->fetches(), 1);
  EXPECT_TRUE(Logged("does not match its hash"));
  EXPECT_EQ(ReadFile(copy), ReadFile(spec.directory));

  fs::remove(copy);  // a vanished file too
  auto again = NewCache();
  ASSERT_TRUE(again->Prepare(spec).ok());
  EXPECT_EQ(again->fetches(), 1);
  EXPECT_EQ(ReadFile(copy), ReadFile(spec.directory));
}

TEST_F(DatasetCacheTest, AnInterruptedDownloadResumesWhereItStopped) {
  const data::DatasetSpec spec = Register("walk", 5);
  drop_after_chunks_ = 2;  // the first attempt gets 32 bytes
  auto cache = NewCache();
  auto local = cache->Prepare(spec);
  ASSERT_TRUE(local.ok()) << local.status().message();
  EXPECT_EQ(offsets_, (std::vector<int64_t>{0, 32}));
  EXPECT_TRUE(Logged("resuming its download at byte 32"));
  EXPECT_EQ(ReadFile(local->directory), ReadFile(spec.directory));
}

TEST_F(DatasetCacheTest, TheLeastRecentlyUsedCopyIsEvictedNeverTheOneInUse) {
  const data::DatasetSpec a = Register("a", 5);
  const data::DatasetSpec b = Register("b", 6);
  const int64_t a_bytes = static_cast<int64_t>(fs::file_size(a.directory));
  auto cache = NewCache(a_bytes + 1);  // room for one copy of either... nearly
  ASSERT_TRUE(cache->Prepare(a).ok());
  ASSERT_TRUE(cache->Prepare(b).ok());
  EXPECT_FALSE(fs::exists(dir_ / ("cache/" + a.sha256)));
  EXPECT_TRUE(fs::exists(dir_ / ("cache/" + b.sha256)));  // over the limit alone, but in use
  EXPECT_TRUE(Logged("data set " + a.sha256.substr(0, 12) + " evicted"));
}

TEST_F(DatasetCacheTest, ADataSetThatCannotBeFetchedFailsTheTrialAsTheWorkersFault) {
  data::DatasetSpec missing = Register("walk", 5);
  ASSERT_TRUE(registry_->Remove("walk").ok());
  auto cache = NewCache();
  int evaluated = 0;
  EvaluateFn evaluate = WithDatasetCache(
      [&](const WorkAssignment&, const std::atomic<bool>&, const std::function<void(double)>&) {
        ++evaluated;
        return TrialResult();
      },
      cache.get());
  WorkAssignment a;
  a.task.dataset = missing;
  std::atomic<bool> cancel{false};
  TrialResult r = evaluate(a, cancel, [](double) {});
  EXPECT_FALSE(r.succeeded);
  EXPECT_EQ(r.failure, FailureKind::kWorker);
  EXPECT_NE(r.error.find("no registered data set has SHA-256"), std::string::npos) << r.error;
  EXPECT_EQ(evaluated, 0);
  EXPECT_EQ(offsets_.size(), 1u);  // kNotFound is not retried
}

}  // namespace
}  // namespace unas::worker
