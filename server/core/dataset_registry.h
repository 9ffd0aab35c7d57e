// Registered data sets (docs/deploy.md, "Registered data sets"): packs
// (data/dataset_pack.h) uploaded to the coordinator, kept unpacked in
// DATASETS_DIR/<sha256>/ (one copy per content, whatever the names), named
// in the store's datasets table, and read back as a pack for remote workers.
//
// The coordinator owns one and decides what a removal may break (a job in
// use); this class owns the files and the rows.
//
// Thread safety: every method may be called from any thread; one mutex
// serialises the changes to files and rows.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "data/dataset_pack.h"
#include "data/dataset_spec.h"
#include "server/store/records.h"
#include "server/store/store.h"

namespace unas::server {

// The next bytes of an upload; nullopt at its end; an error aborts it.
using ChunkSource = std::function<Result<std::optional<std::string>>()>;

class DatasetRegistry {
 public:
  // `datasets_dir` is created (mode 0700) if missing. max_pack_bytes bounds
  // an upload (kResourceExhausted above it).
  static Result<std::unique_ptr<DatasetRegistry>> Open(Store* store, std::string datasets_dir,
                                                       int64_t max_pack_bytes);

  // Receives a pack, checks its hash, that it is the declared kind and that
  // the data layer can read it (DescribeDataset), then names it. Content
  // already held under another name is not received again. Errors:
  // kInvalidArgument (bad header, malformed pack, wrong hash, unreadable
  // data: the message says which), kFailedPrecondition (the name is taken),
  // kResourceExhausted (too large); nothing is kept then.
  Result<DatasetRecord> Add(const DatasetUploadHeader& header, const ChunkSource& next, int64_t now_unix_ms);
  Result<std::vector<DatasetRecord>> List();
  // By name, or by a hash some name has. kNotFound says which.
  Result<DatasetRecord> Find(const std::string& name_or_sha256);
  // Drops the name, and the files when no other name shares them.
  Status Remove(const std::string& name);
  // Up to max_bytes of a registered pack from `offset`, and its length.
  // kNotFound for a hash no name has; kOutOfRange for a bad offset.
  Result<std::string> ReadPack(const std::string& sha256, int64_t offset, int64_t max_bytes, int64_t* pack_bytes);

  // The DatasetSpec a job trains on for a record: the coordinator's copy.
  data::DatasetSpec SpecOf(const DatasetRecord& record) const;
  // Where a registered data set's files are (DATASETS_DIR/<sha256>).
  std::string DirectoryOf(const std::string& sha256) const { return dir_ + "/" + sha256; }
  const std::string& directory() const { return dir_; }

 private:
  DatasetRegistry(Store* store, std::string dir, int64_t max_pack_bytes)
      : store_(store), dir_(std::move(dir)), max_pack_bytes_(max_pack_bytes) {}
  Status CheckHeader(const DatasetUploadHeader& header) const;
  // Receives the pack into a fresh folder, checks it, and moves it to
  // DirectoryOf(sha256).
  Status Receive(const DatasetUploadHeader& header, const ChunkSource& next);
  // The record's description from its files (kind, classes, shape, counts).
  Status Describe(DatasetRecord* record);

  Store* store_;
  const std::string dir_;
  const int64_t max_pack_bytes_;
  std::mutex mu_;  // guards the files under dir_ and readers_
  std::map<std::string, std::shared_ptr<const data::PackReader>> readers_;  // by hash, listed once
};

}  // namespace unas::server
