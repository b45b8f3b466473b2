// tracker/sqlite_db.cpp — see sqlite_db.h.
#include "tracker/sqlite_db.h"

#include "support/assert.h"
#include "support/error.h"

#include <chrono>
#include <random>
#include <sqlite3.h>
#include <thread>

namespace mhr::tracker {

namespace {

// A file that is not SQLite (or is corrupt) gets its own message: the user pointed --db at the wrong file.
[[noreturn]] void notADatabase(const std::string& path, const char* detail) {
  throw UserError("'" + path + "' is not a database file (SQLite says: " + detail +
                  "); choose another --db, mhr leaves this one untouched");
}

bool isBusy(int code) {
  int primary = code & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

// The busy handler SQLite calls while another connection holds a lock. It sleeps in growing steps (SQLite's
// own sqlite3_busy_timeout polls in 1..100 ms steps as well) and gives up after ~5 s, which hands control to
// Db's retry loop: that one re-runs the whole transaction, which also clears SQLITE_BUSY_SNAPSHOT cases the
// busy handler never sees.
constexpr int kBusyTimeoutMs = 5000;

} // namespace

// ---------------------------------------------------------------------------------------------- Stmt

Stmt::Stmt(sqlite3* db, std::string_view sql, const std::string* dbPath) : db_(db), dbPath_(dbPath) {
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    if (isBusy(rc)) throw BusyError{sqlite3_errmsg(db_)};
    if ((rc & 0xff) == SQLITE_NOTADB) notADatabase(*dbPath_, sqlite3_errmsg(db_));
    // A statement we wrote that does not compile is our bug, unless the file is not what we think it is
    // (corrupt, or an older schema), which the message names.
    throw UserError("tracker database '" + *dbPath_ + "': cannot prepare SQL (" + sqlite3_errmsg(db_) +
                    "): " + std::string(sql.substr(0, 200)));
  }
}

Stmt::~Stmt() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Stmt::Stmt(Stmt&& other) noexcept : db_(other.db_), stmt_(other.stmt_), dbPath_(other.dbPath_) {
  other.stmt_ = nullptr;
}

void Stmt::fail(int code, const char* what) const {
  if (isBusy(code)) throw BusyError{sqlite3_errmsg(db_)};
  if ((code & 0xff) == SQLITE_NOTADB) notADatabase(*dbPath_, sqlite3_errmsg(db_));
  throw UserError("tracker database '" + *dbPath_ + "': " + what + ": " + sqlite3_errmsg(db_));
}

Stmt& Stmt::bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  MHR_ASSERT(rc == SQLITE_OK, "sqlite3_bind_int64 failed (parameter index out of range?)");
  return *this;
}

Stmt& Stmt::bind(int index, double value) {
  int rc = sqlite3_bind_double(stmt_, index, value);
  MHR_ASSERT(rc == SQLITE_OK, "sqlite3_bind_double failed (parameter index out of range?)");
  return *this;
}

Stmt& Stmt::bind(int index, std::string_view text) {
  int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  MHR_ASSERT(rc == SQLITE_OK, "sqlite3_bind_text64 failed (parameter index out of range?)");
  return *this;
}

Stmt& Stmt::bindStatic(int index, std::string_view text) {
  int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
  MHR_ASSERT(rc == SQLITE_OK, "sqlite3_bind_text64 failed (parameter index out of range?)");
  return *this;
}

Stmt& Stmt::bind(int index, std::nullptr_t) {
  int rc = sqlite3_bind_null(stmt_, index);
  MHR_ASSERT(rc == SQLITE_OK, "sqlite3_bind_null failed (parameter index out of range?)");
  return *this;
}

Stmt& Stmt::bind(int index, const SqlValue& value) {
  std::visit([&](const auto& v) { bind(index, v); }, value);
  return *this;
}

Stmt& Stmt::bindBlob(int index, const void* data, size_t bytes) {
  int rc = sqlite3_bind_blob64(stmt_, index, bytes ? data : "", bytes, SQLITE_TRANSIENT);
  MHR_ASSERT(rc == SQLITE_OK, "sqlite3_bind_blob64 failed (parameter index out of range?)");
  return *this;
}

