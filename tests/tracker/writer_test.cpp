// tests/tracker/writer_test.cpp — the run writer and the Tracker API in one process: typed params,
// latest_metrics, batching, every record type read back, status handling, run references, resume.
#include "tests/tracker/test_util.h"
#include "tracker/environment.h"
#include "tracker/run_reader.h"

#include "support/error.h"

#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>

namespace mhr::tracker {
namespace {

using testing::countRows;
using testing::TempDir;

RunStart basicStart(const std::string& experiment = "exp") {
  RunStart start;
  start.experiment = experiment;
  start.specPath = "experiments/quick.mhr";
  start.specText = "experiment \"exp\"\nseed 7\n";
  start.specHash = "abc";
  start.semanticHash = "def";
  start.seed = 7;
  return start;
}

TEST(TrackerWriter, StartRunRecordsEverythingItIsGiven) {
  TempDir tmp;
  Tracker tracker = Tracker::open(tmp.file("runs.sqlite"));
  RunStart start = basicStart("synthetic-mammo/morphhr");
  start.resolvedSettings = {{"device", std::string("cpu")}, {"threads", int64_t(2)}};
  start.tags = {{"sweep", "grid-1"}};
  start.sourceVersion = "61d56d34b768";
  start.userId = "alice";
  auto writer = tracker.startRun(start);
  RunDetails d = loadRun(tracker.db(), writer->runId());
  EXPECT_EQ(d.info.id.size(), 32u);
  EXPECT_EQ(d.info.experiment, "synthetic-mammo/morphhr");
  EXPECT_EQ(d.info.name, "quick-" + d.info.id.substr(0, 8));
  EXPECT_EQ(d.info.status, "running");
  EXPECT_EQ(d.info.seed, 7);
  EXPECT_EQ(d.info.specPath, "experiments/quick.mhr");
  EXPECT_EQ(d.specText, start.specText);
  EXPECT_EQ(d.info.specHash, "abc");
  EXPECT_EQ(d.info.semanticHash, "def");
  EXPECT_EQ(d.info.userId, "alice");
  EXPECT_EQ(d.info.sourceVersion, "61d56d34b768");
  EXPECT_EQ(d.info.resolvedSettings, R"({"device":"cpu","threads":2})");
  EXPECT_EQ(d.tags.at("sweep"), "grid-1");
  EXPECT_FALSE(d.info.endTime);
  writer->finish(RunStatus::Finished);
  d = loadRun(tracker.db(), writer->runId());
  EXPECT_EQ(d.info.status, "finished");
  EXPECT_TRUE(d.info.endTime);
}

TEST(TrackerWriter, ParamsStayTyped) {
  TempDir tmp;
  Tracker tracker = Tracker::open(tmp.file("runs.sqlite"));
  RunStart start = basicStart();
  start.params = {{"lr", 1e-4},
                  {"batch", int64_t(8)},
                  {"pretrained", true},
                  {"arch", std::string("resnet18")},
                  {"big", int64_t(9007199254740993)},
                  {"third", 1.0 / 3.0}};
  auto writer = tracker.startRun(start);
  RunDetails d = loadRun(tracker.db(), writer->runId());
  std::map<std::string, runtime::ParamValue> got;
  for (const auto& p : d.params) got[p.key] = p.value;
  EXPECT_EQ(got.at("lr"), runtime::ParamValue(1e-4));
  EXPECT_EQ(got.at("batch"), runtime::ParamValue(int64_t(8)));
  EXPECT_EQ(got.at("pretrained"), runtime::ParamValue(true));
  EXPECT_EQ(got.at("arch"), runtime::ParamValue(std::string("resnet18")));
  EXPECT_EQ(got.at("big"), runtime::ParamValue(int64_t(9007199254740993))); // beyond double precision
  EXPECT_EQ(got.at("third"), runtime::ParamValue(1.0 / 3.0));               // bit-exact round trip

  // The SQL view: MLflow's text column plus the typed columns, numbers stored as numbers.
  Stmt s = tracker.db().prepare("SELECT key, value, value_type, typeof(value_num) FROM params ORDER BY key");
  std::map<std::string, std::vector<std::string>> rows;
  while (s.step()) rows[s.getText(0)] = {s.getText(1), s.getText(2), s.getText(3)};
  EXPECT_EQ(rows["lr"], (std::vector<std::string>{"0.0001", "float", "real"}));
  EXPECT_EQ(rows["batch"], (std::vector<std::string>{"8", "int", "integer"}));
  EXPECT_EQ(rows["pretrained"], (std::vector<std::string>{"true", "bool", "integer"}));
  EXPECT_EQ(rows["arch"], (std::vector<std::string>{"resnet18", "string", "null"}));
  // Numeric comparison in SQL works on value_num: 1e-4 < 0.001 although '0.0001' > '0.001' as text.
  EXPECT_EQ(countRows(tmp.file("runs.sqlite"),
                      "SELECT count(*) FROM params WHERE key = 'lr' AND value_num < 0.001"),
            1);
}

TEST(TrackerWriter, ParamsCannotChangeButMayBeRepeated) {
  TempDir tmp;
  Tracker tracker = Tracker::open(tmp.file("runs.sqlite"));
  RunStart start = basicStart();
  start.params = {{"lr", 0.01}};
  auto writer = tracker.startRun(start);
  writer->logParam("lr", 0.01); // same value: fine
  try {
    writer->logParam("lr", 0.02);
    FAIL() << "expected an error";
  } catch (const UserError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("param 'lr'"), std::string::npos) << m;
    EXPECT_NE(m.find("0.01 (float)"), std::string::npos) << m;
    EXPECT_NE(m.find("0.02 (float)"), std::string::npos) << m;
  }
  EXPECT_THROW(writer->logParam("lr", int64_t(1)), UserError); // another type is another value
  writer->finish(RunStatus::Finished);
  EXPECT_EQ(countRows(tmp.file("runs.sqlite"), "SELECT count(*) FROM params"), 1);
}

TEST(TrackerWriter, LatestMetricFollowsMlflowsRule) {
  TempDir tmp;
  Tracker tracker = Tracker::open(tmp.file("runs.sqlite"));
  auto writer = tracker.startRun(basicStart());
  writer->logMetric("loss", 0.5, 10, 1);
  writer->logMetric("loss", 0.9, 3, 1); // an older step logged later: not the latest
  writer->flush();
  writer->logMetric("loss", 0.7, 7, 1); // older step in a later batch: still not the latest
  writer->logMetric("auc", NAN, 1, 1);
  writer->logMetric("big", INFINITY, 1, 1);
  writer->logMetric("small", -INFINITY, 1, 1);
  writer->finish(RunStatus::Finished);
  RunDetails d = loadRun(tracker.db(), writer->runId());
  std::map<std::string, MetricPoint> latest;
  for (const auto& m : d.latest) latest[m.key] = m;
  EXPECT_EQ(latest.at("loss").value, 0.5);
  EXPECT_EQ(latest.at("loss").step, 10);
  EXPECT_TRUE(std::isnan(latest.at("auc").value));
  EXPECT_EQ(latest.at("big").value, DBL_MAX);
  EXPECT_EQ(latest.at("small").value, -DBL_MAX);
  EXPECT_EQ(d.metricPoints, 6);
  auto history = loadMetricHistory(tracker.db(), writer->runId(), "loss");
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].step, 3);
  EXPECT_EQ(history[2].step, 10);
  EXPECT_EQ(countRows(tmp.file("runs.sqlite"),
                      "SELECT count(*) FROM metrics WHERE key = 'auc' AND is_nan = 1 AND value = 0"),
            1);
}

