// tests/tracker/aggregate_test.cpp — `mhr runs aggregate`'s statistics (tracker/aggregate.h) against
// hand-computed answers (mean, sd, Student's t interval, the paired difference, the verdict rule in all its
// cases), its errors (a missing tag or metric, two runs in one cell, --order/--compare values no run has),
// and its text, CSV, markdown and HTML output on a study written through the tracker's writer.
#include "tests/tracker/test_util.h"
#include "tracker/aggregate.h"

#include "support/error.h"

#include <cmath>
#include <functional>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace mhr::tracker {
namespace {

using testing::TempDir;

std::string errorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no error)";
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// ------------------------------------------------------------------------------------------- statistics

TEST(AggregateStats, TQuantileTable) {
  EXPECT_DOUBLE_EQ(tQuantile975(1), 12.706);
  EXPECT_DOUBLE_EQ(tQuantile975(2), 4.303);
  EXPECT_DOUBLE_EQ(tQuantile975(4), 2.776);
  EXPECT_DOUBLE_EQ(tQuantile975(30), 2.042);
  EXPECT_DOUBLE_EQ(tQuantile975(31), 1.96);
  EXPECT_DOUBLE_EQ(tQuantile975(0), 1.96); // no interval is drawn from it: summarize stops at n < 2
}

TEST(AggregateStats, MeanSdAndTInterval) {
  // mean 0.7, sd 0.1, half-width t(0.975, 2) * 0.1 / sqrt(3) = 4.303 * 0.057735 = 0.248434.
  Summary s = summarize({0.6, 0.7, 0.8});
  EXPECT_EQ(s.n, 3u);
  EXPECT_NEAR(s.mean, 0.7, 1e-12);
  EXPECT_NEAR(s.sd, 0.1, 1e-12);
  EXPECT_NEAR(s.halfWidth, 4.303 * 0.1 / std::sqrt(3.0), 1e-12);
  EXPECT_NEAR(s.halfWidth, 0.248434, 1e-6);
  EXPECT_NEAR(s.lo(), 0.451566, 1e-6);
  EXPECT_NEAR(s.hi(), 0.948434, 1e-6);
  EXPECT_DOUBLE_EQ(s.min, 0.6);
  EXPECT_DOUBLE_EQ(s.max, 0.8);
  // Five seeds: t(0.975, 4) = 2.776; values 1..5 have sd sqrt(2.5).
  Summary five = summarize({3, 1, 5, 2, 4});
  EXPECT_DOUBLE_EQ(five.mean, 3);
  EXPECT_NEAR(five.sd, std::sqrt(2.5), 1e-12);
  EXPECT_NEAR(five.halfWidth, 2.776 * std::sqrt(2.5) / std::sqrt(5.0), 1e-12);
}

TEST(AggregateStats, OneValueHasNoSpreadAndNoneHasNothing) {
  Summary one = summarize({0.8});
  EXPECT_EQ(one.n, 1u);
  EXPECT_DOUBLE_EQ(one.mean, 0.8);
  EXPECT_DOUBLE_EQ(one.min, 0.8);
  EXPECT_DOUBLE_EQ(one.max, 0.8);
  EXPECT_TRUE(std::isnan(one.sd));
  EXPECT_TRUE(std::isnan(one.halfWidth));
  Summary none = summarize({});
  EXPECT_EQ(none.n, 0u);
  EXPECT_TRUE(std::isnan(none.mean));
}

