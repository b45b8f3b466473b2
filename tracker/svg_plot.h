// tracker/svg_plot.h — inline SVG line charts for reports (learning curves, ROC curves). In: series of (x, y)
// points and axis options; out: an <svg class="plot"> element with gridlines, "nice" ticks (1-2-5 steps),
// axis labels and one path per series. The report's CSS styles text and colours; the SVG needs no script
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

// Ticks from lo to hi (inclusive where they fall on a tick), about `target` of them, on 1-2-5 steps.
std::vector<double> niceTicks(double lo, double hi, int target, bool integer = false);
// A tick label with just the decimals `step` needs ("0.25", "1,000" is written "1000", "1e-5").
std::string formatTick(double value, double step);
// The series colours (colour-blind-safe order first).
const std::vector<std::string>& seriesPalette();
// Indices of the points to draw (all when size <= maxPoints).
std::vector<size_t> thinIndices(const std::vector<double>& y, size_t maxPoints);

} // namespace mhr::tracker
