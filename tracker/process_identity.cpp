// tracker/process_identity.cpp — see process_identity.h. Linux only (/proc), like the rest of mhr.
#include "tracker/process_identity.h"

#include "support/files.h"
#include "support/strings.h"

#include <unistd.h>

namespace mhr::tracker {

namespace {

struct StatFields {
  bool ok = false;
  char state = '?';
  int64_t startTicks = 0;
};

// /proc/PID/stat: "pid (comm) state ppid ... starttime(22nd field) ...". comm may hold spaces and
// parentheses, so fields are counted from the last ')'.
StatFields readStat(int64_t pid) {
  StatFields fields;
  auto text = support::readFile("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return fields;
  size_t close = text->rfind(')');
  if (close == std::string::npos || close + 2 >= text->size()) return fields;
  std::vector<std::string> rest;
  for (const auto& part : support::split(std::string_view(*text).substr(close + 2), ' ')) {
    if (!part.empty()) rest.push_back(part);
  }
  // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
  if (rest.size() < 20) return fields;
  fields.state = rest[0].empty() ? '?' : rest[0][0];
  try {
    fields.startTicks = std::stoll(rest[19]);
  } catch (...) {
    return fields;
  }
  fields.ok = true;
  return fields;
}

std::string hostName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown-host";
  return name;
}

std::string bootId() {
  auto text = support::readFile("/proc/sys/kernel/random/boot_id");
  return text ? support::trim(*text) : "";
}

} // namespace

ProcessIdentity currentProcess() {
  ProcessIdentity id;
  id.host = hostName();
  id.bootId = bootId();
  id.pid = static_cast<int64_t>(getpid());
  id.startTicks = readStat(id.pid).startTicks;
  return id;
}

Liveness checkProcess(const ProcessIdentity& identity) {
  if (identity.host != hostName()) return Liveness::Unknown;
  if (!identity.bootId.empty() && identity.bootId != bootId()) return Liveness::Dead; // rebooted since
  StatFields stat = readStat(identity.pid);
  if (!stat.ok) return Liveness::Dead;
  if (stat.state == 'Z' || stat.state == 'X') return Liveness::Dead; // killed, not yet reaped
  if (stat.startTicks != identity.startTicks) return Liveness::Dead; // pid reused by another process
  return Liveness::Alive;
}

} // namespace mhr::tracker