TEST(AggregateStats, PairedDifferenceAndTheVerdictRule) {
  // Differences A - B on seeds 1..3: 0.10, 0.05, 0.10 -> mean 0.083333, sd 0.028868, half-width
  // 4.303 * 0.028868 / sqrt(3) = 0.071717: the interval [0.0116, 0.1551] lies above 0. B's seed 4 has no
  // partner.
  std::map<std::string, double> a = {{"1", 0.80}, {"2", 0.75}, {"3", 0.90}};
  std::map<std::string, double> b = {{"1", 0.70}, {"2", 0.70}, {"3", 0.80}, {"4", 0.60}};
  Paired p = pairUp(a, b);
  EXPECT_EQ(p.keys, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(p.unpairedA, 0u);
  EXPECT_EQ(p.unpairedB, 1u);
  EXPECT_EQ(p.wins, 3u);
  EXPECT_NEAR(p.difference.mean, 0.0833333, 1e-6);
  EXPECT_NEAR(p.difference.sd, 0.0288675, 1e-6);
  EXPECT_NEAR(p.difference.halfWidth, 0.0717167, 1e-6);
  EXPECT_EQ(p.verdict, Verdict::AHigher);
  EXPECT_EQ(verdictText(p.verdict, "c", "a"), "c higher");

  Paired reversed = pairUp(b, a); // the same pairs the other way round: the interval lies below 0
  EXPECT_EQ(reversed.unpairedA, 1u);
  EXPECT_EQ(reversed.unpairedB, 0u);
  EXPECT_EQ(reversed.wins, 0u);
  EXPECT_NEAR(reversed.difference.mean, -0.0833333, 1e-6);
  EXPECT_EQ(reversed.verdict, Verdict::BHigher);
  EXPECT_EQ(verdictText(reversed.verdict, "c", "a"), "a higher");

  // Differences 0.1, -0.1, 0.05: mean 0.016667, the interval spans 0.
  Paired mixed = pairUp({{"1", 0.9}, {"2", 0.6}, {"3", 0.75}}, {{"1", 0.8}, {"2", 0.7}, {"3", 0.7}});
  EXPECT_EQ(mixed.wins, 2u);
  EXPECT_LT(mixed.difference.lo(), 0);
  EXPECT_GT(mixed.difference.hi(), 0);
  EXPECT_EQ(mixed.verdict, Verdict::NoDifferenceShown);
  EXPECT_EQ(verdictText(mixed.verdict, "c", "a"), "no difference shown");

  // One shared seed is no interval, however large the difference.
  Paired single = pairUp({{"1", 0.9}, {"2", 0.9}}, {{"1", 0.1}, {"3", 0.1}});
  EXPECT_EQ(single.differences.size(), 1u);
  EXPECT_EQ(single.unpairedA, 1u);
  EXPECT_EQ(single.unpairedB, 1u);
  EXPECT_EQ(single.verdict, Verdict::TooFewPairs);
  EXPECT_EQ(verdictText(single.verdict, "c", "a"), "too few pairs");
  EXPECT_EQ(pairUp({}, {}).verdict, Verdict::TooFewPairs);
}

TEST(AggregateStats, PairsInNumericSeedOrder) {
  Paired p = pairUp({{"10", 1}, {"2", 1}, {"1", 1}}, {{"1", 0}, {"2", 0}, {"10", 0}});
  EXPECT_EQ(p.keys, (std::vector<std::string>{"1", "2", "10"}));
}

TEST(AggregateStats, NumericTagValuesSortAsNumbers) {
  EXPECT_TRUE(tagValueLess("200", "800"));
  EXPECT_TRUE(tagValueLess("50", "200"));
  EXPECT_FALSE(tagValueLess("200", "50"));
  EXPECT_TRUE(tagValueLess("2", "10"));
  EXPECT_TRUE(tagValueLess("-1", "0.5"));
  EXPECT_TRUE(tagValueLess("1e3", "2000"));
  EXPECT_TRUE(tagValueLess("10", "a")); // numbers before words
  EXPECT_TRUE(tagValueLess("a", "b"));
  EXPECT_TRUE(tagValueLess("1", "1.0") != tagValueLess("1.0", "1")); // still a strict order
  EXPECT_FALSE(tagValueLess("a", "a"));
}

TEST(AggregateStats, ParsesOrderAndCompareLists) {
  EXPECT_EQ(parseOrderList("a, b,c"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_NE(errorOf([] { parseOrderList("a,,b"); }).find("empty entry"), std::string::npos);
  EXPECT_NE(errorOf([] { parseOrderList("a,b,a"); }).find("names 'a' twice"), std::string::npos);
  auto c = parseCompareList("c:a, d:c");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0], std::make_pair(std::string("c"), std::string("a")));
  EXPECT_EQ(c[1], std::make_pair(std::string("d"), std::string("c")));
  EXPECT_NE(errorOf([] { parseCompareList("c-a"); }).find("is not A:B"), std::string::npos);
  EXPECT_NE(errorOf([] { parseCompareList("c:"); }).find("is not A:B"), std::string::npos);
  EXPECT_NE(errorOf([] { parseCompareList("c:c"); }).find("with itself"), std::string::npos);
}

// ------------------------------------------------------------------------------- aggregate() on inputs

AggregateInput input(const std::string& id, const std::string& arm, const std::string& seed,
                     std::optional<double> auc, const std::string& status = "finished") {
  AggregateInput in;
  in.runId = id;
  in.status = status;
  if (!arm.empty()) in.tags["arm"] = arm;
  if (!seed.empty()) in.tags["seed"] = seed;
  in.metric = auc;
  return in;
}

AggregateOptions armsBySeed() {
  AggregateOptions o;
  o.metric = "evaluate.net/auc";
  o.by = "arm";
  o.pair = "seed";
  return o;
}

TEST(Aggregate, GroupsSortsAndCountsUnfinishedRunsOut) {
  std::vector<AggregateInput> inputs = {
      input("r1", "b", "10", 0.5),
      input("r2", "b", "2", 0.6),
      input("r3", "a", "2", 0.7),
      input("r4", "a", "10", 0.8),
      input("r5", "a", "3", NAN, "failed"),
      input("r6", "b", "2", 0.9, "running"),
      input("r7", "c", "", std::nullopt, "failed")}; // unfinished runs need nothing
  AggregateOptions o = armsBySeed();
  o.compare = {{"b", "a"}};
  Aggregate r = aggregate(inputs, o);
  EXPECT_EQ(r.byValues, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.withinValues, (std::vector<std::string>{""}));
  ASSERT_EQ(r.runs.size(), 4u);
  EXPECT_EQ(r.runs[0].runId, "r3"); // a/2, a/10, b/2, b/10
  EXPECT_EQ(r.runs[1].runId, "r4");
  EXPECT_EQ(r.runs[2].runId, "r2");
  EXPECT_EQ(r.runs[3].runId, "r1");
  EXPECT_EQ(r.leftOut, (std::map<std::string, size_t>{{"failed", 2}, {"running", 1}}));
  EXPECT_EQ(leftOutNote(r), "left out 3 selected runs that are not finished (2 failed, 1 running)");
  ASSERT_EQ(r.groups.size(), 2u);
  EXPECT_NEAR(r.groups[0].summary.mean, 0.75, 1e-12);
  ASSERT_EQ(r.comparisons.size(), 1u);
  EXPECT_NEAR(r.comparisons[0].paired.difference.mean, -0.2, 1e-12); // b - a: -0.1 and -0.3
  EXPECT_EQ(r.comparisons[0].paired.verdict, Verdict::NoDifferenceShown);

  o.order = {"b", "a"};
  r = aggregate(inputs, o);
  EXPECT_EQ(r.byValues, (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(r.runs[0].runId, "r2");
  EXPECT_EQ(aggregate({inputs[0]}, armsBySeed()).leftOut.size(), 0u);
  EXPECT_EQ(leftOutNote(aggregate({inputs[0], inputs[4]}, armsBySeed())),
            "left out 1 selected run that is not finished (1 failed)");
}

TEST(Aggregate, ErrorsNameTheRunsAndWhatIsMissing) {
  AggregateOptions o = armsBySeed();
  EXPECT_EQ(errorOf([&] {
              aggregate({input("r1", "a", "1", 0.5), input("r2", "a", "", 0.5)}, o);
            }),
            "run r2 has no tag 'seed' (--pair)");
  EXPECT_EQ(errorOf([&] { aggregate({input("r1", "", "1", std::nullopt)}, o); }),
            "run r1 has no tag 'arm' (--by), no metric 'evaluate.net/auc'");
  EXPECT_EQ(errorOf([&] { aggregate({input("r1", "a", "1", NAN)}, o); }),
            "run r1 has no a value of metric 'evaluate.net/auc' (it logged NaN)");
  o.within = "target_size";
  EXPECT_EQ(errorOf([&] { aggregate({input("r1", "a", "1", 0.5)}, o); }),
            "run r1 has no tag 'target_size' (--within)");
  o.within.clear();
  std::string two = errorOf([&] { aggregate({input("r1", "a", "", 0.5), input("r2", "b", "", 0.5)}, o); });
  EXPECT_EQ(two, "2 problems with the selected finished runs:\n  run r1 has no tag 'seed' (--pair)\n"
                 "  run r2 has no tag 'seed' (--pair)");
  EXPECT_EQ(errorOf([&] {
              aggregate({input("r1", "a", "1", 0.5), input("r2", "a", "1", 0.6)}, o);
            }),
            "runs r1 and r2 are both arm=a seed=1: which one counts is ambiguous (delete or retag one, or "
            "narrow the selection with --where)");
  EXPECT_EQ(errorOf([&] { aggregate({}, o); }), "no run matches the selection");
  EXPECT_EQ(errorOf([&] { aggregate({input("r1", "a", "1", 0.5, "failed")}, o); }),
            "none of the 1 selected runs is finished: nothing to aggregate");

  std::vector<AggregateInput> ab = {input("r1", "a", "1", 0.5), input("r2", "b", "1", 0.6)};
  o.order = {"a", "b", "cc"};
  EXPECT_EQ(errorOf([&] { aggregate(ab, o); }),
            "--order names arm 'cc', which no finished selected run has (arm values: a, b)");
  o.order = {"a"};
  EXPECT_EQ(errorOf([&] { aggregate(ab, o); }),
            "--order leaves out arm b, which selected runs have (list every group, or narrow the selection "
            "with --where)");
  o.order.clear();
  o.compare = {{"b", "x"}};
  EXPECT_NE(errorOf([&] { aggregate(ab, o); }).find("--compare names arm 'x', which no finished"),
            std::string::npos);
  o.compare.clear();
  o.pair = "arm";
  EXPECT_NE(errorOf([&] { aggregate(ab, o); }).find("three different tags"), std::string::npos);
}

// ----------------------------------------------------------------------- a study in a tracker database

class AggregateStudyTest : public ::testing::Test {
protected:
  void SetUp() override {
    tracker_ = std::make_unique<Tracker>(Tracker::open(tmp_.file("runs.sqlite")));
    ids_ = testing::fillStudyFixture(*tracker_);
  }
  AggregateOptions studyOptions() {
    AggregateOptions o = armsBySeed();
    o.within = "target_size";
    o.where = "tags.study = 's1'";
    o.compare = {{"b", "a"}};
    return o;
  }
  TempDir tmp_;
  std::unique_ptr<Tracker> tracker_;
  std::map<std::string, std::string> ids_;
};

// The numbers are hand-computed: e.g. a/50 = .70 .72 .74 -> mean .72, sd .02, half-width 4.303 * .02 /
// sqrt(3) = .049687; b - a at 50 = .05 .06 .06 -> mean .056667, sd .005774, half-width .014343.
TEST_F(AggregateStudyTest, TextTables) {
  Aggregate r = aggregateRuns(tracker_->db(), studyOptions());
  EXPECT_EQ(leftOutNote(r), "left out 2 selected runs that are not finished (1 failed, 1 interrupted)");
  EXPECT_EQ(
      renderAggregateText(r),
      "evaluate.net/auc by arm within target_size, paired by seed: 12 finished runs\n"
      "\n"
      "Table 1. evaluate.net/auc by arm within target_size: n seed values, mean and 95% CI (Student's t "
      "with n-1 degrees of freedom, over seed), sd, min, max\n"
      "target_size  arm  n    mean            95% CI      sd     min     max\n"
      "-----------  ---  -  ------  ----------------  ------  ------  ------\n"
      "50           a    3  0.7200  [0.6703, 0.7697]  0.0200  0.7000  0.7400\n"
      "50           b    3  0.7767  [0.7141, 0.8392]  0.0252  0.7500  0.8000\n"
      "200          a    3  0.8000  [0.7752, 0.8248]  0.0100  0.7900  0.8100\n"
      "200          b    3  0.8033  [0.7890, 0.8177]  0.0058  0.8000  0.8100\n"
      "\n"
      "Table 2. Paired by seed: mean of the per-seed difference A - B over the seed values both have, its "
      "95% paired-t CI (n-1 degrees of freedom); verdict: A higher if the CI lies above 0, B higher if "
      "below, else no difference shown\n"
      "target_size  A  B  pairs  unpaired A/B  mean A-B             95% CI  wins A>B  verdict\n"
      "-----------  -  -  -----  ------------  --------  -----------------  --------  -------------------\n"
      "50           b  a      3           0/0    0.0567   [0.0423, 0.0710]    3 of 3  b higher\n"
      "200          b  a      3           0/0    0.0033  [-0.0346, 0.0413]    1 of 3  no difference shown\n");
}

TEST_F(AggregateStudyTest, CsvHasOneExactRowPerRunInOrder) {
  AggregateOptions o = studyOptions();
  o.metricColumn = "test_auc";
  o.order = {"b", "a"};
  Aggregate r = aggregateRuns(tracker_->db(), o);
  std::string expected = "arm,target_size,seed,test_auc,run_id\n";
  for (const std::string size : {"50", "200"}) {
    for (const std::string arm : {"b", "a"}) {
      for (const std::string seed : {"1", "2", "10"}) {
        std::string key = arm + "/" + size;
        size_t s = seed == "1" ? 0 : seed == "2" ? 1 : 2;
        static const std::map<std::string, std::vector<std::string>> aucs = {
            {"a/50", {"0.7", "0.72", "0.74"}},
            {"b/50", {"0.75", "0.78", "0.8"}},
            {"a/200", {"0.8", "0.81", "0.79"}},
            {"b/200", {"0.8", "0.8", "0.81"}}};
        expected += arm + "," + size + "," + seed + "," + aucs.at(key)[s] + "," +
                    ids_.at("s1/" + arm + "/" + size + "/" + seed) + "\n";
      }
    }
  }
  EXPECT_EQ(renderAggregateCsv(r), expected);
  // Without --within the column is left out, and values keep every digit.
  AggregateOptions flat = armsBySeed();
  flat.where = "tags.study = 'dup' and metrics.`evaluate.net/auc` > 0.705";
  EXPECT_EQ(renderAggregateCsv(aggregateRuns(tracker_->db(), flat)),
            "arm,seed,evaluate.net/auc,run_id\na,1,0.71," + ids_.at("dup/a/50/1#2") + "\n");
}

TEST_F(AggregateStudyTest, ErrorsOnTheStore) {
  AggregateOptions o = studyOptions();
  o.where = "tags.study = 'missing'";
  std::string e = errorOf([&] { aggregateRuns(tracker_->db(), o); });
  EXPECT_NE(e.find("run " + ids_.at("missing/no-seed") + " has no tag 'seed' (--pair)"), std::string::npos)
      << e;
  EXPECT_NE(e.find("run " + ids_.at("missing/no-metric") + " has no metric 'evaluate.net/auc'"),
            std::string::npos)
      << e;
  o.where = "tags.study = 'dup'";
  e = errorOf([&] { aggregateRuns(tracker_->db(), o); });
  EXPECT_NE(e.find("runs " + std::min(ids_.at("dup/a/50/1"), ids_.at("dup/a/50/1#2")) + " and " +
                   std::max(ids_.at("dup/a/50/1"), ids_.at("dup/a/50/1#2")) +
                   " are both target_size=50 arm=a seed=1"),
            std::string::npos)
      << e;
  o = studyOptions();
  o.metric = "evaluate.net/acu";
  EXPECT_EQ(errorOf([&] { aggregateRuns(tracker_->db(), o); }),
            "no run has metric 'evaluate.net/acu' (did you mean 'evaluate.net/auc'?)");
  o = studyOptions();
  o.by = "arms";
  EXPECT_EQ(errorOf([&] { aggregateRuns(tracker_->db(), o); }),
            "no run has tag 'arms' (did you mean 'arm'?)");
  o = studyOptions();
  o.where = "tags.study = 'none'";
  EXPECT_EQ(errorOf([&] { aggregateRuns(tracker_->db(), o); }), "no run matches the selection");
}

TEST_F(AggregateStudyTest, MarkdownTablesWithCaptions) {
  std::string md = renderAggregateMarkdown(aggregateRuns(tracker_->db(), studyOptions()));
  EXPECT_EQ(md.rfind("**Table 1. evaluate.net/auc by arm within target_size: n seed values, mean and 95% CI "
                     "(Student's t with n-1 degrees of freedom, over seed), sd, min, max.**\n\n"
                     "| target_size | arm | n | mean | 95% CI | sd | min | max |\n"
                     "|---|---|---:|---:|---:|---:|---:|---:|\n"
                     "| 50 | a | 3 | 0.7200 | [0.6703, 0.7697] | 0.0200 | 0.7000 | 0.7400 |\n",
                     0),
            0u)
      << md;
  EXPECT_NE(md.find("\n\n**Table 2. Paired by seed: "), std::string::npos) << md;
  EXPECT_NE(
      md.find("| target_size | A | B | pairs | unpaired A/B | mean A-B | 95% CI | wins A>B | verdict |\n"
              "|---|---|---|---:|---:|---:|---:|---:|---|\n"
              "| 50 | b | a | 3 | 0/0 | 0.0567 | [0.0423, 0.0710] | 3 of 3 | b higher |\n"),
      std::string::npos)
      << md;
  // Without --compare there is only table 1.
  AggregateOptions o = studyOptions();
  o.compare.clear();
  EXPECT_EQ(renderAggregateMarkdown(aggregateRuns(tracker_->db(), o)).find("Table 2"), std::string::npos);
  EXPECT_EQ(renderAggregateText(aggregateRuns(tracker_->db(), o)).find("Table 2"), std::string::npos);
}

TEST_F(AggregateStudyTest, HtmlPageIsSelfContained) {
  AggregateOptions o = studyOptions();
  o.title = "Study <s1> & friends";
  std::string page = renderAggregateHtml(aggregateRuns(tracker_->db(), o));
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find("<title>Study &lt;s1&gt; &amp; friends</title>"), std::string::npos);
  EXPECT_EQ(count(page, "<svg class=\"plot dot-plot\""), 2u); // one per target_size
  EXPECT_EQ(count(page, "<circle class=\"dot\""), 12u);       // one per finished run
  EXPECT_EQ(count(page, "<line class=\"mean\""), 4u);
  EXPECT_EQ(count(page, "<g class=\"ci\""), 4u);
  EXPECT_NE(page.find("<figcaption>target_size = 50</figcaption>"), std::string::npos);
  EXPECT_LT(page.find("target_size = 50"), page.find("target_size = 200"));
  EXPECT_NE(page.find("<caption>Table 1. "), std::string::npos);
  EXPECT_NE(page.find("<caption>Table 2. "), std::string::npos);
  EXPECT_NE(page.find("<td>b higher</td>"), std::string::npos);
  EXPECT_NE(page.find("left out 2 selected runs"), std::string::npos);
  // Nothing is fetched: no URL and no external reference.
  EXPECT_EQ(page.find("http"), std::string::npos);
  EXPECT_EQ(page.find(" src="), std::string::npos);
  EXPECT_EQ(page.find("href="), std::string::npos);
}

// The standalone SVG (what RESULTS.md shows): one panel per target_size, side by side, every finished run a
// dot; and the JSON a script reads the verdicts from, with the hand-computed numbers of TextTables.
TEST_F(AggregateStudyTest, SvgFileHasOnePanelPerWithinValue) {
  std::string svg = renderAggregateSvg(aggregateRuns(tracker_->db(), studyOptions()));
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1120 322\"", 0), 0u) << svg;
  EXPECT_EQ(count(svg, "class=\"plot dot-plot\""), 2u);
  EXPECT_NE(svg.find("<svg x=\"0\" y=\"22\" class=\"plot dot-plot\""), std::string::npos);
  EXPECT_NE(svg.find("<svg x=\"560\" y=\"22\" class=\"plot dot-plot\""), std::string::npos);
  EXPECT_EQ(count(svg, "<circle class=\"dot\""), 12u);
  EXPECT_LT(svg.find(">target_size = 50</text>"), svg.find(">target_size = 200</text>"));
  EXPECT_EQ(count(svg, "<svg"), count(svg, "</svg>"));
}

