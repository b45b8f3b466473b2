// tests/tracker/test_util.cpp — see test_util.h.
#include "tests/tracker/test_util.h"

#include "support/files.h"
#include "tracker/sqlite_db.h"

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <random>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace mhr::tracker::testing {

TempDir::TempDir() {
  std::string base = std::filesystem::temp_directory_path().string() + "/mhr-tracker-test-XXXXXX";
  std::vector<char> name(base.begin(), base.end());
  name.push_back('\0');
  if (!mkdtemp(name.data())) throw std::runtime_error("mkdtemp failed");
  path_ = name.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

namespace {

std::vector<std::string> mergedEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    bool overridden = false;
    for (const auto& x : extra) {
      if (entry.substr(0, entry.find('=') + 1) == x.substr(0, x.find('=') + 1)) overridden = true;
    }
    if (!overridden) env.push_back(entry);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<char*> cStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int decodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

} // namespace

Child::Child(const std::vector<std::string>& argv, const std::vector<std::string>& env, bool mergeStderr) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  if (mergeStderr) posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  std::vector<std::string> args = argv, envs = mergedEnvironment(env);
  auto cargs = cStrings(args);
  auto cenv = cStrings(envs);
  int rc = posix_spawn(&pid_, args[0].c_str(), &actions, nullptr, cargs.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw std::runtime_error("posix_spawn " + args[0] + ": " + std::strerror(rc));
  }
  fd_ = fds[0];
}

Child::~Child() {
  if (!waited_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
  }
  if (fd_ >= 0) close(fd_);
}

bool Child::readLine(std::string& line) {
  while (true) {
    auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return true;
    }
    char chunk[4096];
    ssize_t n = read(fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (buffer_.empty()) return false;
      line = buffer_;
      buffer_.clear();
      return true;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

int Child::finish(std::string* output) {
  std::string all = buffer_;
  buffer_.clear();
  char chunk[4096];
  while (true) {
    ssize_t n = read(fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    all.append(chunk, static_cast<size_t>(n));
  }
  if (output) *output = all;
  if (!waited_) {
    while (waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    waited_ = true;
  }
  return decodeStatus(status_);
}

void Child::kill(int signal) {
  ::kill(pid_, signal);
}

CommandResult runCommand(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  TempDir tmp;
  std::string outPath = tmp.file("out"), errPath = tmp.file("err");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> args = argv, envs = mergedEnvironment(env);
  auto cargs = cStrings(args);
  auto cenv = cStrings(envs);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, cargs.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  CommandResult result;
  if (rc != 0) {
    result.err = std::string("posix_spawn failed: ") + std::strerror(rc);
    return result;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exitCode = decodeStatus(status);
  result.out = support::readFile(outPath).value_or("");
  result.err = support::readFile(errPath).value_or("");
  return result;
}

int64_t countRows(const std::string& dbPath, const std::string& sql) {
  auto db = Db::open(dbPath, false);
  Stmt s = db->prepare(sql);
  return s.step() ? s.getInt(0) : -1;
}

std::string addTaggedRun(Tracker& tracker, const std::map<std::string, std::string>& tags,
                         std::optional<double> auc, RunStatus status) {
  RunStart start;
  start.experiment = "study";
  start.tags = tags;
  auto writer = tracker.startRun(start);
  if (auc) writer->logMetric("evaluate.net/auc", *auc, 1, 1);
  writer->finish(status);
  return writer->runId();
}

std::map<std::string, std::string> fillStudyFixture(Tracker& tracker) {
  std::map<std::string, std::string> ids;
  const std::map<std::string, std::vector<double>> aucs = {{"a/50", {0.70, 0.72, 0.74}},
                                                           {"b/50", {0.75, 0.78, 0.80}},
                                                           {"a/200", {0.80, 0.81, 0.79}},
                                                           {"b/200", {0.80, 0.80, 0.81}}};
  const std::vector<std::string> seeds = {"1", "2", "10"};
  // Created in an order that is neither sorted by text nor by number.
  for (const std::string size : {"200", "50"}) {
    for (const std::string arm : {"b", "a"}) {
      for (size_t s = 0; s < seeds.size(); ++s) {
        ids["s1/" + arm + "/" + size + "/" + seeds[s]] =
            addTaggedRun(tracker, {{"study", "s1"}, {"arm", arm}, {"target_size", size}, {"seed", seeds[s]}},
                         aucs.at(arm + "/" + size)[s]);
      }
    }
  }
  ids["s1/a/50/3"] =
      addTaggedRun(tracker, {{"study", "s1"}, {"arm", "a"}, {"target_size", "50"}, {"seed", "3"}},
                   std::nullopt, RunStatus::Failed);
  ids["s1/b/200/1#2"] =
      addTaggedRun(tracker, {{"study", "s1"}, {"arm", "b"}, {"target_size", "200"}, {"seed", "1"}}, 0.99,
                   RunStatus::Interrupted);
  ids["missing/no-seed"] =
      addTaggedRun(tracker, {{"study", "missing"}, {"arm", "a"}, {"target_size", "50"}}, 0.7);
  ids["missing/no-metric"] = addTaggedRun(
      tracker, {{"study", "missing"}, {"arm", "a"}, {"target_size", "50"}, {"seed", "1"}}, std::nullopt);
  ids["dup/a/50/1"] =
      addTaggedRun(tracker, {{"study", "dup"}, {"arm", "a"}, {"target_size", "50"}, {"seed", "1"}}, 0.7);
  ids["dup/a/50/1#2"] =
      addTaggedRun(tracker, {{"study", "dup"}, {"arm", "a"}, {"target_size", "50"}, {"seed", "1"}}, 0.71);
  return ids;
}

std::string readText(const std::string& path) {
  return support::readFile(path).value_or("");
}

std::vector<std::string> fillFixture(Tracker& tracker) {
  struct Spec {
    std::string experiment, name, arch, semantic;
    double lr;
    int64_t batch, seed;
    bool pretrained;
    double auc;
    RunStatus status;
    std::string sweep;
    double lossScale;
  };
  std::vector<Spec> specs = {
      {"mammo", "baseline", "resnet18", "sem-a", 0.01, 8, 7, true, 0.91, RunStatus::Finished, "s1", 1.0},
      {"mammo", "bigger", "resnet50", "sem-a", 0.001, 16, 7, true, 0.88, RunStatus::Finished, "s1", 1.1},
      {"cxr", "chest", "densenet121", "sem-b", 1e-4, 8, 3, false, NAN, RunStatus::Failed, "", 1.0},
      {"mammo", "rerun", "resnet18", "sem-a", 0.01, 8, 7, true, 0.91, RunStatus::Finished, "", 1.0},
  };
  std::vector<std::string> ids;
  for (size_t i = 0; i < specs.size(); ++i) {
    const Spec& s = specs[i];
    RunStart start;
    start.experiment = s.experiment;
    start.runName = s.name;
    start.specPath = "experiments/" + s.name + ".mhr";
    start.specText = "experiment \"" + s.experiment + "\"\nseed " + std::to_string(s.seed) + "\n";
    start.specHash = "spec-" + s.name;
    start.semanticHash = s.semantic;
    start.seed = s.seed;
    start.params = {
        {"lr", s.lr}, {"batch", s.batch}, {"arch", std::string(s.arch)}, {"pretrained", s.pretrained}};
    if (!s.sweep.empty()) start.tags["sweep"] = s.sweep;
    start.resolvedSettings = {{"device", std::string("cpu")},
                              {"threads", int64_t(s.name == "bigger" ? 16 : 2)}};
    auto writer = tracker.startRun(start);
    for (int step = 1; step <= 4; ++step)
      writer->logMetric("train.base/loss", s.lossScale / step, step, step);
    writer->logMetric("evaluate.base/auc", s.auc, 4, 4);
    writer->logMetric("evaluate.base/auc/Effusion", std::round((s.auc - 0.06) * 100) / 100, 4, 4);
    writer->logEnvironment({{"device_name", i == 2 ? "NVIDIA H100 80GB HBM3" : "cpu"}, {"os", "Debian 12"}});
    runtime::VerdictRecord v;
    v.network = "hr";
    v.statementIndex = 0;
    v.statement = "upscale conv1 by 8";
    v.location = start.specPath + ":9:3";
    v.verdict = "exact";
    v.mode = "both";
    v.maxAbsError = i == 1 ? 2.5e-7 : 0.0;
    writer->logVerdict(v);
    writer->finish(s.status, s.status == RunStatus::Failed ? "loss became NaN at step 4" : "");
    ids.push_back(writer->runId());
  }
  // Fixed times so that ordering and durations are deterministic: run i starts at 2025-01-0(i+1) 10:00 UTC
  // and takes 65 + i seconds.
  for (size_t i = 0; i < ids.size(); ++i) {
    int64_t start = 1735725600000 + int64_t(i) * 86400000;
    Stmt update = tracker.db().prepare("UPDATE runs SET start_time = ?, end_time = ? WHERE run_uuid = ?");
    update.bind(1, start).bind(2, start + (65 + int64_t(i)) * 1000).bind(3, ids[i]).run();
  }
  return ids;
}

std::string fillReportRun(Tracker& tracker) {
  RunStart start;
  start.experiment = "synthetic-mammo/morphhr";
  start.runName = "quickstart";
  start.specPath = "experiments/quickstart.mhr";
  start.specText = R"(experiment "synthetic-mammo/morphhr"
seed 7
preservation eval             # exact | eval | approximate

dataset mammo = synthetic_mammo(count: 240, size: 512x416, lesion: calcification, seed: 7)

network base = resnet18(classes: 2, width: 0.25)

train base on mammo.train at 64x52 {
  epochs: 4
  batch: 32
  optimizer: sgd(lr: 0.05, momentum: 0.9, weight_decay: 1e-4)
}

network hr = morph base {
  upscale conv1 by 8                             # child(x) == base(box8(x))
  deepen after maxpool with conv(3x3) + bn + prelu
  widen layer1.0.conv1 to 32 split noise(0.01)
  grow kernel layer1.0.conv2 to 5x5
  replace head with linear(classes: 2)           # declared NOT function-preserving
}

train hr on mammo.train at 512x416 { epochs: 6; batch: 8; optimizer: adam(lr: 1e-3) }
evaluate hr on mammo.test at 512x416 { metrics: [auc, accuracy, sensitivity, specificity] }
)";
  start.specHash = "9f2c4e1a7b3d5f60";
  start.semanticHash = "4b1e9a2c0d7f3e85";
  start.seed = 7;
  start.params = {{"train.base.lr", 0.05},  {"train.base.batch", int64_t(32)},
                  {"train.hr.lr", 1e-3},    {"train.hr.batch", int64_t(8)},
                  {"hr.pretrained", false}, {"dataset", std::string("mammo")}};
  start.resolvedSettings = {
      {"device", std::string("cpu")}, {"precision", std::string("fp32")}, {"threads", int64_t(2)}};
  start.sourceVersion = "61d56d34b768";
  auto writer = tracker.startRun(start);
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 1);
  std::uniform_real_distribution<double> uniform(0, 1);

  int64_t step = 0;
  for (const std::string stage : {"train.base", "train.hr"}) {
    int steps = stage == "train.base" ? 120 : 180;
    for (int i = 0; i < steps; ++i, ++step) {
      double t = double(i) / steps;
      writer->logMetric(stage + "/loss", 0.7 * std::exp(-3 * t) + 0.12 + 0.03 * noise(rng), step,
                        1 + i * 4 / steps);
      writer->logMetric(stage + "/lr",
                        (stage == "train.base" ? 0.05 : 1e-3) * 0.5 * (1 + std::cos(3.14159 * t)), step,
                        1 + i * 4 / steps);
    }
    for (int epoch = 1; epoch <= 4; ++epoch) {
      writer->logMetric(stage + "/val_auc", 0.6 + 0.08 * epoch + 0.01 * noise(rng), step - 4 + epoch, epoch);
    }
  }
  const std::vector<std::string> labels = {"Effusion", "Mass", "Nodule", "Pneumothorax"};
  for (int epoch = 1; epoch <= 6; ++epoch) {
    for (size_t c = 0; c < labels.size(); ++c) {
      writer->logMetric("evaluate.cxr/auc/" + labels[c],
                        0.62 + 0.04 * epoch + 0.02 * double(c) + 0.01 * noise(rng), epoch, epoch);
    }
  }
  writer->logMetric("evaluate.hr/auc", 0.912, step, 6);
  writer->logMetric("evaluate.hr/accuracy", 0.85, step, 6);
  writer->logMetric("evaluate.hr/sensitivity", 0.83, step, 6);
  writer->logMetric("evaluate.hr/specificity", 0.87, step, 6);

  const char* verdicts[][3] = {
      {"upscale conv1 by 8", "exact", ""},
      {"deepen after maxpool with conv(3x3) + bn + prelu", "eval", "bn is exact in eval mode"},
      {"widen layer1.0.conv1 to 32 split noise(0.01)", "approximate",
       "noise(0.01) perturbs "
       "the copies"},
      {"grow kernel layer1.0.conv2 to 5x5", "exact", ""},
      {"replace head with linear(classes: 2)", "declared", "a new head is not preserving"}};
  const double errors[] = {3.2e-8, 1.1e-7, 4.5e-3, 0, NAN};
  runtime::LineageRecord lineage{"hr", "base", "train.base", {}};
  for (int i = 0; i < 5; ++i) {
    runtime::VerdictRecord v;
    v.network = "hr";
    v.statementIndex = i;
    v.statement = verdicts[i][0];
    v.verdict = verdicts[i][1];
    v.reason = verdicts[i][2];
    v.mode = i == 1 ? "eval" : "both";
    v.location = "experiments/quickstart.mhr:" + std::to_string(16 + i) + ":3";
    v.maxAbsError = errors[i];
    writer->logVerdict(v);
    lineage.statements.push_back(verdicts[i][0]);
  }
  writer->logLineage(lineage);

  runtime::PredictionSet binary;
  binary.stage = "evaluate.hr";
  binary.classes = {"benign", "malignant"};
  for (int i = 0; i < 200; ++i) {
    bool positive = uniform(rng) < 0.4;
    double score = 1 / (1 + std::exp(-(positive ? 1.6 : -1.6) - 1.3 * noise(rng)));
    binary.sampleIds.push_back("P_" + std::to_string(1000 + i));
    binary.labels.push_back({positive ? 0.f : 1.f, positive ? 1.f : 0.f});
    binary.scores.push_back({float(1 - score), float(score)});
  }
  writer->logPredictions(binary);
  runtime::PredictionSet multi;
  multi.stage = "evaluate.cxr";
  multi.classes = labels;
  multi.multiLabel = true;
  for (int i = 0; i < 150; ++i) {
    multi.sampleIds.push_back("cxr_" + std::to_string(i));
    std::vector<float> l, sc;
    for (size_t c = 0; c < labels.size(); ++c) {
      bool positive = uniform(rng) < 0.25;
      double separation = 0.8 + 0.4 * double(c);
      l.push_back(positive ? 1.f : 0.f);
      sc.push_back(float(1 / (1 + std::exp(-(positive ? separation : -separation) - noise(rng)))));
    }
    multi.labels.push_back(l);
    multi.scores.push_back(sc);
  }
  writer->logPredictions(multi);

  for (int k = 0; k < 4; ++k) {
    runtime::CamRecord cam;
    cam.stage = "evaluate.hr";
    cam.sampleId = "P_" + std::to_string(1000 + k);
    cam.label = k % 2 ? "malignant" : "benign";
    cam.predicted = k == 3 ? "benign 0.58" : (k % 2 ? "malignant 0.91" : "benign 0.77");
    cam.height = 96;
    cam.width = 80;
    double cy = 30 + 12 * k, cx = 25 + 8 * k;
    for (int y = 0; y < 96; ++y) {
      for (int x = 0; x < 80; ++x) {
        // A breast-like gradient with a bright blob (the "lesion").
        double tissue = std::max(0.0, 1 - std::hypot((x - 0.0) / 70.0, (y - 48.0) / 52.0));
        double blob = std::exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / 30.0);
        cam.image.push_back(float(std::min(1.0, 0.15 + 0.6 * tissue + 0.4 * blob)));
      }
    }
    cam.camHeight = 6;
    cam.camWidth = 5;
    for (int y = 0; y < 6; ++y) {
      for (int x = 0; x < 5; ++x) {
        double d = std::hypot((y + 0.5) * 16 - cy, (x + 0.5) * 16 - cx);
        cam.cam.push_back(float(std::exp(-d * d / 600.0)));
      }
    }
    writer->logCam(cam);
  }
  writer->logEnvironment({{"mhr_version", "0.1.0"},
                          {"mhr_commit", "61d56d34b768"},
                          {"libtorch", "1.13.1"},
                          {"device_name", "cpu"},
                          {"os", "Debian GNU/Linux 12 (bookworm)"},
                          {"cpu", "2 cores"}});
  writer->logArtifact(
      {"checkpoint", "out/quickstart/hr.pt", "5e1f0c2d9a8b7c6d5e4f3a2b1c0d9e8f", 5242880, "train.hr"});
  writer->logArtifact(
      {"predictions", "out/quickstart/evaluate.hr.csv", "a1b2c3d4e5f60718", 9120, "evaluate.hr"});
  writer->finish(RunStatus::Finished);
  return writer->runId();
}

} // namespace mhr::tracker::testing
