// tests/runtime/test_support.h — helpers shared by the runtime tests: a temporary folder removed at scope
// exit, and running the Python reference implementation (MHR_TEST_PYTHON: Debian's /usr/bin/python3 with
// torch 1.13, torchvision, sklearn by default; the venv's torch 2.15 on TORCH=pip; another python3 may come
// first on PATH, so the path is explicit).
#pragma once

#include "support/files.h"
#include "support/sha256.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
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
  return runCommand(std::string("OMP_NUM_THREADS=1 ") + MHR_TEST_PYTHON + " tests/runtime/python/" + script +
                    " " + args);
}

// Runs tests/runtime/python/SCRIPT once per content of the script and `args`, into a folder of the build tree
// that later test processes reuse (ctest runs every test case in its own process; the Python reference need
// not be recomputed for each). The script gets the folder as its first argument, then `args`. Returns the
// folder; on failure an empty string, with the script's output in `failure`.
inline std::string cachedPythonFolder(const std::string& script, const std::string& args,
                                      std::string* failure) {
  std::optional<std::string> text = support::readFile("tests/runtime/python/" + script);
  if (!text) {
    if (failure) *failure = "cannot read tests/runtime/python/" + script;
    return "";
  }
  const std::string key = support::sha256Hex(*text + "\n" + args).substr(0, 16);
  const std::string root = MHR_TEST_CACHE_DIR;
  const std::string dir = root + "/" + script.substr(0, script.find('.')) + "-" + key;
  if (std::filesystem::exists(dir + "/.complete")) return dir;
  std::filesystem::create_directories(root);
  std::string tmpl = dir + ".tmp-XXXXXX";
  if (!::mkdtemp(tmpl.data())) std::abort();
  CommandResult r = runPython(script, tmpl + " " + args);
  if (r.exitCode != 0) {
    if (failure) *failure = r.output;
    std::error_code ec;
    std::filesystem::remove_all(tmpl, ec);
    return "";
  }
  support::writeFileAtomic(tmpl + "/.complete", "");
  // Another process may have finished the same folder first: then keep theirs.
  std::error_code ec;
  std::filesystem::rename(tmpl, dir, ec);
  if (ec) std::filesystem::remove_all(tmpl, ec);
  return dir;
}

} // namespace mhr::test