TEST(TrackerWriter, MetricsAreBufferedUntilFlush) {
  TempDir tmp;
  std::string path = tmp.file("runs.sqlite");
  Tracker tracker = Tracker::open(path);
  WriterOptions options;
  options.flushEveryPoints = 100;
  options.flushEveryMs = 1000000;
  auto writer = tracker.startRun(basicStart(), options);
  for (int i = 0; i < 99; ++i) writer->logMetric("loss", i, i, 1);
  EXPECT_EQ(writer->pendingPoints(), 99u);
  EXPECT_EQ(countRows(path, "SELECT count(*) FROM metrics"), 0); // another connection sees nothing yet
  writer->logMetric("loss", 99, 99, 1);                          // the 100th point flushes
  EXPECT_EQ(writer->pendingPoints(), 0u);
  EXPECT_EQ(countRows(path, "SELECT count(*) FROM metrics"), 100);
  writer->logMetric("loss", 100, 100, 1);
  writer->flush();
  EXPECT_EQ(countRows(path, "SELECT count(*) FROM metrics"), 101);
}

TEST(TrackerWriter, TimeTriggeredFlush) {
  TempDir tmp;
  std::string path = tmp.file("runs.sqlite");
  Tracker tracker = Tracker::open(path);
  WriterOptions options;
  options.flushEveryPoints = 1000000;
  options.flushEveryMs = 0; // every call is "late": flushes at once
  auto writer = tracker.startRun(basicStart(), options);
  writer->logMetric("loss", 1, 1, 1);
  EXPECT_EQ(countRows(path, "SELECT count(*) FROM metrics"), 1);
}

