// tracker/report.h — `mhr report RUN`: one self-contained HTML file per run. In: the tracker database and a
// run id; out: HTML with inline CSS, inline SVG plots and images as data: URIs (nothing is fetched to view
// it) showing the run's facts, the spec with each morph statement's verdict beside it, learning curves per
// stage, ROC curves per class with AUC and a DeLong 95% interval, confusion matrices at a threshold, sample
// predictions with class-activation-map overlays, lineage, params, environment and artifacts. Metric keys
// are read as STAGE/METRIC[/CLASS] (docs/tracker.md): one chart per stage and metric, one line per class.
#pragma once

#include "tracker/sqlite_db.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>

namespace mhr::tracker {

// Encodes 8-bit pixels (channels 1, 3 or 4, rows top to bottom) as PNG file bytes.
using PngEncoder = std::function<std::string(const uint8_t* pixels, int width, int height, int channels)>;

struct ReportOptions {
  // Decision threshold of the confusion matrices (binary and multi-label). Unset: each stage's own, as the
  // run recorded it (the threshold `threshold: eer` chose, else the spec's `threshold`, else 0.5); set: it
  // overrides them, and the page says so.
  std::optional<double> threshold;
  int maxImageSide = 320; // sample pictures are downscaled to this many pixels on the longer side
  size_t maxSamples = 24; // CAM samples shown per report
  PngEncoder encodePng;   // empty: the built-in encoder (png_writer.h)
};

// The words the spec listing colours as keywords: the keyword tokens of the .mhr grammar.
const std::set<std::string>& mhrKeywords();

std::string renderReport(Db& db, const std::string& runId, const ReportOptions& options = {});
// renderReport, written atomically to `path` (a killed process leaves the old file or the new one).
void writeReport(Db& db, const std::string& runId, const std::string& path,
                 const ReportOptions& options = {});

} // namespace mhr::tracker
