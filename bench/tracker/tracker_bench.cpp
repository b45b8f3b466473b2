// bench/tracker/tracker_bench.cpp — the tracker benchmark (TARGETS.md: "log 100k metric points; runs compare
// over 10k runs / 1M points", anchor: MLflow's SQLite store). In: the anchor script (mlflow_real.py: the real
// MLflow client and store, run with the venv's Python; or mlflow_anchor.py, the schema emulation, with
// /usr/bin/python3), run in the same process tree, same machine, same moment, and optional sizes; out:
// markdown table rows `| benchmark | mhr | anchor | anchor / mhr | target |` on stdout, details on stderr.
//
//   tracker_bench --anchor bench/tracker/mlflow_real.py [--python .venv/bin/python] [--anchor-name
//   "MLflow 3.18.0"]
//                 [--mhr build/mhr] [--points 100000] [--runs 10000] [--per-run 100] [--anchor-seconds 60]
//                 [--workdir DIR]
//
// The 10k-run store is written with the same data in both schemas (identical run ids, params, tags and metric
// values; pairs of runs share a semantic hash and identical histories, so compare checks agreement on every
// point). Times are medians of warm repetitions, alternated with the anchor's.
#include "tracker/run_writer.h"
#include "tracker/runs_output.h"
#include "tracker/tracker.h"

#include "support/error.h"
#include "support/sha256.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

using namespace mhr::tracker;

