// cli/cmd_run.cpp — `mhr run`: compile the spec, open the tracker, execute the plan with the LibTorch runtime
// (logging everything through the tracker's MetricsSink), then print the evaluation table and write the HTML
// report. A spec with a `sweep` block runs once per combination, each a tracker run tagged with the sweep id;
// `--sweep-index I` runs one member (what a Slurm job array does). `--resume RUN` continues an interrupted
// run from its last checkpoint under the same run id.
#include "cli/commands.h"
#include "cli/device_memory.h"
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
#include "runtime/device.h"
#include "runtime/distributed.h"
#include "runtime/execute.h"
#endif

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sched.h>
#include <spawn.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

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
  std::string cacheDir; // prepared-image caches ("" = each data set's `cache:` option, else ./.mhr-cache)
  int64_t sweepIndex = -1;
  bool noReuse = false; // --no-reuse: every sweep member trains every stage
  std::string sweepId;
  int64_t nproc = 1;
  int64_t distTimeout = 0; // seconds; 0 = $MHR_DIST_TIMEOUT or 300
};

// Data-parallel state of this process: the process group (nullptr = one process) and how many runs it has
// started, so that store keys of successive sweep members differ.
struct DistState {
#if MHR_WITH_TORCH
  std::shared_ptr<runtime::Distributed> group;
#endif
  int64_t member = 0;
};
DistState gDist;

// A stream that drops everything (the log of ranks other than 0).
struct NullBuffer : std::streambuf {
  int overflow(int c) override { return c; }
};
NullBuffer gNullBuffer;
std::ostream gNullStream(&gNullBuffer);

#if MHR_WITH_TORCH
runtime::ParamValue toParam(const plan::Value& v) {
  switch (v.kind) {
  case plan::Value::Kind::Bool:
    return v.boolean;
  case plan::Value::Kind::Int:
    return v.integer;
  case plan::Value::Kind::Float:
    return v.number;
  case plan::Value::Kind::String:
  case plan::Value::Kind::Symbol:
    return v.text;
  default:
    return v.str();
  }
}

// A rank other than 0 of a data-parallel run (from the launcher's environment).
bool followerRank() {
  const char* r = std::getenv("RANK");
  return std::getenv("WORLD_SIZE") && r && std::string(r) != "0";
}

