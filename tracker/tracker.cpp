// tracker/tracker.cpp — see tracker.h.
#include "tracker/tracker.h"

#include "support/assert.h"
#include "support/error.h"
#include "support/files.h"
#include "support/strings.h"
#include "tracker/param_value.h"
#include "tracker/run_writer.h"
#include "tracker/schema.h"
#include "tracker/time_format.h"

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

namespace mhr::tracker {

namespace {

bool isHex(const std::string& text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

ProcessIdentity identityFromRow(Stmt& stmt, int firstColumn) {
  ProcessIdentity id;
  id.host = stmt.getText(firstColumn);
  id.bootId = stmt.getText(firstColumn + 1);
  id.pid = stmt.getInt(firstColumn + 2);
  id.startTicks = stmt.getInt(firstColumn + 3);
  return id;
}

int64_t experimentId(Db& db, const std::string& name, int64_t now) {
  db.cached("INSERT INTO experiments (name, creation_time, last_update_time) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET last_update_time = excluded.last_update_time")
      .bind(1, name)
      .bind(2, now)
      .bind(3, now)
      .run();
  Stmt& select = db.cached("SELECT experiment_id FROM experiments WHERE name = ?");
  select.bind(1, name);
  MHR_ASSERT(select.step(), "experiment row missing right after its upsert");
  int64_t id = select.getInt(0);
  select.reset();
  return id;
}

} // namespace

const char* toString(RunStatus status) {
  switch (status) {
  case RunStatus::Running:
    return "running";
  case RunStatus::Finished:
    return "finished";
  case RunStatus::Failed:
    return "failed";
  case RunStatus::Interrupted:
    return "interrupted";
  }
  MHR_UNREACHABLE("bad RunStatus");
}

std::optional<RunStatus> parseRunStatus(const std::string& text) {
  std::string lower = support::toLower(text);
  if (lower == "running") return RunStatus::Running;
  if (lower == "finished") return RunStatus::Finished;
  if (lower == "failed") return RunStatus::Failed;
  if (lower == "interrupted") return RunStatus::Interrupted;
  return std::nullopt;
}

std::string resolveDbPath(const std::optional<std::string>& flag) {
  if (flag && !flag->empty()) return *flag;
  const char* env = std::getenv("MHR_DB");
  if (env && *env) return env;
  return "mhr-runs.sqlite";
}

int64_t nowMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string newRunId() {
  // /dev/urandom directly: std::random_device may be a deterministic engine on some platforms, and two
  // processes started in the same microsecond must never share an id.
  unsigned char bytes[16];
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  if (!urandom.read(reinterpret_cast<char*>(bytes), sizeof bytes)) {
    std::random_device rd;
    for (auto& b : bytes) b = static_cast<unsigned char>(rd());
  }
  static const char* hex = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id += hex[b >> 4];
    id += hex[b & 15];
  }
  return id;
}

Tracker Tracker::open(const std::string& path) {
  return openImpl(path, true);
}

Tracker Tracker::openExisting(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw UserError("no tracker database at '" + path +
                    "' (runs are recorded there by `mhr run`; choose another with --db PATH or MHR_DB)");
  }
  if (std::filesystem::is_directory(path, ec)) {
    throw UserError("tracker database '" + path + "' is a folder, not a file");
  }
  return openImpl(path, false);
}

Tracker Tracker::openImpl(const std::string& path, bool create) {
  if (create) {
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) support::makeDirectories(parent.string()); // `--db out/runs.sqlite` on a fresh tree
  }
  std::shared_ptr<Db> db = Db::open(path, create);
  ensureSchema(*db, trackerMigrations());
  Tracker tracker(std::move(db));
  if (create) {
    tracker.markDeadRunsInterrupted();
  } else {
    // Readers mark dead runs too, but a read-only file (a shared, write-protected store) must stay readable.
    try {
      tracker.markDeadRunsInterrupted();
    } catch (const UserError&) {
    }
  }
  return tracker;
}

int Tracker::markDeadRunsInterrupted() {
  struct Candidate {
    std::string id;
    ProcessIdentity who;
  };
  std::vector<Candidate> candidates = db_->read([&] {
    std::vector<Candidate> found;
    Stmt stmt = db_->prepare(
        "SELECT run_uuid, host, boot_id, pid, pid_start_ticks FROM runs WHERE status = 'running'");
    while (stmt.step()) found.push_back({stmt.getText(0), identityFromRow(stmt, 1)});
    return found;
  });
  int marked = 0;
  for (const auto& c : candidates) {
    if (checkProcess(c.who) != Liveness::Dead) continue;
    db_->write([&] {
      // The pid/start-time guard: if the run was resumed by a live process meanwhile, leave it alone.
      Stmt update =
          db_->prepare("UPDATE runs SET status = 'interrupted', end_time = ?, status_message = ? "
                       "WHERE run_uuid = ? AND status = 'running' AND pid = ? AND pid_start_ticks = ?");
      update.bind(1, nowMillis())
          .bind(2, fmt::format("the process writing this run (pid {} on {}) ended without finishing it",
                               c.who.pid, c.who.host))
          .bind(3, c.id)
          .bind(4, c.who.pid)
          .bind(5, c.who.startTicks)
          .run();
      marked += static_cast<int>(db_->changes());
    });
  }
  return marked;
}

