// tracker/run_writer.cpp — see run_writer.h.
#include "tracker/run_writer.h"

#include "support/assert.h"
#include "support/error.h"
#include "tracker/param_value.h"

#include <cfloat>
#include <cmath>
#include <nlohmann/json.hpp>
#include <tuple>
#include <unordered_map>

namespace mhr::tracker {

namespace {

bool validVerdict(const std::string& v) {
  return v == "exact" || v == "eval" || v == "approximate" || v == "refuted" || v == "declared";
}

void bindOptionalReal(Stmt& stmt, int index, double value) {
  if (std::isnan(value)) {
    stmt.bind(index, nullptr);
  } else {
    stmt.bind(index, value);
  }
}

std::string describe(const runtime::ParamValue& value) {
  return paramText(value) + " (" + paramTypeName(value) + ")";
}

} // namespace

bool RunWriter::Pending::empty() const {
  return params.empty() && tags.empty() && environment.empty() && verdicts.empty() && lineage.empty() &&
         artifacts.empty() && predictions.empty() && cams.empty() && points.empty();
}

RunWriter::RunWriter(std::shared_ptr<Db> db, std::string runId, std::string writerToken,
                     const WriterOptions& options, std::map<std::string, runtime::ParamValue> knownParams)
    : db_(std::move(db)), runId_(std::move(runId)), token_(std::move(writerToken)), options_(options),
      params_(std::move(knownParams)), lastFlush_(std::chrono::steady_clock::now()) {
  pending_.points.reserve(options_.flushEveryPoints);
}

RunWriter::~RunWriter() {
  if (finished_) return;
  // Destroyed without finish(): an exception is unwinding through the driver, or the driver forgot. Keep
  // what was logged and leave the run resumable rather than pretending it finished.
  try {
    finish(RunStatus::Interrupted, "the run stopped without finishing (its writer was closed early)");
  } catch (...) {
    // A destructor must not throw; the next Tracker::open marks the run interrupted anyway.
  }
}

void RunWriter::checkOpen(const char* call) const {
  MHR_ASSERT(!finished_, call); // logging after finish() is a bug in the caller
}

void RunWriter::logParam(const std::string& key, const runtime::ParamValue& value) {
  std::lock_guard<std::mutex> lock(mutex_);
  checkOpen("RunWriter::logParam after finish()");
  MHR_ASSERT(!key.empty(), "param with an empty key");
  auto it = params_.find(key);
  if (it != params_.end()) {
    if (it->second == value) return;
    throw UserError("param '" + key + "' of run " + runId_ + " is already " + describe(it->second) +
                    "; a run's params cannot change (it would be " + describe(value) +
                    "); start a new run or log it under another key");
  }
  params_.emplace(key, value);
  pending_.params.emplace_back(key, value);
  maybeFlushLocked();
}

void RunWriter::logMetric(const std::string& key, double value, int64_t step, int64_t epoch) {
  std::lock_guard<std::mutex> lock(mutex_);
  checkOpen("RunWriter::logMetric after finish()");
  MHR_ASSERT(!key.empty(), "metric with an empty key");
  Point p{key, value, nowMillis(), step, epoch, false};
  if (std::isnan(value)) {
    p.isNan = true;
    p.value = 0;
  } else if (std::isinf(value)) {
    p.value = value > 0 ? DBL_MAX : -DBL_MAX;
  }
  pending_.points.push_back(std::move(p));
  maybeFlushLocked();
}

void RunWriter::setTag(const std::string& key, const std::string& value) {
  std::lock_guard<std::mutex> lock(mutex_);
  checkOpen("RunWriter::setTag after finish()");
  MHR_ASSERT(!key.empty(), "tag with an empty key");
  pending_.tags.emplace_back(key, value);
  maybeFlushLocked();
}

void RunWriter::logEnvironment(const std::map<std::string, std::string>& facts) {
  std::lock_guard<std::mutex> lock(mutex_);
  checkOpen("RunWriter::logEnvironment after finish()");
  for (const auto& [key, value] : facts) pending_.environment.emplace_back(key, value);
  maybeFlushLocked();
}

void RunWriter::logVerdict(const runtime::VerdictRecord& verdict) {
  std::lock_guard<std::mutex> lock(mutex_);
  checkOpen("RunWriter::logVerdict after finish()");
  MHR_ASSERT(validVerdict(verdict.verdict), "verdict must be exact|eval|approximate|refuted|declared");
  pending_.verdicts.push_back(verdict);
  maybeFlushLocked();
}

void RunWriter::logLineage(const runtime::LineageRecord& lineage) {
  std::lock_guard<std::mutex> lock(mutex_);
  checkOpen("RunWriter::logLineage after finish()");
  MHR_ASSERT(!lineage.child.empty() && !lineage.parent.empty(), "lineage needs a child and a parent");
  pending_.lineage.push_back(lineage);
  maybeFlushLocked();
}

void RunWriter::logArtifact(const runtime::ArtifactRecord& artifact) {
  std::lock_guard<std::mutex> lock(mutex_);
  checkOpen("RunWriter::logArtifact after finish()");
  MHR_ASSERT(!artifact.path.empty(), "artifact without a path");
  pending_.artifacts.push_back(artifact);
  maybeFlushLocked();
}

void RunWriter::logPredictions(const runtime::PredictionSet& predictions) {
  std::lock_guard<std::mutex> lock(mutex_);
  checkOpen("RunWriter::logPredictions after finish()");
  const size_t n = predictions.sampleIds.size(), c = predictions.classes.size();
  MHR_ASSERT(!predictions.stage.empty(), "prediction set without a stage");
  MHR_ASSERT(c > 0, "prediction set without classes");
  MHR_ASSERT(predictions.labels.size() == n && predictions.scores.size() == n,
             "prediction set: sampleIds, labels and scores differ in length");
  for (size_t i = 0; i < n; ++i) {
    MHR_ASSERT(predictions.labels[i].size() == c && predictions.scores[i].size() == c,
               "prediction set: a sample's labels or scores do not have one entry per class");
  }
  pending_.blobBytes += n * c * 16;
  pending_.predictions.push_back(predictions);
  maybeFlushLocked();
}

void RunWriter::logCam(const runtime::CamRecord& cam) {
  std::lock_guard<std::mutex> lock(mutex_);
  checkOpen("RunWriter::logCam after finish()");
  const size_t pixels = static_cast<size_t>(cam.height * cam.width);
  MHR_ASSERT(cam.height > 0 && cam.width > 0, "CAM record without an image size");
  MHR_ASSERT(cam.image.size() == pixels || cam.image.size() == 3 * pixels,
             "CAM record: image is neither height*width (gray) nor 3*height*width (RGB planes)");
  MHR_ASSERT(cam.camHeight > 0 && cam.camWidth > 0 && cam.cam.size() == size_t(cam.camHeight * cam.camWidth),
             "CAM record: map size does not match camHeight*camWidth");
  pending_.blobBytes += (cam.image.size() + cam.cam.size()) * sizeof(float);
  pending_.cams.push_back(cam);
  maybeFlushLocked();
}

void RunWriter::flush() {
  std::lock_guard<std::mutex> lock(mutex_);
  flushLocked(true);
}

size_t RunWriter::pendingPoints() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return pending_.points.size();
}

