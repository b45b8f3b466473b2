// tracker/schema.h — the tracker's versioned schema. In: an open Db; out: a database at the newest schema
// version, in WAL mode, or a clear mhr::UserError (not an SQLite file, someone else's database, a database
// written by a newer mhr). The version lives in PRAGMA user_version, the file is marked as ours by PRAGMA
// application_id, and every applied step is listed in schema_migrations. Migrations run inside one
// BEGIN IMMEDIATE transaction that re-reads the version first, so processes that open a fresh file at the
// same moment apply each step exactly once (the others wait for the lock and find nothing left to do).
#pragma once

#include "tracker/sqlite_db.h"

#include <string>
#include <vector>

namespace mhr::tracker {

struct Migration {
  int version;             // 1, 2, 3, ... in order
  std::string description; // one line, recorded in schema_migrations
  std::string sql;         // statements run inside the migration transaction
};

// 'MHR1' as a big-endian 32-bit number: `PRAGMA application_id` of every tracker file.
constexpr int kApplicationId = 0x4D485231;

// The tracker's migrations, oldest first (docs/tracker.md shows the resulting schema).
const std::vector<Migration>& trackerMigrations();
int latestSchemaVersion();

// Brings `db` to the last version in `migrations` (tests pass their own lists). Safe to call from many
// processes at once. Throws mhr::UserError for a file that is not an mhr tracker or is newer than we know.
void ensureSchema(Db& db, const std::vector<Migration>& migrations);

// The schema version stored in the file (0 for a new file).
int schemaVersion(Db& db);

} // namespace mhr::tracker
