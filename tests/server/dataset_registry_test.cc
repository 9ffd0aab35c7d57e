// Registered data sets in the coordinator (server/core/dataset_registry.h,
// coordinator_datasets.cc): uploads checked and described, one copy per
// content, jobs that name one record its hash, and removal refused while a
// job trains on it.
#include "server/core/dataset_registry.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/server/coordinator_fixture.h"

namespace unas::server {
namespace {

namespace fs = std::filesystem;

// Two classes of sensor windows, three values each (docs/data.md, csv:FILE).
constexpr char kWalkCsv[] =
    "label,v0,v1,v2\n"
    "walk,1,2,3\nwalk,1,2,4\nwalk,1,3,3\nwalk,2,2,3\nwalk,1,1,3\n"
    "run,9,8,7\nrun,9,8,6\nrun,9,7,7\nrun,8,8,7\nrun,9,9,7\n";

// A ChunkSource over a local pack, 7 bytes at a time (uploads arrive in pieces).
ChunkSource ChunksOf(const data::PackReader& pack) {
  auto offset = std::make_shared<int64_t>(0);
  return [&pack, offset]() -> Result<std::optional<std::string>> {
    if (*offset >= pack.total_bytes()) return std::optional<std::string>();
    UNAS_ASSIGN_OR_RETURN(std::string bytes, pack.Read(*offset, 7));
    *offset += static_cast<int64_t>(bytes.size());
    return std::optional<std::string>(std::move(bytes));
  };
}

class DatasetRegistryTest : public CoordinatorTest {
 protected:
  void SetUp() override {
    std::ofstream(dir_ / "walk.csv") << kWalkCsv;
    db_ = TempDb("datasets");
    OpenWithDatasets(db_);
  }
  void OpenWithDatasets(const std::string& db) {
    coordinator_.reset();
    auto store = Store::Open(db);
    ASSERT_TRUE(store.ok()) << store.status().message();
    CoordinatorOptions o;
    o.expiry_check_interval_ms = 3'600'000;
    o.resolve_input = [](const data::DatasetSpec&) -> Result<InputSpec> { return InputSpec{8, 8, 1, 10}; };
    o.datasets_dir = dir_ / "datasets";
    o.max_dataset_bytes = 4096;
    coordinator_ = Coordinator::Open(std::move(store).value(), &clock_, o).value();
  }
  DatasetUploadHeader HeaderFor(const data::PackReader& pack, const std::string& name, const std::string& kind) {
    DatasetUploadHeader h;
    h.name = name;
    h.sha256 = pack.Sha256Hex().value();
    h.kind = kind;
    h.entry = pack.entry();
    h.pack_bytes = pack.total_bytes();
    return h;
  }
  Result<DatasetRecord> Add(const std::string& path, const std::string& name, const std::string& kind = "csv") {
    UNAS_ASSIGN_OR_RETURN(data::PackReader pack, data::PackReader::Open(path));
    return coordinator_->datasets()->Add(HeaderFor(pack, name, kind), ChunksOf(pack), 1234);
  }
  std::string WalkSpec(const std::string& dataset) {
    std::string spec = Spec(3);
    spec.replace(spec.find("\"synthetic\""), 11, "\"" + dataset + "\"");
    return spec;
  }
  int CopiesStored() {
    int n = 0;
    for (const auto& e : fs::directory_iterator(dir_ / "datasets")) n += e.is_directory() ? 1 : 0;
    return n;
  }

  testing::TempDir dir_{"registry"};
  std::string db_;
};

TEST_F(DatasetRegistryTest, AnUploadIsCheckedDescribedAndListed) {
  auto added = Add(dir_ / "walk.csv", "walk");
  ASSERT_TRUE(added.ok()) << added.status().message();
  const std::string sha = data::PackReader::Open(dir_ / "walk.csv").value().Sha256Hex().value();
  EXPECT_EQ(added->sha256, sha);
  EXPECT_EQ(added->kind, "csv");
  EXPECT_EQ(added->entry, "walk.csv");
  EXPECT_EQ(added->num_classes, 2);
  EXPECT_EQ(added->class_names, (std::vector<std::string>{"run", "walk"}));  // sorted byte order
  EXPECT_EQ(added->input_height, 3);  // a row is one channel: [columns, 1, 1]
  EXPECT_EQ(added->input_width, 1);
  EXPECT_EQ(added->input_channels, 1);
  EXPECT_EQ(added->file_count, 1);
  const int64_t csv_bytes = static_cast<int64_t>(std::string(kWalkCsv).size());
  EXPECT_EQ(added->content_bytes, csv_bytes);
  // "unas-pack 1\n" (12) + "<size> walk.csv\n" (4 + 9) + the file
  EXPECT_EQ(added->pack_bytes, 12 + 13 + csv_bytes);
  EXPECT_EQ(added->created_unix_ms, 1234);
  std::ifstream stored(dir_ / ("datasets/" + sha + "/walk.csv"));
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(stored), {}), kWalkCsv);
  auto listed = coordinator_->datasets()->List();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].class_names, added->class_names);
  EXPECT_EQ(coordinator_->datasets()->Find(sha).value().name, "walk");
}

