// cli/cmd_launch.cpp — `mhr launch slurm`: write an sbatch script for a data-parallel run or a sweep.
#include "cli/commands.h"

namespace mhr::cli {
void registerLaunchCommand(CLI::App& app, Runner& run) { (void)app; (void)run; }
} // namespace mhr::cli
