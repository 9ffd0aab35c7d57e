// One owner per data directory (the cross-process case, with kill -9, is in
// tests/service/service_test.cc: TwoCoordinatorsOnOneDataDirectory...).
#include "server/store/data_dir_lock.h"

#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "tests/temp_dir.h"

namespace unas::server {
namespace {

TEST(DataDirLockTest, SecondOwnerIsRefusedNamingTheLockAndTheHolder) {
  testing::TempDir dir("lock");
  auto first = DataDirLock::Acquire(dir.path());
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ((*first)->path(), dir / "lock");
  std::ifstream in(dir / "lock");
  std::string pid;
  std::getline(in, pid);
  EXPECT_EQ(pid, std::to_string(getpid()));

  auto second = DataDirLock::Acquire(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(second.status().message(), "data directory " + dir.path() + " is in use: " + dir.path() +
                                           "/lock is held by process " + std::to_string(getpid()) +
                                           "; stop that coordinator or use another --data-dir");
  // Released with its owner; the file stays and is taken again.
  first->reset();
  EXPECT_TRUE(DataDirLock::Acquire(dir.path()).ok());
}

TEST(DataDirLockTest, MissingDirectoryIsAnErrorNamingIt) {
  auto lock = DataDirLock::Acquire("/nonexistent-unas-dir");
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.status().message(), "cannot open /nonexistent-unas-dir/lock: No such file or directory");
}

}  // namespace
}  // namespace unas::server
