// cli/cmd_compile.cpp — `mhr check`, `mhr explain`, `mhr emit`, `mhr fmt`: the compiler's commands.
#include "cli/commands.h"

namespace mhr::cli {
void registerCompilerCommands(CLI::App& app, Runner& run) { (void)app; (void)run; }
} // namespace mhr::cli
