// tests/tracker/aggregate_cli_test.cpp — `mhr runs aggregate` end to end: the real `mhr` binary on a study
// written through the tracker's writer (2 arms x 2 target sizes x 3 seeds, plus unfinished, incomplete and
// duplicated runs): the tables on stdout, the note about unfinished runs on stderr, the CSV, markdown and
// HTML files, and the user errors (exit code 1) for a missing tag, an ambiguous cell and an unknown --order
// value.
#include "tests/tracker/test_util.h"

#include <filesystem>
#include <gtest/gtest.h>

namespace mhr::tracker {
namespace {

using testing::CommandResult;
using testing::TempDir;

const std::string kMhr = MHR_BINARY;

class AggregateCliTest : public ::testing::Test {
protected:
  void SetUp() override {
    db_ = tmp_.file("runs.sqlite");
    Tracker tracker = Tracker::open(db_);
    ids_ = testing::fillStudyFixture(tracker);
  }
  CommandResult aggregate(std::vector<std::string> args) {
    std::vector<std::string> argv = {
        kMhr,   "runs", "aggregate", "--db",        db_,      "--metric", "evaluate.net/auc",
        "--by", "arm",  "--within",  "target_size", "--pair", "seed"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::runCommand(argv);
  }
  TempDir tmp_;
  std::string db_;
  std::map<std::string, std::string> ids_;
};

TEST_F(AggregateCliTest, TablesFilesAndTheNoteAboutUnfinishedRuns) {
  std::string csv = tmp_.file("out/runs.csv"), md = tmp_.file("tables.md"), html = tmp_.file("study.html");
  std::filesystem::create_directories(tmp_.file("out"));
  auto r = aggregate({"--where", "tags.study = 's1'", "--order", "b,a", "--compare", "a:b", "--metric-column",
                      "test_auc", "--csv", csv, "--markdown", md, "--html", html, "--title", "Study s1"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.err, "mhr: note: left out 2 selected runs that are not finished (1 failed, 1 interrupted)\n"
                   "mhr: wrote " +
                       csv + "\nmhr: wrote " + md + "\nmhr: wrote " + html + "\n");
  EXPECT_NE(r.out.find("target_size  arm  n    mean            95% CI      sd     min     max\n"
                       "-----------  ---  -  ------  ----------------  ------  ------  ------\n"
                       "50           b    3  0.7767  [0.7141, 0.8392]  0.0252  0.7500  0.8000\n"
                       "50           a    3  0.7200  [0.6703, 0.7697]  0.0200  0.7000  0.7400\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(
                "50           a  b      3           0/0   -0.0567  [-0.0710, -0.0423]    0 of 3  b higher\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("200          a  b      3           0/0   -0.0033   [-0.0413, 0.0346]    1 of 3  no "
                       "difference shown\n"),
            std::string::npos)
      << r.out;

  std::string expected = "arm,target_size,seed,test_auc,run_id\n";
  auto row = [&](const std::string& arm, const std::string& size, const std::string& seed,
                 const std::string& v) {
    expected +=
        arm + "," + size + "," + seed + "," + v + "," + ids_.at("s1/" + arm + "/" + size + "/" + seed) + "\n";
  };
  row("b", "50", "1", "0.75");
  row("b", "50", "2", "0.78");
  row("b", "50", "10", "0.8");
  row("a", "50", "1", "0.7");
  row("a", "50", "2", "0.72");
  row("a", "50", "10", "0.74");
  row("b", "200", "1", "0.8");
  row("b", "200", "2", "0.8");
  row("b", "200", "10", "0.81");
  row("a", "200", "1", "0.8");
  row("a", "200", "2", "0.81");
  row("a", "200", "10", "0.79");
  EXPECT_EQ(testing::readText(csv), expected);

  std::string markdown = testing::readText(md);
  EXPECT_NE(markdown.find("| 50 | b | 3 | 0.7767 | [0.7141, 0.8392] | 0.0252 | 0.7500 | 0.8000 |\n"),
            std::string::npos)
      << markdown;
  EXPECT_NE(markdown.find("| 50 | a | b | 3 | 0/0 | -0.0567 | [-0.0710, -0.0423] | 0 of 3 | b higher |\n"),
            std::string::npos)
      << markdown;
  std::string page = testing::readText(html);
  EXPECT_NE(page.find("<title>Study s1</title>"), std::string::npos);
  EXPECT_NE(page.find("<circle class=\"dot\""), std::string::npos);
}

TEST_F(AggregateCliTest, WithoutWithinOrCompare) {
  auto r =
      testing::runCommand({kMhr, "runs", "aggregate", "--db", db_, "--metric", "evaluate.net/auc", "--by",
                           "arm", "--pair", "seed", "--where", "tags.study = 'dup' and tags.arm = 'x'"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_EQ(r.err, "mhr: error: no run matches the selection\n");
  r = testing::runCommand({kMhr, "runs", "aggregate", "--db", db_, "--metric", "evaluate.net/auc", "--by",
                           "target_size", "--pair", "seed", "--where",
                           "tags.study = 's1' and tags.arm = 'a' and status = 'finished'"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.err, "") << "no unfinished run was selected";
  EXPECT_NE(r.out.find("target_size  n    mean            95% CI      sd     min     max\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("Table 2"), std::string::npos);
}

TEST_F(AggregateCliTest, UserErrors) {
  auto r = aggregate({"--where", "tags.study = 'missing'"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("run " + ids_.at("missing/no-seed") + " has no tag 'seed' (--pair)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("run " + ids_.at("missing/no-metric") + " has no metric 'evaluate.net/auc'"),
            std::string::npos)
      << r.err;

  r = aggregate({"--where", "tags.study = 'dup'"});
  EXPECT_EQ(r.exitCode, 1);
  const std::string first = std::min(ids_.at("dup/a/50/1"), ids_.at("dup/a/50/1#2"));
  const std::string second = std::max(ids_.at("dup/a/50/1"), ids_.at("dup/a/50/1#2"));
  EXPECT_NE(r.err.find("mhr: error: runs " + first + " and " + second +
                       " are both target_size=50 arm=a seed=1: which one counts is ambiguous"),
            std::string::npos)
      << r.err;

  r = aggregate({"--where", "tags.study = 's1'", "--order", "a,b,c"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_EQ(r.err,
            "mhr: error: --order names arm 'c', which no finished selected run has (arm values: a, b)\n");
  r = aggregate({"--where", "tags.study = 's1'", "--compare", "a:z"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--compare names arm 'z'"), std::string::npos) << r.err;
  r = aggregate({"--where", "tags.study = 's1'", "--compare", "a-b"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--compare entry 'a-b' is not A:B"), std::string::npos) << r.err;
  r = aggregate({"--where", "tags.study = "});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("invalid --where expression"), std::string::npos) << r.err;

  r = testing::runCommand({kMhr, "runs", "aggregate", "--db", db_, "--by", "arm", "--pair", "seed"});
  EXPECT_EQ(r.exitCode, 2) << "--metric is required";
}

} // namespace
} // namespace mhr::tracker
