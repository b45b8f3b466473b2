// tests/tracker/schema_test.cpp — the versioned schema: a new file gets every table, re-opening changes
// nothing, migrations apply once and in order, and files that are not ours (or are newer) are refused
// untouched.
#include "tests/tracker/test_util.h"
#include "tracker/schema.h"

#include "support/error.h"
#include "support/files.h"

#include <algorithm>
#include <filesystem>
#include <gtest/gtest.h>

namespace mhr::tracker {
namespace {

using testing::TempDir;

std::vector<std::string> tableNames(Db& db) {
  std::vector<std::string> names;
  Stmt s = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  while (s.step()) names.push_back(s.getText(0));
  return names;
}

std::string pragmaText(Db& db, const std::string& pragma) {
  Stmt s = db.prepare("PRAGMA " + pragma);
  return s.step() ? s.getText(0) : "";
}

TEST(TrackerSchema, NewFileHasEveryTableInWalMode) {
  TempDir tmp;
  Tracker tracker = Tracker::open(tmp.file("runs.sqlite"));
  std::vector<std::string> expected = {
      "artifacts",         "cams",    "environment", "experiment_tags", "experiments", "latest_metrics",
      "lineage",           "metrics", "params",      "prediction_sets", "predictions", "runs",
      "schema_migrations", "tags",    "verdicts"};
  EXPECT_EQ(tableNames(tracker.db()), expected);
  EXPECT_EQ(pragmaText(tracker.db(), "journal_mode"), "wal");
  EXPECT_EQ(schemaVersion(tracker.db()), latestSchemaVersion());
  EXPECT_EQ(pragmaText(tracker.db(), "application_id"), std::to_string(kApplicationId));
  EXPECT_EQ(testing::countRows(tmp.file("runs.sqlite"), "SELECT count(*) FROM schema_migrations"),
            int64_t(trackerMigrations().size()));
}

TEST(TrackerSchema, MlflowColumnNamesWhereTheyOverlap) {
  TempDir tmp;
  Tracker tracker = Tracker::open(tmp.file("runs.sqlite"));
  auto columns = [&](const std::string& table) {
    std::vector<std::string> names;
    Stmt s = tracker.db().prepare("SELECT name FROM pragma_table_info(?) ORDER BY cid");
    s.bind(1, table);
    while (s.step()) names.push_back(s.getText(0));
    return names;
  };
  auto has = [&](const std::string& table, const std::vector<std::string>& wanted) {
    auto names = columns(table);
    for (const auto& w : wanted) {
      EXPECT_NE(std::find(names.begin(), names.end(), w), names.end()) << table << "." << w;
    }
  };
  has("experiments",
      {"experiment_id", "name", "artifact_location", "lifecycle_stage", "creation_time", "last_update_time"});
  has("experiment_tags", {"key", "value", "experiment_id"});
  has("runs", {"run_uuid", "name", "source_type", "source_name", "entry_point_name", "user_id", "status",
               "start_time", "end_time", "deleted_time", "source_version", "lifecycle_stage", "artifact_uri",
               "experiment_id", "spec_text", "spec_hash", "semantic_hash", "seed", "resolved_settings"});
  has("params", {"key", "value", "run_uuid", "value_type", "value_num"});
  has("metrics", {"key", "value", "timestamp", "step", "is_nan", "run_uuid", "epoch"});
  has("latest_metrics", {"key", "value", "timestamp", "step", "is_nan", "run_uuid"});
  has("tags", {"key", "value", "run_uuid"});
}

TEST(TrackerSchema, ReopeningAppliesNothingTwice) {
  TempDir tmp;
  std::string path = tmp.file("runs.sqlite");
  { Tracker::open(path); }
  { Tracker::open(path); }
  { Tracker::openExisting(path); }
  EXPECT_EQ(testing::countRows(path, "SELECT count(*) FROM schema_migrations"),
            int64_t(trackerMigrations().size()));
}

TEST(TrackerSchema, MigrationsApplyOnceInOrderAndKeepData) {
  TempDir tmp;
  std::string path = tmp.file("custom.sqlite");
  std::vector<Migration> v1 = {{1, "create t", "CREATE TABLE t (a INTEGER)"}};
  std::vector<Migration> v3 = v1;
  v3.push_back({2, "add column b", "ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'"});
  v3.push_back({3, "index", "CREATE INDEX t_b ON t (b)"});
  {
    auto db = Db::open(path, true);
    ensureSchema(*db, v1);
    EXPECT_EQ(schemaVersion(*db), 1);
    db->exec("INSERT INTO t (a) VALUES (42)");
  }
  {
    auto db = Db::open(path, true);
    ensureSchema(*db, v3);
    EXPECT_EQ(schemaVersion(*db), 3);
    Stmt s = db->prepare("SELECT a, b FROM t");
    ASSERT_TRUE(s.step());
    EXPECT_EQ(s.getInt(0), 42);
    EXPECT_EQ(s.getText(1), "x");
    ensureSchema(*db, v3); // nothing left to do
  }
  EXPECT_EQ(testing::countRows(path, "SELECT count(*) FROM schema_migrations"), 3);
  EXPECT_EQ(testing::countRows(path, "SELECT count(*) FROM schema_migrations WHERE version = 2"), 1);
}

TEST(TrackerSchema, FailedMigrationRollsBackCompletely) {
  TempDir tmp;
  std::string path = tmp.file("custom.sqlite");
  std::vector<Migration> good = {{1, "create t", "CREATE TABLE t (a INTEGER)"}};
  std::vector<Migration> bad = good;
  bad.push_back({2, "ok part", "CREATE TABLE u (a INTEGER)"});
  bad.push_back({3, "broken", "ALTER TABLE missing ADD COLUMN x"});
  {
    auto db = Db::open(path, true);
    ensureSchema(*db, good);
  }
  auto db = Db::open(path, true);
  EXPECT_THROW(ensureSchema(*db, bad), UserError);
  EXPECT_EQ(schemaVersion(*db), 1);
  auto names = tableNames(*db);
  EXPECT_EQ(std::find(names.begin(), names.end(), "u"), names.end()) << "step 2 must roll back with step 3";
}

TEST(TrackerSchema, RefusesADatabaseFromANewerMhr) {
  TempDir tmp;
  std::string path = tmp.file("runs.sqlite");
  { Tracker::open(path); }
  {
    auto db = Db::open(path, false);
    db->exec("PRAGMA user_version = 99");
  }
  try {
    Tracker::open(path);
    FAIL() << "expected an error";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 99"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("newer mhr"), std::string::npos) << e.what();
  }
}

TEST(TrackerSchema, RefusesSomeoneElsesSqliteFileAndLeavesItUntouched) {
  TempDir tmp;
  std::string path = tmp.file("mlflow.db");
  {
    auto db = Db::open(path, true);
    db->exec("CREATE TABLE alembic_version (version_num TEXT); CREATE TABLE runs (run_uuid TEXT);"
             "INSERT INTO runs VALUES ('abc')");
  }
  std::string before = *support::readFile(path);
  try {
    Tracker::open(path);
    FAIL() << "expected an error";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("not an mhr tracker"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("MLflow"), std::string::npos) << e.what();
  }
  EXPECT_EQ(*support::readFile(path), before);
  auto db = Db::open(path, false);
  EXPECT_EQ(tableNames(*db), (std::vector<std::string>{"alembic_version", "runs"}));
}

TEST(TrackerSchema, RefusesAFileOfAnotherApplication) {
  TempDir tmp;
  std::string path = tmp.file("other.db");
  {
    auto db = Db::open(path, true);
    db->exec("PRAGMA application_id = 1234");
  }
  EXPECT_THROW(Tracker::open(path), UserError);
}

TEST(TrackerSchema, NonSqliteFileIsAClearError) {
  TempDir tmp;
  std::string path = tmp.file("notes.txt");
  support::writeFileAtomic(path, std::string(4096, 'x'));
  try {
    Tracker::open(path);
    FAIL() << "expected an error";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not a database"), std::string::npos) << e.what();
  }
  EXPECT_EQ(*support::readFile(path), std::string(4096, 'x'));
}

TEST(TrackerSchema, ReadersNeverCreateAFile) {
  TempDir tmp;
  std::string path = tmp.file("missing.sqlite");
  try {
    Tracker::openExisting(path);
    FAIL() << "expected an error";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("no tracker database at"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_THROW(Tracker::openExisting(tmp.path()), UserError); // a folder
}

} // namespace
} // namespace mhr::tracker