TEST(TrackerWriter, EveryRecordTypeReadsBack) {
  TempDir tmp;
  Tracker tracker = Tracker::open(tmp.file("runs.sqlite"));
  auto writer = tracker.startRun(basicStart());
  writer->setTag("note", "first");
  writer->setTag("note", "second"); // tags may change
  writer->logEnvironment({{"libtorch", "1.13.0"}, {"device_name", "cpu"}});
  runtime::VerdictRecord v;
  v.network = "hr";
  v.statementIndex = 1;
  v.statement = "deepen after maxpool with conv(3x3) + bn + prelu";
  v.location = "experiments/quick.mhr:21:3";
  v.verdict = "eval";
  v.reason = "bn is exact in eval mode";
  v.mode = "eval";
  v.maxAbsError = 1.5e-7;
  v.relError = 2e-8;
  writer->logVerdict(v);
  runtime::LineageRecord l{"hr", "base", "train.base", {"upscale conv1 by 8", "widen layer1.0.conv1 to 32"}};
  writer->logLineage(l);
  writer->logArtifact({"checkpoint", "out/hr.pt", "0123abcd", 1024, "train.hr"});
  runtime::PredictionSet p;
  p.stage = "evaluate.hr";
  p.classes = {"benign", "malignant"};
  p.sampleIds = {"a", "b", "c"};
  p.labels = {{1, 0}, {0, 1}, {0, 1}};
  p.scores = {{0.8f, 0.2f}, {0.3f, 0.7f}, {0.6f, 0.4f}};
  writer->logPredictions(p);
  runtime::CamRecord cam;
  cam.stage = "evaluate.hr";
  cam.sampleId = "b";
  cam.label = "malignant";
  cam.predicted = "malignant 0.70";
  cam.height = 4;
  cam.width = 3;
  cam.image = std::vector<float>(12, 0.25f);
  cam.camHeight = 2;
  cam.camWidth = 2;
  cam.cam = {0, 0.5f, 1, 0.25f};
  writer->logCam(cam);
  writer->finish(RunStatus::Finished);

  RunDetails d = loadRun(tracker.db(), writer->runId());
  EXPECT_EQ(d.tags.at("note"), "second");
  EXPECT_EQ(d.environment.at("libtorch"), "1.13.0");
  ASSERT_EQ(d.verdicts.size(), 1u);
  EXPECT_EQ(d.verdicts[0].statement, v.statement);
  EXPECT_EQ(d.verdicts[0].verdict, "eval");
  EXPECT_EQ(d.verdicts[0].maxAbsError, 1.5e-7);
  EXPECT_TRUE(std::isnan(d.verdicts[0].borderError)); // not checked stays NaN (NULL in SQL)
  ASSERT_EQ(d.lineage.size(), 1u);
  EXPECT_EQ(d.lineage[0].statements, l.statements);
  EXPECT_EQ(d.lineage[0].parentStage, "train.base");
  ASSERT_EQ(d.artifacts.size(), 1u);
  EXPECT_EQ(d.artifacts[0].bytes, 1024);
  ASSERT_EQ(d.predictionSets.size(), 1u);
  EXPECT_EQ(d.predictionSets[0].samples, 3);
  EXPECT_EQ(d.camCount, 1);

  auto sets = loadPredictions(tracker.db(), writer->runId());
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0].sampleIds, p.sampleIds);
  EXPECT_EQ(sets[0].labels, p.labels);
  EXPECT_EQ(sets[0].scores, p.scores);
  auto cams = loadCams(tracker.db(), writer->runId());
  ASSERT_EQ(cams.size(), 1u);
  EXPECT_EQ(cams[0].image, cam.image);
  EXPECT_EQ(cams[0].cam, cam.cam);
  EXPECT_EQ(cams[0].predicted, "malignant 0.70");
}

