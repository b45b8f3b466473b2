// `mhr run --nproc 2` end to end (the real binary, Gloo on loopback, CPU): one tracker run with the metrics
// of the whole run; its checkpoint equals a lone process's over the combined batch (sync_bn, no
// augmentation); a rank killed after the first checkpoint stops the other with a clear error, the run is
// marked failed, and `--resume` finishes it on another world size; a resumed run holds each metric point
// once. Also the single-process CLI around a run: the resume command an interrupted run prints, and the
// results table's columns.
#include "support/files.h"
#include "tracker/sqlite_db.h"
#include "tracker/tracker.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mhr {
namespace {

namespace fs = std::filesystem;

struct Result {
  int code = -1;
  std::string output;
};

Result run(const std::string& command) {
  Result r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class TempDir {
public:
  TempDir() {
    std::string t = (fs::temp_directory_path() / "mhr-dist-cli-XXXXXX").string();
    if (!::mkdtemp(t.data())) std::abort();
    path_ = t;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& n) const { return path_ + "/" + n; }

private:
  std::string path_;
};

// 48 synthetic mammograms; the train split's size divides by 8, so both the lone process (batch 8) and two
// ranks (batch 4 each) see whole batches without DistributedSampler's padding.
std::string spec(int64_t epochs, int64_t batch) {
  return "experiment \"dist/e2e\"\nseed 3\n"
         "dataset d = synthetic_mammo(count: 48, size: 64x52, seed: 3)\n"
         "network net = tiny_cnn(classes: 2, in_channels: 1)\n"
         "train net on d.train at 32x26 {\n  epochs: " +
         std::to_string(epochs) + "\n  batch: " + std::to_string(batch) +
         "\n  optimizer: sgd(lr: 0.05, momentum: 0.9)\n  sync_bn: true\n  workers: 0\n  val: d.val\n}\n"
         "evaluate net on d.test at 32x26 { metrics: [auc, accuracy, loss]; cam: 3 }\n";
}

std::string mhr(const TempDir& dir, const std::string& args, const std::string& env = "") {
  return std::string("cd ") + dir.file("") + " && MHR_DB= " + env + " " + MHR_BINARY + " " + args +
         " --db runs.sqlite --device cpu --no-progress --no-report --threads 1";
}

struct RunRow {
  std::string id, status, message;
};

std::vector<RunRow> runs(const std::string& db) {
  tracker::Tracker t = tracker::Tracker::openExisting(db);
  tracker::Stmt s = t.db().prepare("SELECT run_uuid, status, COALESCE(status_message, '') FROM runs");
  std::vector<RunRow> out;
  while (s.step()) out.push_back({s.getText(0), s.getText(1), s.getText(2)});
  return out;
}

int64_t count(const std::string& db, const std::string& sql) {
  tracker::Tracker t = tracker::Tracker::openExisting(db);
  tracker::Stmt s = t.db().prepare(sql);
  return s.step() ? s.getInt(0) : -1;
}

// The points of the metrics named by `keys` (an SQL list) logged at the same step by both runs of `t` agree
// within `tolerance` (scaled by the value above 1 when `relative`); returns how many pairs there were.
int64_t expectMetricPairsNear(tracker::Tracker& t, const std::string& keys, double tolerance, bool relative) {
  tracker::Stmt s = t.db().prepare(
      "SELECT a.value, b.value FROM metrics a JOIN metrics b ON a.step = b.step AND a.key = b.key "
      "AND a.run_uuid < b.run_uuid WHERE a.key IN (" +
      keys + ")");
  int64_t pairs = 0;
  while (s.step()) {
    ++pairs;
    EXPECT_NEAR(s.getDouble(0), s.getDouble(1),
                relative ? tolerance * std::max(1.0, std::abs(s.getDouble(0))) : tolerance);
  }
  return pairs;
}

TEST(DistributedCli, TwoProcessesMakeOneRunEqualToOneProcessOverTheCombinedBatch) {
  TempDir dir;
  support::writeFileAtomic(dir.file("two.mhr"), spec(2, 4));
  support::writeFileAtomic(dir.file("one.mhr"), spec(2, 8));
  Result two = run(mhr(dir, "run two.mhr --nproc 2 --checkpoints ck2"));
  ASSERT_EQ(two.code, 0) << two.output;
  std::vector<RunRow> r = runs(dir.file("runs.sqlite"));
  ASSERT_EQ(r.size(), 1u) << two.output;
  EXPECT_EQ(r[0].status, "finished");
  const std::string db = dir.file("runs.sqlite");
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM latest_metrics WHERE key = 'evaluate.net/auc'"), 1);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM tags WHERE key = 'mhr.world_size' AND value = '2'"), 1);
  const int64_t steps2 = count(db, "SELECT COUNT(*) FROM metrics WHERE key = 'train.net/loss'");

