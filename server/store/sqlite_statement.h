// Private to the store (store.cc): a prepared SQLite statement and a table of
// named columns, so that a record is bound and read by column name, never by
// a hand-counted index. Not part of any public header: SQLite types stay in
// the store.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace unas::server::sql {

inline Status Error(sqlite3* db) { return Status::Internal(std::string("sqlite: ") + sqlite3_errmsg(db)); }

// Prepared statements kept for the life of one connection, by SQL text:
// preparing (parsing and planning) cost more than running a one-row INSERT
// or UPDATE (issue 28), and a store runs the same few statements for every
// trial. The statements must be finalised before the connection is closed:
// destroy the cache first. Not thread safe: the store's mutex guards it.
class StatementCache {
 public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  ~StatementCache() {
    for (auto& [sql, entry] : cache_) sqlite3_finalize(entry.stmt);
  }
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  sqlite3* db() const { return db_; }

 private:
  friend class Statement;
  struct Entry {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;  // a Statement holds it now
  };
  sqlite3* db_;
  std::unordered_map<std::string, Entry> cache_;
};

// A prepared statement: finalised on scope exit, or, when it came from a
// StatementCache, reset and its bindings cleared for the next use. A cached
// statement already in use (the same SQL twice at once) is prepared afresh.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr);
  }
  Statement(StatementCache& cache, const std::string& sql) : db_(cache.db_) {
    auto it = cache.cache_.find(sql);
    if (it != cache.cache_.end() && it->second.in_use) {
      rc_ = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt_, nullptr);
      return;
    }
    if (it == cache.cache_.end()) {
      sqlite3_stmt* stmt = nullptr;
      rc_ = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc_ != SQLITE_OK) {
        sqlite3_finalize(stmt);
        return;
      }
      it = cache.cache_.emplace(sql, StatementCache::Entry{stmt, false}).first;
    }
    rc_ = SQLITE_OK;
    stmt_ = it->second.stmt;
    it->second.in_use = true;
    in_use_ = &it->second.in_use;
  }
  ~Statement() {
    if (in_use_ == nullptr) {
      sqlite3_finalize(stmt_);
      return;
    }
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    *in_use_ = false;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Status status() const { return rc_ == SQLITE_OK ? Status::Ok() : Error(db_); }

  void Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, int v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, bool v) { sqlite3_bind_int64(stmt_, i, v ? 1 : 0); }
  void Bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  template <typename T>
  void Bind(int i, const std::optional<T>& v) {
    if (v) Bind(i, *v);
    else BindNull(i);
  }
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }
  void BindBlob(int i, const std::string& v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }

  // True with a row to read, false after the last one; any other outcome
  // (SQLITE_BUSY included) is an error, never taken for the end of the rows.
  Result<bool> NextRow() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Error(db_);
  }
  // Runs a statement that returns no rows.
  Status Run() {
    UNAS_ASSIGN_OR_RETURN(bool row, NextRow());
    (void)row;
    return Status::Ok();
  }

  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  void Read(int col, std::string* v) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    *v = p ? std::string(p, sqlite3_column_bytes(stmt_, col)) : std::string();
  }
  void Read(int col, int64_t* v) const { *v = sqlite3_column_int64(stmt_, col); }
  void Read(int col, int* v) const { *v = static_cast<int>(sqlite3_column_int64(stmt_, col)); }
  void Read(int col, bool* v) const { *v = sqlite3_column_int64(stmt_, col) != 0; }
  void Read(int col, double* v) const { *v = sqlite3_column_double(stmt_, col); }
  template <typename T>
  void Read(int col, std::optional<T>* v) const {
    if (IsNull(col)) {
      v->reset();
    } else {
      T value{};
      Read(col, &value);
      *v = value;
    }
  }
  std::string Blob(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, col)) : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
  bool* in_use_ = nullptr;  // the cache entry's flag, for a cached statement
};

// One column of a table: its name, and how a Record's field is written to it
// and read back from it.
template <typename Record>
struct Column {
  const char* name;
  std::function<void(Statement&, int, const Record&)> bind;
  std::function<void(const Statement&, int, Record&)> read;
};

