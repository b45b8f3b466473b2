// tests/golden/runner.cpp — discovers tests/golden/<suite>/*.mhr, runs the real `mhr` binary on each (the
// suite decides the command) and compares exit code, stdout and stderr with <case>.expected. One GoogleTest
// per file, registered at start-up. A first line `# args: ...` adds arguments (e.g. --set overrides).
// MHR_UPDATE_GOLDEN=1 rewrites the expected files instead of comparing.
#include "support/files.h"
#include "support/strings.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sys/wait.h>

namespace fs = std::filesystem;

namespace {

struct Outcome {
  int exitCode = -1;
  std::string out, err;
};

// Runs a shell command line from the source root; stdout and stderr are captured separately.
Outcome runCommand(const std::string& commandLine) {
  std::string errFile =
      (fs::temp_directory_path() / ("mhr-golden-" + std::to_string(::getpid()) + ".err")).string();
  std::string full = "cd '" MHR_SOURCE_DIR "' && " + commandLine + " 2>'" + errFile + "'";
  Outcome o;
  FILE* p = ::popen(full.c_str(), "r");
  if (!p) return o;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) o.out.append(buf.data(), n);
  int status = ::pclose(p);
  o.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  o.err = mhr::support::readFile(errFile).value_or("");
  std::remove(errFile.c_str());
  return o;
}

const std::map<std::string, std::string>& suiteCommands() {
  static const std::map<std::string, std::string> m = {
      {"parse", "emit ast"}, {"check", "check"},    {"fmt", "fmt"},         {"verify", "check"},
      {"ir", "emit ir"},     {"plan", "emit plan"}, {"explain", "explain"}, {"json", "check --format json"},
  };
  return m;
}

std::string render(const Outcome& o) {
  return "exit: " + std::to_string(o.exitCode) + "\n--- stdout\n" + o.out + "--- stderr\n" + o.err;
}

class GoldenTest : public testing::Test {
public:
  GoldenTest(std::string suite, std::string file) : suite_(std::move(suite)), file_(std::move(file)) {}

  void TestBody() override {
    std::string args;
    auto text = mhr::support::readFile(MHR_SOURCE_DIR "/" + file_);
    ASSERT_TRUE(text) << "cannot read " << file_;
    if (mhr::support::startsWith(*text, "# args:"))
      args = " " + mhr::support::trim(text->substr(7, text->find('\n') - 7));
    Outcome o = runCommand("'" MHR_BINARY "' " + suiteCommands().at(suite_) + " " + file_ + args);
    // A crash is never an acceptable answer to any input.
    ASSERT_LT(o.exitCode, 3) << "mhr crashed or was killed on " << file_ << "\n" << o.err;
    std::string actual = render(o);
    std::string expectedPath = MHR_SOURCE_DIR "/" + file_.substr(0, file_.size() - 4) + ".expected";
    if (std::getenv("MHR_UPDATE_GOLDEN")) {
      mhr::support::writeFileAtomic(expectedPath, actual);
      return;
    }
    auto expected = mhr::support::readFile(expectedPath);
    ASSERT_TRUE(expected) << "missing " << expectedPath << " (run with MHR_UPDATE_GOLDEN=1 to create it)";
    EXPECT_EQ(*expected, actual) << "golden mismatch for " << file_
                                 << " (MHR_UPDATE_GOLDEN=1 rewrites the expectation; review the diff)";
  }

private:
  std::string suite_, file_;
};

// fmt is idempotent on every well-formed .mhr in the repository.
class FmtIdempotenceTest : public testing::Test {
public:
  explicit FmtIdempotenceTest(std::string file) : file_(std::move(file)) {}
  void TestBody() override {
    Outcome first = runCommand("'" MHR_BINARY "' fmt " + file_);
    if (first.exitCode != 0) GTEST_SKIP() << file_ << " does not parse (an error case)";
    std::string tmp =
        (fs::temp_directory_path() / ("mhr-fmt-" + std::to_string(::getpid()) + ".mhr")).string();
    mhr::support::writeFileAtomic(tmp, first.out);
    Outcome second = runCommand("'" MHR_BINARY "' fmt '" + tmp + "'");
    std::remove(tmp.c_str());
    ASSERT_EQ(second.exitCode, 0) << second.err;
    EXPECT_EQ(first.out, second.out) << "fmt is not idempotent on " << file_;
    // Formatting never loses a comment.
    auto count = [](const std::string& s) { return std::count(s.begin(), s.end(), '#'); };
    auto original = mhr::support::readFile(MHR_SOURCE_DIR "/" + file_).value_or("");
    EXPECT_EQ(count(original), count(first.out)) << "fmt changed the number of '#' in " << file_;
  }

private:
  std::string file_;
};

std::string testName(const std::string& s) {
  std::string out;
  for (char c : s) out += (isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  return out;
}

void registerAll() {
  const fs::path root = MHR_SOURCE_DIR;
  std::vector<std::string> all;
  for (const auto& [suite, command] : suiteCommands()) {
    fs::path dir = root / "tests" / "golden" / suite;
    if (!fs::is_directory(dir)) continue;
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() && e.path().extension() == ".mhr")
        files.push_back(e.path().filename().string());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::string rel = "tests/golden/" + suite + "/" + f;
      all.push_back(rel);
      testing::RegisterTest(("golden." + suite).c_str(), testName(f.substr(0, f.size() - 4)).c_str(), nullptr,
                            nullptr, __FILE__, __LINE__,
                            [suite = suite, rel]() -> testing::Test* { return new GoldenTest(suite, rel); });
    }
  }
  all.clear(); // fmt runs on every .mhr below these folders (includes and suite files alike)
  for (const char* dir : {"tests/golden", "experiments", "docs/examples"}) {
    if (!fs::is_directory(root / dir)) continue;
    for (const auto& e : fs::recursive_directory_iterator(root / dir))
      if (e.is_regular_file() && e.path().extension() == ".mhr")
        all.push_back(fs::relative(e.path(), root).string());
  }
  std::sort(all.begin(), all.end());
  for (const auto& f : all)
    testing::RegisterTest("fmt_idempotent", testName(f).c_str(), nullptr, nullptr, __FILE__, __LINE__,
                          [f]() -> testing::Test* { return new FmtIdempotenceTest(f); });
}

} // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  registerAll();
  int status = RUN_ALL_TESTS();
  // ctest runs one case per process through --gtest_filter: a filter that matches nothing is a broken test.
  if (testing::UnitTest::GetInstance()->test_to_run_count() == 0) {
    std::fprintf(stderr, "golden_runner: no test matches the filter\n");
    return 1;
  }
  return status;
}
