// cli/main.cpp — entry point of `mhr`: parses the command line with CLI11, runs the chosen subcommand and
// turns anything that escapes it into a clear message and exit code 1 (never a crash on bad input).
#include "cli/commands.h"
#include "cli/version.h"
#include "support/error.h"

#include <cstdio>
#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"mhr: experiments on high-resolution medical images by function-preserving network morphisms.\n"
               "Write a .mhr file, check it (the compiler proves each morph preserves the parent's function),\n"
               "run it, compare runs in the tracker."};
  app.set_version_flag("--version", std::string("mhr ") + mhr::cli::kVersion + " (" + mhr::cli::kGitCommit + ")");
  app.require_subcommand(1);
  app.fallthrough(false);

  mhr::cli::Runner run;
  mhr::cli::registerCompilerCommands(app, run);
  mhr::cli::registerRunCommand(app, run);
  mhr::cli::registerTrackerCommands(app, run);
  mhr::cli::registerDataCommands(app, run);
  mhr::cli::registerLaunchCommand(app, run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e); // prints help/version to stdout, errors to stderr
    return code == 0 ? 0 : 2;
  }
  if (!run) return 2;
  try {
    return run();
  } catch (const mhr::UserError& e) {
    std::cerr << "mhr: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "mhr: error: " << e.what() << "\n";
    return 1;
  }
}
