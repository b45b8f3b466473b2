#include "cli/local_ranks.h"

#include "support/error.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <netinet/in.h>
#include <optional>
#include <sched.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace mhr::cli {

namespace fs = std::filesystem;

namespace {

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

} // namespace

int64_t availableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

// Spawns the ranks with torchrun's environment, forwards SIGINT/SIGTERM, and when one rank fails gives the
// others a grace period to notice (their collectives fail at once when a peer's connection closes, or after
// the timeout) before it stops them; reports which rank failed and how.
int runLocalRanks(const LocalRanks& a) {
  if (std::getenv("WORLD_SIZE"))
    throw UserError("--nproc: WORLD_SIZE is already set (a launcher such as torchrun or srun started this "
                    "process); use either --nproc or the launcher's environment, not both");
  const std::vector<std::string>& argv = a.argv;
  std::vector<std::string> childArgs;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] == "--nproc") {
      ++i;
      continue;
    }
    if (argv[i].rfind("--nproc=", 0) == 0) continue;
    childArgs.push_back(argv[i]);
  }
  childArgs.insert(childArgs.end(), a.extraArgs.begin(), a.extraArgs.end());
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

} // namespace mhr::cli
