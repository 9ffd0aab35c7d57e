#include "data/dataset_pack.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace unas::data {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxHeaderBytes = 4200;  // a size, a space, a path of up to 4096 bytes, a newline

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// Why a relative path cannot be in a pack, or "" when it can.
std::string BadRelativePath(std::string_view path) {
  if (path.empty() || path.size() > 4096) return "its length must be 1..4096 bytes";
  if (path.front() == '/') return "it is absolute";
  if (path.find('\n') != std::string_view::npos || path.find('\0') != std::string_view::npos) {
    return "it holds a newline or NUL";
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return "it has an empty, \".\" or \"..\" component";
    start = end + 1;
  }
  return "";
}

std::string HeaderLine(int64_t size_bytes, const std::string& relative_path) {
  return std::to_string(size_bytes) + " " + relative_path + "\n";
}

}  // namespace

// ---------------------------------------------------------------- Sha256

struct Sha256::State {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  state_->ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(state_->ctx, EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(state_->ctx); }

void Sha256::Update(std::string_view bytes) { EVP_DigestUpdate(state_->ctx, bytes.data(), bytes.size()); }

std::string Sha256::HexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(state_->ctx, digest, &length);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

std::string Sha256Hex(std::string_view bytes) {
  Sha256 sha;
  sha.Update(bytes);
  return sha.HexDigest();
}

bool IsSha256Hex(std::string_view text) {
  return text.size() == 64 &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// ---------------------------------------------------------------- PackReader

Result<PackReader> PackReader::Open(const std::string& path) {
  std::error_code ec;
  const fs::file_status root = fs::symlink_status(path, ec);
  if (ec || !fs::exists(root)) return Status::NotFound("data set path '" + path + "' does not exist");
  std::vector<std::pair<std::string, std::string>> files;  // relative, source
  PackReader reader;
  if (fs::is_regular_file(root)) {
    reader.entry_ = fs::path(path).filename().string();
    files.emplace_back(reader.entry_, path);
  } else if (fs::is_directory(root)) {
    for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      const fs::file_status st = it->symlink_status(ec);
      if (ec) break;
      if (fs::is_directory(st)) continue;
      // Lexically: fs::relative would resolve a symbolic link to its target's name.
      const std::string relative = it->path().lexically_relative(path).generic_string();
      if (!fs::is_regular_file(st)) {
        return Status::Invalid("data set file '" + relative + "' is a symbolic link or special file; only " +
                               "regular files and directories can be registered");
      }
      files.emplace_back(relative, it->path().string());
    }
    if (ec) return Status::Internal("listing '" + path + "': " + ec.message());
  } else {
    return Status::Invalid("data set path '" + path + "' is neither a directory nor a regular file");
  }
  std::sort(files.begin(), files.end());
  reader.segments_.push_back({0, static_cast<int64_t>(kPackMagic.size()), std::string(kPackMagic), ""});
  int64_t offset = static_cast<int64_t>(kPackMagic.size());
  for (const auto& [relative, source] : files) {
    if (std::string why = BadRelativePath(relative); !why.empty()) {
      return Status::Invalid("data set file '" + relative + "' cannot be registered: " + why);
    }
    struct stat st {};
    if (stat(source.c_str(), &st) != 0) return Status::NotFound(Errno("data set file '" + source + "'"));
    std::string header = HeaderLine(st.st_size, relative);
    const auto header_bytes = static_cast<int64_t>(header.size());
    reader.segments_.push_back({offset, header_bytes, std::move(header), ""});
    offset += header_bytes;
    reader.segments_.push_back({offset, static_cast<int64_t>(st.st_size), "", source});
    offset += st.st_size;
    reader.content_bytes_ += st.st_size;
    ++reader.file_count_;
  }
  reader.total_bytes_ = offset;
  return reader;
}

Status PackReader::ReadSegment(const Segment& segment, int64_t from, int64_t count, std::string* out) const {
  if (segment.source_path.empty()) {
    out->append(segment.header, static_cast<size_t>(from), static_cast<size_t>(count));
    return Status::Ok();
  }
  const int fd = open(segment.source_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FailedPrecondition(Errno("data set file '" + segment.source_path + "'"));
  struct stat st {};
  const bool same_size = fstat(fd, &st) == 0 && st.st_size == segment.size_bytes;
  const size_t start = out->size();
  out->resize(start + static_cast<size_t>(count));
  int64_t done = 0;
  while (same_size && done < count) {
    const ssize_t n = pread(fd, out->data() + start + done, static_cast<size_t>(count - done), from + done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += n;
  }
  close(fd);
  if (!same_size || done != count) {
    return Status::FailedPrecondition("data set file '" + segment.source_path + "' changed while being read");
  }
  return Status::Ok();
}

Result<std::string> PackReader::Read(int64_t offset, int64_t max_bytes) const {
  if (offset < 0 || offset > total_bytes_) {
    return Status::OutOfRange("offset " + std::to_string(offset) + " is outside the pack's " +
                              std::to_string(total_bytes_) + " bytes");
  }
  const int64_t end = std::min(total_bytes_, offset + std::max<int64_t>(0, max_bytes));
  std::string out;
  out.reserve(static_cast<size_t>(end - offset));
  // The last segment starting at or before `offset`.
  auto it = std::upper_bound(segments_.begin(), segments_.end(), offset,
                             [](int64_t value, const Segment& s) { return value < s.offset; });
  if (it != segments_.begin()) --it;
  for (int64_t at = offset; at < end && it != segments_.end(); ++it) {
    const int64_t from = at - it->offset;
    const int64_t count = std::min(it->size_bytes - from, end - at);
    if (count <= 0) continue;
    UNAS_RETURN_IF_ERROR(ReadSegment(*it, from, count, &out));
    at += count;
  }
  return out;
}

Result<std::string> PackReader::Sha256Hex() const {
  Sha256 sha;
  constexpr int64_t kChunk = 1 << 20;
  for (int64_t offset = 0; offset < total_bytes_; offset += kChunk) {
    UNAS_ASSIGN_OR_RETURN(std::string bytes, Read(offset, kChunk));
    sha.Update(bytes);
  }
  return sha.HexDigest();
}

// ---------------------------------------------------------------- PackUnpacker

Result<std::unique_ptr<PackUnpacker>> PackUnpacker::Create(const std::string& directory) {
  if (mkdir(directory.c_str(), 0700) != 0) return Status::Internal(Errno("creating '" + directory + "'"));
  return std::unique_ptr<PackUnpacker>(new PackUnpacker(directory));
}

PackUnpacker::~PackUnpacker() {
  if (fd_ >= 0) close(fd_);
}

Status PackUnpacker::StartFile(const std::string& line, int64_t at) {
  const size_t space = line.find(' ');
  const std::string size_text = line.substr(0, space);
  if (space == std::string::npos || size_text.empty() || size_text.size() > 15 ||
      !std::all_of(size_text.begin(), size_text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Status::Invalid("pack: bad file header at byte " + std::to_string(at));
  }
  const std::string relative = line.substr(space + 1);
  if (std::string why = BadRelativePath(relative); !why.empty()) {
    return Status::Invalid("pack: file path at byte " + std::to_string(at) + " is refused: " + why);
  }
  if (!last_relative_.empty() && relative <= last_relative_) {
    return Status::Invalid("pack: file '" + relative + "' is out of order or repeated");
  }
  last_relative_ = relative;
  file_path_ = directory_ + "/" + relative;
  std::error_code ec;
  fs::create_directories(fs::path(file_path_).parent_path(), ec);
  if (ec) return Status::Internal("creating the folder of '" + file_path_ + "': " + ec.message());
  fd_ = open(file_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd_ < 0) return Status::Internal(Errno("creating '" + file_path_ + "'"));
  file_left_ = std::stoll(size_text);
  return Status::Ok();
}

Status PackUnpacker::Write(std::string_view bytes) {
  sha_.Update(bytes);
  while (!bytes.empty()) {
    if (fd_ >= 0) {
      const size_t n = static_cast<size_t>(std::min<int64_t>(file_left_, static_cast<int64_t>(bytes.size())));
      for (size_t done = 0; done < n;) {
        const ssize_t w = write(fd_, bytes.data() + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return Status::Internal(Errno("writing '" + file_path_ + "'"));
        done += static_cast<size_t>(w);
      }
      bytes.remove_prefix(n);
      bytes_ += static_cast<int64_t>(n);
      file_left_ -= static_cast<int64_t>(n);
      if (file_left_ == 0) {
        if (close(fd_) != 0) return Status::Internal(Errno("closing '" + file_path_ + "'"));
        fd_ = -1;
      }
      continue;
    }
    // A header: up to its newline (the magic is the first).
    const size_t newline = bytes.find('\n');
    const size_t take = newline == std::string_view::npos ? bytes.size() : newline + 1;
    pending_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    bytes_ += static_cast<int64_t>(take);
    if (pending_.size() > kMaxHeaderBytes) return Status::Invalid("pack: a header line is too long");
    if (pending_.back() != '\n') continue;
    std::string line = std::move(pending_);
    pending_.clear();
    if (!magic_done_) {
      if (line != kPackMagic) return Status::Invalid("pack: it does not start with \"unas-pack 1\"");
      magic_done_ = true;
      continue;
    }
    const int64_t at = bytes_ - static_cast<int64_t>(line.size());
    line.pop_back();
    UNAS_RETURN_IF_ERROR(StartFile(line, at));
    if (file_left_ == 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  return Status::Ok();
}

Status PackUnpacker::Finish(const std::string& expected_sha256) {
  if (!magic_done_ || fd_ >= 0 || !pending_.empty()) {
    return Status::Invalid("pack: it ends inside a " + std::string(fd_ >= 0 ? "file" : "header") + " after " +
                           std::to_string(bytes_) + " bytes");
  }
  const std::string got = sha_.HexDigest();
  if (got != expected_sha256) {
    return Status::Invalid("pack: its SHA-256 is " + got + ", expected " + expected_sha256);
  }
  return Status::Ok();
}

Status CheckDatasetName(std::string_view name) {
  if (name.empty() || name.size() > 64) return Status::Invalid("data set name: must be 1 to 64 characters");
  if (name.front() == '.' || name.front() == '-') return Status::Invalid("data set name: must not start with '.' or '-'");
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return Status::Invalid("data set name: only letters, digits, '.', '_' and '-' are allowed");
    }
  }
  if (IsSha256Hex(name)) return Status::Invalid("data set name: 64 hex characters would read as a hash");
  return Status::Ok();
}

std::string DetectDatasetKind(const std::string& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return "csv";
  auto has = [&](const char* name) { return fs::exists(fs::path(path) / name, ec); };
  if (has("train-images-idx3-ubyte") || has("train-images-idx3-ubyte.gz")) return "idx";
  if (has("data_batch_1.bin")) return "cifar10";
  if (has("validation_list.txt") && has("testing_list.txt")) return "speech_commands";
  if (has("train.csv")) return "csv";
  return "folder";
}

Status RemoveTree(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return Status::Internal("removing '" + path + "': " + ec.message());
  return Status::Ok();
}

}  // namespace unas::data