void RunWriter::finish(RunStatus status, const std::string& message) {
  std::lock_guard<std::mutex> lock(mutex_);
  checkOpen("RunWriter::finish called twice");
  MHR_ASSERT(status != RunStatus::Running, "finish() needs a final status");
  db_->setFullSync(true);
  bool owned = db_->write([&] {
    writePending(pending_);
    Stmt& update = db_->cached("UPDATE runs SET status = ?, end_time = ?, status_message = ? "
                               "WHERE run_uuid = ? AND writer_token = ?");
    update.bind(1, toString(status)).bind(2, nowMillis());
    if (message.empty()) {
      update.bind(3, nullptr);
    } else {
      update.bind(3, message);
    }
    update.bind(4, runId_).bind(5, token_).run();
    return db_->changes() == 1;
  });
  pending_ = Pending{};
  finished_ = true;
  if (!owned) {
    throw UserError("run " + runId_ +
                    " was taken over by another process (`mhr run --resume --force`) or "
                    "removed; this process's final status (" +
                    toString(status) + ") was not recorded");
  }
}

void RunWriter::maybeFlushLocked() {
  constexpr size_t kBlobFlushBytes = 32u << 20; // CAM images and prediction sets are large: do not hoard them
  bool due = pending_.points.size() >= options_.flushEveryPoints || pending_.blobBytes >= kBlobFlushBytes;
  if (!due && options_.flushEveryMs >= 0) {
    auto elapsed = std::chrono::steady_clock::now() - lastFlush_;
    due = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() >= options_.flushEveryMs;
  }
  if (due) flushLocked(false);
}

