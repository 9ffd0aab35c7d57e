// The dashboard's static files: a URL path mapped to a file inside one web
// directory, never outside it.
//
// Refused (404, without touching the file system beyond the web directory):
// malformed or NUL percent escapes, any "." or ".." segment (also when
// percent-encoded), backslashes, and anything whose real path (symlinks
// resolved) is not under the web directory's real path. "/" and directory
// paths serve their index.html.
#pragma once

#include <string>

#include "base/status.h"

namespace unas::server {

struct StaticFile {
  std::string path;          // real path of the file
  std::string content_type;  // from the extension
  std::string body;
};

// `web_root` must be a real path (see RealWebRoot). kNotFound for anything
// refused or missing.
Result<StaticFile> LoadStaticFile(const std::string& web_root, const std::string& url_path);

// The real path of a web directory; kNotFound if it is not a directory.
Result<std::string> RealWebRoot(const std::string& dir);

const char* ContentTypeFor(const std::string& path);

}  // namespace unas::server
