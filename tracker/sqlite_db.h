// tracker/sqlite_db.h — a thin RAII layer over the SQLite C API. In: a database file path and SQL with `?`
// parameters; out: rows through Stmt. Db::write() runs a function inside BEGIN IMMEDIATE ... COMMIT and, when
// another process holds the write lock past SQLite's own busy timeout, rolls back and runs the whole function
// again with exponential backoff, so concurrent writers wait instead of failing with "database is locked".
// SQLite errors become mhr::UserError naming the database file; misuse of the API is MHR_ASSERT.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace mhr::tracker {

// A value bound to a `?` parameter (the query compiler produces these: user text never enters SQL).
using SqlValue = std::variant<std::nullptr_t, int64_t, double, std::string>;

// Thrown inside a transaction when SQLite reports SQLITE_BUSY/SQLITE_LOCKED; Db::write/read catch it and
// retry. It never escapes Db.
struct BusyError {
  std::string message;
};

class Stmt {
public:
  Stmt(sqlite3* db, std::string_view sql, const std::string* dbPath);
  ~Stmt();
  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Parameters are 1-based, as in SQLite.
  Stmt& bind(int index, int64_t value);
  Stmt& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  Stmt& bind(int index, double value);
  Stmt& bind(int index, std::string_view text);
  Stmt& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  Stmt& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Stmt& bind(int index, std::nullptr_t);
  Stmt& bind(int index, const SqlValue& value);
  Stmt& bindBlob(int index, const void* data, size_t bytes);
  // Binds without copying: `text` must stay alive and unchanged until the statement is stepped and reset
  // (the writer's hot path binds strings it owns for the whole transaction).
  Stmt& bindStatic(int index, std::string_view text);
  void bindAll(const std::vector<SqlValue>& values, int firstIndex = 1);

  // true when a row is ready; false when the statement is done. Throws BusyError or mhr::UserError.
  bool step();
  // Runs a statement that returns no rows (or ignores them) and resets it for the next use.
  void run();
  // Resets the statement and clears its bindings.
  void reset();

  bool isNull(int column) const;
  int64_t getInt(int column) const;
  double getDouble(int column) const;
  std::string getText(int column) const;
  std::string getBlob(int column) const;
  // The column as the value SQLite holds (NULL, INTEGER, REAL or TEXT; a BLOB comes back as text).
  SqlValue getValue(int column) const;
  int columnCount() const;
  std::string columnName(int column) const;
  int parameterCount() const;

private:
  [[noreturn]] void fail(int code, const char* what) const;
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  const std::string* dbPath_;
};

class Db {
public:
  // Opens (and with `create`, creates) the file. Sets busy_timeout and foreign_keys; the journal mode and
  // schema are the tracker's business (schema.h). Throws mhr::UserError naming the file.
  static std::unique_ptr<Db> open(const std::string& path, bool create);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  const std::string& path() const { return path_; }
  sqlite3* handle() { return db_; }

  // Runs SQL without parameters (may hold several statements). Throws BusyError or mhr::UserError.
  void exec(std::string_view sql);
  Stmt prepare(std::string_view sql);
  // A statement prepared once per connection and reset before each use (hot paths of the writer).
  Stmt& cached(const std::string& sql);

  int64_t changes() const;
  bool inTransaction() const { return inTransaction_; }

  // fn() runs inside BEGIN IMMEDIATE ... COMMIT; on BusyError the transaction is rolled back and fn() runs
  // again after a backoff, so fn must only change memory it can recompute. Other exceptions roll back and
  // propagate. Nested calls join the outer transaction.
  template <class F> auto write(F&& fn) -> decltype(fn()) { return transact(true, std::forward<F>(fn)); }
  // fn() runs inside BEGIN (deferred): one consistent snapshot for several SELECTs.
  template <class F> auto read(F&& fn) -> decltype(fn()) { return transact(false, std::forward<F>(fn)); }

  // Total time the retry loop keeps trying before it gives up with a clear error (tests shorten it).
  void setRetryBudgetMs(int64_t ms) { retryBudgetMs_ = ms; }

  // PRAGMA synchronous for the following transactions: FULL makes a commit survive power loss; NORMAL (in WAL
  // mode) survives a killed process but may lose the last commits on a power loss or OS crash. Must be called
  // outside a transaction.
  void setFullSync(bool full);

private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  void begin(bool immediate);
  void commit();
  void rollbackQuietly();
  // Sleeps before retry number `attempt`; throws mhr::UserError once the budget is spent.
  void backoff(int attempt, int64_t startMs, const std::string& reason);

  template <class F> auto transact(bool immediate, F&& fn) -> decltype(fn()) {
    if (inTransaction_) return fn();
    int64_t startMs = nowMs();
    for (int attempt = 0;; ++attempt) {
      try {
        begin(immediate);
        if constexpr (std::is_void_v<decltype(fn())>) {
          fn();
          commit();
          return;
        } else {
          auto result = fn();
          commit();
          return result;
        }
      } catch (const BusyError& busy) {
        rollbackQuietly();
        backoff(attempt, startMs, busy.message);
      } catch (...) {
        rollbackQuietly();
        throw;
      }
    }
  }
  static int64_t nowMs();

  sqlite3* db_;
  std::string path_;
  bool inTransaction_ = false;
  int fullSync_ = -1; // unknown until setFullSync
  int64_t retryBudgetMs_ = 120000;
  std::map<std::string, std::unique_ptr<Stmt>> cache_;
};

} // namespace mhr::tracker