  Result one = run(mhr(dir, "run one.mhr --checkpoints ck1"));
  ASSERT_EQ(one.code, 0) << one.output;
  // Same number of optimizer steps: each step of two ranks covers what one step of the lone process does.
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM metrics WHERE key = 'train.net/loss'"), 2 * steps2);
  // Same weights at every step: the logged step losses (two ranks: the mean over both halves) agree.
  tracker::Tracker t = tracker::Tracker::openExisting(db);
  EXPECT_EQ(expectMetricPairsNear(t, "'train.net/loss'", 1e-4, true), steps2);

  // Evaluation is sharded over the ranks and gathered: the same samples in the same order with the same
  // scores as the lone process, the same AUC and loss, and Grad-CAM maps (rank 0 alone) for as many samples.
  const int64_t tested = count(db, "SELECT COUNT(DISTINCT sample_id) FROM predictions");
  EXPECT_GT(tested, 2);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM prediction_sets WHERE sample_count = " + std::to_string(tested)),
            2);
  tracker::Stmt p = t.db().prepare(
      "SELECT a.sample_id = b.sample_id, a.label = b.label, a.score, b.score FROM predictions a "
      "JOIN predictions b ON a.stage = b.stage AND a.sample_index = b.sample_index AND a.class = b.class "
      "AND a.run_uuid < b.run_uuid");
  int64_t rows = 0;
  while (p.step()) {
    ++rows;
    EXPECT_EQ(p.getInt(0), 1);
    EXPECT_EQ(p.getInt(1), 1);
    EXPECT_NEAR(p.getDouble(2), p.getDouble(3), 1e-4);
  }
  EXPECT_EQ(rows, 2 * tested); // two classes
  // The validation pass after each epoch is sharded and gathered the same way.
  EXPECT_EQ(expectMetricPairsNear(t, "'train.net/val_loss', 'train.net/val_accuracy'", 1e-4, false),
            2 * 2); // two epochs, two metrics
  for (const char* key : {"evaluate.net/auc", "evaluate.net/loss", "evaluate.net/accuracy"}) {
    tracker::Stmt m =
        t.db().prepare("SELECT MIN(value), MAX(value), COUNT(*) FROM latest_metrics WHERE key = ?");
    m.bind(1, std::string(key));
    ASSERT_TRUE(m.step()) << key;
    EXPECT_EQ(m.getInt(2), 2) << key;
    EXPECT_NEAR(m.getDouble(0), m.getDouble(1), 1e-4) << key;
  }
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM cams"), 6);
}