TEST_F(AggregateStudyTest, JsonHasGroupsComparisonsAndVerdicts) {
  nlohmann::json j =
      nlohmann::json::parse(renderAggregateJson(aggregateRuns(tracker_->db(), studyOptions())));
  EXPECT_EQ(j["metric"], "evaluate.net/auc");
  EXPECT_EQ(j["runs"].size(), 12u);
  ASSERT_EQ(j["groups"].size(), 4u);
  EXPECT_EQ(j["groups"][0]["within"], "50");
  EXPECT_EQ(j["groups"][0]["by"], "a");
  EXPECT_NEAR(j["groups"][0]["mean"].get<double>(), 0.72, 1e-12);
  EXPECT_NEAR(j["groups"][0]["ci_low"].get<double>(), 0.72 - 4.303 * 0.02 / std::sqrt(3.0), 1e-9);
  ASSERT_EQ(j["comparisons"].size(), 2u);
  const nlohmann::json& c = j["comparisons"][0];
  EXPECT_EQ(c["a"], "b");
  EXPECT_EQ(c["b"], "a");
  EXPECT_EQ(c["verdict"], "b higher");
  EXPECT_EQ(c["wins"], 3);
  EXPECT_EQ(c["pairs"].size(), 3u);
  EXPECT_NEAR(c["mean"].get<double>(), 0.17 / 3, 1e-9);
  EXPECT_EQ(j["comparisons"][1]["verdict"], "no difference shown");
  EXPECT_EQ(j["left_out"]["failed"], 1);
}

} // namespace
} // namespace mhr::tracker