namespace {

const std::vector<std::string> kKeys = {"train/loss", "train/lr", "evaluate/auc", "evaluate/accuracy"};

double seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

template <class F> double median(int repeat, F&& fn) {
  fn(); // warm-up: page cache and statement preparation are not what we compare
  std::vector<double> times;
  for (int i = 0; i < repeat; ++i) {
    auto start = std::chrono::steady_clock::now();
    fn();
    times.push_back(seconds(start));
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

// Runs a command, returns its stdout; throws when it fails.
std::string capture(const std::vector<std::string>& argv) {
  std::string out =
      std::filesystem::temp_directory_path().string() + "/tracker-bench-out-" + std::to_string(getpid());
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> args = argv;
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, cargs.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw mhr::UserError("cannot run " + args[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::FILE* f = std::fopen(out.c_str(), "rb");
  std::string text;
  if (f) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
  }
  std::remove(out.c_str());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw mhr::UserError("command failed: " + args[0] + " " + (args.size() > 1 ? args[1] : "") + "\n" + text);
  }
  return text;
}

// Random-looking but reproducible ids (prefixes must be unique, as real uuid4 ids are); the anchor computes
// the same ones.
std::string runIdOf(int i) {
  return mhr::support::sha256Hex("run-" + std::to_string(i)).substr(0, 32);
}

// Identical to mlflow_anchor.py's metric_value().
double metricValue(int group, int k, int s) {
  double base = double((group * 7919 + k * 104729) % 1000) / 1000.0;
  return base + 1.0 / double(s + 1 + k);
}

// The 10k-run store in mhr's schema, written in one transaction with the statements the writer uses.
void buildStore(const std::string& path, int runs, int perRun) {
  Tracker tracker = Tracker::open(path);
  Db& db = tracker.db();
  const int steps = perRun / int(kKeys.size());
  const double lrs[] = {0.1, 0.03, 0.01, 0.003, 0.001, 0.0003};
  const char* archs[] = {"resnet18", "resnet50", "densenet121"};
  db.write([&] {
    db.exec("INSERT INTO experiments (experiment_id, name, creation_time, last_update_time) VALUES (1, "
            "'bench', 0, 0)");
    Stmt run =
        db.prepare("INSERT INTO runs (run_uuid, name, source_name, user_id, status, start_time, end_time, "
                   "experiment_id, spec_hash, semantic_hash, seed) VALUES (?, ?, 'bench.mhr', 'bench', "
                   "'finished', ?, ?, 1, ?, ?, ?)");
    Stmt param =
        db.prepare("INSERT INTO params (key, value, run_uuid, value_type, value_num) VALUES (?, ?, ?, ?, ?)");
    Stmt tag = db.prepare("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)");
    Stmt metric = db.prepare("INSERT INTO metrics (key, value, timestamp, step, is_nan, run_uuid, epoch) "
                             "VALUES (?, ?, ?, ?, 0, ?, ?)");
    Stmt latest =
        db.prepare("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid, epoch) "
                   "VALUES (?, ?, ?, ?, 0, ?, ?)");
    const int64_t t0 = 1735725600000;
    for (int i = 0; i < runs; ++i) {
      std::string id = runIdOf(i);
      int group = i / 2;
      int64_t start = t0 + int64_t(i) * 1000;
      run.bind(1, id).bind(2, "run-" + std::to_string(i)).bind(3, start).bind(4, start + 60000);
      run.bind(5, "spec-" + std::to_string(group))
          .bind(6, "sem-" + std::to_string(group))
          .bind(7, group % 97)
          .run();
      auto addParam = [&](const char* key, const std::string& text, const char* type, SqlValue num) {
        param.bind(1, key).bind(2, text).bind(3, id).bind(4, type).bind(5, num).run();
      };
      double lr = lrs[group % 6];
      int64_t batch = std::vector<int64_t>{8, 16, 32, 64}[size_t(group % 4)];
      addParam("lr", fmt::format("{}", lr), "float", lr);
      addParam("batch", std::to_string(batch), "int", batch);
      addParam("arch", archs[group % 3], "string", nullptr);
      addParam("epochs", std::to_string(10 + group % 5), "int", int64_t(10 + group % 5));
      addParam("weight_decay", "0.0001", "float", 0.0001);
      addParam("optimizer", "sgd", "string", nullptr);
      addParam("momentum", "0.9", "float", 0.9);
      addParam("resolution", "512x416", "string", nullptr);
      addParam("seed", std::to_string(group % 97), "int", int64_t(group % 97));
      addParam("pretrained", group % 2 ? "true" : "false", "bool", int64_t(group % 2));
      for (const auto& [k, v] :
           std::vector<std::pair<std::string, std::string>>{{"sweep", "sweep-" + std::to_string(group / 50)},
                                                            {"semantic_hash", "sem-" + std::to_string(group)},
                                                            {"host", "node" + std::to_string(i % 8)},
                                                            {"dataset", "synthetic-mammo"},
                                                            {"note", "bench"}}) {
        tag.bind(1, k).bind(2, v).bind(3, id).run();
      }
      for (size_t k = 0; k < kKeys.size(); ++k) {
        for (int s = 0; s < steps; ++s) {
          metric.bind(1, kKeys[k]).bind(2, metricValue(group, int(k), s)).bind(3, start + s).bind(4, s);
          metric.bind(5, id).bind(6, 1 + s / 5).run();
        }
        latest.bind(1, kKeys[k]).bind(2, metricValue(group, int(k), steps - 1)).bind(3, start + steps - 1);
        latest.bind(4, steps - 1).bind(5, id).bind(6, 1 + (steps - 1) / 5).run();
      }
    }
  });
}

struct Row {
  std::string what, mhr, anchor, ratio, target;
};

std::string ratio(double anchor, double mhr) {
  return mhr > 0 ? fmt::format("{:.1f}x", anchor / mhr) : "n/a";
}
std::string ms(double s) {
  return s < 1 ? fmt::format("{:.1f} ms", s * 1000) : fmt::format("{:.2f} s", s);
}

int run(int argc, char** argv) {
  std::string anchor, mhr, workdir, python = "/usr/bin/python3", anchorName = "MLflow's store";
  int points = 100000, runs = 10000, perRun = 100;
  double anchorSeconds = 60;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--anchor")
      anchor = value;
    else if (flag == "--mhr")
      mhr = value;
    else if (flag == "--python")
      python = value;
    else if (flag == "--anchor-name")
      anchorName = value;
    else if (flag == "--workdir")
      workdir = value;
    else if (flag == "--points")
      points = std::stoi(value);
    else if (flag == "--runs")
      runs = std::stoi(value);
    else if (flag == "--per-run")
      perRun = std::stoi(value);
    else if (flag == "--anchor-seconds")
      anchorSeconds = std::stod(value);
    else
      throw mhr::UserError("unknown flag " + flag);
  }
  if (anchor.empty()) throw mhr::UserError("--anchor PATH/mlflow_real.py (or mlflow_anchor.py) is required");
  bool ownDir = workdir.empty();
  if (ownDir)
    workdir = std::filesystem::temp_directory_path().string() + "/tracker-bench-" + std::to_string(getpid());
  std::filesystem::create_directories(workdir);
  std::vector<Row> rows;

  // 1. Log 100k metric points: mhr's writer (batched, 1000 points per transaction) against MLflow's
  //    log_metric (a transaction per point; capped at --anchor-seconds, then extrapolated) and log_batch
  //    (1000 per transaction). mhr and log_batch alternate over 3 rounds (the machine is shared: drift hits
  //    both).
  std::vector<double> mhrLogs, batchLogs;
  nlohmann::json batch;
  for (int round = 0; round < 3; ++round) {
    std::string db = workdir + "/log-" + std::to_string(round) + ".sqlite";
    auto start = std::chrono::steady_clock::now();
    {
      Tracker tracker = Tracker::open(db);
      RunStart rs;
      rs.experiment = "bench";
      auto writer = tracker.startRun(rs);
      for (int i = 0; i < points; ++i) writer->logMetric("train/loss", 1.0 / (i + 1), i, 1 + i / 1000);
      writer->finish(RunStatus::Finished);
    }
    mhrLogs.push_back(seconds(start));
    batch = nlohmann::json::parse(
        capture({python, anchor, "log", workdir + "/mlflow-batch.db", std::to_string(points), "--batch"}));
    batchLogs.push_back(batch["seconds"].get<double>());
  }
  std::sort(mhrLogs.begin(), mhrLogs.end());
  std::sort(batchLogs.begin(), batchLogs.end());
  double mhrLog = mhrLogs[1], batchLog = batchLogs[1];
  fmt::print(stderr, "mhr: {} points in {:.3f} / {:.3f} / {:.3f} s\n", points, mhrLogs[0], mhrLogs[1],
             mhrLogs[2]);
  auto perCall = nlohmann::json::parse(
      capture({python, anchor, "log", workdir + "/mlflow-log.db", std::to_string(points), "--max-seconds",
               fmt::format("{}", anchorSeconds)}));
  fmt::print(stderr, "anchor log_metric: {}\nanchor log_batch: {:.3f} / {:.3f} / {:.3f} s\n", perCall.dump(),
             batchLogs[0], batchLogs[1], batchLogs[2]);
  double perCallSeconds = perCall["extrapolated_seconds"].get<double>();
  int64_t logged = perCall["logged"].get<int64_t>();
  std::string perCallText = ms(perCallSeconds);
  if (logged < points) {
    perCallText +=
        fmt::format(" (extrapolated from {} points in {:.0f} s)", logged, perCall["seconds"].get<double>());
  }
  rows.push_back(
      {fmt::format("tracker: log {}k metric points (anchor: log_metric, a commit per point)", points / 1000),
       ms(mhrLog), anchorName + " log_metric: " + perCallText, ratio(perCallSeconds, mhrLog), "< 1 s"});
  rows.push_back(
      {fmt::format("tracker: log {}k metric points (anchor: log_batch, 1000 per commit)", points / 1000),
       ms(mhrLog), anchorName + " log_batch: " + ms(batchLog), ratio(batchLog, mhrLog), "< 1 s"});

  // 2. The 10k runs / 1M points store, in both schemas.
  std::string store = workdir + "/store.sqlite", mlflowStore = workdir + "/mlflow-store.db";
  auto start = std::chrono::steady_clock::now();
  buildStore(store, runs, perRun);
  fmt::print(stderr, "mhr store: {} runs x {} points built in {:.1f} s\n", runs, perRun, seconds(start));
  fmt::print(stderr, "anchor store: {}",
             capture({python, anchor, "build", mlflowStore, std::to_string(runs), std::to_string(perRun)}));

  Tracker tracker = Tracker::openExisting(store);
  // Queries alternate with the anchor over 5 rounds (each side: a warm-up, then the median of its rounds; the
  // anchor reports the median of 3 in-process repetitions per round, so its Python start-up is not counted).
  auto alternate = [&](auto&& ours, const std::vector<std::string>& anchorArgs, nlohmann::json* lastAnchor) {
    ours();
    std::vector<double> a, b;
    for (int round = 0; round < 5; ++round) {
      auto start = std::chrono::steady_clock::now();
      ours();
      a.push_back(seconds(start));
      auto result = nlohmann::json::parse(capture(anchorArgs));
      b.push_back(result["median_seconds"].get<double>());
      if (lastAnchor) *lastAnchor = result;
    }
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    return std::make_pair(a[2], b[2]);
  };
  auto compareRow = [&](int count) {
    std::vector<std::string> ids;
    for (int i = 0; i < count; ++i) ids.push_back(runIdOf(runs / 2 + i)); // pairs: same semantic hash
    std::string output;
    std::vector<std::string> args = {python, anchor, "compare", mlflowStore};
    args.insert(args.end(), ids.begin(), ids.end());
    args.push_back("--repeat");
    args.push_back("3");
    auto [t, at] = alternate([&] { output = renderCompare(tracker.db(), ids, {}); }, args, nullptr);
    if (output.find("bit-identical") == std::string::npos) {
      throw mhr::UserError("compare did not check agreement");
    }
    rows.push_back({fmt::format("tracker: runs compare {} runs ({}k runs / {}M points in the store)", count,
                                runs / 1000, double(runs) * perRun / 1e6),
                    ms(t), anchorName + " get_run + get_metric_history: " + ms(at), ratio(at, t),
                    "< 100 ms"});
  };
  compareRow(2);
  compareRow(10);

  // 3. A filtered listing over all runs (MLflow: search_runs with a metric and a param filter, 1000 results).
  ListOptions list;
  list.selection.where = "metrics.`evaluate/auc` > 0.9 and params.arch = 'resnet18'";
  list.selection.limit = 1000;
  std::string listed;
  nlohmann::json search;
  auto [listTime, st] = alternate([&] { listed = renderList(tracker.db(), list); },
                                  {python, anchor, "search", mlflowStore, "--repeat", "3"}, &search);
  size_t listedRuns = size_t(std::count(listed.begin(), listed.end(), '\n')) - 2;
  fmt::print(stderr, "mhr list: {} runs; anchor search: {}\n", listedRuns, search.dump());
  if (int64_t(listedRuns) != search["found"].get<int64_t>()) {
    throw mhr::UserError(
        fmt::format("list found {} runs, the anchor {}", listedRuns, search["found"].get<int64_t>()));
  }
  rows.push_back(
      {fmt::format("tracker: runs list --where (metric and param filter) over {}k runs", runs / 1000),
       ms(listTime), anchorName + " search_runs: " + ms(st), ratio(st, listTime), "-"});

  // 4. What `mhr runs compare A B` does in its process after start-up: open the store (schema check, dead-run
  //    scan), resolve two id prefixes, compare. Then the whole process, and the process start-up alone
  //    (`mhr --version`), which the tracker does not control.
  {
    std::string a = runIdOf(runs / 2).substr(0, 12), b = runIdOf(runs / 2 + 1).substr(0, 12);
    double t = median(7, [&] {
      Tracker opened = Tracker::openExisting(store);
      std::vector<std::string> ids = {opened.resolveRunId(a), opened.resolveRunId(b)};
      renderCompare(opened.db(), ids, {});
    });
    rows.push_back(
        {"tracker: open store + resolve 2 id prefixes + compare, in process", ms(t), "-", "-", "< 100 ms"});
  }
  if (!mhr.empty()) {
    std::vector<std::string> args = {mhr,    "runs", "compare", runIdOf(runs / 2), runIdOf(runs / 2 + 1),
                                     "--db", store};
    double whole = median(5, [&] { capture(args); });
    double startup = median(5, [&] { capture({mhr, "--version"}); });
    rows.push_back({"tracker: `mhr runs compare` 2 runs, whole process (start-up included)", ms(whole), "-",
                    "-", "< 100 ms"});
    rows.push_back({"(reference) `mhr --version`: process start-up alone", ms(startup), "-", "-", "-"});
  }

  for (const auto& r : rows)
    fmt::print("| {} | {} | {} | {} | {} |\n", r.what, r.mhr, r.anchor, r.ratio, r.target);
  if (ownDir) std::filesystem::remove_all(workdir);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tracker_bench: %s\n", e.what());
    return 1;
  }
}
