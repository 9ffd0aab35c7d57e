#include "cli/write_file.h"

#include <fstream>

namespace unas::cli {

Status WriteFile(const std::string& path, const std::string& what, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) return Status(StatusCode::kInternal, path + ": cannot write the " + what);
  return Status::Ok();
}

}  // namespace unas::cli
