// tracker/run_reader.cpp — see run_reader.h.
#include "tracker/run_reader.h"

#include "support/assert.h"
#include "support/error.h"
#include "tracker/param_value.h"

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

namespace mhr::tracker {

namespace {

RunInfo loadRunInfoNoTxn(Db& db, const std::string& runId) {
  Stmt s = db.prepare(std::string(kRunInfoSelect) + " WHERE r.run_uuid = ?");
  s.bind(1, runId);
  if (!s.step()) throw UserError("no run " + runId + " in '" + db.path() + "'");
  return runInfoFromRow(s);
}

double nanIfNull(Stmt& s, int column) {
  return s.isNull(column) ? NAN : s.getDouble(column);
}

std::vector<std::string> jsonStrings(const std::string& text, const std::string& what) {
  try {
    auto j = nlohmann::json::parse(text);
    return j.get<std::vector<std::string>>();
  } catch (const std::exception&) {
    throw UserError("tracker database: " + what + " holds malformed JSON: " + text.substr(0, 80));
  }
}

// A run's prediction sets without their rows: loadRun lists them, loadPredictions fills them in.
std::vector<PredictionSummary> predictionSetsNoTxn(Db& db, const std::string& runId) {
  std::vector<PredictionSummary> sets;
  Stmt s =
      db.prepare("SELECT stage, classes, multi_label, sample_count FROM prediction_sets WHERE run_uuid = ? "
                 "ORDER BY logged_time, stage");
  s.bind(1, runId);
  while (s.step()) {
    sets.push_back(
        {s.getText(0), jsonStrings(s.getText(1), "prediction_sets.classes"), s.getInt(2) != 0, s.getInt(3)});
  }
  return sets;
}

std::vector<float> floatsFromBlob(const std::string& blob) {
  std::vector<float> values(blob.size() / sizeof(float));
  if (!values.empty()) std::memcpy(values.data(), blob.data(), values.size() * sizeof(float));
  return values;
}

} // namespace

const char* const kRunInfoSelect =
    "SELECT r.run_uuid, e.name, r.name, r.status, r.status_message, r.start_time, r.end_time, r.seed, "
    "r.source_name, r.spec_hash, r.semantic_hash, r.user_id, r.source_version, r.resolved_settings, "
    "r.resume_count FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id";

RunInfo runInfoFromRow(Stmt& s) {
  RunInfo info;
  info.id = s.getText(0);
  info.experiment = s.getText(1);
  info.name = s.getText(2);
  info.status = s.getText(3);
  info.statusMessage = s.getText(4);
  info.startTime = s.getInt(5);
  if (!s.isNull(6)) info.endTime = s.getInt(6);
  if (!s.isNull(7)) info.seed = s.getInt(7);
  info.specPath = s.getText(8);
  info.specHash = s.getText(9);
  info.semanticHash = s.getText(10);
  info.userId = s.getText(11);
  info.sourceVersion = s.getText(12);
  info.resolvedSettings = s.getText(13);
  info.resumeCount = s.getInt(14);
  return info;
}

RunInfo loadRunInfo(Db& db, const std::string& runId) {
  return db.read([&] { return loadRunInfoNoTxn(db, runId); });
}

RunDetails loadRun(Db& db, const std::string& runId) {
  return db.read([&] {
    RunDetails d;
    d.info = loadRunInfoNoTxn(db, runId);
    {
      Stmt s = db.prepare("SELECT spec_text FROM runs WHERE run_uuid = ?");
      s.bind(1, runId);
      if (s.step()) d.specText = s.getText(0);
    }
    {
      Stmt s = db.prepare("SELECT key, value, value_type FROM params WHERE run_uuid = ? ORDER BY key");
      s.bind(1, runId);
      while (s.step()) d.params.push_back({s.getText(0), paramFromRow(s.getText(2), s.getText(1))});
    }
    {
      Stmt s = db.prepare(
          "SELECT key, value, is_nan, step, epoch, timestamp FROM latest_metrics WHERE run_uuid = ? "
          "ORDER BY key");
      s.bind(1, runId);
      while (s.step()) {
        d.latest.push_back(
            {s.getText(0), s.getInt(2) ? NAN : s.getDouble(1), s.getInt(3), s.getInt(4), s.getInt(5)});
      }
    }
    {
      Stmt s = db.prepare("SELECT key, value FROM tags WHERE run_uuid = ?");
      s.bind(1, runId);
      while (s.step()) d.tags[s.getText(0)] = s.getText(1);
    }
    {
      Stmt s = db.prepare("SELECT key, value FROM environment WHERE run_uuid = ?");
      s.bind(1, runId);
      while (s.step()) d.environment[s.getText(0)] = s.getText(1);
    }
    {
      Stmt s = db.prepare(
          "SELECT network, statement_index, statement, location, verdict, reason, mode, max_abs_error, "
          "border_error, rel_error FROM verdicts WHERE run_uuid = ? ORDER BY network, statement_index");
      s.bind(1, runId);
      while (s.step()) {
        runtime::VerdictRecord v;
        v.network = s.getText(0);
        v.statementIndex = static_cast<int>(s.getInt(1));
        v.statement = s.getText(2);
        v.location = s.getText(3);
        v.verdict = s.getText(4);
        v.reason = s.getText(5);
        v.mode = s.getText(6);
        v.maxAbsError = nanIfNull(s, 7);
        v.borderError = nanIfNull(s, 8);
        v.relError = nanIfNull(s, 9);
        d.verdicts.push_back(v);
      }
    }
    {
      Stmt s = db.prepare(
          "SELECT child, parent, parent_stage, statements FROM lineage WHERE run_uuid = ? ORDER BY rowid");
      s.bind(1, runId);
      while (s.step()) {
        runtime::LineageRecord l;
        l.child = s.getText(0);
        l.parent = s.getText(1);
        l.parentStage = s.getText(2);
        l.statements = jsonStrings(s.getText(3), "lineage.statements");
        d.lineage.push_back(l);
      }
    }
    {
      Stmt s = db.prepare("SELECT kind, path, sha256, bytes, stage FROM artifacts WHERE run_uuid = ? "
                          "ORDER BY logged_time, path");
      s.bind(1, runId);
      while (s.step()) {
        runtime::ArtifactRecord a;
        a.kind = s.getText(0);
        a.path = s.getText(1);
        a.sha256 = s.getText(2);
        a.bytes = s.getInt(3);
        a.stage = s.getText(4);
        d.artifacts.push_back(a);
      }
    }
    d.predictionSets = predictionSetsNoTxn(db, runId);
    {
      Stmt s = db.prepare("SELECT count(*) FROM cams WHERE run_uuid = ?");
      s.bind(1, runId);
      if (s.step()) d.camCount = s.getInt(0);
    }
    {
      Stmt s = db.prepare("SELECT count(*) FROM metrics WHERE run_uuid = ?");
      s.bind(1, runId);
      if (s.step()) d.metricPoints = s.getInt(0);
    }
    return d;
  });
}

std::vector<MetricPoint> loadMetricHistory(Db& db, const std::string& runId, const std::string& key) {
  return db.read([&] {
    std::vector<MetricPoint> points;
    Stmt s = db.prepare(key.empty() ? "SELECT key, value, is_nan, step, epoch, timestamp FROM metrics "
                                      "WHERE run_uuid = ? ORDER BY key, step, timestamp"
                                    : "SELECT key, value, is_nan, step, epoch, timestamp FROM metrics "
                                      "WHERE run_uuid = ? AND key = ? ORDER BY key, step, timestamp");
    s.bind(1, runId);
    if (!key.empty()) s.bind(2, key);
    while (s.step()) {
      points.push_back(
          {s.getText(0), s.getInt(2) ? NAN : s.getDouble(1), s.getInt(3), s.getInt(4), s.getInt(5)});
    }
    return points;
  });
}

std::vector<runtime::PredictionSet> loadPredictions(Db& db, const std::string& runId) {
  return db.read([&] {
    std::vector<runtime::PredictionSet> sets;
    for (PredictionSummary& summary : predictionSetsNoTxn(db, runId)) {
      runtime::PredictionSet set;
      set.stage = summary.stage;
      set.classes = std::move(summary.classes);
      set.multiLabel = summary.multiLabel;
      const int64_t n = summary.samples;
      if (n < 0 || set.classes.empty()) {
        throw UserError("tracker database '" + db.path() + "': prediction set '" + set.stage + "' of run " +
                        runId + " has no classes or a negative sample count");
      }
      set.sampleIds.assign(static_cast<size_t>(n), "");
      set.labels.assign(static_cast<size_t>(n), std::vector<float>(set.classes.size(), 0.f));
      set.scores.assign(static_cast<size_t>(n), std::vector<float>(set.classes.size(), 0.f));
      std::map<std::string, size_t> classIndex;
      for (size_t c = 0; c < set.classes.size(); ++c) classIndex[set.classes[c]] = c;
      std::vector<size_t> filled(static_cast<size_t>(n), 0);
      Stmt rows = db.prepare("SELECT sample_index, sample_id, class, label, score FROM predictions "
                             "WHERE run_uuid = ? AND stage = ?");
      rows.bind(1, runId).bind(2, set.stage);
      while (rows.step()) {
        int64_t i = rows.getInt(0);
        auto c = classIndex.find(rows.getText(2));
        if (i < 0 || i >= n || c == classIndex.end()) {
          throw UserError("tracker database '" + db.path() + "': prediction row of run " + runId +
                          " stage '" + set.stage + "' names sample " + std::to_string(i) + " / class '" +
                          rows.getText(2) + "' outside its prediction set");
        }
        set.sampleIds[size_t(i)] = rows.getText(1);
        set.labels[size_t(i)][c->second] = static_cast<float>(rows.getDouble(3));
        // NULL is a NaN score (SQLite has no NaN): kept so that the report can say which sample it was.
        set.scores[size_t(i)][c->second] = rows.isNull(4) ? NAN : static_cast<float>(rows.getDouble(4));
        ++filled[size_t(i)];
      }
      for (int64_t i = 0; i < n; ++i) {
        if (filled[size_t(i)] != set.classes.size()) {
          throw UserError("tracker database '" + db.path() + "': prediction set '" + set.stage + "' of run " +
                          runId + " is incomplete (sample " + std::to_string(i) + " has " +
                          std::to_string(filled[size_t(i)]) + " of " + std::to_string(set.classes.size()) +
                          " class scores)");
        }
      }
      sets.push_back(std::move(set));
    }
    return sets;
  });
}

std::vector<runtime::CamRecord> loadCams(Db& db, const std::string& runId) {
  return db.read([&] {
    std::vector<runtime::CamRecord> cams;
    Stmt s = db.prepare(
        "SELECT stage, sample_id, label, predicted, height, width, image, cam_height, cam_width, cam "
        "FROM cams WHERE run_uuid = ? ORDER BY stage, logged_time, sample_id");
    s.bind(1, runId);
    while (s.step()) {
      runtime::CamRecord c;
      c.stage = s.getText(0);
      c.sampleId = s.getText(1);
      c.label = s.getText(2);
      c.predicted = s.getText(3);
      c.height = s.getInt(4);
      c.width = s.getInt(5);
      c.image = floatsFromBlob(s.getBlob(6));
      c.camHeight = s.getInt(7);
      c.camWidth = s.getInt(8);
      c.cam = floatsFromBlob(s.getBlob(9));
      cams.push_back(std::move(c));
    }
    return cams;
  });
}

std::vector<std::vector<SqlValue>> queryRuns(Db& db, const Selection& selection,
                                             const std::vector<FieldRef>& columns) {
  CompiledWhere where = compileWhere(selection.where);
  std::vector<SortKey> sort = parseSort(selection.sort);
  // Placeholders are numbered by position in the text, so values are appended in the order SQL is written.
  std::vector<SqlValue> params;
  std::string sql = "SELECT r.run_uuid";
  for (const auto& column : columns) {
    SqlFragment value = fieldValueSql(column);
    sql += ", " + value.sql;
    params.insert(params.end(), value.params.begin(), value.params.end());
  }
  sql += " FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id WHERE " + where.condition.sql;
  params.insert(params.end(), where.condition.params.begin(), where.condition.params.end());
  if (!selection.experiment.empty()) {
    sql += " AND e.name = ?";
    params.emplace_back(selection.experiment);
  }
  sql += " ORDER BY ";
  for (const auto& key : sort) {
    SqlFragment value = fieldValueSql(key.field);
    sql += value.sql + (key.descending ? " DESC NULLS LAST, " : " ASC NULLS LAST, ");
    params.insert(params.end(), value.params.begin(), value.params.end());
  }
  sql += "r.start_time DESC, r.run_uuid";
  if (selection.limit >= 0) {
    sql += " LIMIT ?";
    params.emplace_back(selection.limit);
  }
  return db.read([&] {
    std::vector<std::vector<SqlValue>> rows;
    Stmt s = db.prepare(sql);
    MHR_ASSERT(s.parameterCount() == static_cast<int>(params.size()),
               "query placeholders and values disagree");
    s.bindAll(params);
    while (s.step()) {
      std::vector<SqlValue> row;
      row.reserve(columns.size() + 1);
      for (size_t c = 0; c <= columns.size(); ++c) row.push_back(s.getValue(static_cast<int>(c)));
      rows.push_back(std::move(row));
    }
    return rows;
  });
}

std::vector<std::string> selectRuns(Db& db, const Selection& selection) {
  std::vector<std::string> ids;
  for (auto& row : queryRuns(db, selection, {})) ids.push_back(std::get<std::string>(row[0]));
  return ids;
}

namespace {
const char* keyTable(Entity entity) {
  switch (entity) {
  case Entity::Metric:
    return "latest_metrics";
  case Entity::Param:
    return "params";
  case Entity::Tag:
    return "tags";
  case Entity::Env:
    return "environment";
  case Entity::Attribute:
    return nullptr;
  }
  return nullptr;
}
} // namespace

std::vector<std::string> knownKeys(Db& db, Entity entity) {
  const char* table = keyTable(entity);
  if (!table) return attributeNames();
  return db.read([&] {
    std::vector<std::string> keys;
    Stmt s = db.prepare(std::string("SELECT DISTINCT key FROM ") + table + " ORDER BY key LIMIT 5000");
    while (s.step()) keys.push_back(s.getText(0));
    return keys;
  });
}

bool keyExists(Db& db, Entity entity, const std::string& key) {
  const char* table = keyTable(entity);
  if (!table) return true;
  return db.read([&] {
    Stmt s = db.prepare(std::string("SELECT 1 FROM ") + table + " WHERE key = ? LIMIT 1");
    s.bind(1, key);
    return s.step();
  });
}

} // namespace mhr::tracker
