// tests/tracker/process_test.cpp — real processes against one database file: 8 writers at once lose no
// point, 8 first opens of a new file migrate it once, and a writer killed with SIGKILL mid-run leaves a
// consistent database whose run is marked interrupted on the next open and can be resumed.
#include "tests/tracker/test_util.h"
#include "tracker/run_reader.h"

#include <csignal>
#include <gtest/gtest.h>
#include <memory>
#include <set>

namespace mhr::tracker {
namespace {

using testing::Child;
using testing::countRows;
using testing::TempDir;

const std::string kWriter = MHR_TEST_WRITER;

std::string integrityCheck(const std::string& path) {
  auto db = Db::open(path, false);
  Stmt s = db->prepare("PRAGMA integrity_check");
  std::string result;
  while (s.step()) result += s.getText(0);
  return result;
}

TEST(TrackerProcesses, EightConcurrentWritersLoseNothing) {
  TempDir tmp;
  std::string path = tmp.file("runs.sqlite");
  const int kProcesses = 8, kPoints = 400, kKeys = 3;
  // Every process waits for the same instant, then opens the new file (racing on its creation and
  // migration) and logs kPoints steps of kKeys metrics, flushing every 25 points: many small transactions
  // that collide on the write lock.
  std::string startMs = std::to_string(nowMillis() + 400);
  std::vector<std::unique_ptr<Child>> children;
  for (int i = 0; i < kProcesses; ++i) {
    children.push_back(std::make_unique<Child>(
        std::vector<std::string>{kWriter, "log", path, "exp" + std::to_string(i % 2), std::to_string(kPoints),
                                 std::to_string(kKeys), "25", startMs},
        std::vector<std::string>{}, true));
  }
  std::set<std::string> runIds;
  for (auto& child : children) {
    std::string output;
    int code = child->finish(&output);
    EXPECT_EQ(code, 0) << output;
    EXPECT_EQ(output.find("locked"), std::string::npos) << output;
    ASSERT_EQ(output.rfind("run ", 0), 0u) << output;
    runIds.insert(output.substr(4, 32));
  }
  EXPECT_EQ(runIds.size(), size_t(kProcesses));
  EXPECT_EQ(integrityCheck(path), "ok");
  EXPECT_EQ(countRows(path, "SELECT count(*) FROM schema_migrations"), 1);
  EXPECT_EQ(countRows(path, "SELECT count(*) FROM experiments"), 2);
  EXPECT_EQ(countRows(path, "SELECT count(*) FROM runs WHERE status = 'finished'"), kProcesses);
  EXPECT_EQ(countRows(path, "SELECT count(*) FROM metrics"), int64_t(kProcesses) * kPoints * kKeys);
  // Every single point: each (run, key, step) exactly once with the value the writer computed.
  EXPECT_EQ(countRows(path, "SELECT count(*) FROM (SELECT DISTINCT run_uuid, key, step FROM metrics)"),
            int64_t(kProcesses) * kPoints * kKeys);
  EXPECT_EQ(countRows(path, "SELECT count(*) FROM metrics WHERE value != step * 0.5 + "
                            "CAST(substr(key, 13) AS INTEGER)"),
            0);
  EXPECT_EQ(
      countRows(path, "SELECT count(*) FROM latest_metrics WHERE step = " + std::to_string(kPoints - 1)),
      int64_t(kProcesses) * kKeys);
}

TEST(TrackerProcesses, ConcurrentFirstOpensMigrateOnce) {
  TempDir tmp;
  std::string path = tmp.file("fresh.sqlite");
  std::string startMs = std::to_string(nowMillis() + 300);
  std::vector<std::unique_ptr<Child>> children;
  for (int i = 0; i < 8; ++i) {
    children.push_back(std::make_unique<Child>(std::vector<std::string>{kWriter, "open", path, startMs},
                                               std::vector<std::string>{}, true));
  }
  for (auto& child : children) {
    std::string output;
    EXPECT_EQ(child->finish(&output), 0) << output;
    EXPECT_EQ(output, "opened\n");
  }
  EXPECT_EQ(countRows(path, "SELECT count(*) FROM schema_migrations"), 1);
  EXPECT_EQ(integrityCheck(path), "ok");
}

TEST(TrackerProcesses, SigkillMidRunThenInterruptedThenResume) {
  TempDir tmp;
  std::string path = tmp.file("runs.sqlite");
  Child writer({kWriter, "forever", path, "10"}, {}, false);
  std::string line, runId;
  ASSERT_TRUE(writer.readLine(line));
  ASSERT_EQ(line.rfind("run ", 0), 0u) << line;
  runId = line.substr(4);
  // Let it get well into the run (many small transactions), then kill it without warning: the kill lands
  // at an arbitrary point, often inside a transaction.
  int64_t durable = 0;
  while (durable < 3000 && writer.readLine(line)) {
    ASSERT_EQ(line.rfind("flushed ", 0), 0u) << line;
    durable = std::stoll(line.substr(8));
  }
  writer.kill(SIGKILL);
  EXPECT_EQ(writer.finish(), 128 + SIGKILL);

  EXPECT_EQ(integrityCheck(path), "ok");
  // Before anyone opens the tracker the run still says running; the next open notices the dead process.
  EXPECT_EQ(countRows(path, "SELECT count(*) FROM runs WHERE status = 'running'"), 1);
  int64_t points = 0;
  {
    Tracker tracker = Tracker::open(path);
    RunDetails d = loadRun(tracker.db(), runId);
    EXPECT_EQ(d.info.status, "interrupted");
    EXPECT_NE(d.info.statusMessage.find("ended without finishing"), std::string::npos)
        << d.info.statusMessage;
    points = d.metricPoints;
    EXPECT_GE(points, durable) << "every point reported durable must be in the database";
    EXPECT_EQ(points % 10, 0) << "a batch is written whole or not at all";
    // The history is exactly steps 0..points-1: nothing torn, nothing duplicated.
    EXPECT_EQ(countRows(path, "SELECT count(*) FROM (SELECT DISTINCT step FROM metrics)"), points);
    EXPECT_EQ(countRows(path, "SELECT max(step) + 1 FROM metrics"), points);
  }
  // Resume from a checkpoint at step 1999 in another process: same run, steps after it replaced.
  Child resumer({kWriter, "resume", path, runId.substr(0, 10), "1999", "500"}, {}, true);
  std::string output;
  ASSERT_EQ(resumer.finish(&output), 0) << output;
  EXPECT_EQ(output, "run " + runId + "\n");
  Tracker tracker = Tracker::open(path);
  RunDetails d = loadRun(tracker.db(), runId);
  EXPECT_EQ(d.info.status, "finished");
  EXPECT_EQ(d.info.resumeCount, 1);
  EXPECT_EQ(d.metricPoints, 2500);
  ASSERT_EQ(d.latest.size(), 1u);
  EXPECT_EQ(d.latest[0].step, 2499);
  EXPECT_TRUE(d.tags.count("mhr.resume.1"));
  EXPECT_EQ(countRows(path, "SELECT count(*) FROM runs"), 1);
  EXPECT_EQ(integrityCheck(path), "ok");
}

} // namespace
} // namespace mhr::tracker
