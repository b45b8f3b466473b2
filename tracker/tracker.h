// tracker/tracker.h — the run store. In: a database path (resolveDbPath: --db, else $MHR_DB, else
// ./mhr-runs.sqlite) and what a run starts with (RunStart); out: a RunWriter per run that the runtime logs
// into, and run ids for the read side (run_reader.h). Opening a store migrates its schema (once, safely) and
// marks runs whose writing process has died as `interrupted`; resumeRun() continues such a run under the
// same id. Errors are mhr::UserError naming the file. Threads: a Tracker (one SQLite connection) and its
// writers belong to one thread at a time; a RunWriter's log calls may come from several threads (it
// serialises them) as long as nothing else uses the same Tracker meanwhile. Processes need no care: that is
// what WAL is for.
#pragma once

#include "runtime/metrics_sink.h"
#include "tracker/process_identity.h"
#include "tracker/sqlite_db.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mhr::tracker {

class RunWriter;

enum class RunStatus { Running, Finished, Failed, Interrupted };
const char* toString(RunStatus status);
std::optional<RunStatus> parseRunStatus(const std::string& text);

// --db PATH, else the environment variable MHR_DB (when set and not empty), else ./mhr-runs.sqlite.
std::string resolveDbPath(const std::optional<std::string>& flag);

struct RunStart {
  std::string experiment;   // required: the spec's `experiment "NAME"`
  std::string runName;      // "" = the spec file's stem and the run id's first 8 characters
  std::string specPath;     // the .mhr file as given (runs.source_name)
  std::string specText;     // the spec text as it was run
  std::string specHash;     // SHA-256 of the spec bytes
  std::string semanticHash; // hash of the normalised program: equal for specs that mean the same
  std::optional<int64_t> seed;
  std::map<std::string, runtime::ParamValue> params;           // immutable per run (as in MLflow)
  std::map<std::string, std::string> tags;                     // e.g. {"sweep", "lr-grid"}
  std::map<std::string, runtime::ParamValue> resolvedSettings; // device, precision, threads, ... (JSON)
  std::string sourceVersion;                                   // mhr git commit (runs.source_version)
  std::string userId;                                          // "" = $USER
};

struct WriterOptions {
  size_t flushEveryPoints = 1000; // metric points buffered before an automatic flush
  int64_t flushEveryMs = 2000;    // ... or this long since the last flush (checked on each log call)
};

struct ResumeOptions {
  // Metric points with a step greater than this are deleted (the checkpoint the runtime resumes from was
  // taken at that step, so they will be logged again); latest_metrics is recomputed. nullopt keeps all.
  std::optional<int64_t> discardMetricsAfterStep;
  // Resume even when the run is marked running by a process on another host (we cannot check it).
  bool force = false;
  WriterOptions writer;
};

class Tracker {
public:
  // Creates the file if needed (the writer side: `mhr run`).
  static Tracker open(const std::string& path);
  // The reader side (`mhr runs`, `mhr report`): a missing file is an error, never silently created.
  static Tracker openExisting(const std::string& path);

  const std::string& path() const { return db_->path(); }
  Db& db() { return *db_; }

  std::unique_ptr<RunWriter> startRun(const RunStart& start, const WriterOptions& options = {});
  // `runRef` is anything resolveRunId accepts. Refuses finished runs and runs whose process is alive.
  std::unique_ptr<RunWriter> resumeRun(const std::string& runRef, const ResumeOptions& options = {});

  // A full run id, a unique prefix of one (at least 4 hex digits, as git does), or an exact run name.
  // Throws mhr::UserError listing the candidates when the reference is ambiguous or matches nothing.
  std::string resolveRunId(const std::string& runRef);

  // Marks runs of this host whose process is gone as interrupted; returns how many. open() calls it.
  int markDeadRunsInterrupted();

private:
  explicit Tracker(std::shared_ptr<Db> db) : db_(std::move(db)) {}
  static Tracker openImpl(const std::string& path, bool create);
  std::shared_ptr<Db> db_;
};

// Current wall-clock time in milliseconds since the Unix epoch (what every *_time column holds).
int64_t nowMillis();
// A new run id: 32 lowercase hex digits from the system's random source (MLflow's run_uuid shape).
std::string newRunId();

} // namespace mhr::tracker
