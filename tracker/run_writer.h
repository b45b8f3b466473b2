// tracker/run_writer.h — one run's writer: implements runtime::MetricsSink over the tracker database. In: the
// runtime's log calls; out: rows in SQLite. Everything is buffered in memory and written in one transaction
// by flush(), which also happens automatically every WriterOptions::flushEveryPoints metric points or
// flushEveryMs milliseconds, and at finish(). Durability: every write survives the process being killed
// (WAL); flush() and finish() also survive a power loss (synchronous FULL), while the automatic batches in
// between skip that fsync (synchronous NORMAL), which is most of the cost of logging. Calls are thread-safe
// (one mutex) and cheap: a log call only appends to a vector. A writer that is destroyed without finish()
// flushes and marks the run interrupted.
#pragma once

#include "runtime/metrics_sink.h"
#include "tracker/tracker.h"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mhr::tracker {

class RunWriter final : public runtime::MetricsSink {
public:
  // Tracker::startRun / resumeRun create writers; `knownParams` are the params already stored (resume).
  RunWriter(std::shared_ptr<Db> db, std::string runId, std::string writerToken, const WriterOptions& options,
            std::map<std::string, runtime::ParamValue> knownParams);
  ~RunWriter() override;
  RunWriter(const RunWriter&) = delete;
  RunWriter& operator=(const RunWriter&) = delete;

  const std::string& runId() const { return runId_; }

  // A param keeps its first value for the whole run (as in MLflow): logging another value for the same key
  // throws mhr::UserError naming both values; logging the same value again is a no-op.
  void logParam(const std::string& key, const runtime::ParamValue& value) override;
  // NaN is stored as value 0 with is_nan = 1 and +-Inf as +-DBL_MAX, MLflow's convention.
  void logMetric(const std::string& key, double value, int64_t step, int64_t epoch) override;
  void setTag(const std::string& key, const std::string& value) override;
  void logEnvironment(const std::map<std::string, std::string>& facts) override;
  void logVerdict(const runtime::VerdictRecord& verdict) override;
  void logLineage(const runtime::LineageRecord& lineage) override;
  void logArtifact(const runtime::ArtifactRecord& artifact) override;
  void logPredictions(const runtime::PredictionSet& predictions) override;
  void logCam(const runtime::CamRecord& cam) override;
  void flush() override;

  // Flushes and records the final status (Finished, Failed or Interrupted) with an optional message, e.g.
  // the error that stopped the run. Nothing may be logged afterwards.
  void finish(RunStatus status, const std::string& message = "");
  bool finished() const { return finished_; }

  size_t pendingPoints() const;

private:
  struct Point {
    std::string key;
    double value;
    int64_t timestamp, step, epoch;
    bool isNan;
  };
  struct Pending {
    std::vector<std::pair<std::string, runtime::ParamValue>> params;
    std::vector<std::pair<std::string, std::string>> tags;
    std::vector<std::pair<std::string, std::string>> environment;
    std::vector<runtime::VerdictRecord> verdicts;
    std::vector<runtime::LineageRecord> lineage;
    std::vector<runtime::ArtifactRecord> artifacts;
    std::vector<runtime::PredictionSet> predictions;
    std::vector<runtime::CamRecord> cams;
    std::vector<Point> points;
    size_t blobBytes = 0;
    bool empty() const;
  };

  void checkOpen(const char* call) const;
  void maybeFlushLocked();
  void flushLocked(bool durable);
  void writePending(const Pending& pending);

  std::shared_ptr<Db> db_;
  std::string runId_;
  std::string token_; // runs.writer_token while this writer owns the run (resume elsewhere replaces it)
  WriterOptions options_;
  std::map<std::string, runtime::ParamValue> params_; // everything logged or stored: the immutability check
  mutable std::mutex mutex_;
  Pending pending_;
  std::chrono::steady_clock::time_point lastFlush_;
  bool finished_ = false;
};

} // namespace mhr::tracker
