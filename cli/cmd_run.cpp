// cli/cmd_run.cpp — `mhr run`: compile the spec, open the tracker, execute the plan with the LibTorch runtime
// (logging everything through the tracker's MetricsSink), then print the evaluation table and write the HTML
// report. A spec with a `sweep` block runs once per combination, each a tracker run tagged with the sweep id;
// `--sweep-index I` runs one member (what a Slurm job array does). `--resume RUN` continues an interrupted run
// from its last checkpoint under the same run id.
#include "cli/commands.h"
#include "cli/png_encoder.h"
#include "cli/version.h"
#include "compiler/lower/sweep.h"
#include "compiler/pipeline.h"
#include "stdlib/catalog.h"
#include "support/error.h"
#include "support/files.h"
#include "support/strings.h"
#include "tracker/environment.h"
#include "tracker/report.h"
#include "tracker/run_reader.h"
#include "tracker/run_writer.h"
#include "tracker/text_table.h"
#include "tracker/tracker.h"
#if MHR_WITH_TORCH
#include "runtime/execute.h"
#endif

#include <cmath>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

namespace mhr::cli {

namespace {

namespace fs = std::filesystem;

struct RunArgs {
  std::string file;
  std::optional<std::string> db;
  std::string device = "auto";
  std::vector<std::string> overrides;
  std::string resume;
  std::string name;
  std::vector<std::string> tags;
  std::string checkpoints;
  std::string report;
  bool noReport = false;
  bool noProgress = false;
  int64_t threads = 0;
  int64_t sweepIndex = -1;
  std::string sweepId;
  int64_t nproc = 1;
};

#if MHR_WITH_TORCH
runtime::ParamValue toParam(const plan::Value& v) {
  switch (v.kind) {
  case plan::Value::Kind::Bool: return v.boolean;
  case plan::Value::Kind::Int: return v.integer;
  case plan::Value::Kind::Float: return v.number;
  case plan::Value::Kind::String:
  case plan::Value::Kind::Symbol: return v.text;
  default: return v.str();
  }
}

compiler::CompileResult compileSpec(const std::string& file, const std::vector<std::string>& overrides) {
  compiler::CompileOptions options;
  options.catalog = &stdlib::catalog();
  options.overrides = overrides;
  auto r = compiler::compileFile(file, options);
  r.diags->renderText(std::cerr);
  return r;
}

// "0.912 [0.871, 0.948]"
std::string withCi(const std::map<std::string, double>& m, const std::string& key) {
  auto it = m.find(key);
  if (it == m.end() || std::isnan(it->second)) return "-";
  char buf[96];
  auto lo = m.find(key + "_ci_low"), hi = m.find(key + "_ci_high");
  if (lo != m.end() && hi != m.end())
    std::snprintf(buf, sizeof buf, "%.3f [%.3f, %.3f]", it->second, lo->second, hi->second);
  else
    std::snprintf(buf, sizeof buf, "%.3f", it->second);
  return buf;
}

std::string plain(const std::map<std::string, double>& m, const std::string& key) {
  auto it = m.find(key);
  if (it == m.end() || std::isnan(it->second)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", it->second);
  return buf;
}

// The evaluation stages of a finished run, read back from the tracker (so what is printed is what is stored).
void printResults(tracker::Tracker& t, const std::string& runId, const plan::ExperimentPlan& plan) {
  tracker::RunDetails details = tracker::loadRun(t.db(), runId);
  std::map<std::string, double> latest;
  for (const auto& m : details.latest) latest[m.key] = m.value;
  tracker::TextTable table({"stage", "network", "split", "at", "AUC [95% CI]", "accuracy", "sensitivity", "specificity"});
  for (const auto& st : plan.stages) {
    if (st.kind != plan::Stage::Kind::Evaluate) continue;
    const std::string p = st.key + "/";
    table.addRow({st.key, st.network, st.dataset + "." + st.split,
                  std::to_string(st.resolution.h) + "x" + std::to_string(st.resolution.w), withCi(latest, p + "auc"),
                  plain(latest, p + "accuracy"), plain(latest, p + "sensitivity"), plain(latest, p + "specificity")});
  }
  std::cout << "\nrun " << runId.substr(0, 8) << " (" << plan.name << ")\n" << table.render();
}

// SIGINT/SIGTERM end the run as `interrupted` (the checkpoint of the last finished epoch stays usable).
volatile std::sig_atomic_t gStopSignal = 0;
void onSignal(int sig) {
  gStopSignal = sig;
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

std::string checkpointDirFor(const std::string& dbPath, const std::string& runId) {
  fs::path db = fs::absolute(dbPath);
  return (db.parent_path() / "mhr-checkpoints" / runId).string();
}

std::string defaultReportPath(const std::string& dbPath, const std::string& runId) {
  return (fs::absolute(dbPath).parent_path() / "mhr-reports" / (runId.substr(0, 8) + ".html")).string();
}

void writeRunReport(tracker::Tracker& t, const std::string& runId, const std::string& path) {
  tracker::ReportOptions options;
  options.encodePng = pngEncoder();
  tracker::writeReport(t.db(), runId, path, options);
}

// `--db none`: nothing is recorded; the results table comes from the runtime's own summary.
int runUnrecorded(const RunArgs& a, const plan::ExperimentPlan& plan) {
  if (!a.resume.empty()) throw UserError("--resume needs a tracker database (not --db none)");
  runtime::NullSink sink;
  runtime::ExecuteOptions options;
  options.device = a.device;
  options.checkpointDir = a.checkpoints;
  options.progress = !a.noProgress;
  options.threads = a.threads;
  runtime::ExecuteResult result = runtime::execute(plan, options, sink);
  tracker::TextTable table({"stage", "network", "split", "AUC [95% CI]", "accuracy"});
  for (const auto& st : result.stages) {
    if (!st.evaluation) continue;
    std::map<std::string, double> m;
    if (st.evaluation->auc) m["auc"] = *st.evaluation->auc;
    if (st.evaluation->aucCi) {
      m["auc_ci_low"] = st.evaluation->aucCi->lower;
      m["auc_ci_high"] = st.evaluation->aucCi->upper;
    }
    m["accuracy"] = st.evaluation->accuracy;
    table.addRow({st.key, st.network, st.split, withCi(m, "auc"), plain(m, "accuracy")});
  }
  std::cout << "\n" << plan.name << " (not recorded: --db none)\n" << table.render();
  return 0;
}

// One run of one plan (a sweep member is one such run).
int runOne(const RunArgs& a, const compiler::CompileResult& compiled, const std::vector<std::string>& overrides,
           const std::map<std::string, std::string>& extraTags) {
  const plan::ExperimentPlan& plan = *compiled.plan;
  if (a.db && *a.db == "none") return runUnrecorded(a, plan);
  const std::string dbPath = tracker::resolveDbPath(a.db);
  tracker::Tracker t = tracker::Tracker::open(dbPath);

  std::unique_ptr<tracker::RunWriter> writer;
  std::string checkpointDir;
  bool resuming = !a.resume.empty();
  if (resuming) {
    std::string id = t.resolveRunId(a.resume);
    tracker::RunInfo info = tracker::loadRunInfo(t.db(), id);
    if (info.semanticHash != plan.semanticHash)
      throw UserError("run " + id.substr(0, 8) + " was made from a different spec (semantic hash " +
                      info.semanticHash.substr(0, 12) + ", this spec " + plan.semanticHash.substr(0, 12) +
                      "): resume it with the same file and the same --set overrides");
    tracker::RunDetails details = tracker::loadRun(t.db(), id);
    auto dir = details.tags.find("mhr.checkpoints");
    checkpointDir = dir != details.tags.end() ? dir->second : checkpointDirFor(dbPath, id);
    writer = t.resumeRun(id);
  } else {
    tracker::RunStart start;
    start.experiment = plan.name;
    start.runName = a.name;
    start.specPath = a.file;
    start.specText = plan.specText;
    start.specHash = plan.specHash;
    start.semanticHash = plan.semanticHash;
    start.seed = plan.seed;
    for (const auto& [k, v] : plan.params) start.params[k] = toParam(v);
    start.tags = extraTags;
    if (!overrides.empty()) start.tags["mhr.overrides"] = support::join(overrides, " ");
    for (const auto& tag : a.tags) {
      size_t eq = tag.find('=');
      if (eq == std::string::npos || eq == 0) throw UserError("--tag needs KEY=VALUE, got '" + tag + "'");
      start.tags[tag.substr(0, eq)] = tag.substr(eq + 1);
    }
    start.resolvedSettings["device"] = a.device;
    start.resolvedSettings["threads"] = a.threads;
    start.sourceVersion = kGitCommit;
    writer = t.startRun(start);
    checkpointDir = a.checkpoints.empty() ? checkpointDirFor(dbPath, writer->runId()) : a.checkpoints;
    writer->setTag("mhr.checkpoints", checkpointDir);
  }
  const std::string runId = writer->runId();
  std::cerr << (resuming ? "resuming run " : "run ") << runId.substr(0, 8) << " in " << dbPath << "\n";
  std::map<std::string, std::string> facts = tracker::hostEnvironment();
  facts["mhr_version"] = kVersion;
  facts["mhr_commit"] = kGitCommit;
  writer->logEnvironment(facts);

  runtime::ExecuteOptions options;
  options.device = a.device;
  options.checkpointDir = checkpointDir;
  options.resume = resuming;
  options.progress = !a.noProgress;
  options.threads = a.threads;
  try {
    runtime::execute(plan, options, *writer);
  } catch (const std::exception& e) {
    writer->finish(tracker::RunStatus::Failed, e.what());
    std::cerr << "mhr: error: " << e.what() << "\n";
    std::cerr << "run " << runId.substr(0, 8) << " failed; `mhr runs show " << runId.substr(0, 8) << "` has what was logged\n";
    return 1;
  }
  writer->finish(tracker::RunStatus::Finished);
  printResults(t, runId, plan);
  if (!a.noReport) {
    std::string path = a.report.empty() ? defaultReportPath(dbPath, runId) : a.report;
    writeRunReport(t, runId, path);
    std::cout << "report: " << path << "\n";
  }
  return 0;
}

std::string newSweepId() { return "sweep-" + tracker::newRunId().substr(0, 8); }
#endif

int runCommand(const RunArgs& a) {
#if !MHR_WITH_TORCH
  (void)a;
  throw UserError("this mhr was built without the LibTorch runtime (MHR_WITH_TORCH=OFF); rebuild with "
                  "`make build` (Debian's libtorch-dev) or `make build TORCH_DIR=/path/to/libtorch/share/cmake/Torch`");
#else
  if (a.nproc != 1) throw UserError("--nproc: data-parallel runs are not available in this build yet");
  auto compiled = compileSpec(a.file, a.overrides);
  if (!compiled.ok()) return 1;
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  const plan::ExperimentPlan& plan = *compiled.plan;
  std::vector<lower::SweepRun> members = lower::expandSweep(plan.sweep);
  if (members.empty() || !a.resume.empty()) {
    if (a.sweepIndex >= 0) throw UserError("--sweep-index: " + a.file + " has no sweep block");
    return runOne(a, compiled, a.overrides, {});
  }
  std::string sweepId = a.sweepId.empty() ? newSweepId() : a.sweepId;
  std::vector<size_t> chosen;
  if (a.sweepIndex >= 0) {
    if (a.sweepIndex >= static_cast<int64_t>(members.size()))
      throw UserError("--sweep-index " + std::to_string(a.sweepIndex) + ": the sweep has " +
                      std::to_string(members.size()) + " runs (0 to " + std::to_string(members.size() - 1) + ")");
    chosen.push_back(static_cast<size_t>(a.sweepIndex));
  } else {
    for (size_t i = 0; i < members.size(); ++i) chosen.push_back(i);
  }
  int failures = 0;
  for (size_t i : chosen) {
    std::vector<std::string> overrides = a.overrides;
    overrides.insert(overrides.end(), members[i].overrides.begin(), members[i].overrides.end());
    std::cerr << "\n" << sweepId << " run " << i + 1 << "/" << members.size() << ": " << members[i].label << "\n";
    auto member = compileSpec(a.file, overrides);
    if (!member.ok()) {
      ++failures;
      continue;
    }
    std::map<std::string, std::string> tags = {{"sweep", sweepId},
                                               {"sweep.index", std::to_string(i)},
                                               {"sweep.label", members[i].label}};
    if (runOne(a, member, overrides, tags) != 0) ++failures;
  }
  std::cout << "\n" << sweepId << ": " << chosen.size() - failures << " of " << chosen.size()
            << " runs finished; compare them with `mhr runs compare --sweep " << sweepId << "`\n";
  return failures == 0 ? 0 : 1;
#endif
}

} // namespace

void registerRunCommand(CLI::App& app, Runner& run) {
  auto a = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand(
      "run", "execute a spec: build, morph (re-checked numerically), train and evaluate; log to the tracker");
  cmd->add_option("file", a->file, "the .mhr file")->required();
  cmd->add_option("--db", a->db, "tracker database (default $MHR_DB, else ./mhr-runs.sqlite); none: record nothing");
  cmd->add_option("--device", a->device, "cpu, cuda, cuda:N or auto (default auto)");
  cmd->add_option("--set", a->overrides, "override a setting: KEY=VALUE (repeatable), e.g. train.hr.epochs=2");
  cmd->add_option("--resume", a->resume, "continue an interrupted run (id, id prefix or name) from its checkpoint");
  cmd->add_option("--name", a->name, "run name (default: the spec's name and the run id's prefix)");
  cmd->add_option("--tag", a->tags, "tag the run: KEY=VALUE (repeatable)");
  cmd->add_option("--checkpoints", a->checkpoints, "checkpoint folder (default mhr-checkpoints/RUN next to the database)");
  cmd->add_option("--report", a->report, "HTML report path (default mhr-reports/RUN.html next to the database)");
  cmd->add_flag("--no-report", a->noReport, "do not write the HTML report");
  cmd->add_flag("--no-progress", a->noProgress, "no progress output");
  cmd->add_option("--threads", a->threads, "CPU threads for LibTorch (default: LibTorch's choice)")->check(CLI::Range(0, 1024));
  cmd->add_option("--sweep-index", a->sweepIndex, "run only this member of the spec's sweep (0-based; Slurm arrays)");
  cmd->add_option("--sweep-id", a->sweepId, "sweep id to tag the runs with (default: a new one)");
  cmd->add_option("--nproc", a->nproc, "local data-parallel processes (default 1)")->check(CLI::Range(1, 1024));
  cmd->callback([a, &run] { run = [a] { return runCommand(*a); }; });
}

} // namespace mhr::cli