TEST(TrackerWriter, WriterClosedWithoutFinishLeavesAnInterruptedRun) {
  TempDir tmp;
  Tracker tracker = Tracker::open(tmp.file("runs.sqlite"));
  std::string id;
  {
    auto writer = tracker.startRun(basicStart());
    id = writer->runId();
    writer->logMetric("loss", 1.0, 1, 1); // buffered: the destructor must still write it
  }
  RunDetails d = loadRun(tracker.db(), id);
  EXPECT_EQ(d.info.status, "interrupted");
  EXPECT_NE(d.info.statusMessage.find("without finishing"), std::string::npos);
  EXPECT_EQ(d.metricPoints, 1);
}

TEST(TrackerWriter, FailedStatusKeepsTheMessage) {
  TempDir tmp;
  Tracker tracker = Tracker::open(tmp.file("runs.sqlite"));
  auto writer = tracker.startRun(basicStart());
  writer->finish(RunStatus::Failed, "loss became NaN at step 12 (stage train.hr)");
  RunInfo info = loadRunInfo(tracker.db(), writer->runId());
  EXPECT_EQ(info.status, "failed");
  EXPECT_EQ(info.statusMessage, "loss became NaN at step 12 (stage train.hr)");
}

TEST(TrackerWriter, RunReferencesByIdPrefixOrName) {
  TempDir tmp;
  Tracker tracker = Tracker::open(tmp.file("runs.sqlite"));
  RunStart a = basicStart();
  a.runName = "alpha";
  auto w1 = tracker.startRun(a);
  auto w2 = tracker.startRun(basicStart());
  const std::string id = w1->runId();
  EXPECT_EQ(tracker.resolveRunId(id), id);
  EXPECT_EQ(tracker.resolveRunId(id.substr(0, 12)), id);
  EXPECT_EQ(tracker.resolveRunId(" " + id.substr(0, 12) + " "), id);
  std::string upper = id;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(tracker.resolveRunId(upper), id);
  EXPECT_EQ(tracker.resolveRunId("alpha"), id);
  EXPECT_THROW(tracker.resolveRunId("nosuchrun"), UserError);
  EXPECT_THROW(tracker.resolveRunId(""), UserError);
  // Make two ids share a prefix to see the ambiguity error list both.
  tracker.db().exec("UPDATE runs SET run_uuid = 'abcd' || substr(run_uuid, 5)");
  try {
    tracker.resolveRunId("abcd");
    FAIL() << "expected an ambiguity error";
  } catch (const UserError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("ambiguous"), std::string::npos) << m;
    EXPECT_NE(m.find("alpha"), std::string::npos) << m;
  }
}

