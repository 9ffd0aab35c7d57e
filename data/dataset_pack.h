// A data set as one byte stream: the form a registered data set is hashed,
// uploaded, stored and fetched in (docs/deploy.md, "Registered data sets").
//
// The pack of a directory is
//   "unas-pack 1\n"
//   then, for each regular file in byte order of its relative path:
//   "<size in bytes> <relative path>\n" followed by the file's bytes.
// Relative paths use '/', never start with '/', and have no "." or ".."
// component, no empty component and no newline. The pack of a single file
// (a CSV) is the pack of a directory holding only that file, and its entry()
// is the file's name. Empty directories and file modes are not part of it.
//
// A data set's identity is the SHA-256 of its pack (64 lowercase hex
// characters): the same files with the same contents under the same names
// give the same hash on any machine; nothing else does.
//
// Thread safety: a PackReader is immutable after Open and may be read from
// several threads; a Sha256 or PackUnpacker is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace unas::data {

inline constexpr std::string_view kPackMagic = "unas-pack 1\n";

// SHA-256 (FIPS 180-4, OpenSSL's libcrypto), incremental.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view bytes);
  // The digest as 64 lowercase hex characters; the object is spent after it.
  std::string HexDigest();

 private:
  struct State;
  std::unique_ptr<State> state_;
};
std::string Sha256Hex(std::string_view bytes);
// Whether `text` has the form of a digest: 64 characters of [0-9a-f].
bool IsSha256Hex(std::string_view text);

// Reads the pack of a directory or file without building it in memory.
class PackReader {
 public:
  // Lists `path` (a directory, recursively, or one regular file).
  // kNotFound when it does not exist; kInvalidArgument naming the file for a
  // symbolic link, a special file or a name the format cannot carry.
  static Result<PackReader> Open(const std::string& path);

  int64_t total_bytes() const { return total_bytes_; }      // the pack's length
  int64_t file_count() const { return file_count_; }
  int64_t content_bytes() const { return content_bytes_; }  // the files' bytes alone
  // "" for a directory; the file's name for a single file.
  const std::string& entry() const { return entry_; }

  // Up to max_bytes of the pack from `offset` (fewer only at its end).
  // kOutOfRange for an offset outside 0..total_bytes(); kFailedPrecondition
  // naming the file when one changed size or vanished since Open.
  Result<std::string> Read(int64_t offset, int64_t max_bytes) const;
  // The SHA-256 of the whole pack (reads every file once).
  Result<std::string> Sha256Hex() const;

 private:
  struct Segment {
    int64_t offset = 0;       // where it starts in the pack
    int64_t size_bytes = 0;
    std::string header;       // a header line (the magic or a file's), or
    std::string source_path;  // the file whose bytes these are
  };
  Status ReadSegment(const Segment& segment, int64_t from, int64_t count, std::string* out) const;

  std::vector<Segment> segments_;
  int64_t total_bytes_ = 0;
  int64_t file_count_ = 0;
  int64_t content_bytes_ = 0;
  std::string entry_;
};

// Writes a pack's files under `directory` as its bytes arrive, and hashes
// them. The directory must not exist yet (it is created, mode 0700).
class PackUnpacker {
 public:
  static Result<std::unique_ptr<PackUnpacker>> Create(const std::string& directory);
  ~PackUnpacker();
  // The next bytes of the pack. kInvalidArgument saying what is malformed
  // (bad magic, a bad header line or path); kInternal when a file cannot be
  // written (the message names it and the errno).
  Status Write(std::string_view bytes);
  // Checks that the pack ended at a file boundary and that its SHA-256 is
  // `expected_sha256` (kInvalidArgument saying both otherwise).
  Status Finish(const std::string& expected_sha256);
  int64_t bytes_written() const { return bytes_; }

 private:
  explicit PackUnpacker(std::string directory) : directory_(std::move(directory)) {}
  Status StartFile(const std::string& header_line, int64_t at);  // `at`: where the line starts

  std::string directory_;
  Sha256 sha_;
  int64_t bytes_ = 0;
  bool magic_done_ = false;
  std::string pending_;        // an incomplete magic or header line
  int fd_ = -1;                // the file being written, or -1
  std::string file_path_;
  int64_t file_left_ = 0;      // bytes of the current file still to come
  std::string last_relative_;  // paths must come in strictly increasing order
};

// Whether `name` may name a registered data set: 1..64 characters of
// [A-Za-z0-9._-], not starting with '.' or '-', and not 64 hex characters (a
// job names a data set by its hash that way). kInvalidArgument says which rule.
Status CheckDatasetName(std::string_view name);

// The kind of the data set at `path`, as its DatasetSpec form's prefix: a
// file is "csv"; a directory holding train-images-idx3-ubyte(.gz) "idx",
// data_batch_1.bin "cifar10", validation_list.txt and testing_list.txt
// "speech_commands", train.csv "csv", anything else "folder".
std::string DetectDatasetKind(const std::string& path);

// Removes a directory tree (for a cache entry or a failed unpack); a missing
// path is not an error.
Status RemoveTree(const std::string& path);

}  // namespace unas::data