TEST_F(DatasetRegistryTest, ARefusedUploadKeepsNothing) {
  data::PackReader pack = data::PackReader::Open(dir_ / "walk.csv").value();
  DatasetUploadHeader wrong = HeaderFor(pack, "walk", "csv");
  wrong.sha256 = std::string(64, 'a');
  auto refused = coordinator_->datasets()->Add(wrong, ChunksOf(pack), 1);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("expected aaaa"), std::string::npos) << refused.status().message();

  // Files the declared kind cannot read: a folder of text files is no idx data.
  fs::create_directories(dir_ / "notes/a");
  std::ofstream(dir_ / "notes/a/x.txt") << "hello";
  auto unreadable = Add(dir_ / "notes", "notes", "idx");
  EXPECT_EQ(unreadable.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unreadable.status().message().find("data set 'notes' as idx"), std::string::npos)
      << unreadable.status().message();

  DatasetUploadHeader big = HeaderFor(pack, "big", "csv");
  big.pack_bytes = 5000;
  EXPECT_EQ(coordinator_->datasets()->Add(big, ChunksOf(pack), 1).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(coordinator_->datasets()->List().value().size(), 0u);
  EXPECT_EQ(CopiesStored(), 0);
}

TEST_F(DatasetRegistryTest, TheSameContentUnderTwoNamesIsOneCopyRemovedWithTheLastName) {
  ASSERT_TRUE(Add(dir_ / "walk.csv", "walk").ok());
  data::PackReader pack = data::PackReader::Open(dir_ / "walk.csv").value();
  // The content is held already: the second upload's bytes are not read.
  ChunkSource unread = []() -> Result<std::optional<std::string>> { return Status::Internal("read"); };
  auto again = coordinator_->datasets()->Add(HeaderFor(pack, "walk-copy", "csv"), unread, 2);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(Add(dir_ / "walk.csv", "walk").status().code(), StatusCode::kFailedPrecondition);  // name taken
  EXPECT_EQ(CopiesStored(), 1);
  ASSERT_TRUE(coordinator_->RemoveDataset("walk").ok());
  EXPECT_EQ(CopiesStored(), 1);
  ASSERT_TRUE(coordinator_->RemoveDataset("walk-copy").ok());
  EXPECT_EQ(CopiesStored(), 0);
  EXPECT_EQ(coordinator_->RemoveDataset("walk").code(), StatusCode::kNotFound);
}

TEST_F(DatasetRegistryTest, AJobOnARegisteredDataSetRecordsItsHashAndBlocksItsRemoval) {
  auto added = Add(dir_ / "walk.csv", "walk");
  ASSERT_TRUE(added.ok());
  const std::string copy = dir_ / ("datasets/" + added->sha256 + "/walk.csv");
  auto job = coordinator_->Submit(WalkSpec("data:walk"));
  ASSERT_TRUE(job.ok()) << job.status().message();
  const nlohmann::json spec = nlohmann::json::parse(job->record.spec_json);
  EXPECT_EQ(spec["dataset"], "csv:" + copy);
  EXPECT_EQ(spec["dataset_name"], "walk");
  EXPECT_EQ(spec["dataset_sha256"], added->sha256);

  auto assignment = coordinator_->Acquire(coordinator_->RegisterWorker("w"), 0);
  ASSERT_TRUE(assignment.has_value());
  EXPECT_EQ(assignment->task.dataset.sha256, added->sha256);
  EXPECT_EQ(assignment->task.dataset.directory, copy);

  Status removal = coordinator_->RemoveDataset("walk");
  EXPECT_EQ(removal.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(removal.message().find("in use by running job " + job->record.job_id), std::string::npos)
      << removal.message();

  // By hash too; names that resolve to nothing and recorded fields are refused.
  EXPECT_TRUE(coordinator_->Submit(WalkSpec("data:" + added->sha256)).ok());
  auto unknown = coordinator_->Submit(WalkSpec("data:nope"));
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("no data set named 'nope'"), std::string::npos);
  auto recorded = coordinator_->Submit(Spec(3, ",\"dataset_sha256\":\"" + added->sha256 + "\""));
  EXPECT_NE(recorded.status().message().find("recorded by the coordinator"), std::string::npos);

  for (const JobView& j : coordinator_->ListJobs()) ASSERT_TRUE(coordinator_->Cancel(j.record.job_id).ok());
  EXPECT_TRUE(coordinator_->RemoveDataset("walk").ok());
  EXPECT_FALSE(fs::exists(copy));
}

TEST_F(DatasetRegistryTest, ARestartedCoordinatorFindsTheJobsCopyByItsHash) {
  auto added = Add(dir_ / "walk.csv", "walk");
  ASSERT_TRUE(added.ok());
  auto job = coordinator_->Submit(WalkSpec("data:walk"));
  ASSERT_TRUE(job.ok());
  OpenWithDatasets(db_);  // the same store: a restart
  auto spec = coordinator_->GetSpec(job->record.job_id);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->dataset.sha256, added->sha256);
  EXPECT_EQ(spec->dataset_name, "walk");
  EXPECT_EQ(spec->dataset.directory, dir_ / ("datasets/" + added->sha256 + "/walk.csv"));
  EXPECT_EQ(coordinator_->RemoveDataset("walk").code(), StatusCode::kFailedPrecondition);
}

TEST_F(DatasetRegistryTest, ReadPackServesTheStoredCopyAsTheOriginalsPack) {
  auto added = Add(dir_ / "walk.csv", "walk");
  ASSERT_TRUE(added.ok());
  const std::string original = data::PackReader::Open(dir_ / "walk.csv").value().Read(0, 1 << 20).value();
  int64_t pack_bytes = 0;
  std::string served;
  for (int64_t offset = 0; offset < added->pack_bytes; offset += 10) {
    served += coordinator_->datasets()->ReadPack(added->sha256, offset, 10, &pack_bytes).value();
  }
  EXPECT_EQ(served, original);
  EXPECT_EQ(pack_bytes, added->pack_bytes);
  EXPECT_EQ(coordinator_->datasets()->ReadPack(std::string(64, 'b'), 0, 10, &pack_bytes).status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace unas::server
