// cli/backend.cpp — the entry point of libmhr_backend.so: the commands that need the runtime (LibTorch) or
// image I/O. `mhr` calls mhr_backend_main with its own argc/argv when one of them is chosen.
#include "cli/commands.h"
#include "cli/version.h"

extern "C" __attribute__((visibility("default"))) int mhr_backend_main(int argc, char** argv) {
  CLI::App app{"mhr"};
  app.require_subcommand(1);
  mhr::cli::Runner run;
  mhr::cli::registerRunCommand(app, run, std::vector<std::string>(argv, argv + argc));
  mhr::cli::registerReportCommand(app, run);
  mhr::cli::registerDataCommands(app, run);
  mhr::cli::registerLaunchCommand(app, run);
  mhr::cli::registerPredictCommands(app, run);
  return mhr::cli::parseAndRun(app, argc, argv, run);
}
