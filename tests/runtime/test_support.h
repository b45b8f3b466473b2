// tests/runtime/test_support.h — helpers shared by the runtime tests: a temporary folder removed at scope
// exit, and running the Python reference implementation (Debian's /usr/bin/python3 with torch, torchvision,
// sklearn; another python3 may come first on PATH, so the path is explicit).
#pragma once

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace mhr::test {

class TempDir {
public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mhr-runtime-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

struct CommandResult {
  int exitCode = -1;
  std::string output; // stdout and stderr together
};

inline CommandResult runCommand(const std::string& command) {
  CommandResult r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  int status = ::pclose(pipe);
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs tests/runtime/python/SCRIPT with arguments (tests run from the repository root).
inline CommandResult runPython(const std::string& script, const std::string& args) {
  return runCommand("OMP_NUM_THREADS=1 /usr/bin/python3 tests/runtime/python/" + script + " " + args);
}

} // namespace mhr::test