void RunWriter::flushLocked(bool durable) {
  lastFlush_ = std::chrono::steady_clock::now();
  if (pending_.empty()) return;
  // On failure (disk full, a lock held past the retry budget) the pending records stay buffered: the next
  // flush() writes them, nothing is dropped.
  db_->setFullSync(durable);
  db_->write([&] { writePending(pending_); });
  pending_ = Pending{};
  pending_.points.reserve(options_.flushEveryPoints);
}

void RunWriter::writePending(const Pending& p) {
  Db& db = *db_;
  if (!p.params.empty()) {
    Stmt& insert =
        db.cached("INSERT INTO params (key, value, run_uuid, value_type, value_num) VALUES (?, ?, ?, ?, ?) "
                  "ON CONFLICT (key, run_uuid) DO NOTHING");
    for (const auto& [key, value] : p.params) {
      insert.bind(1, key).bind(2, paramText(value)).bind(3, runId_).bind(4, paramTypeName(value));
      if (auto i = std::get_if<int64_t>(&value)) {
        insert.bind(5, *i);
      } else if (auto b = std::get_if<bool>(&value)) {
        insert.bind(5, int64_t(*b ? 1 : 0));
      } else if (auto d = std::get_if<double>(&value)) {
        bindOptionalReal(insert, 5, *d);
      } else {
        insert.bind(5, nullptr);
      }
      insert.run();
    }
  }
  if (!p.tags.empty()) {
    Stmt& upsert = db.cached("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?) "
                             "ON CONFLICT (key, run_uuid) DO UPDATE SET value = excluded.value");
    for (const auto& [key, value] : p.tags) upsert.bind(1, key).bind(2, value).bind(3, runId_).run();
  }
  if (!p.environment.empty()) {
    Stmt& upsert = db.cached("INSERT INTO environment (run_uuid, key, value) VALUES (?, ?, ?) "
                             "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value");
    for (const auto& [key, value] : p.environment) upsert.bind(1, runId_).bind(2, key).bind(3, value).run();
  }
  if (!p.verdicts.empty()) {
    Stmt& upsert =
        db.cached("INSERT OR REPLACE INTO verdicts (run_uuid, network, statement_index, statement, location, "
                  "verdict, reason, "
                  "mode, max_abs_error, border_error, rel_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (const auto& v : p.verdicts) {
      upsert.bind(1, runId_).bind(2, v.network).bind(3, v.statementIndex).bind(4, v.statement);
      upsert.bind(5, v.location).bind(6, v.verdict).bind(7, v.reason).bind(8, v.mode);
      bindOptionalReal(upsert, 9, v.maxAbsError);
      bindOptionalReal(upsert, 10, v.borderError);
      bindOptionalReal(upsert, 11, v.relError);
      upsert.run();
    }
  }
  if (!p.lineage.empty()) {
    Stmt& upsert = db.cached("INSERT OR REPLACE INTO lineage (run_uuid, child, parent, parent_stage, "
                             "parent_run_uuid, statements) VALUES (?, ?, ?, ?, ?, ?)");
    for (const auto& l : p.lineage) {
      upsert.bind(1, runId_).bind(2, l.child).bind(3, l.parent).bind(4, l.parentStage).bind(5, runId_);
      upsert.bind(6, nlohmann::json(l.statements).dump()).run();
    }
  }
  int64_t now = nowMillis();
  if (!p.artifacts.empty()) {
    Stmt& upsert = db.cached("INSERT OR REPLACE INTO artifacts (run_uuid, kind, path, sha256, bytes, stage, "
                             "logged_time) VALUES (?, ?, ?, ?, ?, ?, ?)");
    for (const auto& a : p.artifacts) {
      upsert.bind(1, runId_).bind(2, a.kind).bind(3, a.path).bind(4, a.sha256).bind(5, a.bytes);
      upsert.bind(6, a.stage).bind(7, now).run();
    }
  }
  for (const auto& set : p.predictions) {
    // A stage evaluated again (after a resume) replaces its earlier predictions.
    Stmt& dropRows = db.cached("DELETE FROM predictions WHERE run_uuid = ? AND stage = ?");
    dropRows.bind(1, runId_).bind(2, set.stage).run();
    Stmt& upsertSet =
        db.cached("INSERT OR REPLACE INTO prediction_sets (run_uuid, stage, classes, multi_label, "
                  "sample_count, logged_time) VALUES (?, ?, ?, ?, ?, ?)");
    upsertSet.bind(1, runId_).bind(2, set.stage).bind(3, nlohmann::json(set.classes).dump());
    upsertSet.bind(4, int64_t(set.multiLabel ? 1 : 0))
        .bind(5, int64_t(set.sampleIds.size()))
        .bind(6, now)
        .run();
    Stmt& insert =
        db.cached("INSERT INTO predictions (run_uuid, stage, sample_index, sample_id, class, label, "
                  "score) VALUES (?, ?, ?, ?, ?, ?, ?)");
    for (size_t i = 0; i < set.sampleIds.size(); ++i) {
      for (size_t c = 0; c < set.classes.size(); ++c) {
        insert.bind(1, runId_).bind(2, set.stage).bind(3, int64_t(i)).bind(4, set.sampleIds[i]);
        insert.bind(5, set.classes[c]).bind(6, double(set.labels[i][c])).bind(7, double(set.scores[i][c]));
        insert.run();
      }
    }
  }
  if (!p.cams.empty()) {
    Stmt& upsert =
        db.cached("INSERT OR REPLACE INTO cams (run_uuid, stage, sample_id, label, predicted, height, "
                  "width, image, cam_height, cam_width, cam, logged_time) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (const auto& c : p.cams) {
      upsert.bind(1, runId_).bind(2, c.stage).bind(3, c.sampleId).bind(4, c.label).bind(5, c.predicted);
      upsert.bind(6, c.height).bind(7, c.width);
      upsert.bindBlob(8, c.image.data(), c.image.size() * sizeof(float));
      upsert.bind(9, c.camHeight).bind(10, c.camWidth);
      upsert.bindBlob(11, c.cam.data(), c.cam.size() * sizeof(float));
      upsert.bind(12, now).run();
    }
  }
  if (!p.points.empty()) {
    // Rows go in kRowsPerInsert at a time: one statement execution per 64 points instead of per point (the
    // per-statement cost dominates a single-row insert). Strings are bound without copies: the batch owns
    // them.
    constexpr size_t kRowsPerInsert = 64;
    static const std::string single =
        "INSERT INTO metrics (key, value, timestamp, step, is_nan, run_uuid, epoch) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)";
    static const std::string multi = [] {
      std::string sql = single;
      for (size_t i = 1; i < kRowsPerInsert; ++i) sql += ", (?, ?, ?, ?, ?, ?, ?)";
      return sql;
    }();
    auto bindPoint = [&](Stmt& stmt, int base, const Point& pt) {
      stmt.bindStatic(base + 1, pt.key)
          .bind(base + 2, pt.value)
          .bind(base + 3, pt.timestamp)
          .bind(base + 4, pt.step);
      stmt.bind(base + 5, int64_t(pt.isNan ? 1 : 0)).bindStatic(base + 6, runId_).bind(base + 7, pt.epoch);
    };
    size_t i = 0;
    for (; i + kRowsPerInsert <= p.points.size(); i += kRowsPerInsert) {
      Stmt& insert = db.cached(multi);
      for (size_t r = 0; r < kRowsPerInsert; ++r) bindPoint(insert, int(r * 7), p.points[i + r]);
      insert.run();
    }
    for (; i < p.points.size(); ++i) {
      Stmt& insert = db.cached(single);
      bindPoint(insert, 0, p.points[i]);
      insert.run();
    }
    // The newest point per key in this batch, by MLflow's rule: the greatest (step, timestamp, value).
    std::unordered_map<std::string, const Point*> newest;
    for (const auto& pt : p.points) {
      const Point*& best = newest[pt.key];
      if (!best ||
          std::tie(pt.step, pt.timestamp, pt.value) > std::tie(best->step, best->timestamp, best->value)) {
        best = &pt;
      }
    }
    Stmt& latest = db.cached(
        "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid, epoch) VALUES (?, ?, ?, "
        "?, ?, ?, ?) "
        "ON CONFLICT (key, run_uuid) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp, "
        "step = excluded.step, is_nan = excluded.is_nan, epoch = excluded.epoch "
        "WHERE (excluded.step, excluded.timestamp, excluded.value) > "
        "(latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)");
    for (const auto& [key, pt] : newest) {
      latest.bind(1, key).bind(2, pt->value).bind(3, pt->timestamp).bind(4, pt->step);
      latest.bind(5, int64_t(pt->isNan ? 1 : 0)).bind(6, runId_).bind(7, pt->epoch).run();
    }
  }
}

} // namespace mhr::tracker
