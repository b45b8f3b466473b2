// tracker/svg_plot.h — inline SVG charts for reports: line charts (learning curves, ROC curves) and dot plots
// (one metric over seeds per group, `mhr runs aggregate`). In: series of (x, y) points, or groups of values
// with a mean and interval, and axis options; out: an <svg class="plot"> element with gridlines, "nice" ticks
// (1-2-5 steps), axis labels and the marks. The report's CSS styles text and colours; the SVG needs no script
// and no external resource. Long series are thinned to at most PlotOptions::maxPoints per series, keeping
// each bucket's first, lowest, highest and last point so spikes stay visible.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace mhr::tracker {

struct PlotSeries {
  std::string name;
  std::vector<double> x, y; // NaN y values break the line
  std::string color;        // CSS colour; "" = the palette colour of the series' index
  bool dashed = false;
};

struct PlotOptions {
  std::string id; // unique within the page (clip-path ids)
  int width = 560, height = 300;
  std::string title; // for screen readers (<title>)
  std::string xLabel, yLabel;
  std::optional<double> xMin, xMax, yMin, yMax; // fixed axis ends (ROC: 0..1)
  bool integerX = false;                        // x ticks on whole numbers (steps)
  bool diagonal = false;                        // the chance line of a ROC plot
  size_t maxPoints = 1200;
};

std::string lineChartSvg(const std::vector<PlotSeries>& series, const PlotOptions& options);

// One column of a dot plot: its values as dots (jittered sideways so equal values stay visible), and a mean
// with an interval drawn as a bar with an error bar. NaN values are not drawn; a NaN lo/hi draws no error
// bar, a NaN mean no bar.
struct DotGroup {
  std::string label;
  std::vector<double> values;
  std::vector<std::string> pointLabels; // a tooltip per value ("seed 3: 0.8123"); may be empty
  double mean = 0, lo = 0, hi = 0;
  std::string color; // "" = the palette colour of the group's index
};

struct DotPlotOptions {
  int width = 560, height = 300;
  std::string title; // for screen readers (<title>)
  std::string xLabel, yLabel;
  double jitter = 0.3; // the dots' sideways spread, as a share of a group's column
};

// The x axis has one column per group in the given order; the y axis spans every value and interval end on
// nice ticks. Jitter is a fixed sequence of the value's index (the same page every time).
std::string dotPlotSvg(const std::vector<DotGroup>& groups, const DotPlotOptions& options);

// Ticks from lo to hi (inclusive where they fall on a tick), about `target` of them, on 1-2-5 steps.
std::vector<double> niceTicks(double lo, double hi, int target, bool integer = false);
// A tick label with just the decimals `step` needs ("0.25", "1,000" is written "1000", "1e-5").
std::string formatTick(double value, double step);
// The series colours (colour-blind-safe order first).
const std::vector<std::string>& seriesPalette();
// Indices of the points to draw (all when size <= maxPoints).
std::vector<size_t> thinIndices(const std::vector<double>& y, size_t maxPoints);

} // namespace mhr::tracker
