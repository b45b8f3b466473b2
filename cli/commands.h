// cli/commands.h — the `mhr` binary's subcommands. Each group registers its subcommands on the CLI11 app and
// stores, in `run`, the function to execute when its subcommand is chosen; main() runs it and returns its
// exit code (0 success, 1 user error such as diagnostics or a failed run, 2 usage error; CLI.md).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace mhr::cli {

using Runner = std::function<int()>;

void registerCompilerCommands(CLI::App& app, Runner& run); // check, explain, emit, fmt   (cmd_compile.cpp)
void registerRunCommand(CLI::App& app, Runner& run);       // run                          (cmd_run.cpp)
void registerTrackerCommands(CLI::App& app, Runner& run);  // runs, report                 (cmd_runs.cpp)
void registerDataCommands(CLI::App& app, Runner& run);     // synth, preview               (cmd_data.cpp)
void registerLaunchCommand(CLI::App& app, Runner& run);    // launch                       (cmd_launch.cpp)

} // namespace mhr::cli
