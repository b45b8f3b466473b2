#include "cli/run_session.h"

#include "cli/compile_setup.h"
#include "cli/local_ranks.h"
#include "cli/test_hooks.h"
#include "cli/version.h"
#include "compiler/lower/sweep.h"
#include "runtime/device.h"
#include "runtime/distributed.h"
#include "runtime/execute.h"
#include "support/error.h"
#include "support/strings.h"
#include "tracker/environment.h"
#include "tracker/report.h"
#include "tracker/results_table.h"
#include "tracker/run_reader.h"
#include "tracker/run_writer.h"
#include "tracker/tracker.h"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace mhr::cli {

namespace {

namespace fs = std::filesystem;

// Data-parallel state of this process: the process group (nullptr = one process) and how many runs it has
// started, so that store keys of successive sweep members differ.
struct DistState {
  std::shared_ptr<runtime::Distributed> group;
  int64_t member = 0;
};
DistState gDist;

// A stream that drops everything (the log of ranks other than 0).
struct NullBuffer : std::streambuf {
  int overflow(int c) override { return c; }
};
NullBuffer gNullBuffer;
std::ostream gNullStream(&gNullBuffer);

// A rank other than 0 of a data-parallel run (from the launcher's environment).
bool followerRank() {
  const char* r = std::getenv("RANK");
  return std::getenv("WORLD_SIZE") && r && std::string(r) != "0";
}

// Compiles against the memory of the device the run will use (`auto` resolved to the device it picks), so
// that a stage which cannot fit is refused before any data is read.
compiler::CompileResult compileRunSpec(const std::string& file, const std::vector<std::string>& overrides,
                                       const std::string& device) {
  auto r = compileSpec(file, overrides, runtime::chooseDevice(device).is_cuda() ? "cuda" : "cpu");
  // Once: from rank 0 of a data-parallel run, or from the parent of `--nproc` ranks.
  if (!followerRank() && (!std::getenv("MHR_NPROC_CHILD") || !r.ok())) r.diags->renderText(std::cerr);
  return r;
}

// The results table's rows: the plan's evaluation stages in order.
std::vector<tracker::EvaluationRow> evaluationRows(const plan::ExperimentPlan& plan) {
  std::vector<tracker::EvaluationRow> rows;
  for (const auto& st : plan.stages)
    if (st.kind == plan::Stage::Kind::Evaluate)
      rows.push_back({st.key, st.network, st.dataset + "." + st.split,
                      std::to_string(st.resolution.h) + "x" + std::to_string(st.resolution.w),
                      st.eval.metrics});
  return rows;
}

// The evaluation stages of a finished run, read back from the tracker (so what is printed is what is stored).
void printResults(tracker::Tracker& t, const std::string& runId, const plan::ExperimentPlan& plan) {
  tracker::RunDetails details = tracker::loadRun(t.db(), runId);
  std::map<std::string, double> latest;
  for (const auto& m : details.latest) latest[m.key] = m.value;
  std::cout << "\nrun " << runId.substr(0, 8) << " (" << plan.name << ")\n"
            << tracker::resultsTable(evaluationRows(plan), latest, true).render();
}

// One shell word: as is when it has only characters no shell treats specially, else single-quoted.
std::string shellWord(const std::string& w) {
  const bool plain = !w.empty() && std::all_of(w.begin(), w.end(), [](unsigned char c) {
    return std::isalnum(c) || std::strchr("_./=:,+-@%^", c) != nullptr;
  });
  if (plain) return w;
  std::string out = "'";
  for (char c : w) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The command that continues run `runId`: the same file, database and --set overrides (which `--resume`
// needs, since they are part of the spec's semantic hash), ready to paste.
std::string resumeCommand(const RunRequest& a, const std::vector<std::string>& overrides,
                          const std::string& runId) {
  std::string cmd = "mhr run " + shellWord(a.file);
  if (a.db) cmd += " --db " + shellWord(*a.db);
  if (a.device != "auto") cmd += " --device " + shellWord(a.device);
  if (a.threads > 0 && !gDist.group) cmd += " --threads " + std::to_string(a.threads); // results depend on it
  for (const std::string& o : overrides) cmd += " --set " + shellWord(o);
  if (!a.checkpoints.empty()) cmd += " --checkpoints " + shellWord(a.checkpoints);
  return cmd + " --resume " + runId.substr(0, 8);
}

// SIGINT/SIGTERM end the run as `interrupted` (the checkpoint of the last finished epoch stays usable). The
// handler says how to resume (prepared before, written with write(2): async-signal-safe), then dies of the
// signal as the default action would.
volatile std::sig_atomic_t gStopSignal = 0;
char gResumeHint[8192];
volatile std::sig_atomic_t gResumeHintLength = 0;
void setResumeHint(const std::string& text) {
  gResumeHintLength = 0;
  const size_t n = std::min(text.size(), sizeof gResumeHint);
  std::memcpy(gResumeHint, text.data(), n);
  gResumeHintLength = static_cast<std::sig_atomic_t>(n);
}
void onSignal(int sig) {
  gStopSignal = sig;
  if (gResumeHintLength > 0) {
    ssize_t ignored = ::write(STDERR_FILENO, gResumeHint, static_cast<size_t>(gResumeHintLength));
    (void)ignored;
  }
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
  tracker::writeReport(t.db(), runId, path, options);
}

// What every process of a run gives the runtime; the callers add what differs (checkpoints, resume, log).
runtime::ExecuteOptions executeOptions(const RunRequest& a) {
  runtime::ExecuteOptions options;
  options.device = a.device;
  options.progress = !a.noProgress;
  options.threads = a.threads;
  options.cacheDir = a.cacheDir;
  options.distributed = gDist.group;
  return options;
}

// `--db none`: nothing is recorded; the results table comes from the runtime's own summary.
int runUnrecorded(const RunRequest& a, const plan::ExperimentPlan& plan) {
  if (!a.resume.empty()) throw UserError("--resume needs a tracker database (not --db none)");
  // Nothing is stored; the metrics' last values are kept for the table, named as the tracker would have them.
  struct LatestSink : runtime::NullSink {
    std::map<std::string, double> latest;
    void logMetric(const std::string& key, double value, int64_t, int64_t) override { latest[key] = value; }
  } sink;
  runtime::ExecuteOptions options = executeOptions(a);
  options.checkpointDir = a.checkpoints;
  runtime::execute(plan, options, sink);
  std::cout << "\n"
            << plan.name << " (not recorded: --db none)\n"
            << tracker::resultsTable(evaluationRows(plan), sink.latest, false).render();
  return 0;
}

// Ranks other than 0 of a data-parallel run: no tracker, no report; the checkpoint folder comes from rank 0
// through the store.
int runFollower(const RunRequest& a, const plan::ExperimentPlan& plan, const std::string& key) {
  runtime::Distributed& d = *gDist.group;
  const std::string checkpointDir = d.storeGet(key + "/checkpoints");
  if (!checkpointDir.empty() && checkpointDir[0] == '!') {
    std::cerr << "mhr: error: " << d.describe() << ": " << checkpointDir.substr(1) << "\n";
    return 1;
  }
  runtime::NullSink sink;
  runtime::ExecuteOptions options = executeOptions(a);
  options.checkpointDir = checkpointDir == "-" ? "" : checkpointDir;
  options.resume = !a.resume.empty();
  options.progress = false;
  options.log = &gNullStream;
  installTestKillHook(options, d.rank());
  try {
    runtime::execute(plan, options, sink);
  } catch (const std::exception& e) {
    std::cerr << "mhr: error: " << d.describe() << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int runOne(const RunRequest& a, const compiler::CompileResult& compiled,
           const std::vector<std::string>& overrides, const std::map<std::string, std::string>& extraTags,
           runtime::StageReuse* reuse = nullptr) {
  const plan::ExperimentPlan& plan = *compiled.plan;
  const std::string storeKey = "run" + std::to_string(gDist.member++);
  if (gDist.group && !gDist.group->isRoot()) return runFollower(a, plan, storeKey);
  if (a.db && *a.db == "none") {
    if (gDist.group) throw UserError("--db none: a data-parallel run needs a tracker database");
    return runUnrecorded(a, plan);
  }
  const std::string dbPath = tracker::resolveDbPath(a.db);
  // Followers wait for the checkpoint folder; if rank 0 cannot start the run they learn it at once.
  struct StartGuard {
    const std::string& key;
    bool started = false;
    ~StartGuard() {
      if (started || !gDist.group) return;
      try {
        gDist.group->storeSet(key + "/checkpoints", "!rank 0 could not start the run; its message says why");
      } catch (...) {
      }
    }
  } guard{storeKey};
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
    // What the interrupted process logged after its last durable checkpoint is logged again by this one.
    tracker::ResumeOptions ro;
    ro.discardMetricsAfterStep = runtime::resumeStep(checkpointDir);
    writer = t.resumeRun(id, ro);
  } else {
    tracker::RunStart start;
    start.experiment = plan.name;
    start.runName = a.name;
    start.specPath = a.file;
    start.specText = plan.specText;
    start.specHash = plan.specHash;
    start.semanticHash = plan.semanticHash;
    start.seed = plan.seed;
    for (const auto& [k, v] : plan.params) start.params[k] = runtime::toParamValue(v);
    start.tags = extraTags;
    if (!overrides.empty()) {
      start.tags["mhr.overrides"] = support::join(overrides, " ");         // for people
      start.tags["mhr.overrides.json"] = nlohmann::json(overrides).dump(); // for --resume, exact
    }
    for (const auto& tag : a.tags) {
      size_t eq = tag.find('=');
      if (eq == std::string::npos || eq == 0) throw UserError("--tag needs KEY=VALUE, got '" + tag + "'");
      start.tags[tag.substr(0, eq)] = tag.substr(eq + 1);
    }
    start.resolvedSettings["device"] = a.device;
    start.resolvedSettings["threads"] = a.threads;
    if (gDist.group) {
      start.resolvedSettings["world_size"] = gDist.group->worldSize();
      start.resolvedSettings["dist_backend"] = gDist.group->backend();
    }
    start.sourceVersion = kGitCommit;
    writer = t.startRun(start);
    checkpointDir = a.checkpoints.empty() ? checkpointDirFor(dbPath, writer->runId()) : a.checkpoints;
    writer->setTag("mhr.checkpoints", checkpointDir);
  }
  const std::string runId = writer->runId();
  std::cerr << (resuming ? "resuming run " : "run ") << runId.substr(0, 8) << " in " << dbPath;
  if (gDist.group) std::cerr << " (data-parallel, " << gDist.group->worldSize() << " processes)";
  std::cerr << "\n";
  if (gDist.group) {
    writer->setTag("mhr.world_size", std::to_string(gDist.group->worldSize()));
    gDist.group->storeSet(storeKey + "/checkpoints", checkpointDir.empty() ? "-" : checkpointDir);
  }
  guard.started = true;
  const std::string resumeWith = resumeCommand(a, overrides, runId);
  if (!gDist.group || gDist.group->isRoot())
    setResumeHint("\nmhr: interrupted: run " + runId.substr(0, 8) +
                  " keeps its last finished epoch; resume it with\n  " + resumeWith + "\n");
  std::map<std::string, std::string> facts = tracker::hostEnvironment();
  facts["mhr_version"] = kVersion;
  facts["mhr_commit"] = kGitCommit;
  writer->logEnvironment(facts);

  runtime::ExecuteOptions options = executeOptions(a);
  options.checkpointDir = checkpointDir;
  options.resume = resuming;
  if (reuse && !resuming && !gDist.group) {
    auto index = extraTags.find("sweep.index");
    reuse->currentRun =
        "run " + runId.substr(0, 8) +
        (index != extraTags.end() ? " (sweep member " + std::to_string(std::stoll(index->second) + 1) + ")"
                                  : std::string());
    options.reuse = reuse;
  }
  if (gDist.group) installTestKillHook(options, gDist.group->rank());
  std::unique_ptr<runtime::MetricsSink> killer = killAfterStepSink(*writer);
  try {
    runtime::execute(plan, options, killer ? static_cast<runtime::MetricsSink&>(*killer) : *writer);
  } catch (const std::exception& e) {
    writer->finish(tracker::RunStatus::Failed, e.what());
    std::cerr << "mhr: error: " << e.what() << "\n";
    setResumeHint("");
    std::cerr << "run " << runId.substr(0, 8) << " failed; `mhr runs show " << runId.substr(0, 8)
              << "` has what was logged; once the cause is fixed, resume it with\n  " << resumeWith << "\n";
    return 1;
  }
  setResumeHint("");
  writer->finish(tracker::RunStatus::Finished);
  printResults(t, runId, plan);
  if (!a.noReport) {
    std::string path = a.report.empty() ? defaultReportPath(dbPath, runId) : a.report;
    writeRunReport(t, runId, path);
    std::cout << "report: " << path << "\n";
  }
  return 0;
}

std::string newSweepId() {
  return "sweep-" + tracker::newRunId().substr(0, 8);
}

// ---- `mhr run --nproc N`: N local processes of this binary, one per rank

// `--resume RUN` recompiles the spec with the overrides RUN was started with (its `mhr.overrides.json` tag),
// so that a user need not retype them; a --set that differs from them is refused rather than silently
// making a different experiment under the same run. Runs from before the tag keep the old rule (give the
// same --set again; the semantic hash check catches a mismatch). Without the database here (another node
// of a data-parallel run without a shared file system) the --set as given is used.
std::vector<std::string> resumeOverrides(const RunRequest& args) {
  const std::string dbPath = tracker::resolveDbPath(args.db);
  std::error_code ec;
  if (args.db == "none" || !fs::exists(dbPath, ec)) return args.overrides;
  tracker::Tracker t = tracker::Tracker::open(dbPath);
  const std::string id = t.resolveRunId(args.resume);
  tracker::RunDetails details = tracker::loadRun(t.db(), id);
  auto tag = details.tags.find("mhr.overrides.json");
  std::vector<std::string> recorded;
  if (tag != details.tags.end()) {
    nlohmann::json j = nlohmann::json::parse(tag->second, nullptr, false);
    if (!j.is_array())
      throw UserError("run " + id.substr(0, 8) + ": its mhr.overrides.json tag is not a list");
    for (const auto& v : j) {
      if (!v.is_string())
        throw UserError("run " + id.substr(0, 8) + ": its mhr.overrides.json tag is not a list");
      recorded.push_back(v.get<std::string>());
    }
  } else if (details.tags.count("mhr.overrides")) {
    return args.overrides; // an older run: its overrides are recorded as text only
  }
  if (!args.overrides.empty() && args.overrides != recorded) {
    std::string was;
    for (const std::string& o : recorded) was += " --set " + shellWord(o);
    throw UserError(
        "run " + id.substr(0, 8) + " was started with" + (was.empty() ? " no --set" : was) +
        "; --resume takes the run's own overrides: drop --set (or start a new run to change them)");
  }
  if (args.overrides.empty() && !recorded.empty())
    std::cerr << "mhr: resuming with the run's overrides:" << [&] {
      std::string s;
      for (const std::string& o : recorded) s += " --set " + shellWord(o);
      return s;
    }() << "\n";
  return recorded;
}

} // namespace

int runSpec(const RunRequest& args) {
  runtime::keepHostMemory(); // before the first tensor (runtime/device.h says why)
  RunRequest a = args;
  if (!a.resume.empty()) a.overrides = resumeOverrides(args);
  auto compiled = compileRunSpec(a.file, a.overrides, a.device);
  if (!compiled.ok()) return 1;
  if (args.nproc > 1) {
    if (!runtime::distributedAvailable("gloo") && !runtime::distributedAvailable("nccl"))
      throw UserError("--nproc: this build has no data-parallel backend (install libgloo-dev and rebuild; "
                      "docs/distributed.md)");
    LocalRanks ranks{args.argv, {}, args.nproc, args.threads, args.distTimeout};
    if (compiled.plan->sweep.mode != plan::SweepMode::None && args.sweepId.empty() && args.resume.empty())
      ranks.extraArgs = {"--sweep-id", newSweepId()}; // one sweep id for every rank
    return runLocalRanks(ranks);
  }
  if (std::optional<runtime::DistributedOptions> d = runtime::distributedOptionsFromEnv()) {
    if (args.distTimeout > 0) d->timeout = std::chrono::milliseconds(args.distTimeout * 1000);
    gDist.group = runtime::Distributed::connect(*d, args.device);
  }
  // A lone process uses every core it may run on: Debian's LibTorch defaults to one thread. (Under torchrun
  // or srun the launcher decides, as with OMP_NUM_THREADS; `--nproc` passes each rank its share.) The count
  // is recorded with the run: CPU results are bit-reproducible for the same --threads.
  if (a.threads == 0 && !gDist.group) a.threads = availableCores();
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  const plan::ExperimentPlan& plan = *compiled.plan;
  std::vector<lower::SweepRun> members = lower::expandSweep(plan.sweep);
  if (members.empty() || !a.resume.empty()) {
    if (a.sweepIndex >= 0) throw UserError("--sweep-index: " + a.file + " has no sweep block");
    return runOne(a, compiled, a.overrides, {});
  }
  std::string sweepId = a.sweepId.empty() ? newSweepId() : a.sweepId;
  if (gDist.group && a.sweepId.empty()) { // every rank tags with rank 0's id
    if (gDist.group->isRoot())
      gDist.group->storeSet("sweep-id", sweepId);
    else
      sweepId = gDist.group->storeGet("sweep-id");
  }
  std::vector<size_t> chosen;
  if (a.sweepIndex >= 0) {
    if (a.sweepIndex >= static_cast<int64_t>(members.size()))
      throw UserError("--sweep-index " + std::to_string(a.sweepIndex) + ": the sweep has " +
                      std::to_string(members.size()) + " runs (0 to " + std::to_string(members.size() - 1) +
                      ")");
    chosen.push_back(static_cast<size_t>(a.sweepIndex));
  } else {
    for (size_t i = 0; i < members.size(); ++i) chosen.push_back(i);
  }
  int failures = 0;
  // Train stages with the same inputs in several members train once (runtime/execute.h: StageReuse).
  runtime::StageReuse reuse;
  for (size_t i : chosen) {
    std::vector<std::string> overrides = a.overrides;
    overrides.insert(overrides.end(), members[i].overrides.begin(), members[i].overrides.end());
    if (!followerRank())
      std::cerr << "\n"
                << sweepId << " run " << i + 1 << "/" << members.size() << ": " << members[i].label << "\n";
    auto member = compileRunSpec(a.file, overrides, a.device);
    if (!member.ok()) {
      ++failures;
      continue;
    }
    std::map<std::string, std::string> tags = {
        {"sweep", sweepId}, {"sweep.index", std::to_string(i)}, {"sweep.label", members[i].label}};
    if (runOne(a, member, overrides, tags, a.noReuse ? nullptr : &reuse) != 0) {
      ++failures;
      if (gDist.group) break; // the process group may be broken: stop the sweep on every rank
    }
  }
  if (gDist.group && !gDist.group->isRoot()) return failures == 0 ? 0 : 1;
  std::cout << "\n"
            << sweepId << ": " << chosen.size() - failures << " of " << chosen.size()
            << " runs finished; compare them with `mhr runs compare --sweep " << sweepId << "`\n";
  return failures == 0 ? 0 : 1;
}

} // namespace mhr::cli
