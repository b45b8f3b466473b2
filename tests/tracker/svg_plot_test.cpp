// tests/tracker/svg_plot_test.cpp — the dot plot of tracker/svg_plot.h: a dot per finite value, a mean bar
// and an interval per group that has them, group labels in order, a y axis on nice ticks covering every value
// and interval end, escaped text, and the same SVG for the same input (the jitter is not random).
#include "tracker/svg_plot.h"

#include <cmath>
#include <gtest/gtest.h>
#include <regex>
#include <set>

namespace mhr::tracker {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

std::vector<DotGroup> twoGroups() {
  DotGroup a;
  a.label = "a";
  a.values = {0.70, 0.72, 0.74};
  a.pointLabels = {"seed 1", "seed 2", "seed 10"};
  a.mean = 0.72;
  a.lo = 0.6703;
  a.hi = 0.7697;
  DotGroup b;
  b.label = "b <new>";
  b.values = {0.75, NAN, 0.80};
  b.mean = 0.775;
  b.lo = b.hi = NAN; // no interval (e.g. one value)
  return {a, b};
}

TEST(DotPlot, DrawsADotPerValueAndTheSummaries) {
  DotPlotOptions o;
  o.title = "AUC per arm";
  o.xLabel = "arm";
  o.yLabel = "evaluate.net/auc";
  std::string svg = dotPlotSvg(twoGroups(), o);
  EXPECT_EQ(svg.rfind("<svg class=\"plot dot-plot\" viewBox=\"0 0 560 300\"", 0), 0u) << svg;
  EXPECT_EQ(count(svg, "<circle class=\"dot\""), 5u) << "the NaN value is not drawn";
  EXPECT_EQ(count(svg, "<line class=\"mean\""), 2u);
  EXPECT_EQ(count(svg, "<g class=\"ci\""), 1u) << "no error bar without an interval";
  EXPECT_NE(svg.find("<title>seed 10</title>"), std::string::npos);
  EXPECT_NE(svg.find(">b &lt;new&gt;</text>"), std::string::npos) << "labels are escaped";
  EXPECT_LT(svg.find(">a</text>"), svg.find(">b &lt;new&gt;</text>"));
  EXPECT_NE(svg.find(">evaluate.net/auc</text>"), std::string::npos);
  EXPECT_NE(svg.find(">arm</text>"), std::string::npos);
  EXPECT_EQ(svg.substr(svg.size() - 6), "</svg>");
  EXPECT_EQ(svg, dotPlotSvg(twoGroups(), o)) << "deterministic";
}

TEST(DotPlot, TheYAxisCoversValuesAndIntervalsOnNiceTicks) {
  std::string svg = dotPlotSvg(twoGroups(), {});
  // Values and interval ends 0.6703 .. 0.80: niceTicks gives 0.68 .. 0.80 on a 0.02 step, and the axis
  // is extended to the tick below the lowest end.
  std::vector<std::string> ticks;
  std::regex tick("dominant-baseline=\"middle\">([^<]*)</text>");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), tick); it != std::sregex_iterator(); ++it)
    ticks.push_back((*it)[1]);
  EXPECT_EQ(ticks,
            (std::vector<std::string>{"0.66", "0.68", "0.70", "0.72", "0.74", "0.76", "0.78", "0.80"}));
  // Every dot lies inside the plot area (y from 12 to 258).
  std::regex cy("class=\"dot\" cx=\"([0-9.]+)\" cy=\"([0-9.]+)\"");
  size_t dots = 0;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), cy); it != std::sregex_iterator(); ++it) {
    double x = std::stod((*it)[1]), y = std::stod((*it)[2]);
    EXPECT_GE(y, 12);
    EXPECT_LE(y, 258);
    EXPECT_GT(x, 58);
    EXPECT_LT(x, 546);
    ++dots;
  }
  EXPECT_EQ(dots, 5u);
}

TEST(DotPlot, JitterSpreadsEqualValuesWithinTheirColumn) {
  DotGroup g;
  g.label = "same";
  g.values = {0.5, 0.5, 0.5, 0.5, 0.5};
  g.mean = 0.5;
  g.lo = g.hi = 0.5;
  std::string svg = dotPlotSvg({g}, {});
  std::regex cx("class=\"dot\" cx=\"([0-9.]+)\"");
  std::set<std::string> xs;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), cx); it != std::sregex_iterator(); ++it)
    xs.insert((*it)[1]);
  EXPECT_EQ(xs.size(), 5u) << "equal values stay apart";
  // A flat range is padded to 0.45 .. 0.55 and has ticks around the value.
  EXPECT_NE(svg.find("dominant-baseline=\"middle\">0.44</text>"), std::string::npos) << svg;
  EXPECT_NE(svg.find("dominant-baseline=\"middle\">0.56</text>"), std::string::npos) << svg;
}

TEST(DotPlot, EmptyGroupsAndNoGroupsStillDrawAnAxis) {
  DotGroup empty;
  empty.label = "none";
  empty.mean = empty.lo = empty.hi = NAN;
  std::string svg = dotPlotSvg({empty}, {});
  EXPECT_EQ(count(svg, "<circle"), 0u);
  EXPECT_NE(svg.find(">none</text>"), std::string::npos);
  EXPECT_NE(dotPlotSvg({}, {}).find("class=\"axis\""), std::string::npos);
}

} // namespace
} // namespace mhr::tracker
