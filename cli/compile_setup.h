// cli/compile_setup.h — how every command that compiles a spec sets up the compiler (check, explain, emit,
// run, launch, prepare, preview). In: the spec's path, the --set overrides, the --device word (for the
// memory limit) and where to stop. Out: the CompileResult, whose diagnostics the caller renders.
// The memory limit a stage without `memory_budget:` is checked against is the host's physical RAM for
// --device cpu; a CUDA device's memory needs the runtime (not linked by `mhr check`), so there only
// `memory_budget:` is checked up front and the runtime plans against the device.
#pragma once

#include "compiler/pipeline.h"
#include "stdlib/catalog.h"

#include <string>
#include <unistd.h>
#include <vector>

namespace mhr::cli {

// `device` "" (or auto/cuda) sets no limit from the host; "cpu" checks against the host's RAM.
inline compiler::CompileOptions compileOptions(const std::vector<std::string>& overrides,
                                               const std::string& device = "",
                                               compiler::Stage stopAfter = compiler::Stage::Lower) {
  compiler::CompileOptions options;
  options.catalog = &stdlib::catalog();
  options.overrides = overrides;
  options.stopAfter = stopAfter;
  options.cuda = device.rfind("cuda", 0) == 0;
  if (device == "cpu") {
    const long pages = ::sysconf(_SC_PHYS_PAGES), pageSize = ::sysconf(_SC_PAGESIZE);
    if (pages > 0 && pageSize > 0) {
      options.memoryLimitBytes = int64_t(pages) * int64_t(pageSize);
      options.memoryLimitSource = "the host's RAM (--device cpu)";
    }
  }
  return options;
}

inline compiler::CompileResult compileSpec(const std::string& file, const std::vector<std::string>& overrides,
                                           const std::string& device = "",
                                           compiler::Stage stopAfter = compiler::Stage::Lower) {
  return compiler::compileFile(file, compileOptions(overrides, device, stopAfter));
}

} // namespace mhr::cli
