// tracker/schema.cpp — see schema.h. Table and column names follow MLflow's SQLAlchemy tracking store where
// the two overlap (experiments, experiment_tags, runs, params, metrics, latest_metrics, tags), so SQL written
// for MLflow's store carries over; everything MLflow lacks is added in columns and tables of its own.
#include "tracker/schema.h"

#include "support/error.h"

#include <chrono>
#include <thread>

namespace mhr::tracker {

namespace {

// Version 1: the whole first schema. Later versions append a Migration; never edit a released one.
const char* kSchemaV1 = R"SQL(
CREATE TABLE experiments (
  experiment_id     INTEGER PRIMARY KEY,
  name              TEXT NOT NULL UNIQUE,
  artifact_location TEXT,
  lifecycle_stage   TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
  creation_time     INTEGER NOT NULL,
  last_update_time  INTEGER NOT NULL
);
CREATE TABLE experiment_tags (
  key           TEXT NOT NULL,
  value         TEXT,
  experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id),
  PRIMARY KEY (key, experiment_id)
);
CREATE TABLE runs (
  run_uuid          TEXT NOT NULL PRIMARY KEY,
  name              TEXT,
  source_type       TEXT NOT NULL DEFAULT 'LOCAL',
  source_name       TEXT,
  entry_point_name  TEXT,
  user_id           TEXT,
  status            TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'interrupted')),
  start_time        INTEGER NOT NULL,
  end_time          INTEGER,
  deleted_time      INTEGER,
  source_version    TEXT,
  lifecycle_stage   TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
  artifact_uri      TEXT,
  experiment_id     INTEGER NOT NULL REFERENCES experiments (experiment_id),
  status_message    TEXT,
  spec_text         TEXT NOT NULL DEFAULT '',
  spec_hash         TEXT,
  semantic_hash     TEXT,
  seed              INTEGER,
  resolved_settings TEXT NOT NULL DEFAULT '{}',
  resume_count      INTEGER NOT NULL DEFAULT 0,
  host              TEXT,
  boot_id           TEXT,
  pid               INTEGER,
  pid_start_ticks   INTEGER,
  writer_token      TEXT
);
CREATE INDEX index_runs_experiment_id ON runs (experiment_id, start_time);
CREATE INDEX index_runs_semantic_hash ON runs (semantic_hash);
CREATE INDEX index_runs_status ON runs (status);
CREATE TABLE params (
  key        TEXT NOT NULL,
  value      TEXT NOT NULL,
  run_uuid   TEXT NOT NULL REFERENCES runs (run_uuid),
  value_type TEXT NOT NULL CHECK (value_type IN ('bool', 'int', 'float', 'string')),
  value_num,
  PRIMARY KEY (key, run_uuid)
);
CREATE INDEX index_params_run_uuid ON params (run_uuid);
CREATE TABLE metrics (
  key       TEXT NOT NULL,
  value     REAL NOT NULL,
  timestamp INTEGER NOT NULL,
  step      INTEGER NOT NULL DEFAULT 0,
  is_nan    INTEGER NOT NULL DEFAULT 0 CHECK (is_nan IN (0, 1)),
  run_uuid  TEXT NOT NULL REFERENCES runs (run_uuid),
  epoch     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX index_metrics_run_uuid_key_step ON metrics (run_uuid, key, step);
CREATE TABLE latest_metrics (
  key       TEXT NOT NULL,
  value     REAL NOT NULL,
  timestamp INTEGER NOT NULL,
  step      INTEGER NOT NULL DEFAULT 0,
  is_nan    INTEGER NOT NULL DEFAULT 0 CHECK (is_nan IN (0, 1)),
  run_uuid  TEXT NOT NULL REFERENCES runs (run_uuid),
  epoch     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (key, run_uuid)
);
CREATE INDEX index_latest_metrics_run_uuid ON latest_metrics (run_uuid);
CREATE TABLE tags (
  key      TEXT NOT NULL,
  value    TEXT,
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid),
  PRIMARY KEY (key, run_uuid)
);
CREATE INDEX index_tags_run_uuid ON tags (run_uuid);
CREATE TABLE verdicts (
  run_uuid        TEXT NOT NULL REFERENCES runs (run_uuid),
  network         TEXT NOT NULL,
  statement_index INTEGER NOT NULL,
  statement       TEXT NOT NULL,
  location        TEXT,
  verdict         TEXT NOT NULL CHECK (verdict IN ('exact', 'eval', 'approximate', 'refuted', 'declared')),
  reason          TEXT,
  mode            TEXT,
  max_abs_error   REAL,
  border_error    REAL,
  rel_error       REAL,
  PRIMARY KEY (run_uuid, network, statement_index)
);
CREATE TABLE lineage (
  run_uuid        TEXT NOT NULL REFERENCES runs (run_uuid),
  child           TEXT NOT NULL,
  parent          TEXT NOT NULL,
  parent_stage    TEXT NOT NULL DEFAULT '',
  parent_run_uuid TEXT NOT NULL,
  statements      TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (run_uuid, child)
);
CREATE TABLE environment (
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid),
  key      TEXT NOT NULL,
  value    TEXT NOT NULL,
  PRIMARY KEY (run_uuid, key)
);
CREATE TABLE artifacts (
  run_uuid    TEXT NOT NULL REFERENCES runs (run_uuid),
  kind        TEXT NOT NULL,
  path        TEXT NOT NULL,
  sha256      TEXT,
  bytes       INTEGER,
  stage       TEXT NOT NULL DEFAULT '',
  logged_time INTEGER NOT NULL,
  PRIMARY KEY (run_uuid, path)
);
CREATE TABLE prediction_sets (
  run_uuid     TEXT NOT NULL REFERENCES runs (run_uuid),
  stage        TEXT NOT NULL,
  classes      TEXT NOT NULL,
  multi_label  INTEGER NOT NULL CHECK (multi_label IN (0, 1)),
  sample_count INTEGER NOT NULL,
  logged_time  INTEGER NOT NULL,
  PRIMARY KEY (run_uuid, stage)
);
CREATE TABLE predictions (
  run_uuid     TEXT NOT NULL,
  stage        TEXT NOT NULL,
  sample_index INTEGER NOT NULL,
  sample_id    TEXT NOT NULL,
  class        TEXT NOT NULL,
  label        REAL NOT NULL,
  score        REAL,
  PRIMARY KEY (run_uuid, stage, sample_index, class),
  FOREIGN KEY (run_uuid, stage) REFERENCES prediction_sets (run_uuid, stage)
) WITHOUT ROWID;
CREATE TABLE cams (
  run_uuid    TEXT NOT NULL REFERENCES runs (run_uuid),
  stage       TEXT NOT NULL,
  sample_id   TEXT NOT NULL,
  label       TEXT NOT NULL DEFAULT '',
  predicted   TEXT NOT NULL DEFAULT '',
  height      INTEGER NOT NULL,
  width       INTEGER NOT NULL,
  image       BLOB NOT NULL,
  cam_height  INTEGER NOT NULL,
  cam_width   INTEGER NOT NULL,
  cam         BLOB NOT NULL,
  logged_time INTEGER NOT NULL,
  PRIMARY KEY (run_uuid, stage, sample_id)
);
)SQL";

