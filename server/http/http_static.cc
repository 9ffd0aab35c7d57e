#include "server/http/http_static.h"

#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "server/http/http_api.h"

namespace unas::server {
namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string RealPath(const std::string& path) {
  char buffer[PATH_MAX];
  return realpath(path.c_str(), buffer) ? std::string(buffer) : std::string();
}

Status NotFound() { return Status(StatusCode::kNotFound, "not found"); }

}  // namespace

const char* ContentTypeFor(const std::string& path) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},   {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},           {".svg", "image/svg+xml"},
      {".png", "image/png"},                   {".ico", "image/x-icon"},
      {".map", "application/json"},            {".txt", "text/plain; charset=utf-8"}};
  for (const auto& [ext, type] : kTypes) {
    if (EndsWith(path, ext)) return type;
  }
  return "application/octet-stream";
}

Result<std::string> RealWebRoot(const std::string& dir) {
  const std::string real = RealPath(dir);
  struct stat st {};
  if (real.empty() || stat(real.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status(StatusCode::kNotFound, "web directory '" + dir + "' does not exist");
  }
  return real;
}

Result<StaticFile> LoadStaticFile(const std::string& web_root, const std::string& url_path) {
  std::string decoded;
  if (url_path.empty() || url_path[0] != '/' || !PercentDecode(url_path, &decoded, false)) return NotFound();
  if (decoded.find('\\') != std::string::npos) return NotFound();
  // Segment by segment: no "." or "..", no empty names except the slashes
  // at the ends.
  std::string relative;
  size_t i = 1;
  while (i <= decoded.size()) {
    size_t j = decoded.find('/', i);
    if (j == std::string::npos) j = decoded.size();
    const std::string segment = decoded.substr(i, j - i);
    if (segment == "." || segment == "..") return NotFound();
    if (!segment.empty()) relative += (relative.empty() ? "" : "/") + segment;
    i = j + 1;
  }
  std::string candidate = web_root + "/" + relative;
  struct stat st {};
  if (stat(candidate.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) candidate += "/index.html";
  // Symlinks are followed only while they stay inside the web directory.
  const std::string real = RealPath(candidate);
  if (real.empty() || real.rfind(web_root + "/", 0) != 0) return NotFound();
  if (stat(real.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return NotFound();
  std::ifstream in(real, std::ios::binary);
  if (!in) return NotFound();
  std::ostringstream ss;
  ss << in.rdbuf();
  return StaticFile{real, ContentTypeFor(real), ss.str()};
}

}  // namespace unas::server