// A column holding one field as it is; `field` maps a record to the field.
template <typename Record, typename Field>
Column<Record> Plain(const char* name, Field field) {
  return {name, [field](Statement& s, int i, const Record& r) { s.Bind(i, field(const_cast<Record&>(r))); },
          [field](const Statement& s, int i, Record& r) { s.Read(i, &field(r)); }};
}

// A column holding an enum as its integer value.
template <typename Record, typename Enum, typename Field>
Column<Record> EnumInt(const char* name, Field field) {
  return {name, [field](Statement& s, int i, const Record& r) { s.Bind(i, static_cast<int>(field(const_cast<Record&>(r)))); },
          [field](const Statement& s, int i, Record& r) {
            int v = 0;
            s.Read(i, &v);
            field(r) = static_cast<Enum>(v);
          }};
}

// "a, b, c"
template <typename Record>
std::string Names(const std::vector<Column<Record>>& columns) {
  std::string out;
  for (const auto& c : columns) out += (out.empty() ? "" : ", ") + std::string(c.name);
  return out;
}

// "INSERT INTO table(a, b, c) VALUES (?1, ?2, ?3)"
template <typename Record>
std::string InsertSql(const char* table, const std::vector<Column<Record>>& columns) {
  std::string values;
  for (size_t i = 1; i <= columns.size(); ++i) values += (i > 1 ? ", ?" : "?") + std::to_string(i);
  return std::string("INSERT INTO ") + table + "(" + Names(columns) + ") VALUES (" + values + ")";
}

// "UPDATE table SET c = ?3, ... WHERE a = ?1 AND b = ?2": the first `keys`
// columns are the primary key.
template <typename Record>
std::string UpdateSql(const char* table, const std::vector<Column<Record>>& columns, size_t keys) {
  std::string set, where;
  for (size_t i = 0; i < columns.size(); ++i) {
    const std::string assign = std::string(columns[i].name) + " = ?" + std::to_string(i + 1);
    if (i < keys) where += (where.empty() ? "" : " AND ") + assign;
    else set += (set.empty() ? "" : ", ") + assign;
  }
  return std::string("UPDATE ") + table + " SET " + set + " WHERE " + where;
}

template <typename Record>
void BindAll(Statement& s, const std::vector<Column<Record>>& columns, const Record& record) {
  for (size_t i = 0; i < columns.size(); ++i) columns[i].bind(s, static_cast<int>(i + 1), record);
}

// Inserts or updates (by the first `keys` columns) one record of a table.
template <typename Record>
class Writer {
 public:
  Writer(const char* table, const std::vector<Column<Record>>& columns, size_t keys)
      : columns_(columns), insert_(InsertSql(table, columns)), update_(UpdateSql(table, columns, keys)) {}
  Status Write(StatementCache& cache, const Record& record, bool insert) const {
    Statement s(cache, insert ? insert_ : update_);
    UNAS_RETURN_IF_ERROR(s.status());
    BindAll(s, columns_, record);
    return s.Run();
  }

 private:
  const std::vector<Column<Record>>& columns_;
  const std::string insert_, update_;
};

// Reads a row selected as "SELECT <Names(columns)> ...".
template <typename Record>
Record ReadAll(const Statement& s, const std::vector<Column<Record>>& columns) {
  Record record;
  for (size_t i = 0; i < columns.size(); ++i) columns[i].read(s, static_cast<int>(i), record);
  return record;
}

// Every row a statement selects, read with `columns`; a step error (a busy
// database included) fails the whole listing rather than cutting it short.
template <typename Record>
Result<std::vector<Record>> ReadRows(Statement& s, const std::vector<Column<Record>>& columns) {
  UNAS_RETURN_IF_ERROR(s.status());
  std::vector<Record> rows;
  while (true) {
    UNAS_ASSIGN_OR_RETURN(bool row, s.NextRow());
    if (!row) return rows;
    rows.push_back(ReadAll(s, columns));
  }
}

// The one row a statement selects; `missing` when there is none.
template <typename Record>
Result<Record> ReadOne(Statement& s, const std::vector<Column<Record>>& columns, Status missing) {
  UNAS_RETURN_IF_ERROR(s.status());
  UNAS_ASSIGN_OR_RETURN(bool row, s.NextRow());
  if (!row) return missing;
  return ReadAll(s, columns);
}

}  // namespace unas::server::sql
