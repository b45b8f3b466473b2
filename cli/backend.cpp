// cli/backend.cpp — the entry point of libmhr_backend.so: the commands that need the runtime (LibTorch) or
// image I/O. `mhr` calls mhr_backend_main with its own argc/argv when one of them is chosen.
#include "cli/commands.h"
#include "cli/version.h"
#include "support/error.h"
#include "support/strings.h"

#include <iostream>

namespace mhr::cli {
namespace {
std::vector<std::string>& argvStorage() {
  static std::vector<std::string> v;
  return v;
}
} // namespace
const std::vector<std::string>& backendArgv() {
  return argvStorage();
}
void setBackendArgv(int argc, char** argv) {
  argvStorage().assign(argv, argv + argc);
}
} // namespace mhr::cli

extern "C" __attribute__((visibility("default"))) int mhr_backend_main(int argc, char** argv) {
  mhr::cli::setBackendArgv(argc, argv);
  CLI::App app{"mhr"};
  app.require_subcommand(1);
  mhr::cli::Runner run;
  mhr::cli::registerRunCommand(app, run);
  mhr::cli::registerReportCommand(app, run);
  mhr::cli::registerDataCommands(app, run);
  mhr::cli::registerLaunchCommand(app, run);
  mhr::cli::registerPredictCommands(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (!run) return 2;
  try {
    return run();
  } catch (const std::exception& e) {
    std::cerr << "mhr: error: " << mhr::support::terminalSafe(e.what())
              << "\n"; // error texts quote user input
    return 1;
  }
}
