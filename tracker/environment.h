// tracker/environment.h — the host half of a run's environment table. In: nothing; out: facts about this
// machine that every run records (os, kernel, cpu, cpu_cores, memory, hostname). The runtime adds its half
// (libtorch, device_name, cuda, cudnn) and the driver adds mhr_version and mhr_commit; all go through
// MetricsSink::logEnvironment.
#pragma once

#include <map>
#include <string>

namespace mhr::tracker {

std::map<std::string, std::string> hostEnvironment();

} // namespace mhr::tracker