namespace {
// Names, tags and params are printed by `mhr runs` and written into reports: a control character (NUL, ESC,
// a newline in a name) would cut them short or drive the reader's terminal. Tab is the one allowed.
void requirePrintable(const std::string& what, const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      throw UserError(what + " '" + support::terminalSafe(text) + "' holds the control character " +
                      support::terminalSafe(std::string(1, text[i])) + " at byte " + std::to_string(i + 1) +
                      "; names, tags and params may hold tab but no other control character");
  }
}
} // namespace

std::unique_ptr<RunWriter> Tracker::startRun(const RunStart& start, const WriterOptions& options) {
  if (start.experiment.empty()) throw UserError("cannot start a run without an experiment name");
  requirePrintable("the experiment name", start.experiment);
  requirePrintable("the run name", start.runName);
  for (const auto& [key, value] : start.tags) {
    requirePrintable("the tag name", key);
    requirePrintable("the tag " + key, value);
  }
  for (const auto& [key, value] : start.params) {
    requirePrintable("the param name", key);
    if (auto text = std::get_if<std::string>(&value)) requirePrintable("the param " + key, *text);
  }
  std::string id = newRunId();
  std::string name = start.runName;
  if (name.empty()) {
    std::string stem = start.specPath.empty() ? "run" : std::filesystem::path(start.specPath).stem().string();
    name = stem + "-" + id.substr(0, 8);
  }
  std::string user = start.userId;
  if (user.empty()) {
    const char* env = std::getenv("USER");
    user = env ? env : "";
  }
  nlohmann::json settings = nlohmann::json::object();
  for (const auto& [key, value] : start.resolvedSettings) {
    std::visit([&](const auto& v) { settings[key] = v; }, value);
  }
  ProcessIdentity me = currentProcess();
  // Identifies this writer (not just this process): a run resumed elsewhere, even by the same process,
  // gets a new token, and the old writer can no longer record a final status over the new owner's.
  std::string token = newRunId();

  for (const auto& [key, value] : start.params) {
    (void)value;
    if (key.empty()) throw UserError("a run param has an empty name");
  }

  db_->write([&] {
    int64_t now = nowMillis();
    int64_t experiment = experimentId(*db_, start.experiment, now);
    Stmt insert = db_->prepare(
        "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, "
        "start_time, source_version, experiment_id, spec_text, spec_hash, semantic_hash, seed, "
        "resolved_settings, host, boot_id, pid, pid_start_ticks, writer_token) "
        "VALUES (?, ?, 'LOCAL', ?, 'mhr run', ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, id).bind(2, name).bind(3, start.specPath).bind(4, user).bind(5, now);
    insert.bind(6, start.sourceVersion).bind(7, experiment).bind(8, start.specText);
    insert.bind(9, start.specHash).bind(10, start.semanticHash);
    if (start.seed) {
      insert.bind(11, *start.seed);
    } else {
      insert.bind(11, nullptr);
    }
    insert.bind(12, settings.dump())
        .bind(13, me.host)
        .bind(14, me.bootId)
        .bind(15, me.pid)
        .bind(16, me.startTicks);
    insert.bind(17, token).run();
  });

  auto writer =
      std::make_unique<RunWriter>(db_, id, token, options, std::map<std::string, runtime::ParamValue>{});
  for (const auto& [key, value] : start.params) writer->logParam(key, value);
  for (const auto& [key, value] : start.tags) writer->setTag(key, value);
  writer->flush();
  return writer;
}

std::string Tracker::resolveRunId(const std::string& runRef) {
  std::string ref = support::trim(runRef);
  if (ref.empty()) throw UserError("empty run id");
  return db_->read([&] {
    std::vector<std::pair<std::string, std::string>> matches; // id, name
    std::string lower = support::toLower(ref);
    if (isHex(lower) && lower.size() >= 4) {
      // A range scan on the primary key: ids in [prefix, prefix + "g"), 'g' sorting after every hex digit.
      Stmt stmt =
          db_->prepare("SELECT run_uuid, name FROM runs WHERE run_uuid >= ? AND run_uuid < ? LIMIT 11");
      stmt.bind(1, lower).bind(2, lower + "g");
      while (stmt.step()) matches.emplace_back(stmt.getText(0), stmt.getText(1));
    }
    if (matches.empty()) {
      Stmt stmt = db_->prepare("SELECT run_uuid, name FROM runs WHERE name = ? LIMIT 11");
      stmt.bind(1, ref);
      while (stmt.step()) matches.emplace_back(stmt.getText(0), stmt.getText(1));
    }
    if (matches.size() == 1) return matches[0].first;
    if (matches.empty()) {
      std::string hint = isHex(lower) && lower.size() < 4 ? " (give at least 4 hex digits of the id)" : "";
      throw UserError("no run '" + ref + "' in '" + db_->path() + "'" + hint +
                      "; `mhr runs list` shows the runs it holds");
    }
    std::string list;
    for (size_t i = 0; i < matches.size() && i < 10; ++i) {
      list += "\n  " + matches[i].first + "  " + matches[i].second;
    }
    if (matches.size() > 10) list += "\n  ...";
    throw UserError("run reference '" + ref + "' is ambiguous; it matches:" + list +
                    "\ngive more digits of the id");
  });
}

std::unique_ptr<RunWriter> Tracker::resumeRun(const std::string& runRef, const ResumeOptions& options) {
  std::string id = resolveRunId(runRef);
  ProcessIdentity me = currentProcess();
  std::string token = newRunId();
  std::map<std::string, runtime::ParamValue> params;

  db_->write([&] {
    params.clear();
    Stmt run =
        db_->prepare("SELECT status, status_message, resume_count, host, boot_id, pid, pid_start_ticks "
                     "FROM runs WHERE run_uuid = ?");
    run.bind(1, id);
    MHR_ASSERT(run.step(), "resolved run id has no row");
    std::string status = run.getText(0);
    std::string message = run.getText(1);
    int64_t resumes = run.getInt(2);
    ProcessIdentity owner = identityFromRow(run, 3);
    if (status == "finished") {
      throw UserError("run " + id + " finished; there is nothing to resume (start a new run instead)");
    }
    if (status == "running") {
      Liveness alive = checkProcess(owner);
      if (alive == Liveness::Alive) {
        throw UserError(fmt::format("run {} is still running (pid {} on {}); stop it before resuming", id,
                                    owner.pid, owner.host));
      }
      if (alive == Liveness::Unknown && !options.force) {
        throw UserError(
            fmt::format("run {} is marked running by pid {} on host {}, which this machine cannot "
                        "check; if that process is gone, resume with --force",
                        id, owner.pid, owner.host));
      }
    }
    int64_t now = nowMillis();
    Stmt update = db_->prepare("UPDATE runs SET status = 'running', end_time = NULL, status_message = NULL, "
                               "resume_count = resume_count + 1, host = ?, boot_id = ?, pid = ?, "
                               "pid_start_ticks = ?, writer_token = ? WHERE run_uuid = ?");
    update.bind(1, me.host)
        .bind(2, me.bootId)
        .bind(3, me.pid)
        .bind(4, me.startTicks)
        .bind(5, token)
        .bind(6, id)
        .run();
    std::string note =
        formatIsoTime(now) + ": resumed (was " + status + (message.empty() ? "" : ": " + message) + ")";
    if (options.discardMetricsAfterStep) {
      note += "; metric points after step " + std::to_string(*options.discardMetricsAfterStep) + " discarded";
    }
    Stmt tag = db_->prepare("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?) "
                            "ON CONFLICT (key, run_uuid) DO UPDATE SET value = excluded.value");
    tag.bind(1, "mhr.resume." + std::to_string(resumes + 1)).bind(2, note).bind(3, id).run();

    if (options.discardMetricsAfterStep) {
      Stmt drop = db_->prepare("DELETE FROM metrics WHERE run_uuid = ? AND step > ?");
      drop.bind(1, id).bind(2, *options.discardMetricsAfterStep).run();
      Stmt clear = db_->prepare("DELETE FROM latest_metrics WHERE run_uuid = ?");
      clear.bind(1, id).run();
      // MLflow's rule for the latest value: the greatest (step, timestamp, value).
      Stmt rebuild =
          db_->prepare("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid, epoch) "
                       "SELECT key, value, timestamp, step, is_nan, run_uuid, epoch FROM ("
                       "  SELECT *, row_number() OVER (PARTITION BY key ORDER BY step DESC, timestamp DESC, "
                       "value DESC) AS rn"
                       "  FROM metrics WHERE run_uuid = ?) WHERE rn = 1");
      rebuild.bind(1, id).run();
    }

    Stmt stored = db_->prepare("SELECT key, value, value_type FROM params WHERE run_uuid = ?");
    stored.bind(1, id);
    while (stored.step()) params[stored.getText(0)] = paramFromRow(stored.getText(2), stored.getText(1));
  });
  return std::make_unique<RunWriter>(db_, id, token, options.writer, std::move(params));
}

} // namespace mhr::tracker