void Stmt::bindAll(const std::vector<SqlValue>& values, int firstIndex) {
  for (size_t i = 0; i < values.size(); ++i) bind(firstIndex + static_cast<int>(i), values[i]);
}

bool Stmt::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3_reset(stmt_);
  fail(rc, "statement failed");
}

void Stmt::run() {
  while (step()) {
  }
  sqlite3_reset(stmt_);
}

void Stmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Stmt::isNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}
int64_t Stmt::getInt(int column) const {
  return sqlite3_column_int64(stmt_, column);
}
double Stmt::getDouble(int column) const {
  return sqlite3_column_double(stmt_, column);
}

std::string Stmt::getText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (!text) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::string Stmt::getBlob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  if (!data) return {};
  return std::string(static_cast<const char*>(data),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

SqlValue Stmt::getValue(int column) const {
  switch (sqlite3_column_type(stmt_, column)) {
  case SQLITE_NULL:
    return nullptr;
  case SQLITE_INTEGER:
    return getInt(column);
  case SQLITE_FLOAT:
    return getDouble(column);
  default:
    return getText(column);
  }
}

int Stmt::columnCount() const {
  return sqlite3_column_count(stmt_);
}
std::string Stmt::columnName(int column) const {
  return sqlite3_column_name(stmt_, column);
}
int Stmt::parameterCount() const {
  return sqlite3_bind_parameter_count(stmt_);
}

// ---------------------------------------------------------------------------------------------- Db

std::unique_ptr<Db> Db::open(const std::string& path, bool create) {
  sqlite3* handle = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &handle, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc);
    if (handle) sqlite3_close(handle);
    throw UserError("cannot open tracker database '" + path + "': " + message);
  }
  sqlite3_extended_result_codes(handle, 1);
  sqlite3_busy_timeout(handle, kBusyTimeoutMs);
  std::unique_ptr<Db> db(new Db(handle, path));
  db->exec("PRAGMA foreign_keys = ON");
  return db;
}

Db::~Db() {
  cache_.clear(); // statements must be finalised before the connection closes
  if (db_) sqlite3_close(db_);
}

void Db::exec(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    if (isBusy(rc)) throw BusyError{message};
    if ((rc & 0xff) == SQLITE_NOTADB) notADatabase(path_, message.c_str());
    throw UserError("tracker database '" + path_ + "': " + message);
  }
}

Stmt Db::prepare(std::string_view sql) {
  return Stmt(db_, sql, &path_);
}

Stmt& Db::cached(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) it = cache_.emplace(sql, std::make_unique<Stmt>(db_, sql, &path_)).first;
  it->second->reset();
  return *it->second;
}

int64_t Db::changes() const {
  return sqlite3_changes64(db_);
}

void Db::setFullSync(bool full) {
  MHR_ASSERT(!inTransaction_, "PRAGMA synchronous cannot change inside a transaction");
  if (fullSync_ == int(full)) return;
  exec(full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
  fullSync_ = int(full);
}

void Db::begin(bool immediate) {
  exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN");
  inTransaction_ = true;
}

void Db::commit() {
  exec("COMMIT");
  inTransaction_ = false;
}

void Db::rollbackQuietly() {
  inTransaction_ = false;
  for (auto& [sql, stmt] : cache_) stmt->reset();
  if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

int64_t Db::nowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

void Db::backoff(int attempt, int64_t startMs, const std::string& reason) {
  if (nowMs() - startMs > retryBudgetMs_) {
    throw UserError("tracker database '" + path_ + "' stayed locked by another process for over " +
                    std::to_string(retryBudgetMs_ / 1000) + " s (" + reason +
                    "); nothing was written by this attempt, try again when the other writer is done");
  }
  // Exponential backoff with jitter so that writers that collided do not collide again in lock-step.
  thread_local std::minstd_rand rng(std::random_device{}());
  int64_t capMs = std::min<int64_t>(1000, int64_t(5) << std::min(attempt, 8));
  std::uniform_int_distribution<int64_t> jitter(capMs / 2, capMs);
  std::this_thread::sleep_for(std::chrono::milliseconds(jitter(rng)));
}

} // namespace mhr::tracker
