// tests/tracker/runs_output_test.cpp — what `mhr runs list|show|compare|export` print, on the fixture
// database (times shown in UTC: the tests set TZ).
#include "tests/tracker/test_util.h"
#include "tracker/report.h"
#include "tracker/runs_output.h"

#include "support/error.h"

#include <cstdlib>
#include <ctime>
#include <functional>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace mhr::tracker {
namespace {

using testing::TempDir;

class RunsOutputTest : public ::testing::Test {
protected:
  void SetUp() override {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    tracker_ = std::make_unique<Tracker>(Tracker::open(tmp_.file("runs.sqlite")));
    ids_ = testing::fillFixture(*tracker_);
  }
  std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < text.size()) {
      size_t nl = text.find('\n', start);
      out.push_back(text.substr(start, nl - start));
      start = nl == std::string::npos ? text.size() : nl + 1;
    }
    return out;
  }
  TempDir tmp_;
  std::unique_ptr<Tracker> tracker_;
  std::vector<std::string> ids_;
};

TEST_F(RunsOutputTest, ListDefaultColumnsNewestFirst) {
  ListOptions options;
  std::string out = renderList(tracker_->db(), options);
  auto l = lines(out);
  ASSERT_EQ(l.size(), 6u) << out;
  EXPECT_EQ(l[0], "run       experiment  name      status    started              duration");
  EXPECT_EQ(l[1], "--------  ----------  --------  --------  -------------------  --------");
  EXPECT_EQ(l[2], ids_[3].substr(0, 8) + "  mammo       rerun     finished  2025-01-04 10:00:00     1m08s");
  EXPECT_EQ(l[4], ids_[1].substr(0, 8) + "  mammo       bigger    finished  2025-01-02 10:00:00     1m06s");
  EXPECT_EQ(l[3], ids_[2].substr(0, 8) + "  cxr         chest     failed    2025-01-03 10:00:00     1m07s");
}

TEST_F(RunsOutputTest, ListAddsTheFieldsOfWhereAndSort) {
  ListOptions options;
  options.selection.where = "params.batch >= 8 and tags.sweep = 's1'";
  options.selection.sort = "metrics.`evaluate.base/auc` desc";
  auto l = lines(renderList(tracker_->db(), options));
  ASSERT_EQ(l.size(), 4u);
  EXPECT_NE(l[0].find("params.batch  tags.sweep  metrics.evaluate.base/auc"), std::string::npos) << l[0];
  EXPECT_NE(l[2].find("baseline"), std::string::npos); // 0.91 first
  EXPECT_NE(l[2].find("       8  s1                               0.91"), std::string::npos) << l[2];
  EXPECT_NE(l[3].find("bigger"), std::string::npos);
}

TEST_F(RunsOutputTest, ListChosenColumnsAndEmptyResults) {
  ListOptions options;
  options.columns = "name, params.lr, params.arch, metrics.`evaluate.base/auc`, seed";
  options.selection.experiment = "mammo";
  options.selection.sort = "name";
  std::string out = renderList(tracker_->db(), options);
  auto l = lines(out);
  ASSERT_EQ(l.size(), 5u) << out;
  EXPECT_EQ(l[0], "name      params.lr  params.arch  metrics.evaluate.base/auc  seed");
  EXPECT_EQ(l[2], "baseline       0.01  resnet18                          0.91     7");
  EXPECT_EQ(l[3], "bigger        0.001  resnet50                          0.88     7");
  options.selection.where = "params.lr > 1";
  EXPECT_EQ(renderList(tracker_->db(), options), "no run matches the selection\n");
}

TEST_F(RunsOutputTest, FieldWarningsSuggestExistingKeys) {
  ListOptions options;
  options.selection.where = "metrics.`evaluate.base/acu` > 0.5 and params.lr > 0 and tags.swep = 'x'";
  auto warnings = fieldWarnings(tracker_->db(), options);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0], "no run has metric 'evaluate.base/acu' (did you mean 'evaluate.base/auc'?)");
  EXPECT_EQ(warnings[1], "no run has tag 'swep' (did you mean 'sweep'?)");
}

