// tests/runtime/run_helper.cpp — a process that runs one experiment through runtime::execute, for the tests
// that kill a run with SIGKILL and resume it. Usage:
//   runtime_run_helper SPEC CHECKPOINT_DIR CACHE_DIR [--resume] [--kill-after STAGE:EPOCHS]
// Prints every evaluation metric as "metric KEY VALUE" (%.17g) after a successful run. With --kill-after the
// process SIGKILLs itself right after that stage's checkpoint of that epoch is durable: the harshest stop, at
// a known point.
#include "compiler/pipeline.h"
#include "runtime/execute.h"
#include "stdlib/catalog.h"
#include "tests/runtime/recording_sink.h"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr
        << "usage: runtime_run_helper SPEC CHECKPOINT_DIR CACHE_DIR [--resume] [--kill-after STAGE:EPOCHS]\n";
    return 2;
  }
  mhr::runtime::ExecuteOptions options;
  options.device = "cpu";
  options.checkpointDir = argv[2];
  options.cacheDir = argv[3];
  options.progress = false;
  options.threads = 1;
  std::string killStage;
  int64_t killEpoch = -1;
  for (int i = 4; i < argc; ++i) {
    if (std::strcmp(argv[i], "--resume") == 0) options.resume = true;
    if (std::strcmp(argv[i], "--kill-after") == 0 && i + 1 < argc) {
      std::string s = argv[++i];
      killStage = s.substr(0, s.rfind(':'));
      killEpoch = std::stoll(s.substr(s.rfind(':') + 1));
    }
  }
  options.onEpochEnd = [&](const std::string& stage, int64_t epochs) {
    if (stage == killStage && epochs == killEpoch) std::raise(SIGKILL);
  };
  mhr::compiler::CompileOptions co;
  co.catalog = &mhr::stdlib::catalog();
  mhr::compiler::CompileResult r = mhr::compiler::compileFile(argv[1], co);
  if (!r.ok() || !r.plan) {
    std::cerr << "the spec does not compile:\n";
    r.diags->renderText(std::cerr);
    return 1;
  }
  mhr::test::RecordingSink sink;
  try {
    mhr::runtime::execute(*r.plan, options, sink);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  for (const auto& m : sink.metrics)
    if (m.key.rfind("evaluate.", 0) == 0) std::printf("metric %s %.17g\n", m.key.c_str(), m.value);
  return 0;
}
