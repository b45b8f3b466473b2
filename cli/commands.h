// cli/commands.h — the `mhr` binary's subcommands. Each group registers its subcommands on a CLI11 app and
// stores, in `run`, the function to execute when its subcommand is chosen; the caller runs it and returns its
// exit code (0 success, 1 user error such as diagnostics or a failed run, 2 usage error; CLI.md).
//
// Two halves, so that `mhr check` starts in milliseconds: the `mhr` executable itself links only the
// compiler, the standard library and the tracker (main.cpp: check, explain, emit, fmt, runs); the commands
// that need LibTorch, OpenCV or DCMTK live in the shared library libmhr_backend.so (backend.cpp: run, report,
// synth, preview, prepare, launch, predict, export), which `mhr` loads only when one of them is chosen.
#pragma once

#include "support/strings.h"

#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

namespace mhr::cli {

using Runner = std::function<int()>;

// front (the executable)
void registerCompilerCommands(CLI::App& app, Runner& run); // check, explain, emit, fmt   (cmd_compile.cpp)
void registerTrackerCommands(CLI::App& app, Runner& run);  // runs                         (cmd_runs.cpp)
// backend (libmhr_backend.so)
// run (cmd_run.cpp); `argv` is the backend's own command line, which `--nproc` re-runs in its ranks
void registerRunCommand(CLI::App& app, Runner& run, const std::vector<std::string>& argv);
void registerReportCommand(CLI::App& app, Runner& run);   // report                       (cmd_runs.cpp)
void registerDataCommands(CLI::App& app, Runner& run);    // synth, preview, prepare      (cmd_data.cpp)
void registerLaunchCommand(CLI::App& app, Runner& run);   // launch                       (cmd_launch.cpp)
void registerPredictCommands(CLI::App& app, Runner& run); // predict, export            (cmd_predict.cpp)

// Parses the command line and runs the chosen subcommand: 0 success, 1 a user error (its message to stderr),
// 2 a usage error (CLI11 prints it; help and version go to stdout and exit 0). The front and the backend
// both end in it.
inline int parseAndRun(CLI::App& app, int argc, char** argv, Runner& run) {
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
    std::cerr << "mhr: error: " << support::terminalSafe(e.what()) << "\n"; // error texts quote user input
    return 1;
  }
}

// The backend's commands, for the front's help text: name and one-line description.
struct BackendCommand {
  const char* name;
  const char* description;
};
const std::vector<BackendCommand>& backendCommands();

} // namespace mhr::cli
