// cli/cmd_run.cpp — `mhr run`: compile, then execute the plan with the LibTorch runtime, logging to the tracker.
#include "cli/commands.h"

namespace mhr::cli {
void registerRunCommand(CLI::App& app, Runner& run) { (void)app; (void)run; }
} // namespace mhr::cli
