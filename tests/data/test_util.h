// tests/data/test_util.h — helpers shared by the data tests: a temporary folder removed afterwards, file
// writing, building DatasetConfigs by hand, and running Debian's Python (/usr/bin/python3; another python3
// may come first on PATH) for reference results.
#pragma once

#include "compiler/lower/lower_dataset.h"
#include "compiler/plan/plan.h"
#include "data/dataset.h"
#include "support/error.h"
#include "support/files.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <utility>
#include <vector>

namespace mhr::data::test {

class TempDir {
public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "mhr-data-test-XXXXXX").string();
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    const char* made = ::mkdtemp(buf.data());
    path_ = made ? made : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const {
    return (std::filesystem::path(path_) / rel).string();
  }

private:
  std::string path_;
};

inline void writeText(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// An empty file: the loaders only stat image files when a data set is opened.
inline void touch(const std::string& path) {
  writeText(path, "");
}

using Named = std::vector<std::pair<std::string, plan::Value>>;

inline plan::DatasetConfig config(const std::string& name, const std::string& ctor, Named args,
                                  plan::Attrs options = {}) {
  plan::DatasetConfig c;
  c.name = name;
  c.constructor = plan::Value::ofCall(ctor, {}, std::move(args));
  c.options = std::move(options);
  c.location = "test.mhr:1:1";
  return c;
}

// Opens a hand-built config as `mhr run` would: its typed spec lowered first (compiler/lower/lower_dataset),
// with `seed` as the experiment seed. The config must be one the compiler accepts (the spec rules are the
// compiler's; tests/golden/check has their errors).
inline Dataset openDataset(const plan::DatasetConfig& written, int64_t seed,
                           const OpenOptions& options = {}) {
  plan::DatasetConfig c = written;
  c.spec = lower::lowerDatasetSpec(written, seed);
  return data::openDataset(c, options);
}

inline plan::Value str(const std::string& s) {
  return plan::Value::ofString(s);
}
inline plan::Value sym(const std::string& s) {
  return plan::Value::ofSymbol(s);
}
inline plan::Value num(double d) {
  return plan::Value::ofFloat(d);
}
inline plan::Value integer(int64_t i) {
  return plan::Value::ofInt(i);
}
inline plan::Value size(int64_t h, int64_t w) {
  return plan::Value::ofSize(h, w);
}
inline plan::Value list(std::vector<plan::Value> v) {
  return plan::Value::ofList(std::move(v));
}
inline plan::Value call(const std::string& name, Named named = {}, std::vector<plan::Value> pos = {}) {
  return plan::Value::ofCall(name, std::move(pos), std::move(named));
}

// Warnings collected instead of printed.
struct Warnings {
  std::vector<std::string> lines;
  OpenOptions options() {
    OpenOptions o;
    o.warn = [this](const std::string& m) { lines.push_back(m); };
    return o;
  }
};

// Runs a command through the shell; returns its exit status and fills `output` with stdout + stderr.
inline int run(const std::string& command, std::string* output = nullptr) {
  TempDir t;
  std::string log = t / "out.txt";
  int status = std::system((command + " > '" + log + "' 2>&1").c_str());
  if (output) *output = support::readFile(log).value_or("");
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The message of the UserError `f` throws; fails the test when it throws nothing.
template <typename F> std::string errorOf(F&& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a UserError";
  return "";
}

} // namespace mhr::data::test
