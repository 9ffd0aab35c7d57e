#include "server/store/sqlite_statement.h"

#include <unistd.h>

#include <gtest/gtest.h>

namespace unas::server::sql {
namespace {

struct Item {
  int64_t id = 0;
  std::string name;
  std::optional<double> score;
};

const std::vector<Column<Item>>& ItemColumns() {
  static const std::vector<Column<Item>> columns = {
      Plain<Item>("id", [](Item& i) -> auto& { return i.id; }),
      Plain<Item>("name", [](Item& i) -> auto& { return i.name; }),
      Plain<Item>("score", [](Item& i) -> auto& { return i.score; }),
  };
  return columns;
}

// A database file in rollback-journal mode (the default), where a writer's
// EXCLUSIVE lock keeps readers out: the plainest way to make a read busy.
class SqlRowsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "/sqlrows_" + std::to_string(getpid()) + ".db";
    unlink(path_.c_str());
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db_), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db_, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL)",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    for (const Item& item : {Item{1, "a", 0.5}, Item{2, "b", std::nullopt}, Item{3, "c", 2.0}}) {
      Statement s(db_, InsertSql("items", ItemColumns()));
      ASSERT_TRUE(s.status().ok());
      BindAll(s, ItemColumns(), item);
      ASSERT_TRUE(s.Run().ok());
    }
  }
  void TearDown() override {
    sqlite3_close(db_);
    unlink(path_.c_str());
    unlink((path_ + "-journal").c_str());
  }
  std::string path_;
  sqlite3* db_ = nullptr;
};

TEST_F(SqlRowsTest, BuildsStatementsFromColumnNames) {
  EXPECT_EQ(Names(ItemColumns()), "id, name, score");
  EXPECT_EQ(InsertSql("items", ItemColumns()), "INSERT INTO items(id, name, score) VALUES (?1, ?2, ?3)");
  EXPECT_EQ(UpdateSql("items", ItemColumns(), 1), "UPDATE items SET name = ?2, score = ?3 WHERE id = ?1");
  EXPECT_EQ(UpdateSql("items", ItemColumns(), 2), "UPDATE items SET score = ?3 WHERE id = ?1 AND name = ?2");
}

TEST_F(SqlRowsTest, ReadsEveryRowByName) {
  Statement s(db_, "SELECT " + Names(ItemColumns()) + " FROM items ORDER BY id");
  auto rows = ReadRows(s, ItemColumns());
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].id, 1);
  EXPECT_EQ((*rows)[0].name, "a");
  EXPECT_EQ((*rows)[0].score, 0.5);
  EXPECT_FALSE((*rows)[1].score.has_value());
  EXPECT_EQ((*rows)[2].name, "c");
  EXPECT_EQ((*rows)[2].score, 2.0);
}

TEST_F(SqlRowsTest, ReadOneSaysWhatIsMissing) {
  Statement s(db_, "SELECT " + Names(ItemColumns()) + " FROM items WHERE id = ?1");
  s.Bind(1, int64_t{9});
  auto item = ReadOne(s, ItemColumns(), Status::NotFound("no item 9"));
  EXPECT_EQ(item.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(item.status().message(), "no item 9");
}

// The store's listings read through ReadRows: a step that fails (here
// SQLITE_BUSY, another connection holding the write lock past the busy
// timeout) fails the listing instead of ending it early as if the rows ran out.
TEST_F(SqlRowsTest, ABusyDatabaseIsAnErrorNotAShortList) {
  sqlite3_busy_timeout(db_, 100);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE; INSERT INTO items(id, name) VALUES (4, 'd')", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  {
    Statement s(db_, "SELECT " + Names(ItemColumns()) + " FROM items ORDER BY id");
    auto rows = ReadRows(s, ItemColumns());
    EXPECT_FALSE(rows.ok());
    EXPECT_EQ(rows.status().code(), StatusCode::kInternal);
    EXPECT_EQ(rows.status().message(), "sqlite: database is locked");
  }
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  Statement s(db_, "SELECT " + Names(ItemColumns()) + " FROM items ORDER BY id");
  auto rows = ReadRows(s, ItemColumns());
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  EXPECT_EQ(rows->size(), 3u);
}

// A cached statement is prepared once and reused with fresh bindings; the
// same SQL used twice at once gets a second, private statement; a statement
// that stopped after its first row does not hold the next use's read back.
TEST_F(SqlRowsTest, CachedStatementsAreReusedWithFreshBindings) {
  const std::string select = "SELECT " + Names(ItemColumns()) + " FROM items WHERE id = ?1";
  StatementCache cache(db_);
  for (int64_t id : {1, 3, 2}) {
    Statement s(cache, select);
    ASSERT_TRUE(s.status().ok());
    s.Bind(1, id);
    auto item = ReadOne(s, ItemColumns(), Status::NotFound("missing"));
    ASSERT_TRUE(item.ok()) << item.status().message();
    EXPECT_EQ(item->id, id);
    EXPECT_EQ(item->name, std::string(1, static_cast<char>('a' + id - 1)));
  }
  {
    Statement unbound(cache, select);  // the last use's binding was cleared
    auto item = ReadOne(unbound, ItemColumns(), Status::NotFound("no row for NULL"));
    EXPECT_EQ(item.status().message(), "no row for NULL");
  }
  {
    Statement outer(cache, "SELECT " + Names(ItemColumns()) + " FROM items ORDER BY id");
    ASSERT_TRUE(outer.NextRow().value());
    Statement inner(cache, "SELECT " + Names(ItemColumns()) + " FROM items ORDER BY id");
    auto rows = ReadRows(inner, ItemColumns());
    ASSERT_TRUE(rows.ok());
    EXPECT_EQ(rows->size(), 3u);
    EXPECT_EQ(ReadAll(outer, ItemColumns()).id, 1);  // the outer one kept its place
    ASSERT_TRUE(outer.NextRow().value());
    EXPECT_EQ(ReadAll(outer, ItemColumns()).id, 2);
  }
  // Writes through a cached statement, then a write from another connection:
  // no read transaction was left open by the cached SELECTs above.
  {
    Statement insert(cache, InsertSql("items", ItemColumns()));
    BindAll(insert, ItemColumns(), Item{4, "d", 1.0});
    ASSERT_TRUE(insert.Run().ok());
  }
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE; DELETE FROM items WHERE id = 4; COMMIT", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(other);
}

}  // namespace
}  // namespace unas::server::sql
