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

void Child::kill(int signal) { ::kill(pid_, signal); }

CommandResult runCommand(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  TempDir tmp;
  std::string outPath = tmp.file("out"), errPath = tmp.file("err");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
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

std::string readText(const std::string& path) { return support::readFile(path).value_or(""); }

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
    start.params = {{"lr", s.lr}, {"batch", s.batch}, {"arch", std::string(s.arch)}, {"pretrained", s.pretrained}};
    if (!s.sweep.empty()) start.tags["sweep"] = s.sweep;
    auto writer = tracker.startRun(start);
    for (int step = 1; step <= 4; ++step) writer->logMetric("train.base/loss", s.lossScale / step, step, step);
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

} // namespace mhr::tracker::testing