compiler::CompileResult compileSpec(const std::string& file, const std::vector<std::string>& overrides,
                                    const std::string& device) {
  compiler::CompileOptions options;
  options.catalog = &stdlib::catalog();
  options.overrides = overrides;
  // A stage that cannot fit is refused before any data is read: `auto` is resolved to the device it picks.
#if MHR_WITH_TORCH
  setDeviceMemory(options, runtime::chooseDevice(device).is_cuda() ? "cuda" : "cpu");
#else
  setDeviceMemory(options, device);
#endif
  auto r = compiler::compileFile(file, options);
  // Once: from rank 0 of a data-parallel run, or from the parent of `--nproc` ranks.
  if (!followerRank() && (!std::getenv("MHR_NPROC_CHILD") || !r.ok())) r.diags->renderText(std::cerr);
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

// The results table: a row per evaluation stage, a column per metric the spec's evaluate stages asked for
// (in the order they first appear), each cell the stage's logged value under that name (binary: the value;
// otherwise the macro mean), AUC and PR-AUC with their bootstrap interval when there is one.
tracker::TextTable resultsTable(const plan::ExperimentPlan& plan, const std::map<std::string, double>& latest,
                                bool withResolution) {
  std::vector<std::string> metrics;
  for (const auto& st : plan.stages)
    if (st.kind == plan::Stage::Kind::Evaluate)
      for (const std::string& m : st.eval.metrics)
        if (std::find(metrics.begin(), metrics.end(), m) == metrics.end()) metrics.push_back(m);
  std::vector<std::string> header = {"stage", "network", "split"};
  if (withResolution) header.push_back("at");
  for (const std::string& m : metrics)
    header.push_back(m == "auc" ? "AUC [95% CI]" : m == "pr_auc" ? "PR-AUC [95% CI]" : m);
  tracker::TextTable table(header);
  for (const auto& st : plan.stages) {
    if (st.kind != plan::Stage::Kind::Evaluate) continue;
    const std::string p = st.key + "/";
    std::vector<std::string> row = {st.key, st.network, st.dataset + "." + st.split};
    if (withResolution)
      row.push_back(std::to_string(st.resolution.h) + "x" + std::to_string(st.resolution.w));
    for (const std::string& m : metrics) {
      const bool asked =
          std::find(st.eval.metrics.begin(), st.eval.metrics.end(), m) != st.eval.metrics.end();
      row.push_back(!asked                        ? "-"
                    : m == "auc" || m == "pr_auc" ? withCi(latest, p + m)
                                                  : plain(latest, p + m));
    }
    table.addRow(row);
  }
  return table;
}

// The evaluation stages of a finished run, read back from the tracker (so what is printed is what is stored).
void printResults(tracker::Tracker& t, const std::string& runId, const plan::ExperimentPlan& plan) {
  tracker::RunDetails details = tracker::loadRun(t.db(), runId);
  std::map<std::string, double> latest;
  for (const auto& m : details.latest) latest[m.key] = m.value;
  std::cout << "\nrun " << runId.substr(0, 8) << " (" << plan.name << ")\n"
            << resultsTable(plan, latest, true).render();
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
std::string resumeCommand(const RunArgs& a, const std::vector<std::string>& overrides,
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
  options.encodePng = pngEncoder();
  tracker::writeReport(t.db(), runId, path, options);
}

// `--db none`: nothing is recorded; the results table comes from the runtime's own summary.
int runUnrecorded(const RunArgs& a, const plan::ExperimentPlan& plan) {
  if (!a.resume.empty()) throw UserError("--resume needs a tracker database (not --db none)");
  // Nothing is stored; the metrics' last values are kept for the table, named as the tracker would have them.
  struct LatestSink : runtime::NullSink {
    std::map<std::string, double> latest;
    void logMetric(const std::string& key, double value, int64_t, int64_t) override { latest[key] = value; }
  } sink;
  runtime::ExecuteOptions options;
  options.device = a.device;
  options.checkpointDir = a.checkpoints;
  options.progress = !a.noProgress;
  options.threads = a.threads;
  options.cacheDir = a.cacheDir;
  runtime::execute(plan, options, sink);
  std::cout << "\n"
            << plan.name << " (not recorded: --db none)\n"
            << resultsTable(plan, sink.latest, false).render();
  return 0;
}

// One run of one plan (a sweep member is one such run).
// Tests of fault handling: MHR_TEST_KILL_RANK=R and MHR_TEST_KILL_AFTER=STAGE:EPOCHS make rank R SIGKILL
// itself once that epoch's checkpoint is durable for every rank (documented in docs/distributed.md).
void installTestKillHook(runtime::ExecuteOptions& options, int64_t rank) {
  const char* r = std::getenv("MHR_TEST_KILL_RANK");
  const char* at = std::getenv("MHR_TEST_KILL_AFTER");
  if (!r || !at || std::to_string(rank) != r) return;
  std::string spec = at;
  size_t colon = spec.rfind(':');
  if (colon == std::string::npos)
    throw UserError("MHR_TEST_KILL_AFTER needs STAGE:EPOCHS, got '" + spec + "'");
  std::string stage = spec.substr(0, colon);
  int64_t epochs = std::strtoll(spec.c_str() + colon + 1, nullptr, 10);
  options.onEpochEnd = [stage, epochs](const std::string& key, int64_t done) {
    if (key == stage && done == epochs) std::raise(SIGKILL);
  };
}

// Tests of resume: MHR_TEST_KILL_AFTER_STEP=N makes the recording process SIGKILL itself once a metric
// point of run-wide step N is durable (mid-epoch, after the last checkpoint: those points are logged again
// when the run resumes and must not stay twice). MHR_TEST_KILL_SIGNAL=15 sends SIGTERM instead: what a user's
// Ctrl-C or a scheduler's stop does, which the signal handler answers with the resume command.
class KillAfterStepSink : public runtime::MetricsSink {
public:
  KillAfterStepSink(runtime::MetricsSink& inner, int64_t step, int signal)
      : inner_(inner), step_(step), signal_(signal) {}
  void logParam(const std::string& k, const runtime::ParamValue& v) override { inner_.logParam(k, v); }
  void logMetric(const std::string& key, double value, int64_t step, int64_t epoch) override {
    inner_.logMetric(key, value, step, epoch);
    if (step >= step_) {
      inner_.flush();
      std::raise(signal_);
    }
  }
  void setTag(const std::string& k, const std::string& v) override { inner_.setTag(k, v); }
  void logEnvironment(const std::map<std::string, std::string>& f) override { inner_.logEnvironment(f); }
  void logVerdict(const runtime::VerdictRecord& v) override { inner_.logVerdict(v); }
  void logLineage(const runtime::LineageRecord& l) override { inner_.logLineage(l); }
  void logArtifact(const runtime::ArtifactRecord& a) override { inner_.logArtifact(a); }
  void logPredictions(const runtime::PredictionSet& p) override { inner_.logPredictions(p); }
  void logCam(const runtime::CamRecord& c) override { inner_.logCam(c); }
  void flush() override { inner_.flush(); }

private:
  runtime::MetricsSink& inner_;
  int64_t step_;
  int signal_;
};

// Ranks other than 0 of a data-parallel run: no tracker, no report; the checkpoint folder comes from rank 0
// through the store.
int runFollower(const RunArgs& a, const plan::ExperimentPlan& plan, const std::string& key) {
  runtime::Distributed& d = *gDist.group;
  const std::string checkpointDir = d.storeGet(key + "/checkpoints");
  if (!checkpointDir.empty() && checkpointDir[0] == '!') {
    std::cerr << "mhr: error: " << d.describe() << ": " << checkpointDir.substr(1) << "\n";
    return 1;
  }
  runtime::NullSink sink;
  runtime::ExecuteOptions options;
  options.device = a.device;
  options.checkpointDir = checkpointDir == "-" ? "" : checkpointDir;
  options.resume = !a.resume.empty();
  options.progress = false;
  options.threads = a.threads;
  options.cacheDir = a.cacheDir;
  options.log = &gNullStream;
  options.distributed = gDist.group;
  installTestKillHook(options, d.rank());
  try {
    runtime::execute(plan, options, sink);
  } catch (const std::exception& e) {
    std::cerr << "mhr: error: " << d.describe() << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int runOne(const RunArgs& a, const compiler::CompileResult& compiled,
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
    for (const auto& [k, v] : plan.params) start.params[k] = toParam(v);
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

  runtime::ExecuteOptions options;
  options.device = a.device;
  options.checkpointDir = checkpointDir;
  options.resume = resuming;
  options.progress = !a.noProgress;
  options.threads = a.threads;
  options.cacheDir = a.cacheDir;
  options.distributed = gDist.group;
  if (reuse && !resuming && !gDist.group) {
    auto index = extraTags.find("sweep.index");
    reuse->currentRun =
        "run " + runId.substr(0, 8) +
        (index != extraTags.end() ? " (sweep member " + std::to_string(std::stoll(index->second) + 1) + ")"
                                  : std::string());
    options.reuse = reuse;
  }
  if (gDist.group) installTestKillHook(options, gDist.group->rank());
  std::optional<KillAfterStepSink> killer;
  if (const char* k = std::getenv("MHR_TEST_KILL_AFTER_STEP"))
    killer.emplace(*writer, std::strtoll(k, nullptr, 10),
                   std::getenv("MHR_TEST_KILL_SIGNAL") ? std::atoi(std::getenv("MHR_TEST_KILL_SIGNAL"))
                                                       : SIGKILL);
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

// A TCP port that is free now on the loopback interface (the kernel's choice).
int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw UserError(std::string("--nproc: cannot open a socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw UserError(std::string("--nproc: cannot find a free port: ") + std::strerror(errno));
  }
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

volatile std::sig_atomic_t gParentSignal = 0;
void onParentSignal(int sig) {
  gParentSignal = sig;
}

std::string describeStatus(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = ::strsignal(WTERMSIG(status));
    return "was killed by signal " + std::to_string(WTERMSIG(status)) +
           (name ? std::string(" (") + name + ")" : "");
  }
  return "stopped (status " + std::to_string(status) + ")";
}

// The parent of `mhr run --nproc N`: spawns the ranks with torchrun's environment, forwards SIGINT/SIGTERM,
// and when one rank fails gives the others a grace period to notice (their collectives fail at once when a
// peer's connection closes, or after the timeout) before it stops them; reports which rank failed and how.
// The CPUs this process may run on (its affinity mask), at least 1.
int64_t availableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

int launchLocal(const RunArgs& a, const std::vector<std::string>& argv, bool hasSweep) {
  if (std::getenv("WORLD_SIZE"))
    throw UserError("--nproc: WORLD_SIZE is already set (a launcher such as torchrun or srun started this "
                    "process); use either --nproc or the launcher's environment, not both");
  if (!runtime::distributedAvailable("gloo") && !runtime::distributedAvailable("nccl"))
    throw UserError("--nproc: this build has no data-parallel backend (install libgloo-dev and rebuild; "
                    "docs/distributed.md)");
  std::vector<std::string> childArgs;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] == "--nproc") {
      ++i;
      continue;
    }
    if (argv[i].rfind("--nproc=", 0) == 0) continue;
    childArgs.push_back(argv[i]);
  }
  if (hasSweep && a.sweepId.empty() && a.resume.empty()) { // one sweep id for every rank
    childArgs.push_back("--sweep-id");
    childArgs.push_back(newSweepId());
  }
  if (a.threads == 0) { // N processes share the machine's cores, as torchrun's OMP_NUM_THREADS=1 intends
    childArgs.push_back("--threads");
    childArgs.push_back(std::to_string(std::max<int64_t>(1, availableCores() / a.nproc)));
  }
  const int port = freePort();
  const int64_t timeout = a.distTimeout > 0 ? a.distTimeout : 0;
  std::error_code ec;
  const std::string exe = fs::read_symlink("/proc/self/exe", ec).string();
  if (ec) throw UserError("--nproc: cannot find this program's path (/proc/self/exe)");

  std::vector<std::string> baseEnv;
  for (char** e = environ; *e; ++e) {
    std::string v = *e;
    for (const char* k : {"RANK=", "WORLD_SIZE=", "LOCAL_RANK=", "LOCAL_WORLD_SIZE=", "MASTER_ADDR=",
                          "MASTER_PORT=", "MHR_DIST_STORE=", "MHR_NPROC_CHILD="})
      if (v.rfind(k, 0) == 0) v.clear();
    if (timeout > 0 && v.rfind("MHR_DIST_TIMEOUT=", 0) == 0) v.clear();
    if (!v.empty()) baseEnv.push_back(v);
  }
  std::cerr << "mhr: " << a.nproc << " processes on 127.0.0.1:" << port << "\n";
  struct sigaction sa {};
  sa.sa_handler = onParentSignal;
  sigemptyset(&sa.sa_mask);
  struct sigaction oldInt {
  }, oldTerm{};
  sigaction(SIGINT, &sa, &oldInt);
  sigaction(SIGTERM, &sa, &oldTerm);

  std::vector<pid_t> pids;
  for (int64_t r = 0; r < a.nproc; ++r) {
    std::vector<std::string> env = baseEnv;
    env.push_back("RANK=" + std::to_string(r));
    env.push_back("LOCAL_RANK=" + std::to_string(r));
    env.push_back("WORLD_SIZE=" + std::to_string(a.nproc));
    env.push_back("LOCAL_WORLD_SIZE=" + std::to_string(a.nproc));
    env.push_back("MASTER_ADDR=127.0.0.1");
    env.push_back("MHR_NPROC_CHILD=1");
    env.push_back("MASTER_PORT=" + std::to_string(port));
    if (timeout > 0) env.push_back("MHR_DIST_TIMEOUT=" + std::to_string(timeout));
    std::vector<char*> cargv, cenv;
    cargv.push_back(const_cast<char*>(exe.c_str()));
    for (size_t i = 1; i < childArgs.size(); ++i) cargv.push_back(const_cast<char*>(childArgs[i].c_str()));
    cargv.push_back(nullptr);
    for (std::string& e : env) cenv.push_back(e.data());
    cenv.push_back(nullptr);
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, exe.c_str(), nullptr, nullptr, cargv.data(), cenv.data());
    if (rc != 0) {
      for (pid_t p : pids) ::kill(p, SIGTERM);
      for (pid_t p : pids) ::waitpid(p, nullptr, 0);
      throw UserError("--nproc: cannot start rank " + std::to_string(r) + ": " + std::strerror(rc));
    }
    pids.push_back(pid);
  }

  using Clock = std::chrono::steady_clock;
  std::vector<bool> alive(pids.size(), true);
  std::vector<std::string> failures;
  size_t running = pids.size();
  std::optional<Clock::time_point> failedAt;
  bool terminated = false, killed = false;
  int forwarded = 0;
  // After a failure the others get this long to stop by themselves (a closed connection fails their next
  // collective at once; a hung one fails at the timeout), then SIGTERM, then SIGKILL.
  const auto grace = std::chrono::seconds(std::min<int64_t>(30, (timeout > 0 ? timeout : 300) + 5));
  while (running > 0) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (size_t r = 0; r < pids.size(); ++r) {
        if (pids[r] != pid || !alive[r]) continue;
        alive[r] = false;
        --running;
        bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (!ok && !terminated) {
          failures.push_back("rank " + std::to_string(r) + " (pid " + std::to_string(pid) + ") " +
                             describeStatus(status));
          if (!failedAt) failedAt = Clock::now();
        }
      }
      continue;
    }
    if (pid < 0 && errno != EINTR) break;
    if (gParentSignal && forwarded != gParentSignal) {
      forwarded = gParentSignal;
      for (size_t r = 0; r < pids.size(); ++r)
        if (alive[r]) ::kill(pids[r], forwarded);
    }
    if (failedAt && !terminated && Clock::now() - *failedAt > grace) {
      terminated = true;
      for (size_t r = 0; r < pids.size(); ++r)
        if (alive[r]) ::kill(pids[r], SIGTERM);
    }
    if (failedAt && terminated && !killed && Clock::now() - *failedAt > grace + std::chrono::seconds(10)) {
      killed = true;
      for (size_t r = 0; r < pids.size(); ++r)
        if (alive[r]) ::kill(pids[r], SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  sigaction(SIGINT, &oldInt, nullptr);
  sigaction(SIGTERM, &oldTerm, nullptr);
  if (failures.empty() && !gParentSignal) return 0;
  if (gParentSignal && failures.empty()) {
    std::cerr << "mhr: stopped by signal " << gParentSignal << "\n";
    return 1;
  }
  std::cerr << "mhr: error: the data-parallel run failed: " << failures.front();
  for (size_t i = 1; i < failures.size(); ++i) std::cerr << "; then " << failures[i];
  if (terminated) std::cerr << "; the remaining ranks were stopped";
  std::cerr << "\n";
  return 1;
}
#endif

#if MHR_WITH_TORCH
// `--resume RUN` recompiles the spec with the overrides RUN was started with (its `mhr.overrides.json` tag),
// so that a user need not retype them; a --set that differs from them is refused rather than silently
// making a different experiment under the same run. Runs from before the tag keep the old rule (give the
// same --set again; the semantic hash check catches a mismatch). Without the database here (another node
// of a data-parallel run without a shared file system) the --set as given is used.
std::vector<std::string> resumeOverrides(const RunArgs& args) {
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
#endif

int runCommand(const RunArgs& args, const std::vector<std::string>& argv) {
#if !MHR_WITH_TORCH
  (void)args;
  (void)argv;
  throw UserError(
      "this mhr was built without the LibTorch runtime (MHR_WITH_TORCH=OFF); rebuild with "
      "`make build` (Debian's libtorch-dev) or `make build TORCH_DIR=/path/to/libtorch/share/cmake/Torch`");
#else
  runtime::keepHostMemory(); // before the first tensor (runtime/device.h says why)
  RunArgs a = args;
  if (!a.resume.empty()) a.overrides = resumeOverrides(args);
  auto compiled = compileSpec(a.file, a.overrides, a.device);
  if (!compiled.ok()) return 1;
  if (args.nproc > 1) return launchLocal(args, argv, compiled.plan->sweep.mode != "none");
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
    auto member = compileSpec(a.file, overrides, a.device);
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
#endif
}

} // namespace

void registerRunCommand(CLI::App& app, Runner& run) {
  auto a = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand(
      "run", "execute a spec: build, morph (re-checked numerically), train and evaluate; log to the tracker");
  cmd->add_option("file", a->file, "the .mhr file")->required();
  cmd->add_option("--db", a->db,
                  "tracker database (default $MHR_DB, else ./mhr-runs.sqlite); none: record nothing");
  cmd->add_option("--device", a->device, "cpu, cuda, cuda:N or auto (default auto)");
  cmd->add_option("--set", a->overrides,
                  "override a setting: KEY=VALUE (repeatable), e.g. train.hr.epochs=2");
  cmd->add_option("--resume", a->resume,
                  "continue an interrupted run (id, id prefix or name) from its checkpoint");
  cmd->add_option("--name", a->name, "run name (default: the spec's name and the run id's prefix)");
  cmd->add_option("--tag", a->tags, "tag the run: KEY=VALUE (repeatable)");
  cmd->add_option("--checkpoints", a->checkpoints,
                  "checkpoint folder (default mhr-checkpoints/RUN next to the database)");
  cmd->add_option("--report", a->report,
                  "HTML report path (default mhr-reports/RUN.html next to the database)");
  cmd->add_flag("--no-report", a->noReport, "do not write the HTML report");
  cmd->add_flag("--no-progress", a->noProgress, "no progress output");
  cmd->add_option(
      "--cache-dir", a->cacheDir,
      "folder for prepared-image caches (default: each data set's cache option, else ./.mhr-cache)");
  cmd->add_option("--threads", a->threads,
                  "CPU threads for LibTorch (default: every core this process may use; under torchrun/srun, "
                  "LibTorch's choice)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--sweep-index", a->sweepIndex,
                  "run only this member of the spec's sweep (0-based; Slurm arrays)");
  cmd->add_option("--sweep-id", a->sweepId, "sweep id to tag the runs with (default: a new one)");
  cmd->add_flag("--no-reuse", a->noReuse,
                "sweeps: train every stage in every member, even where an earlier member trained it with the "
                "same inputs");
  cmd->add_option("--nproc", a->nproc, "local data-parallel processes (default 1; docs/distributed.md)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--dist-timeout", a->distTimeout,
                  "data-parallel: seconds a collective may wait for the other ranks (default "
                  "$MHR_DIST_TIMEOUT or 300)")
      ->check(CLI::Range(1, 7 * 24 * 3600));
  cmd->callback([a, &run] { run = [a] { return runCommand(*a, backendArgv()); }; });
}

} // namespace mhr::cli
