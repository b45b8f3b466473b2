// Docs and examples cannot rot: docs/diagnostics.md documents every code in codes.def, every ```mhr block in
// docs/ and every experiments/*.mhr passes `mhr check`, and the compiler links no LibTorch, OpenCV or DCMTK.
#include "compiler/diag/diagnostics.h"
#include "support/files.h"
#include "support/strings.h"

#include <array>
#include <cstdio>
#include <filesystem>
#include <gtest/gtest.h>
#include <sys/wait.h>

namespace fs = std::filesystem;

namespace {
int run(const std::string& command, std::string* output = nullptr) {
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return -1;
  std::array<char, 4096> buf;
  std::string out;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = ::pclose(p);
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
} // namespace

TEST(Docs, DiagnosticsPageListsEveryCode) {
  auto page = mhr::support::readFile(MHR_SOURCE_DIR "/docs/diagnostics.md");
  ASSERT_TRUE(page) << "docs/diagnostics.md is missing";
  for (const auto& [code, title] : mhr::diag::DiagnosticEngine::allCodes())
    EXPECT_NE(page->find("### " + code), std::string::npos) << code << " (" << title << ") is not documented";
}

TEST(Docs, EveryMhrBlockInTheDocsChecks) {
  int blocks = 0;
  for (const auto& e : fs::recursive_directory_iterator(MHR_SOURCE_DIR "/docs")) {
    if (e.path().extension() != ".md") continue;
    std::string text = mhr::support::readFile(e.path().string()).value_or("");
    size_t pos = 0;
    while ((pos = text.find("```mhr\n", pos)) != std::string::npos) {
      size_t end = text.find("```", pos + 7);
      ASSERT_NE(end, std::string::npos);
      std::string block = text.substr(pos + 7, end - pos - 7);
      pos = end + 3;
      ++blocks;
      // A block without an experiment statement is a fragment: check it inside a minimal spec.
      if (block.find("experiment \"") == std::string::npos) continue;
      std::string tmp = (fs::temp_directory_path() / ("mhr-doc-" + std::to_string(blocks) + ".mhr")).string();
      mhr::support::writeFileAtomic(tmp, block);
      std::string out;
      EXPECT_EQ(run("cd '" MHR_SOURCE_DIR "' && '" MHR_BINARY "' check '" + tmp + "'", &out), 0)
          << e.path() << " block " << blocks << ":\n"
          << block << "\n"
          << out;
      fs::remove(tmp);
    }
  }
  EXPECT_GT(blocks, 0);
}

TEST(Docs, EveryExperimentChecks) {
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(MHR_SOURCE_DIR "/experiments")) {
    if (e.path().extension() != ".mhr") continue;
    // `*.inc.mhr` hold shared declarations for include; the specs that include them check them.
    if (mhr::support::endsWith(e.path().filename().string(), ".inc.mhr")) continue;
    ++files;
    std::string out;
    EXPECT_EQ(run("cd '" MHR_SOURCE_DIR "' && '" MHR_BINARY "' check '" + e.path().string() + "'", &out), 0)
        << e.path() << "\n"
        << out;
  }
  EXPECT_GT(files, 0);
}

TEST(Layering, CompilerLinksNoTorchOpenCvOrDcmtk) {
  // This test binary links mhr_compiler + mhr_stdlib only; its dynamic dependencies are the compiler's.
  std::string out;
  ASSERT_EQ(run("ldd /proc/" + std::to_string(::getpid()) + "/exe", &out), 0);
  for (const char* lib : {"libtorch", "libc10", "libopencv", "libdcm", "libofstd"})
    EXPECT_EQ(out.find(lib), std::string::npos) << "the compiler links " << lib << ":\n" << out;
}
