// Writing a command's output file (--out, --reorder, --plot, --save-pruned):
// one way to create it, write it and say what failed.
//
// Thread safety: none needed (one call writes one file).
#pragma once

#include <cstddef>
#include <string>

#include "base/status.h"

namespace unas::cli {

// Writes `size` bytes at `data` to `path`, created or truncated. On failure
// kInternal "<path>: cannot write the <what>" (e.g. what = "plot").
Status WriteFile(const std::string& path, const std::string& what, const void* data, size_t size);

inline Status WriteFile(const std::string& path, const std::string& what, const std::string& bytes) {
  return WriteFile(path, what, bytes.data(), bytes.size());
}

}  // namespace unas::cli
