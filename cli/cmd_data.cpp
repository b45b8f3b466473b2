// cli/cmd_data.cpp — `mhr synth` and `mhr preview`: synthetic data sets in the real formats; contact sheets.
#include "cli/commands.h"

namespace mhr::cli {
void registerDataCommands(CLI::App& app, Runner& run) { (void)app; (void)run; }
} // namespace mhr::cli
