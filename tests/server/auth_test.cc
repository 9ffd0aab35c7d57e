#include "server/core/auth.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "tests/temp_dir.h"

namespace unas::server {
namespace {

std::string FreshDir(const char* name) {
  static testing::TempDir root("auth");  // removed with everything in it when the tests exit
  const std::string dir = root / name;
  unlink((dir + "/token").c_str());
  mkdir(dir.c_str(), 0700);
  return dir;
}

TEST(AuthTest, GeneratesOwnerOnlyTokenOnceThenReusesIt) {
  const std::string dir = FreshDir("auth_gen");
  auto first = LoadOrCreateToken(dir, "");
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_TRUE(first->generated);
  EXPECT_EQ(first->token.size(), 64u);
  struct stat st;
  ASSERT_EQ(stat((dir + "/token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto second = LoadOrCreateToken(dir, "");
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->generated);
  EXPECT_EQ(second->token, first->token);
}

TEST(AuthTest, GivenTokenWinsAndMustBeLongEnough) {
  const std::string dir = FreshDir("auth_given");
  auto given = LoadOrCreateToken(dir, "0123456789abcdef0123");
  ASSERT_TRUE(given.ok());
  EXPECT_EQ(given->token, "0123456789abcdef0123");
  EXPECT_TRUE(given->path.empty());
  EXPECT_EQ(LoadOrCreateToken(dir, "short").status().message(), "token: must be at least 16 characters");
  EXPECT_EQ(LoadOrCreateToken(dir, std::string(20, ' ')).status().message(),
            "token: must not contain spaces or control characters");
  EXPECT_EQ(LoadOrCreateToken(dir, "0123456789\tabcdef0123").status().message(),
            "token: must not contain spaces or control characters");
}

TEST(AuthTest, RefusesABlankStoredToken) {
  const std::string dir = FreshDir("auth_blank");
  ASSERT_TRUE(LoadOrCreateToken(dir, "").ok());
  std::ofstream(dir + "/token") << std::string(20, ' ') << "\n";
  EXPECT_EQ(LoadOrCreateToken(dir, "").status().message(),
            dir + "/token: must not contain spaces or control characters");
}

TEST(AuthTest, RefusesATokenFileOthersCanRead) {
  const std::string dir = FreshDir("auth_perm");
  ASSERT_TRUE(LoadOrCreateToken(dir, "").ok());
  chmod((dir + "/token").c_str(), 0644);
  auto loaded = LoadOrCreateToken(dir, "");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("is readable by group or others; run: chmod 600"), std::string::npos);
}

TEST(AuthTest, BearerMatchesOnlyTheExactToken) {
  const std::string token = "0123456789abcdef";
  EXPECT_TRUE(BearerMatches("Bearer 0123456789abcdef", token));
  EXPECT_FALSE(BearerMatches("Bearer 0123456789abcdeF", token));
  EXPECT_FALSE(BearerMatches("bearer 0123456789abcdef", token));
  EXPECT_FALSE(BearerMatches("Bearer 0123456789abcde", token));
  EXPECT_FALSE(BearerMatches("", token));
}

}  // namespace
}  // namespace unas::server
