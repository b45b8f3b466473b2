// tests/tracker/cli_test.cpp — end to end: the real `mhr` binary (build/mhr) runs `runs list|show|compare|
// export` and `report` on a database this test fills, with --db, MHR_DB, run id prefixes, and the exit
// codes of CLI.md (0 success, 1 user error, 2 usage error).
#include "tests/tracker/test_util.h"

#include <filesystem>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace mhr::tracker {
namespace {

using testing::CommandResult;
using testing::TempDir;

const std::string kMhr = MHR_BINARY;

class CliTest : public ::testing::Test {
protected:
  void SetUp() override {
    db_ = tmp_.file("runs.sqlite");
    Tracker tracker = Tracker::open(db_);
    ids_ = testing::fillFixture(tracker);
    reportRun_ = testing::fillReportRun(tracker);
  }
  CommandResult mhr(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), kMhr);
    env.push_back("TZ=UTC");
    return testing::runCommand(args, env);
  }
  TempDir tmp_;
  std::string db_;
  std::vector<std::string> ids_;
  std::string reportRun_;
};

TEST_F(CliTest, ListWithWhereSortAndColumns) {
  auto r = mhr({"runs", "list", "--db", db_, "--where", "params.lr < 0.005 and experiment = 'mammo'",
                "--columns", "name, params.lr, metrics.`evaluate.base/auc`"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "name    params.lr  metrics.evaluate.base/auc\n"
                   "------  ---------  -------------------------\n"
                   "bigger      0.001                       0.88\n");
  EXPECT_EQ(r.err, "");
  r = mhr({"runs", "list", "--sort", "name desc", "--limit", "2", "--columns", "name"}, {"MHR_DB=" + db_});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "name\n----------\nrerun\nquickstart\n");
}

TEST_F(CliTest, BadWhereIsAUserErrorWithACaret) {
  auto r = mhr({"runs", "list", "--db", db_, "--where", "metrics.auc > 0.8; DROP TABLE runs"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("mhr: error: invalid --where expression: unexpected ';'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\n  metrics.auc > 0.8; DROP TABLE runs\n                   ^\n"), std::string::npos)
      << r.err;
  EXPECT_EQ(testing::countRows(db_, "SELECT count(*) FROM runs"), 5);
}

TEST_F(CliTest, WarnsAboutFieldsNoRunHas) {
  auto r = mhr({"runs", "list", "--db", db_, "--where", "metrics.`evaluate.base/acu` > 0.5"});
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_EQ(r.out, "no run matches the selection\n");
  EXPECT_NE(
      r.err.find("mhr: warning: no run has metric 'evaluate.base/acu' (did you mean 'evaluate.base/auc'?)"),
      std::string::npos)
      << r.err;
}

TEST_F(CliTest, ShowByPrefixAndByName) {
  auto r = mhr({"runs", "show", ids_[2].substr(0, 6), "--db", db_, "--spec"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("run            " + ids_[2]), std::string::npos);
  EXPECT_NE(r.out.find("status         failed: loss became NaN at step 4"), std::string::npos);
  EXPECT_NE(r.out.find("Spec (experiments/chest.mhr)"), std::string::npos);
  r = mhr({"runs", "show", "quickstart", "--db", db_});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("run            " + reportRun_), std::string::npos);
  EXPECT_NE(r.out.find("Lineage\n  hr <- base (weights after train.base)"), std::string::npos) << r.out;
  r = mhr({"runs", "show", "zzzz", "--db", db_});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("no run 'zzzz'"), std::string::npos) << r.err;
}

TEST_F(CliTest, CompareRunsAndSweep) {
  auto r = mhr({"runs", "compare", ids_[0].substr(0, 8), ids_[3].substr(0, 8), "--db", db_});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("Params: all 4 are equal"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(": agree, bit-identical (6 metric points)"), std::string::npos) << r.out;
  r = mhr({"runs", "compare", "--sweep", "s1", "--db", db_});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("DIFFER"), std::string::npos) << r.out;
  r = mhr({"runs", "compare", ids_[0], "--db", db_});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("at least two runs"), std::string::npos);
}

TEST_F(CliTest, ExportCsvAndJson) {
  auto r = mhr({"runs", "export", "--db", db_, "--format", "json", "--where", "status = 'failed'"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["run_id"], ids_[2]);
  EXPECT_EQ(j[0]["params"]["batch"], 8);
  std::string csv = tmp_.file("runs.csv");
  r = mhr({"runs", "export", "--db", db_, "-o", csv});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  std::string text = testing::readText(csv);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 6); // header + 5 runs
  r = mhr({"runs", "export", "--db", db_, "--format", "xml"});
  EXPECT_EQ(r.exitCode, 2) << "an invalid choice is a usage error";
}

TEST_F(CliTest, ReportWritesOneHtmlFile) {
  std::string out = tmp_.file("report.html");
  auto r = mhr({"report", reportRun_.substr(0, 8), "-o", out, "--db", db_});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, out + "\n");
  std::string page = testing::readText(out);
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find("quickstart"), std::string::npos);
}

TEST_F(CliTest, MissingDatabaseAndUsageErrors) {
  auto r = mhr({"runs", "list", "--db", tmp_.file("nope.sqlite")});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("no tracker database at"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(tmp_.file("nope.sqlite")));
  r = mhr({"runs"});
  EXPECT_EQ(r.exitCode, 2);
  r = mhr({"runs", "show", "--db", db_});
  EXPECT_EQ(r.exitCode, 2) << "the run argument is required";
  r = mhr({"runs", "list", "--db", "none"});
  EXPECT_EQ(r.exitCode, 1);
}

} // namespace
} // namespace mhr::tracker
