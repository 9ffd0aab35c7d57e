#include "server/core/auth.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace unas::server {

Result<std::string> RandomHex(int bytes) {
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  std::string raw(bytes, '\0');
  if (!urandom.read(raw.data(), bytes)) return Status::Internal("cannot read /dev/urandom");
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : raw) {
    hex += digits[c >> 4];
    hex += digits[c & 15];
  }
  return hex;
}

namespace {

// A token of spaces, or one with a tab or newline inside, is a pasting
// accident, not a secret.
Status CheckTokenText(const std::string& token, const std::string& where) {
  for (char ch : token) {
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) {
      return Status::Invalid(where + ": must not contain spaces or control characters");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<TokenSource> LoadOrCreateToken(const std::string& data_dir, const std::string& given) {
  if (!given.empty()) {
    UNAS_RETURN_IF_ERROR(CheckTokenText(given, "token"));
    if (given.size() < 16) return Status::Invalid("token: must be at least 16 characters");
    return TokenSource{given, false, ""};
  }
  const std::string path = data_dir + "/token";
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    if ((st.st_mode & 077) != 0) {
      return Status(StatusCode::kFailedPrecondition,
                    path + " is readable by group or others; run: chmod 600 " + path);
    }
    std::ifstream in(path);
    std::string token;
    std::getline(in, token);
    UNAS_RETURN_IF_ERROR(CheckTokenText(token, path));
    if (token.size() < 16) return Status::Invalid(path + ": token shorter than 16 characters");
    return TokenSource{token, false, path};
  }
  UNAS_ASSIGN_OR_RETURN(std::string token, RandomHex(32));
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return Status::Internal("cannot create " + path + ": " + std::strerror(errno));
  const std::string line = token + "\n";
  const bool written = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  close(fd);
  if (!written) return Status::Internal("cannot write " + path);
  return TokenSource{token, true, path};
}

bool BearerMatches(const std::string& header_value, const std::string& token) {
  const std::string prefix = "Bearer ";
  if (header_value.size() != prefix.size() + token.size() || header_value.compare(0, prefix.size(), prefix) != 0) {
    return false;
  }
  unsigned char diff = 0;
  for (size_t i = 0; i < token.size(); ++i) diff |= header_value[prefix.size() + i] ^ token[i];
  return diff == 0;
}

}  // namespace unas::server
