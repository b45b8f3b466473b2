// `mhr launch slurm`, file-driven: every tests/distributed/launch/NAME.mhr with its command-line arguments in
// NAME.args must produce exactly NAME.sbatch (MHR_UPDATE_GOLDEN=1 rewrites them after a deliberate change).
// The scripts must also parse as bash. Bad input is a clear error.
#include "support/files.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sys/wait.h>
#include <unistd.h>

namespace mhr {
namespace {

namespace fs = std::filesystem;
const std::string kDir = "tests/distributed/launch";

struct Result {
  int code = -1;
  std::string out;
};

Result run(const std::string& command) {
  Result r;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

TEST(LaunchSlurm, GoldenScripts) {
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(kDir)) {
    if (entry.path().extension() != ".mhr") continue;
    ++cases;
    const std::string name = entry.path().stem().string();
    std::optional<std::string> args = support::readFile(kDir + "/" + name + ".args");
    ASSERT_TRUE(args) << name << ".args is missing";
    Result r = run("cd " + kDir + " && eval \"" + std::string(MHR_BINARY) + " launch slurm " + name +
                   ".mhr " + trim(*args) + "\" 2>&1");
    ASSERT_EQ(r.code, 0) << name << ":\n" << r.out;
    const std::string expectedPath = kDir + "/" + name + ".sbatch";
    if (std::getenv("MHR_UPDATE_GOLDEN")) support::writeFileAtomic(expectedPath, r.out);
    std::optional<std::string> expected = support::readFile(expectedPath);
    ASSERT_TRUE(expected) << expectedPath << " is missing (MHR_UPDATE_GOLDEN=1 writes it)";
    EXPECT_EQ(r.out, *expected) << name;
    Result syntax = run("bash -n " + expectedPath + " 2>&1");
    EXPECT_EQ(syntax.code, 0) << name << ": " << syntax.out;
  }
  EXPECT_GE(cases, 3);
}

TEST(LaunchSlurm, WritesAFileWithOutput) {
  const std::string out =
      (fs::temp_directory_path() / ("mhr-launch-" + std::to_string(::getpid()) + ".sbatch")).string();
  Result r = run(std::string(MHR_BINARY) + " launch slurm " + kDir +
                 "/gpu_nodes.mhr --nodes 2 --gpus-per-node 2 -o " + out + " 2>&1");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("sbatch " + out), std::string::npos) << r.out;
  std::optional<std::string> text = support::readFile(out);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("#SBATCH --ntasks-per-node=2"), std::string::npos) << *text;
  EXPECT_NE(text->find("WORLD_SIZE=$SLURM_NTASKS"), std::string::npos) << *text;
  fs::remove(out);
}

TEST(LaunchSlurm, BadInputIsAClearError) {
  Result r = run(std::string(MHR_BINARY) + " launch slurm " + kDir + "/gpu_nodes.mhr --nodes 0 2>&1");
  EXPECT_EQ(r.code, 2) << r.out;
  r = run(std::string(MHR_BINARY) + " launch slurm /nonexistent.mhr 2>&1");
  EXPECT_EQ(r.code, 1) << r.out;
  r = run(std::string(MHR_BINARY) + " launch slurm " + kDir + "/gpu_nodes.mhr --set train.n.nope=1 2>&1");
  EXPECT_EQ(r.code, 1) << r.out;
  r = run(std::string(MHR_BINARY) + " launch pbs " + kDir + "/gpu_nodes.mhr 2>&1");
  EXPECT_EQ(r.code, 2) << r.out;
}

} // namespace
} // namespace mhr
