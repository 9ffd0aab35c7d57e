// A temporary directory for one test (or one test suite), created fresh
// under ::testing::TempDir() and removed with everything in it when the
// object goes away, whether the test passed or failed. Names start with
// "unas_test_" so tests/check_temp_clean.sh can tell the suite's leftovers
// from other programs' files.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

namespace unas::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& name = "t") {
    std::string pattern = ::testing::TempDir();
    if (pattern.empty() || pattern.back() != '/') pattern += '/';
    pattern += "unas_test_" + name + "_XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << pattern << " failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace unas::testing