int64_t nowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

int pragmaInt(Db& db, const char* pragma) {
  Stmt stmt = db.prepare(std::string("PRAGMA ") + pragma);
  return stmt.step() ? static_cast<int>(stmt.getInt(0)) : 0;
}

// Refuses files that are SQLite but not ours (an MLflow store, some other application's database) before we
// add a single table to them: opening the wrong file must lose nothing.
void checkOwnership(Db& db, int latest) {
  int appId = pragmaInt(db, "application_id");
  int version = pragmaInt(db, "user_version");
  if (appId == kApplicationId) {
    if (version > latest) {
      throw UserError("tracker database '" + db.path() + "' has schema version " + std::to_string(version) +
                      ", written by a newer mhr; this mhr knows versions up to " + std::to_string(latest) +
                      " (upgrade mhr, or use another --db)");
    }
    return;
  }
  if (appId != 0) {
    throw UserError("'" + db.path() + "' is an SQLite database of another application (application_id " +
                    std::to_string(appId) + "), not an mhr tracker; choose another --db");
  }
  std::vector<std::string> tables;
  Stmt stmt = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  while (stmt.step()) tables.push_back(stmt.getText(0));
  if (tables.empty()) return; // a new file
  bool mlflow = false;
  std::string list;
  for (const auto& t : tables) {
    if (t == "alembic_version") mlflow = true;
    if (list.size() < 120) list += (list.empty() ? "" : ", ") + t;
  }
  throw UserError("'" + db.path() + "' is an SQLite database but not an mhr tracker" +
                  (mlflow ? " (it looks like an MLflow store)" : "") + "; it has the tables " + list +
                  ". mhr leaves it untouched; choose another --db");
}

// WAL lets readers run while one process writes and makes commits cheap. Switching needs a moment with no
// other connection, so concurrent first opens may see SQLITE_BUSY here: wait and try again.
void enableWal(Db& db) {
  for (int attempt = 0; attempt < 600; ++attempt) {
    try {
      Stmt stmt = db.prepare("PRAGMA journal_mode = WAL");
      if (stmt.step()) stmt.getText(0); // "wal", or "delete" where the file system cannot share memory
      return;
    } catch (const BusyError&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5 + 5 * std::min(attempt, 20)));
    }
  }
  throw UserError("tracker database '" + db.path() +
                  "': could not switch to WAL mode, the file stayed locked");
}

} // namespace

const std::vector<Migration>& trackerMigrations() {
  static const std::vector<Migration> migrations = {
      {1,
       "initial schema: MLflow-named core tables plus spec, verdicts, lineage, environment, artifacts, "
       "predictions and cams",
       kSchemaV1},
  };
  return migrations;
}

int latestSchemaVersion() {
  return trackerMigrations().back().version;
}

int schemaVersion(Db& db) {
  return pragmaInt(db, "user_version");
}

void ensureSchema(Db& db, const std::vector<Migration>& migrations) {
  int latest = migrations.empty() ? 0 : migrations.back().version;
  db.read([&] { checkOwnership(db, latest); });
  enableWal(db);
  // Every commit is durable (power loss included) unless a writer relaxes it for its automatic batches
  // (RunWriter: explicit flush() and finish() stay FULL).
  db.setFullSync(true);
  if (db.read([&] { return schemaVersion(db); }) >= latest) return;

  db.write([&] {
    // Re-read under the write lock: another process may have migrated while we waited for it.
    checkOwnership(db, latest);
    int current = schemaVersion(db);
    if (current >= latest) return;
    if (current == 0) {
      db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT "
              "NOT NULL, applied_time INTEGER NOT NULL)");
    }
    for (const auto& m : migrations) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      Stmt record =
          db.prepare("INSERT INTO schema_migrations (version, description, applied_time) VALUES (?, ?, ?)");
      record.bind(1, m.version).bind(2, m.description).bind(3, nowMs()).run();
    }
    db.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
    db.exec("PRAGMA user_version = " + std::to_string(latest));
  });
}

} // namespace mhr::tracker
