// tracker/process_identity.h — who is writing a run, in a form that survives pid reuse. In: nothing (this
// process) or a stored identity; out: whether that process is still alive. A pid alone is not enough (pids
// are reused), so the identity also holds the process start time from /proc/PID/stat (clock ticks since
// boot), the kernel boot id (a reboot resets both) and the host name (a database on a shared file system is
// written from several machines; we only judge processes of our own host).
#pragma once

#include <cstdint>
#include <string>

namespace mhr::tracker {

struct ProcessIdentity {
  std::string host;
  std::string bootId;
  int64_t pid = 0;
  int64_t startTicks = 0;
};

enum class Liveness { Alive, Dead, Unknown /* another host: we cannot tell */ };

ProcessIdentity currentProcess();
Liveness checkProcess(const ProcessIdentity& identity);

} // namespace mhr::tracker