TEST(TrackerWriter, CreatesTheDatabaseFolder) {
  TempDir tmp;
  std::string path = tmp.file("out/nested/runs.sqlite");
  Tracker::open(path);
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST(TrackerWriter, HostEnvironmentFacts) {
  auto facts = hostEnvironment();
  EXPECT_FALSE(facts["kernel"].empty());
  EXPECT_FALSE(facts["hostname"].empty());
  EXPECT_GT(std::stoi(facts.at("cpu_cores")), 0);
  EXPECT_NE(facts.at("memory").find(" GiB"), std::string::npos);
  if (std::filesystem::exists("/etc/os-release")) {
    EXPECT_FALSE(facts["os"].empty());
  }
}

TEST(TrackerWriter, ResolveDbPathOrder) {
  ::unsetenv("MHR_DB");
  EXPECT_EQ(resolveDbPath(std::nullopt), "mhr-runs.sqlite");
  ::setenv("MHR_DB", "/tmp/from-env.sqlite", 1);
  EXPECT_EQ(resolveDbPath(std::nullopt), "/tmp/from-env.sqlite");
  EXPECT_EQ(resolveDbPath(std::string("flag.sqlite")), "flag.sqlite");
  ::setenv("MHR_DB", "", 1);
  EXPECT_EQ(resolveDbPath(std::nullopt), "mhr-runs.sqlite");
  ::unsetenv("MHR_DB");
}

TEST(TrackerWriter, ResumeContinuesTheSameRun) {
  TempDir tmp;
  Tracker tracker = Tracker::open(tmp.file("runs.sqlite"));
  RunStart start = basicStart();
  start.params = {{"lr", 0.01}};
  std::string id;
  {
    auto writer = tracker.startRun(start);
    id = writer->runId();
    for (int step = 1; step <= 10; ++step) writer->logMetric("loss", 1.0 / step, step, 1);
    writer->finish(RunStatus::Interrupted, "SIGINT");
  }
  ResumeOptions options;
  options.discardMetricsAfterStep = 6; // the checkpoint was at step 6
  auto writer = tracker.resumeRun(id.substr(0, 8), options);
  EXPECT_EQ(writer->runId(), id);
  RunDetails d = loadRun(tracker.db(), id);
  EXPECT_EQ(d.info.status, "running");
  EXPECT_EQ(d.info.resumeCount, 1);
  EXPECT_EQ(d.metricPoints, 6);
  ASSERT_EQ(d.latest.size(), 1u);
  EXPECT_EQ(d.latest[0].step, 6); // recomputed from what is left
  ASSERT_TRUE(d.tags.count("mhr.resume.1"));
  EXPECT_NE(d.tags.at("mhr.resume.1").find("was interrupted: SIGINT"), std::string::npos);
  writer->logParam("lr", 0.01); // the same params are accepted again after a resume
  EXPECT_THROW(writer->logParam("lr", 0.5), UserError);
  for (int step = 7; step <= 10; ++step) writer->logMetric("loss", 1.0 / step, step, 2);
  writer->finish(RunStatus::Finished);
  d = loadRun(tracker.db(), id);
  EXPECT_EQ(d.info.status, "finished");
  EXPECT_EQ(d.metricPoints, 10);
  EXPECT_EQ(d.latest[0].step, 10);
  EXPECT_EQ(d.latest[0].epoch, 2);
}

TEST(TrackerWriter, ResumeRefusesFinishedAndLiveRuns) {
  TempDir tmp;
  Tracker tracker = Tracker::open(tmp.file("runs.sqlite"));
  auto done = tracker.startRun(basicStart());
  done->finish(RunStatus::Finished);
  try {
    tracker.resumeRun(done->runId());
    FAIL() << "expected an error";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("nothing to resume"), std::string::npos) << e.what();
  }
  auto live = tracker.startRun(basicStart()); // this very process writes it: alive
  try {
    tracker.resumeRun(live->runId());
    FAIL() << "expected an error";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("still running"), std::string::npos) << e.what();
  }
  // A run marked running by another host cannot be checked: it needs --force.
  tracker.db().exec("UPDATE runs SET host = 'elsewhere' WHERE status = 'running'");
  EXPECT_THROW(tracker.resumeRun(live->runId()), UserError);
  ResumeOptions force;
  force.force = true;
  auto taken = tracker.resumeRun(live->runId(), force);
  EXPECT_EQ(taken->runId(), live->runId());
  taken->finish(RunStatus::Finished);
  // The old writer no longer owns the run: its final status must not overwrite the new owner's.
  EXPECT_THROW(live->finish(RunStatus::Interrupted), UserError);
  EXPECT_EQ(loadRunInfo(tracker.db(), live->runId()).status, "finished");
}

TEST(TrackerWriter, OpenMarksRunsOfDeadProcessesInterrupted) {
  TempDir tmp;
  std::string path = tmp.file("runs.sqlite");
  Tracker tracker = Tracker::open(path);
  auto live = tracker.startRun(basicStart());
  auto ghost = tracker.startRun(basicStart());
  // Pretend `ghost` was written by a process that has since gone: same host, a pid start time that no
  // longer matches (the pid-reuse case).
  Stmt s =
      tracker.db().prepare("UPDATE runs SET pid_start_ticks = pid_start_ticks + 12345 WHERE run_uuid = ?");
  s.bind(1, ghost->runId()).run();
  EXPECT_EQ(tracker.markDeadRunsInterrupted(), 1);
  EXPECT_EQ(loadRunInfo(tracker.db(), ghost->runId()).status, "interrupted");
  EXPECT_EQ(loadRunInfo(tracker.db(), live->runId()).status, "running");
  Tracker second = Tracker::open(path); // opening does the same; the live run stays running
  EXPECT_EQ(loadRunInfo(second.db(), live->runId()).status, "running");
}

} // namespace
} // namespace mhr::tracker
