// cli/cmd_runs.cpp — `mhr runs list|show|compare|export` and `mhr report`: read the tracker.
#include "cli/commands.h"

namespace mhr::cli {
void registerTrackerCommands(CLI::App& app, Runner& run) { (void)app; (void)run; }
} // namespace mhr::cli