TEST_F(RunsOutputTest, ShowHasEverySection) {
  std::string out = renderShow(tracker_->db(), ids_[2], true);
  EXPECT_NE(out.find("run            " + ids_[2] + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find("status         failed: loss became NaN at step 4\n"), std::string::npos) << out;
  EXPECT_NE(out.find("started        2025-01-03 10:00:00  (ended 2025-01-03 10:01:07, took 1m07s)"),
            std::string::npos);
  EXPECT_NE(out.find("semantic hash  sem-b\n"), std::string::npos);
  EXPECT_NE(out.find("Params (4)\n  key         value        type\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  lr          0.0001       float\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  pretrained  false        bool\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Metrics (latest value of 3 keys; 6 points logged)"), std::string::npos) << out;
  EXPECT_NE(out.find("evaluate.base/auc             nan     4      4"), std::string::npos) << out;
  EXPECT_NE(out.find("Verdicts"), std::string::npos);
  EXPECT_NE(out.find("hr       0  upscale conv1 by 8  exact    both"), std::string::npos) << out;
  EXPECT_NE(out.find("device_name  NVIDIA H100 80GB HBM3"), std::string::npos) << out;
  EXPECT_NE(out.find("Spec (experiments/chest.mhr)\nexperiment \"cxr\"\nseed 3\n"), std::string::npos) << out;
  EXPECT_EQ(renderShow(tracker_->db(), ids_[2], false).find("Spec ("), std::string::npos);
}

TEST_F(RunsOutputTest, CompareShowsDifferencesAndAgreement) {
  std::string out = renderCompare(tracker_->db(), {ids_[0], ids_[1], ids_[3]}, {});
  std::string a = ids_[0].substr(0, 8), b = ids_[1].substr(0, 8), c = ids_[3].substr(0, 8);
  EXPECT_NE(out.find("Params that differ (3 of 4; the other 1 are equal)"), std::string::npos) << out;
  EXPECT_NE(out.find("  arch   resnet18  resnet50  resnet18\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  lr     0.01      0.001     0.01\n"), std::string::npos) << out;
  EXPECT_NE(out.find("semantic hash  sem-a                sem-a                sem-a\n"), std::string::npos)
      << out;
  EXPECT_EQ(out.find("  pretrained  "), std::string::npos) << "equal params are not listed\n" << out;
  EXPECT_NE(out.find("Metrics (latest value)"), std::string::npos);
  EXPECT_NE(out.find("hr[0] upscale conv1 by 8  exact 0   exact 2.5e-07  exact 0"), std::string::npos) << out;
  EXPECT_NE(out.find("Runs of the same semantic hash\n  semantic hash sem-a\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  " + a + " vs " + b + ": DIFFER: first at evaluate.base/auc step 4: 0.91 vs 0.88"),
            std::string::npos)
      << out;
  // What may explain a difference is said beside it; equal settings add nothing.
  EXPECT_NE(out.find("(their settings differ: threads 2 vs 16)\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("threads 2 vs 2"), std::string::npos) << out;
  EXPECT_NE(out.find("  " + a + " vs " + c + ": agree, bit-identical (6 metric points)"), std::string::npos)
      << out;

  std::string two = renderCompare(tracker_->db(), {ids_[0], ids_[1]}, {});
  EXPECT_NE(two.find("diff"), std::string::npos) << two;
  EXPECT_NE(two.find("0.91      0.88  -0.03"), std::string::npos) << two;
  EXPECT_THROW(renderCompare(tracker_->db(), {ids_[0]}, {}), UserError);
}

TEST_F(RunsOutputTest, HistoryAgreementKinds) {
  std::vector<MetricPoint> a = {{"loss", 1.0, 1, 1, 0}, {"loss", 0.5, 2, 1, 0}};
  std::vector<MetricPoint> b = a;
  EXPECT_EQ(compareHistories(a, b, 1e-6).kind, Agreement::Kind::Identical);
  b[1].value = 0.5 * (1 + 1e-9);
  Agreement near = compareHistories(a, b, 1e-6);
  EXPECT_EQ(near.kind, Agreement::Kind::WithinTolerance);
  EXPECT_NEAR(near.maxRelDiff, 1e-9, 1e-12);
  b[1].value = 0.6;
  Agreement far = compareHistories(a, b, 1e-6);
  EXPECT_EQ(far.kind, Agreement::Kind::Differ);
  EXPECT_EQ(far.firstDiffKey, "loss");
  EXPECT_EQ(far.firstDiffStep, 2);
  b = a;
  b.push_back({"loss", 0.25, 3, 1, 0});
  Agreement longer = compareHistories(a, b, 1e-6);
  EXPECT_EQ(longer.kind, Agreement::Kind::Differ);
  EXPECT_EQ(longer.stepsOnlyInOne, 1);
  b = a;
  b.push_back({"auc", 0.9, 2, 1, 0});
  EXPECT_EQ(compareHistories(a, b, 1e-6).keysOnlyInOne, 1);
  a[0].value = NAN;
  b = a;
  EXPECT_EQ(compareHistories(a, b, 1e-6).kind, Agreement::Kind::Identical); // NaN equals NaN here
}

TEST_F(RunsOutputTest, SweepTagGroupsRuns) {
  EXPECT_EQ(runsOfSweep(tracker_->db(), "s1"), (std::vector<std::string>{ids_[0], ids_[1]}));
  EXPECT_TRUE(runsOfSweep(tracker_->db(), "none").empty());
}

TEST_F(RunsOutputTest, ExportCsv) {
  Selection sel;
  sel.sort = "name";
  std::string csv = renderExport(tracker_->db(), sel, ExportFormat::Csv, false);
  auto l = lines(csv);
  ASSERT_EQ(l.size(), 5u) << csv;
  EXPECT_EQ(l[0],
            "run_id,experiment,run_name,status,start_time,end_time,duration_s,seed,spec_path,spec_hash,"
            "semantic_hash,params.arch,params.batch,params.lr,params.pretrained,metrics.evaluate.base/auc,"
            "metrics.evaluate.base/auc/Effusion,metrics.train.base/loss,tags.sweep");
  EXPECT_EQ(l[1], ids_[0] +
                      ",mammo,baseline,finished,2025-01-01T10:00:00Z,2025-01-01T10:01:05Z,65,7,"
                      "experiments/baseline.mhr,spec-baseline,sem-a,resnet18,8,0.01,true,0.91,0.85,0.25,s1");
  EXPECT_NE(l[3].find(",failed,"), std::string::npos);
  EXPECT_NE(l[3].find(",nan,"), std::string::npos) << l[3];
  EXPECT_THROW(renderExport(tracker_->db(), sel, ExportFormat::Csv, true), UserError);
}

TEST_F(RunsOutputTest, ExportJsonKeepsTypes) {
  Selection sel;
  sel.where = "name = 'baseline' or name = 'chest'";
  sel.sort = "name";
  auto j = nlohmann::json::parse(renderExport(tracker_->db(), sel, ExportFormat::Json, true));
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["run_id"], ids_[0]);
  EXPECT_TRUE(j[0]["params"]["lr"].is_number_float());
  EXPECT_EQ(j[0]["params"]["lr"].get<double>(), 0.01);
  EXPECT_TRUE(j[0]["params"]["batch"].is_number_integer());
  EXPECT_TRUE(j[0]["params"]["pretrained"].is_boolean());
  EXPECT_TRUE(j[0]["params"]["arch"].is_string());
  EXPECT_EQ(j[0]["metrics"]["evaluate.base/auc"].get<double>(), 0.91);
  EXPECT_TRUE(j[1]["metrics"]["evaluate.base/auc"].is_null()); // NaN has no JSON form
  EXPECT_EQ(j[0]["start_time"].get<int64_t>(), 1735725600000);
  EXPECT_EQ(j[0]["history"]["train.base/loss"].size(), 4u);
  EXPECT_EQ(j[0]["history"]["train.base/loss"][3]["step"], 4);
  EXPECT_EQ(j[1]["status_message"], "loss became NaN at step 4");
}

} // namespace
} // namespace mhr::tracker

