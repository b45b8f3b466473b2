// tracker/run_reader.h — the read side of the tracker. In: an open Tracker (or its Db) and run ids; out:
// plain structs with everything stored about a run (RunDetails), metric histories, prediction sets and CAM
// records (the runtime's own record types, read back), and the run ids a --where/--sort selection picks.
// Every function reads inside one transaction, so what it returns is one consistent snapshot even while runs
// are being written.
#pragma once

#include "runtime/metrics_sink.h"
#include "tracker/query.h"
#include "tracker/sqlite_db.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mhr::tracker {

struct RunInfo {
  std::string id;
  std::string experiment;
  std::string name;
  std::string status;
  std::string statusMessage;
  int64_t startTime = 0;          // ms since the epoch
  std::optional<int64_t> endTime; // unset while running
  std::optional<int64_t> seed;
  std::string specPath, specHash, semanticHash;
  std::string userId, sourceVersion;
  std::string resolvedSettings; // JSON object text
  int64_t resumeCount = 0;
};

struct ParamRow {
  std::string key;
  runtime::ParamValue value;
};

struct MetricPoint {
  std::string key;
  double value = 0; // NaN when is_nan
  int64_t step = 0;
  int64_t epoch = 0;
  int64_t timestamp = 0;
};

struct PredictionSummary {
  std::string stage;
  std::vector<std::string> classes;
  bool multiLabel = false;
  int64_t samples = 0;
};

struct RunDetails {
  RunInfo info;
  std::string specText;
  std::vector<ParamRow> params;    // by key
  std::vector<MetricPoint> latest; // latest_metrics, by key
  std::map<std::string, std::string> tags;
  std::map<std::string, std::string> environment;
  std::vector<runtime::VerdictRecord> verdicts; // by network, statement index
  std::vector<runtime::LineageRecord> lineage;
  std::vector<runtime::ArtifactRecord> artifacts;
  std::vector<PredictionSummary> predictionSets;
  int64_t camCount = 0;
  int64_t metricPoints = 0; // rows in the metrics history
};

// A query for the columns a RunInfo holds, run id first ("SELECT ... FROM runs r JOIN experiments e ON
// ..."; callers append WHERE and ORDER BY), and the mapping of one of its rows: the one place that knows
// which column is which.
extern const char* const kRunInfoSelect;
RunInfo runInfoFromRow(Stmt& row);

RunDetails loadRun(Db& db, const std::string& runId);
RunInfo loadRunInfo(Db& db, const std::string& runId);
// All points of a run (or of one key), ordered by key, step, timestamp.
std::vector<MetricPoint> loadMetricHistory(Db& db, const std::string& runId, const std::string& key = "");
std::vector<runtime::PredictionSet> loadPredictions(Db& db, const std::string& runId);
std::vector<runtime::CamRecord> loadCams(Db& db, const std::string& runId);

struct Selection {
  std::string where;      // the --where expression ("" = all runs)
  std::string sort;       // the --sort list ("" = newest first)
  std::string experiment; // only this experiment ("" = all)
  int64_t limit = -1;     // -1 = no limit
};

// Run ids in display order; throws mhr::UserError (with a caret) for a bad expression.
std::vector<std::string> selectRuns(Db& db, const Selection& selection);
// The selected runs as rows: the run id, then one value per column (fieldValueSql), in one query.
std::vector<std::vector<SqlValue>> queryRuns(Db& db, const Selection& selection,
                                             const std::vector<FieldRef>& columns);

// Names of keys the store holds (for "did you mean" on --where fields that match nothing).
std::vector<std::string> knownKeys(Db& db, Entity entity);
bool keyExists(Db& db, Entity entity, const std::string& key);

} // namespace mhr::tracker