TEST(DistributedCli, AKilledRankFailsTheRunWhichResumesOnAnotherWorldSize) {
  TempDir dir;
  support::writeFileAtomic(dir.file("spec.mhr"), spec(3, 4));
  Result r = run(mhr(dir, "run spec.mhr --nproc 2 --dist-timeout 20",
                     "MHR_TEST_KILL_RANK=1 MHR_TEST_KILL_AFTER=train.net:1"));
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("rank 1 (pid"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("killed by signal 9"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rank 0 of 2"), std::string::npos) << r.output; // rank 0's own message
  std::vector<RunRow> rows = runs(dir.file("runs.sqlite"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0].status == "failed" || rows[0].status == "interrupted") << rows[0].status;

  Result resumed = run(mhr(dir, "run spec.mhr --resume " + rows[0].id.substr(0, 8)));
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming after epoch 1 of 3"), std::string::npos) << resumed.output;
  rows = runs(dir.file("runs.sqlite"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, "finished");
  EXPECT_EQ(
      count(dir.file("runs.sqlite"), "SELECT COUNT(*) FROM latest_metrics WHERE key = 'evaluate.net/auc'"),
      1);
}

TEST(DistributedCli, AResumedRunKeepsEachMetricPointOnce) {
  TempDir dir;
  support::writeFileAtomic(dir.file("spec.mhr"), spec(2, 4));
  // One process, killed mid-way through epoch 2 after its step-N point is durable: the steps after the
  // epoch-1 checkpoint are logged again by the resumed process.
  Result first = run(mhr(dir, "run spec.mhr"));
  ASSERT_EQ(first.code, 0) << first.output;
  const std::string db = dir.file("runs.sqlite");
  const int64_t steps = count(db, "SELECT COUNT(*) FROM metrics WHERE key = 'train.net/loss'");
  ASSERT_GE(steps, 4);
  Result killed = run(mhr(dir, "run spec.mhr", "MHR_TEST_KILL_AFTER_STEP=" + std::to_string(steps / 2 + 1)));
  EXPECT_NE(killed.code, 0) << killed.output;
  std::vector<RunRow> rows = runs(db);
  ASSERT_EQ(rows.size(), 2u);
  std::string id;
  for (const RunRow& row : rows)
    if (row.status != "finished") id = row.id;
  ASSERT_FALSE(id.empty());
  Result resumed = run(mhr(dir, "run spec.mhr --resume " + id.substr(0, 8)));
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM (SELECT key, step FROM metrics WHERE run_uuid = '" + id +
                          "' GROUP BY key, step HAVING COUNT(*) > 1)"),
            0);
  EXPECT_EQ(
      count(db, "SELECT COUNT(*) FROM metrics WHERE key = 'train.net/loss' AND run_uuid = '" + id + "'"),
      steps);
}

// A run stopped by SIGTERM (as Ctrl-C or a scheduler stops it) prints the command that resumes it, with the
// file, database, device and threads it ran with; that command, run as printed, finishes the run.
TEST(DistributedCli, AnInterruptedRunPrintsTheCommandThatResumesIt) {
  TempDir dir;
  support::writeFileAtomic(dir.file("spec.mhr"), spec(2, 4));
  Result stopped =
      run(mhr(dir, "run spec.mhr --set 'seed=4'", "MHR_TEST_KILL_AFTER_STEP=9 MHR_TEST_KILL_SIGNAL=15"));
  EXPECT_NE(stopped.code, 0) << stopped.output;
  std::vector<RunRow> rows = runs(dir.file("runs.sqlite"));
  ASSERT_EQ(rows.size(), 1u);
  const std::string id = rows[0].id.substr(0, 8);
  const std::string expected =
      "mhr run spec.mhr --db runs.sqlite --device cpu --threads 1 --set seed=4 --resume " + id;
  const std::string printed = "mhr: interrupted: run " + id;
  ASSERT_NE(stopped.output.find(printed), std::string::npos) << stopped.output;
  size_t at = stopped.output.find("\n  mhr run ", stopped.output.find(printed));
  ASSERT_NE(at, std::string::npos) << stopped.output;
  std::string command = stopped.output.substr(at + 3, stopped.output.find('\n', at + 3) - at - 3);
  EXPECT_EQ(command, expected) << stopped.output;

  Result resumed = run("cd " + dir.file("") + " && MHR_DB= " + MHR_BINARY + command.substr(3) +
                       " --no-progress --no-report");
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming run " + id), std::string::npos) << resumed.output;
  EXPECT_EQ(runs(dir.file("runs.sqlite"))[0].status, "finished");
}

// `--resume RUN` takes the overrides RUN was started with (issue 19, point 7): no need to retype them, and a
// different --set is refused instead of resuming a different experiment under the same run.
TEST(DistributedCli, ResumeTakesTheRunsRecordedOverrides) {
  TempDir dir;
  support::writeFileAtomic(dir.file("spec.mhr"), spec(2, 4));
  Result stopped = run(mhr(dir, "run spec.mhr --set 'seed=4' --set 'train.net.optimizer.lr=0.02'",
                           "MHR_TEST_KILL_AFTER_STEP=9 MHR_TEST_KILL_SIGNAL=15"));
  EXPECT_NE(stopped.code, 0) << stopped.output;
  std::vector<RunRow> rows = runs(dir.file("runs.sqlite"));
  ASSERT_EQ(rows.size(), 1u);
  const std::string id = rows[0].id.substr(0, 8);
  Result differs = run(mhr(dir, "run spec.mhr --set 'seed=5' --resume " + id));
  EXPECT_EQ(differs.code, 1) << differs.output;
  EXPECT_NE(differs.output.find("was started with --set seed=4 --set train.net.optimizer.lr=0.02; --resume "
                                "takes the run's own overrides"),
            std::string::npos)
      << differs.output;
  EXPECT_NE(runs(dir.file("runs.sqlite"))[0].status, "finished"); // the refused resume changed nothing
  Result resumed = run(mhr(dir, "run spec.mhr --resume " + id));
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("mhr: resuming with the run's overrides: --set seed=4 --set "
                                "train.net.optimizer.lr=0.02"),
            std::string::npos)
      << resumed.output;
  EXPECT_NE(resumed.output.find("resuming run " + id), std::string::npos) << resumed.output;
  EXPECT_EQ(runs(dir.file("runs.sqlite"))[0].status, "finished");
}

// The results table printed at the end of a run has a column per metric the spec's evaluate stages asked for,
// read back from the tracker; with --db none, from what the run logged. (Before: always AUC, accuracy,
// sensitivity, specificity, whatever was asked.)
TEST(DistributedCli, TheResultsTableShowsTheMetricsTheSpecAskedFor) {
  TempDir dir;
  std::string text = spec(1, 8);
  const std::string from = "metrics: [auc, accuracy, loss]; cam: 3";
  text.replace(text.find(from), from.size(), "metrics: [pr_auc, f1, brier, balanced_accuracy]");
  support::writeFileAtomic(dir.file("spec.mhr"), text);
  for (const char* db : {"runs.sqlite", "none"}) {
    Result r = run("cd " + dir.file("") + " && MHR_DB= " + MHR_BINARY + " run spec.mhr --db " + db +
                   " --device cpu --no-progress --no-report --threads 1");
    ASSERT_EQ(r.code, 0) << r.output;
    const size_t header = r.output.find("PR-AUC [95% CI]");
    ASSERT_NE(header, std::string::npos) << db << "\n" << r.output;
    const std::string line = r.output.substr(header, r.output.find('\n', header) - header);
    EXPECT_NE(line.find("f1"), std::string::npos) << line;
    EXPECT_NE(line.find("brier"), std::string::npos) << line;
    EXPECT_NE(line.find("balanced_accuracy"), std::string::npos) << line;
    EXPECT_EQ(line.find("sensitivity"), std::string::npos) << line;
    EXPECT_EQ(r.output.find("AUC [95% CI]", header + 16), std::string::npos) << "AUC was not asked for";
    // The evaluate row holds numbers, the PR-AUC with its interval.
    const size_t row = r.output.find("evaluate.net", header);
    ASSERT_NE(row, std::string::npos) << r.output;
    const std::string cells = r.output.substr(row, r.output.find('\n', row) - row);
    EXPECT_TRUE(std::regex_search(cells, std::regex("0\\.[0-9]{3} \\[0\\.[0-9]{3}, [01]\\.[0-9]{3}\\]")))
        << cells;
  }
}

TEST(DistributedCli, SweepOverSeedsIsSummarisedAsMeanAndConfidenceInterval) {
  TempDir dir;
  support::writeFileAtomic(dir.file("sweep.mhr"), spec(1, 8) +
                                                      "sweep {\n  train.net.optimizer.lr: [0.05, 0.01]\n"
                                                      "  seed: [1, 2]\n}\n");
  Result r = run(mhr(dir, "run sweep.mhr --nproc 2 --sweep-id sweep-test"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(count(dir.file("runs.sqlite"),
                  "SELECT COUNT(*) FROM tags WHERE key = 'sweep' AND value = 'sweep-test'"),
            4);
  Result c = run(std::string("cd ") + dir.file("") + " && " + MHR_BINARY +
                 " runs compare --sweep sweep-test --db runs.sqlite");
  ASSERT_EQ(c.code, 0) << c.output;
  EXPECT_NE(c.output.find("Over seeds: mean ± 95% CI"), std::string::npos) << c.output;
  // Two configurations (the learning rates), two seeds each.
  EXPECT_NE(c.output.find("train.net.optimizer.lr=0.05"), std::string::npos) << c.output;
  EXPECT_NE(c.output.find(" ± "), std::string::npos) << c.output;
}

// A sweep that varies only the morph child's training trains the shared base stage once: the second member
// reuses the first's (tag train.base/reused_from) and ends bit-identical — every metric point, at the same
// step — to the same member of a sweep run with --no-reuse, which trains the base in both members.
std::string memberRun(const std::string& db, const std::string& sweep, int index) {
  tracker::Tracker t = tracker::Tracker::openExisting(db);
  tracker::Stmt s =
      t.db().prepare("SELECT a.run_uuid FROM tags a JOIN tags b ON a.run_uuid = b.run_uuid WHERE a.key = "
                     "'sweep' AND a.value = '" +
                     sweep + "' AND b.key = 'sweep.index' AND b.value = '" + std::to_string(index) + "'");
  return s.step() ? s.getText(0) : "";
}

TEST(DistributedCli, SweepMembersReuseAStageWithTheSameInputs) {
  TempDir dir;
  support::writeFileAtomic(dir.file("sweep.mhr"),
                           "experiment \"reuse\"\nseed 3\n"
                           "dataset d = synthetic_mammo(count: 48, size: 64x52, seed: 3)\n"
                           "network base = tiny_cnn(classes: 2, in_channels: 1)\n"
                           "train base on d.train at 32x26 {\n  epochs: 2\n  batch: 8\n"
                           "  optimizer: sgd(lr: 0.05, momentum: 0.9)\n  workers: 0\n}\n"
                           "network child = morph base {\n  deepen after act1 with conv(3x3) + relu\n}\n"
                           "train child on d.train at 32x26 {\n  epochs: 1\n  batch: 8\n"
                           "  optimizer: sgd(lr: 0.01)\n  workers: 0\n}\n"
                           "evaluate child on d.test at 32x26 { metrics: [auc, loss]; bootstrap: 0 }\n"
                           "sweep {\n  train.child.optimizer.lr: [0.01, 0.003]\n}\n");
  Result reused = run(mhr(dir, "run sweep.mhr --sweep-id reuse"));
  ASSERT_EQ(reused.code, 0) << reused.output;
  EXPECT_NE(reused.output.find("train.base: reused from run "), std::string::npos) << reused.output;
  Result fresh = run(mhr(dir, "run sweep.mhr --sweep-id fresh --no-reuse"));
  ASSERT_EQ(fresh.code, 0) << fresh.output;
  EXPECT_EQ(fresh.output.find("reused from"), std::string::npos) << fresh.output;

  const std::string db = dir.file("runs.sqlite");
  const std::string first = memberRun(db, "reuse", 0), a = memberRun(db, "reuse", 1),
                    b = memberRun(db, "fresh", 1);
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM tags WHERE key = 'train.base/reused_from' AND run_uuid = '" + a +
                          "' AND value LIKE 'run " + first.substr(0, 8) + " (sweep member 1)%'"),
            1);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM tags WHERE key = 'train.base/reused_from'"), 1);
  // The child stage differs between the members: never reused.
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM tags WHERE key = 'train.child/reused_from'"), 0);
  const int64_t points = count(db, "SELECT COUNT(*) FROM metrics WHERE run_uuid = '" + b + "'");
  EXPECT_GT(
      count(db, "SELECT COUNT(*) FROM metrics WHERE run_uuid = '" + b + "' AND key = 'train.base/loss'"), 0);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM metrics WHERE run_uuid = '" + a + "'"), points);
  EXPECT_EQ(
      count(db, "SELECT COUNT(*) FROM metrics x JOIN metrics y ON x.key = y.key AND x.step = y.step AND "
                "x.epoch = y.epoch AND x.value = y.value AND x.is_nan = y.is_nan WHERE x.run_uuid = '" +
                    a + "' AND y.run_uuid = '" + b + "'"),
      points);
}

// Without --threads a lone run uses every core it may run on (Debian's LibTorch would pick one) and records
// the count; --threads 1 is recorded as given.
TEST(DistributedCli, ThreadsDefaultToTheAvailableCoresAndAreRecorded) {
  TempDir dir;
  support::writeFileAtomic(dir.file("one.mhr"), spec(1, 8));
  const std::string base = std::string("cd ") + dir.file("") + " && MHR_DB= " + MHR_BINARY +
                           " run one.mhr --db runs.sqlite --device cpu --no-progress --no-report";
  Result lone = run(base);
  ASSERT_EQ(lone.code, 0) << lone.output;
  Result pinned = run(base + " --threads 1");
  ASSERT_EQ(pinned.code, 0) << pinned.output;
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  const int cores = CPU_COUNT(&set);
  const std::string db = dir.file("runs.sqlite");
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM runs WHERE json_extract(resolved_settings, '$.threads') = " +
                          std::to_string(cores)),
            cores == 1 ? 2 : 1);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM runs WHERE json_extract(resolved_settings, '$.threads') = 1"),
            cores == 1 ? 2 : 1);
}

TEST(DistributedCli, BadUsage) {
  TempDir dir;
  support::writeFileAtomic(dir.file("spec.mhr"), spec(1, 4));
  Result r = run(mhr(dir, "run spec.mhr --nproc 2", "WORLD_SIZE=2 RANK=0"));
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("WORLD_SIZE is already set"), std::string::npos) << r.output;
  r = run(mhr(dir, "run spec.mhr --nproc 0"));
  EXPECT_EQ(r.code, 2) << r.output;
}

} // namespace
} // namespace mhr
