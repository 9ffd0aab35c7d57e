#include "server/core/dataset_registry.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "server/core/auth.h"

namespace unas::server {
namespace {

bool IsKnownKind(const std::string& kind) {
  return kind == "folder" || kind == "idx" || kind == "csv" || kind == "cifar10" || kind == "speech_commands";
}

bool Exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

}  // namespace

Result<std::unique_ptr<DatasetRegistry>> DatasetRegistry::Open(Store* store, std::string datasets_dir,
                                                               int64_t max_pack_bytes) {
  if (mkdir(datasets_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::Internal("creating '" + datasets_dir + "': " + std::strerror(errno));
  }
  return std::unique_ptr<DatasetRegistry>(new DatasetRegistry(store, std::move(datasets_dir), max_pack_bytes));
}

Status DatasetRegistry::CheckHeader(const DatasetUploadHeader& h) const {
  UNAS_RETURN_IF_ERROR(data::CheckDatasetName(h.name));
  if (!data::IsSha256Hex(h.sha256)) return Status::Invalid("sha256: expected 64 lowercase hex characters");
  if (!IsKnownKind(h.kind)) {
    return Status::Invalid("kind '" + h.kind + "': expected folder, idx, csv, cifar10 or speech_commands");
  }
  if (h.kind == "idx" && (h.num_classes < 2 || h.num_classes > 256)) {
    return Status::Invalid("classes: an idx data set has 2..256 classes");
  }
  if (!h.entry.empty() && (h.entry.find('/') != std::string::npos || h.entry == "." || h.entry == "..")) {
    return Status::Invalid("entry: a single file's name, without '/'");
  }
  if (h.pack_bytes <= 0) return Status::Invalid("pack_bytes: must be positive");
  if (h.pack_bytes > max_pack_bytes_) {
    return Status::ResourceExhausted("data set of " + std::to_string(h.pack_bytes) + " bytes is over this " +
                                     "coordinator's limit of " + std::to_string(max_pack_bytes_) +
                                     " (unas serve --max-dataset-bytes)");
  }
  return Status::Ok();
}

Status DatasetRegistry::Receive(const DatasetUploadHeader& h, const ChunkSource& next) {
  UNAS_ASSIGN_OR_RETURN(std::string suffix, RandomHex(8));
  const std::string incoming = dir_ + "/.incoming-" + suffix;
  Status received = [&]() -> Status {
    UNAS_ASSIGN_OR_RETURN(std::unique_ptr<data::PackUnpacker> unpacker, data::PackUnpacker::Create(incoming));
    while (true) {
      UNAS_ASSIGN_OR_RETURN(std::optional<std::string> chunk, next());
      if (!chunk) break;
      if (unpacker->bytes_written() + static_cast<int64_t>(chunk->size()) > h.pack_bytes) {
        return Status::Invalid("upload: more bytes than the declared " + std::to_string(h.pack_bytes));
      }
      UNAS_RETURN_IF_ERROR(unpacker->Write(*chunk));
    }
    if (unpacker->bytes_written() != h.pack_bytes) {
      return Status::Invalid("upload: " + std::to_string(unpacker->bytes_written()) + " bytes arrived, " +
                             std::to_string(h.pack_bytes) + " declared");
    }
    return unpacker->Finish(h.sha256);
  }();
  if (received.ok() && !h.entry.empty()) {
    struct stat st {};
    if (stat((incoming + "/" + h.entry).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      received = Status::Invalid("entry '" + h.entry + "' is not a file of the pack");
    }
  }
  if (received.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    // Another upload of the same content may have won the race: keep its copy.
    if (!Exists(DirectoryOf(h.sha256)) && std::rename(incoming.c_str(), DirectoryOf(h.sha256).c_str()) != 0) {
      received = Status::Internal("storing data set '" + h.name + "': " + std::strerror(errno));
    }
  }
  if (Exists(incoming)) (void)data::RemoveTree(incoming);  // the loser of a race, or a failure
  return received;
}

Status DatasetRegistry::Describe(DatasetRecord* r) {
  UNAS_ASSIGN_OR_RETURN(data::DatasetShape shape, data::DescribeDataset(SpecOf(*r)));
  r->num_classes = shape.num_classes;
  r->class_names = shape.class_names;
  r->input_height = shape.height;
  r->input_width = shape.width;
  r->input_channels = shape.channels;
  UNAS_ASSIGN_OR_RETURN(data::PackReader reader, data::PackReader::Open(DirectoryOf(r->sha256)));
  r->file_count = reader.file_count();
  r->content_bytes = reader.content_bytes();
  r->pack_bytes = reader.total_bytes();
  return Status::Ok();
}

Result<DatasetRecord> DatasetRegistry::Add(const DatasetUploadHeader& h, const ChunkSource& next,
                                           int64_t now_unix_ms) {
  UNAS_RETURN_IF_ERROR(CheckHeader(h));
  if (store_->GetDataset(h.name).ok()) {
    return Status::FailedPrecondition("data set '" + h.name + "' exists; remove it first");
  }
  bool have_content = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    have_content = Exists(DirectoryOf(h.sha256));
  }
  // The same bytes under another name are not received again.
  if (!have_content) UNAS_RETURN_IF_ERROR(Receive(h, next));
  DatasetRecord record;
  record.name = h.name;
  record.sha256 = h.sha256;
  record.kind = h.kind;
  record.entry = h.entry;
  record.num_classes = h.num_classes;
  record.created_unix_ms = now_unix_ms;
  Status described = Describe(&record);
  if (!described.ok()) described = Status::Invalid("data set '" + h.name + "' as " + h.kind + ": " + described.message());
  if (described.ok()) described = store_->InsertDataset(record);
  if (!described.ok() && !have_content) {
    // Nothing is kept for a refused data set, unless a concurrent Add named it meanwhile.
    std::lock_guard<std::mutex> lock(mu_);
    auto all = store_->ListDatasets();
    bool named = false;
    if (all.ok()) {
      for (const DatasetRecord& d : *all) named = named || d.sha256 == h.sha256;
    }
    if (all.ok() && !named) (void)data::RemoveTree(DirectoryOf(h.sha256));
  }
  UNAS_RETURN_IF_ERROR(described);
  return record;
}

Result<std::vector<DatasetRecord>> DatasetRegistry::List() { return store_->ListDatasets(); }

Result<DatasetRecord> DatasetRegistry::Find(const std::string& name_or_sha256) {
  if (!data::IsSha256Hex(name_or_sha256)) return store_->GetDataset(name_or_sha256);
  UNAS_ASSIGN_OR_RETURN(std::vector<DatasetRecord> all, store_->ListDatasets());
  for (const DatasetRecord& d : all) {
    if (d.sha256 == name_or_sha256) return d;
  }
  return Status::NotFound("no registered data set has SHA-256 " + name_or_sha256);
}

Status DatasetRegistry::Remove(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  UNAS_ASSIGN_OR_RETURN(DatasetRecord record, store_->GetDataset(name));
  UNAS_RETURN_IF_ERROR(store_->DeleteDataset(name));
  UNAS_ASSIGN_OR_RETURN(std::vector<DatasetRecord> all, store_->ListDatasets());
  for (const DatasetRecord& d : all) {
    if (d.sha256 == record.sha256) return Status::Ok();  // still named
  }
  readers_.erase(record.sha256);
  return data::RemoveTree(DirectoryOf(record.sha256));
}

Result<std::string> DatasetRegistry::ReadPack(const std::string& sha256, int64_t offset, int64_t max_bytes,
                                              int64_t* pack_bytes) {
  std::shared_ptr<const data::PackReader> reader;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = readers_.find(sha256);
    if (it != readers_.end()) reader = it->second;
  }
  if (!reader) {
    UNAS_ASSIGN_OR_RETURN(DatasetRecord record, Find(sha256));
    std::lock_guard<std::mutex> lock(mu_);
    UNAS_ASSIGN_OR_RETURN(data::PackReader opened, data::PackReader::Open(DirectoryOf(record.sha256)));
    reader = std::make_shared<const data::PackReader>(std::move(opened));
    readers_[sha256] = reader;
  }
  *pack_bytes = reader->total_bytes();
  return reader->Read(offset, max_bytes);
}

data::DatasetSpec DatasetRegistry::SpecOf(const DatasetRecord& r) const {
  data::DatasetSpec spec;
  std::string directory = DirectoryOf(r.sha256);
  if (!r.entry.empty()) directory += "/" + r.entry;
  std::string text = r.kind + ":" + directory;
  if (r.kind == "idx") text += ":" + std::to_string(r.num_classes);
  auto parsed = data::ParseDatasetSpec(text);
  if (parsed.ok()) spec = *parsed;
  spec.sha256 = r.sha256;
  return spec;
}

}  // namespace unas::server
