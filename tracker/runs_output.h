// tracker/runs_output.h — what `mhr runs list|show|compare|export` print. In: an open Tracker and the
// command's options; out: the text (tables for people, CSV/JSON for programs). The CLI only parses flags and
// writes these strings, so tests check the same output users see without spawning the binary.
#pragma once

#include "tracker/run_reader.h"
#include "tracker/tracker.h"

#include <string>
#include <vector>

namespace mhr::tracker {

struct ListOptions {
  Selection selection;
  std::string columns; // "" = run, experiment, name, status, started, duration + fields used in where/sort
};

// Warnings for fields in --where/--sort/--columns that no run has ("no run has metric 'acu' (did you mean
// 'auc'?)"): the query is still valid, but an empty result is then most likely a typo.
std::vector<std::string> fieldWarnings(Db& db, const ListOptions& options);

std::string renderList(Db& db, const ListOptions& options);
std::string renderShow(Db& db, const std::string& runId, bool withSpec);

struct CompareOptions {
  double tolerance = 1e-6; // relative difference under which runs of one semantic hash "agree"
};

// How two runs' metric histories relate (the check behind "same semantic hash: do they agree?").
struct Agreement {
  enum class Kind { Identical, WithinTolerance, Differ } kind = Kind::Identical;
  int64_t sharedPoints = 0;   // (key, step) pairs both runs logged
  int64_t keysOnlyInOne = 0;  // metric keys one run has and the other lacks
  int64_t stepsOnlyInOne = 0; // (key, step) pairs of shared keys only one run logged
  double maxAbsDiff = 0, maxRelDiff = 0;
  std::string firstDiffKey; // first (key, step) whose values differ, if any
  int64_t firstDiffStep = 0;
  double firstDiffA = 0, firstDiffB = 0;
};
Agreement compareHistories(const std::vector<MetricPoint>& a, const std::vector<MetricPoint>& b,
                           double tolerance);

// Needs at least two runs (the CLI also accepts --sweep ID: every run tagged sweep=ID).
std::string renderCompare(Db& db, const std::vector<std::string>& runIds, const CompareOptions& options);
std::vector<std::string> runsOfSweep(Db& db, const std::string& sweepId);

enum class ExportFormat { Csv, Json };
// One record per selected run: attributes, params (typed in JSON), latest metrics, tags; with
// `history`, every metric point too (JSON only; CSV refuses it with a clear error).
std::string renderExport(Db& db, const Selection& selection, ExportFormat format, bool history);

} // namespace mhr::tracker
