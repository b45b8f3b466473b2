// cli/device_memory.h — the memory limit `mhr check` and `mhr run` give the compiler for stages without a
// `memory_budget:`. In: the --device word. Out: CompileOptions::memoryLimitBytes/Source/cuda. The CPU's limit
// is the host's physical RAM; a CUDA device's memory needs the runtime (not linked by `mhr check`), so there
// only `memory_budget:` is checked up front and the runtime plans against the device.
#pragma once

#include "compiler/pipeline.h"

#include <string>
#include <unistd.h>

namespace mhr::cli {

inline void setDeviceMemory(compiler::CompileOptions& options, const std::string& device) {
  options.cuda = device.rfind("cuda", 0) == 0;
  if (device != "cpu") return;
  const long pages = ::sysconf(_SC_PHYS_PAGES), pageSize = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageSize <= 0) return;
  options.memoryLimitBytes = int64_t(pages) * int64_t(pageSize);
  options.memoryLimitSource = "the host's RAM (--device cpu)";
}

} // namespace mhr::cli
