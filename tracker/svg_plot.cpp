// tracker/svg_plot.cpp — see svg_plot.h.
#include "tracker/svg_plot.h"

#include "tracker/html.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace mhr::tracker {

namespace {

// One decimal is plenty at screen resolution and keeps long paths small.
std::string num(double v) {
  double r = std::round(v * 10) / 10;
  if (r == 0) r = 0; // no "-0"
  return fmt::format("{:g}", r);
}

double niceStep(double range, int target, bool integer) {
  if (!(range > 0)) return 1;
  double raw = range / std::max(1, target);
  double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double fraction = raw / magnitude;
  double nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  double step = nice * magnitude;
  if (integer) step = std::max(1.0, std::round(step));
  return step;
}

struct Range {
  double lo, hi;
};

Range dataRange(const std::vector<PlotSeries>& series, bool xAxis) {
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& s : series) {
    const auto& values = xAxis ? s.x : s.y;
    for (double v : values) {
      if (!std::isfinite(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (!std::isfinite(lo)) return {0, 1};
  if (lo == hi) {
    double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    return {lo - pad, hi + pad};
  }
  return {lo, hi};
}

} // namespace

const std::vector<std::string>& seriesPalette() {
  static const std::vector<std::string> palette = {"#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed",
                                                   "#0891b2", "#db2777", "#65a30d", "#4b5563", "#b45309",
                                                   "#1d4ed8", "#be123c", "#047857", "#6d28d9"};
  return palette;
}

std::vector<double> niceTicks(double lo, double hi, int target, bool integer) {
  std::vector<double> ticks;
  if (!(hi > lo)) return {lo};
  double step = niceStep(hi - lo, target, integer);
  double first = std::ceil(lo / step - 1e-9) * step;
  for (double t = first; t <= hi + step * 1e-9; t += step) {
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
    if (ticks.size() > 50) break;
  }
  return ticks;
}

std::string formatTick(double value, double step) {
  double magnitude = std::max(std::fabs(value), std::fabs(step));
  if (magnitude >= 1e6 || (step > 0 && step < 1e-4)) {
    std::string s = fmt::format("{:.2g}", value);
    auto e = s.find('e');
    if (e != std::string::npos) { // "1e-05" -> "1e-5"
      std::string exp = s.substr(e + 1);
      bool neg = exp[0] == '-';
      exp = exp.substr(exp[0] == '-' || exp[0] == '+' ? 1 : 0);
      while (exp.size() > 1 && exp[0] == '0') exp.erase(0, 1);
      s = s.substr(0, e) + "e" + (neg ? "-" : "") + exp;
    }
    return s;
  }
  int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  // Steps like 0.25 need one more decimal than their magnitude suggests.
  double scaled = step * std::pow(10.0, decimals);
  if (std::fabs(scaled - std::round(scaled)) > 1e-6) ++decimals;
  std::string s = fmt::format("{:.{}f}", value, std::max(0, decimals));
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s = s.substr(1); // "-0.0" -> "0.0"
  return s;
}

std::vector<size_t> thinIndices(const std::vector<double>& y, size_t maxPoints) {
  std::vector<size_t> keep;
  const size_t n = y.size();
  if (n <= maxPoints || maxPoints < 8) {
    for (size_t i = 0; i < n; ++i) keep.push_back(i);
    return keep;
  }
  size_t buckets = maxPoints / 4;
  for (size_t b = 0; b < buckets; ++b) {
    size_t begin = b * n / buckets, end = (b + 1) * n / buckets;
    if (begin >= end) continue;
    size_t lo = begin, hi = begin;
    for (size_t i = begin; i < end; ++i) {
      if (std::isnan(y[i])) continue;
      if (std::isnan(y[lo]) || y[i] < y[lo]) lo = i;
      if (std::isnan(y[hi]) || y[i] > y[hi]) hi = i;
    }
    for (size_t i : {begin, std::min(lo, hi), std::max(lo, hi), end - 1}) {
      if (keep.empty() || keep.back() < i) keep.push_back(i);
    }
  }
  return keep;
}

std::string lineChartSvg(const std::vector<PlotSeries>& series, const PlotOptions& o) {
  const double left = 58, right = 14, top = 12, bottom = 42;
  const double plotW = o.width - left - right, plotH = o.height - top - bottom;

  Range xr = dataRange(series, true), yr = dataRange(series, false);
  if (o.xMin) xr.lo = *o.xMin;
  if (o.xMax) xr.hi = *o.xMax;
  std::vector<double> yTicks = niceTicks(yr.lo, yr.hi, 5);
  if (!o.yMin && !o.yMax && yTicks.size() >= 2) {
    // Extend the y axis to the ticks around the data so the curve never touches the frame.
    double step = yTicks[1] - yTicks[0];
    if (yr.lo < yTicks.front() - 1e-12) yTicks.insert(yTicks.begin(), yTicks.front() - step);
    if (yr.hi > yTicks.back() + 1e-12) yTicks.push_back(yTicks.back() + step);
    yr = {yTicks.front(), yTicks.back()};
  }
  if (o.yMin) yr.lo = *o.yMin;
  if (o.yMax) yr.hi = *o.yMax;
  if (o.yMin || o.yMax) yTicks = niceTicks(yr.lo, yr.hi, 5);
  std::vector<double> xTicks = niceTicks(xr.lo, xr.hi, std::max(4, int(plotW / 90)), o.integerX);

  auto px = [&](double x) { return left + (x - xr.lo) / (xr.hi - xr.lo) * plotW; };
  auto py = [&](double y) { return top + plotH - (y - yr.lo) / (yr.hi - yr.lo) * plotH; };

  std::string svg =
      fmt::format("<svg class=\"plot\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" "
                  "aria-label=\"{t}\"><title>{t}</title>",
                  fmt::arg("w", o.width), fmt::arg("h", o.height), fmt::arg("t", escapeHtml(o.title)));
  // The clip leaves room for half a line width, so a curve along the frame (a ROC curve at TPR 1) stays
  // whole.
  svg += fmt::format(
      "<defs><clipPath id=\"clip-{}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath></defs>",
      o.id, num(left - 3), num(top - 3), num(plotW + 6), num(plotH + 6));
  svg += fmt::format("<rect class=\"plot-area\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>", num(left),
                     num(top), num(plotW), num(plotH));

  double yStep = yTicks.size() >= 2 ? yTicks[1] - yTicks[0] : 1;
  for (double t : yTicks) {
    double y = py(t);
    svg += fmt::format("<line class=\"grid\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>", num(left), num(y),
                       num(left + plotW), num(y));
    svg += fmt::format(
        "<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\" dominant-baseline=\"middle\">{}</text>",
        num(left - 6), num(y), formatTick(t, yStep));
  }
  double xStep = xTicks.size() >= 2 ? xTicks[1] - xTicks[0] : 1;
  for (double t : xTicks) {
    double x = px(t);
    svg += fmt::format("<line class=\"grid\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>", num(x), num(top),
                       num(x), num(top + plotH));
    svg += fmt::format("<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", num(x),
                       num(top + plotH + 16), formatTick(t, xStep));
  }
  svg += fmt::format("<line class=\"axis\" x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\"/>", num(left),
                     num(top + plotH), num(left + plotW));
  svg += fmt::format("<line class=\"axis\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>", num(left),
                     num(top), num(top + plotH));
  if (!o.xLabel.empty()) {
    svg += fmt::format("<text class=\"axis-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                       num(left + plotW / 2), num(o.height - 6), escapeHtml(o.xLabel));
  }
  if (!o.yLabel.empty()) {
    svg += fmt::format("<text class=\"axis-label\" transform=\"translate(14 {}) rotate(-90)\" "
                       "text-anchor=\"middle\">{}</text>",
                       num(top + plotH / 2), escapeHtml(o.yLabel));
  }
  if (o.diagonal) {
    svg += fmt::format("<line class=\"chance\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>", num(px(0)),
                       num(py(0)), num(px(1)), num(py(1)));
  }

  svg += fmt::format("<g clip-path=\"url(#clip-{})\">", o.id);
  for (size_t s = 0; s < series.size(); ++s) {
    const PlotSeries& ser = series[s];
    std::string color = ser.color.empty() ? seriesPalette()[s % seriesPalette().size()] : ser.color;
    std::string d;
    bool penDown = false;
    size_t drawn = 0;
    std::string markers;
    // Short series (an evaluation per epoch) get a dot per point: the reader sees where the data is.
    const bool dots = ser.y.size() <= 30 && !o.diagonal;
    for (size_t i : thinIndices(ser.y, o.maxPoints)) {
      if (i >= ser.x.size() || !std::isfinite(ser.x[i]) || !std::isfinite(ser.y[i])) {
        penDown = false;
        continue;
      }
      double x = px(ser.x[i]), y = py(ser.y[i]);
      d += (penDown ? "L" : "M") + num(x) + " " + num(y);
      if (dots) markers += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"2.6\"/>", num(x), num(y));
      penDown = true;
      ++drawn;
    }
    if (drawn > 1) {
      svg += fmt::format("<path class=\"series\" d=\"{}\" stroke=\"{}\"{}/>", d, color,
                         ser.dashed ? " stroke-dasharray=\"5 4\"" : "");
    }
    if (!markers.empty()) svg += "<g fill=\"" + color + "\">" + markers + "</g>";
  }
  svg += "</g></svg>";
  return svg;
}

std::string dotPlotSvg(const std::vector<DotGroup>& groups, const DotPlotOptions& o) {
  const double left = 58, right = 14, top = 12, bottom = 42;
  const double plotW = o.width - left - right, plotH = o.height - top - bottom;

  double lo = INFINITY, hi = -INFINITY;
  auto include = [&](double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  };
  for (const auto& g : groups) {
    for (double v : g.values) include(v);
    include(g.mean);
    include(g.lo);
    include(g.hi);
  }
  if (!std::isfinite(lo)) {
    lo = 0;
    hi = 1;
  } else if (lo == hi) {
    double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  // The axis ends on the ticks around the data, so no dot sits on the frame.
  std::vector<double> ticks = niceTicks(lo, hi, 5);
  if (ticks.size() >= 2) {
    double step = ticks[1] - ticks[0];
    if (lo < ticks.front() - 1e-12) ticks.insert(ticks.begin(), ticks.front() - step);
    if (hi > ticks.back() + 1e-12) ticks.push_back(ticks.back() + step);
    lo = ticks.front();
    hi = ticks.back();
  }
  const double slot = plotW / double(std::max<size_t>(1, groups.size()));
  auto py = [&](double y) { return top + plotH - (y - lo) / (hi - lo) * plotH; };

  std::string svg =
      fmt::format("<svg class=\"plot dot-plot\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" "
                  "role=\"img\" aria-label=\"{t}\"><title>{t}</title>",
                  fmt::arg("w", o.width), fmt::arg("h", o.height), fmt::arg("t", escapeHtml(o.title)));
  svg += fmt::format("<rect class=\"plot-area\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fff\"/>",
                     num(left), num(top), num(plotW), num(plotH));
  double step = ticks.size() >= 2 ? ticks[1] - ticks[0] : 1;
  for (double t : ticks) {
    double y = py(t);
    svg += fmt::format("<line class=\"grid\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#eceef1\"/>",
                       num(left), num(y), num(left + plotW), num(y));
    svg += fmt::format("<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\" "
                       "dominant-baseline=\"middle\">{}</text>",
                       num(left - 6), num(y), formatTick(t, step));
  }
  svg += fmt::format("<line class=\"axis\" x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#9ca3af\"/>",
                     num(left), num(top + plotH), num(left + plotW));
  svg += fmt::format("<line class=\"axis\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#9ca3af\"/>",
                     num(left), num(top), num(top + plotH));
  if (!o.xLabel.empty()) {
    svg += fmt::format("<text class=\"axis-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                       num(left + plotW / 2), num(o.height - 6), escapeHtml(o.xLabel));
  }
  if (!o.yLabel.empty()) {
    svg += fmt::format("<text class=\"axis-label\" transform=\"translate(14 {}) rotate(-90)\" "
                       "text-anchor=\"middle\">{}</text>",
                       num(top + plotH / 2), escapeHtml(o.yLabel));
  }

  for (size_t g = 0; g < groups.size(); ++g) {
    const DotGroup& group = groups[g];
    const std::string color = group.color.empty() ? seriesPalette()[g % seriesPalette().size()] : group.color;
    const double center = left + (double(g) + 0.5) * slot;
    svg += fmt::format("<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", num(center),
                       num(top + plotH + 16), escapeHtml(group.label));
    // The dots left of the column's middle, the mean and its interval right of it: neither hides the other.
    const double dotsAt = center - 0.12 * slot, summaryAt = center + 0.2 * slot;
    svg +=
        "<g class=\"dots\" fill=\"" + color + "\" fill-opacity=\"0.8\" stroke=\"#fff\" stroke-width=\"0.8\">";
    for (size_t i = 0; i < group.values.size(); ++i) {
      double v = group.values[i];
      if (!std::isfinite(v)) continue;
      // The golden-ratio sequence spreads any number of dots evenly over the jitter width, the first in
      // the middle; it depends on the index only, so the page is the same every time.
      double phase = std::fmod(0.5 + double(i) * 0.6180339887498949, 1.0) - 0.5;
      double x = dotsAt + phase * o.jitter * slot;
      svg += fmt::format("<circle class=\"dot\" cx=\"{}\" cy=\"{}\" r=\"3.6\">", num(x), num(py(v)));
      if (i < group.pointLabels.size()) svg += "<title>" + escapeHtml(group.pointLabels[i]) + "</title>";
      svg += "</circle>";
    }
    svg += "</g>";
    const double cap = std::min(8.0, 0.06 * slot);
    if (std::isfinite(group.lo) && std::isfinite(group.hi)) {
      svg += fmt::format(
          "<g class=\"ci\" stroke=\"#111827\" stroke-width=\"1.4\"><line x1=\"{0}\" y1=\"{1}\" "
          "x2=\"{0}\" y2=\"{2}\"/><line x1=\"{3}\" y1=\"{1}\" x2=\"{4}\" y2=\"{1}\"/>"
          "<line x1=\"{3}\" y1=\"{2}\" x2=\"{4}\" y2=\"{2}\"/></g>",
          num(summaryAt), num(py(group.lo)), num(py(group.hi)), num(summaryAt - cap), num(summaryAt + cap));
    }
    if (std::isfinite(group.mean)) {
      const double bar = std::min(14.0, 0.1 * slot);
      svg += fmt::format("<line class=\"mean\" x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{3}\" "
                         "stroke-width=\"3\" stroke-linecap=\"round\"/>",
                         num(summaryAt - bar), num(py(group.mean)), num(summaryAt + bar), color);
    }
  }
  svg += "</svg>";
  return svg;
}

} // namespace mhr::tracker