namespace mhr::tracker {
namespace {

// Issue 20: user text reaches the terminal with its control characters escaped, the HTML report keeps its
// own escaping, and the tracker refuses control characters in what it is asked to record.
class HostileTextTest : public RunsOutputTest {};

TEST_F(HostileTextTest, ControlCharactersNeverReachTheTerminalRaw) {
  const std::string evil = "\x1b[2J\x1b]0;pwned\x07<b>x</b>";
  RunStart start;
  start.experiment = "mammo";
  start.runName = "evil";
  start.tags = {{"note", "fine"}};
  auto writer = tracker_->startRun(start);
  writer->finish(RunStatus::Failed, "cannot read '" + evil + "'");
  const std::string id = writer->runId();
  // A database written by an older mhr (or by hand) may hold such a name: what is printed is still safe.
  tracker_->db().write([&] {
    tracker_->db().prepare("UPDATE runs SET name = ? WHERE run_uuid = ?").bind(1, evil).bind(2, id).run();
  });
  ListOptions options;
  for (const std::string& out : {renderList(tracker_->db(), options), renderShow(tracker_->db(), id, true)}) {
    EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
    EXPECT_EQ(out.find('\x07'), std::string::npos) << out;
    EXPECT_NE(out.find("\\e[2J\\e]0;pwned\\x07"), std::string::npos) << out;
  }
  std::string page = renderReport(tracker_->db(), id);
  EXPECT_EQ(page.find("<b>x</b>"), std::string::npos);
  EXPECT_NE(page.find("&lt;b&gt;x&lt;/b&gt;"), std::string::npos);
}

TEST_F(HostileTextTest, TheTrackerRefusesControlCharactersInNamesTagsAndParams) {
  auto refused = [&](const std::function<void(RunStart&)>& edit, const std::string& part) {
    RunStart start;
    start.experiment = "mammo";
    edit(start);
    try {
      tracker_->startRun(start);
      ADD_FAILURE() << "accepted " << part;
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\x1b'), std::string::npos) << e.what();
    }
  };
  refused([](RunStart& s) { s.runName = "a\x1b[31mb"; }, "the run name 'a\\e[31mb'");
  refused([](RunStart& s) { s.runName = std::string("a\0b", 3); }, "control character \\x00");
  refused([](RunStart& s) { s.experiment = "x\ny"; }, "the experiment name");
  refused([](RunStart& s) { s.tags["k"] = "v\x07"; }, "the tag k");
  refused([](RunStart& s) { s.params["lr"] = std::string("\x1b"); }, "the param lr");
  RunStart ok;
  ok.experiment = "mammo";
  ok.runName = "tab\tseparated";
  EXPECT_NO_THROW(tracker_->startRun(ok)->finish(RunStatus::Finished));
}

TEST_F(HostileTextTest, CsvExportDefusesFormulas) {
  RunStart start;
  start.experiment = "mammo";
  start.runName = "=cmd|' /C calc'!A0";
  start.tags = {{"a", "+1+1"}, {"b", "@SUM(A1)"}, {"c", "-2+3"}, {"d", "-0.5"}};
  start.params = {{"lr", -0.25}};
  tracker_->startRun(start)->finish(RunStatus::Finished);
  Selection sel;
  std::string csv = renderExport(tracker_->db(), sel, ExportFormat::Csv, false);
  EXPECT_NE(csv.find(",'=cmd|' /C calc'!A0,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",'+1+1,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",'@SUM(A1),"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",'-2+3,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",-0.5"), std::string::npos) << csv; // numbers stay numbers
  EXPECT_NE(csv.find(",-0.25,"), std::string::npos) << csv;
  EXPECT_EQ(csv.find(",=cmd"), std::string::npos) << csv;
}

} // namespace
} // namespace mhr::tracker
