// tracker/environment.cpp — see environment.h. Linux: /etc/os-release, uname(2), /proc/cpuinfo,
// /proc/meminfo.
#include "tracker/environment.h"

#include "support/files.h"
#include "support/strings.h"

#include <cmath>
#include <sys/utsname.h>
#include <thread>
#include <unistd.h>

namespace mhr::tracker {

namespace {

// The value of `key` in "key: value" or "KEY=value" lines, unquoted; "" when absent.
std::string field(const std::string& text, const std::string& key, char separator) {
  for (const auto& line : support::split(text, '\n')) {
    auto at = line.find(separator);
    if (at == std::string::npos || support::trim(line.substr(0, at)) != key) continue;
    std::string value = support::trim(line.substr(at + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    return value;
  }
  return "";
}

} // namespace

std::map<std::string, std::string> hostEnvironment() {
  std::map<std::string, std::string> facts;
  if (auto release = support::readFile("/etc/os-release")) {
    std::string name = field(*release, "PRETTY_NAME", '=');
    if (!name.empty()) facts["os"] = name;
  }
  struct utsname u {};
  if (uname(&u) == 0) {
    facts["kernel"] = std::string(u.sysname) + " " + u.release + " " + u.machine;
    facts["hostname"] = u.nodename;
  }
  if (auto cpuinfo = support::readFile("/proc/cpuinfo")) {
    std::string model = field(*cpuinfo, "model name", ':');
    if (model.empty()) model = field(*cpuinfo, "Model", ':'); // ARM boards
    if (!model.empty()) facts["cpu"] = model;
  }
  unsigned cores = std::thread::hardware_concurrency();
  if (cores) facts["cpu_cores"] = std::to_string(cores);
  if (auto meminfo = support::readFile("/proc/meminfo")) {
    std::string total = field(*meminfo, "MemTotal", ':'); // "131072000 kB"
    if (!total.empty()) {
      try {
        double gib = std::stod(total) / (1024.0 * 1024.0);
        facts["memory"] = support::formatNumber(std::round(gib * 10) / 10) + " GiB";
      } catch (...) {
      }
    }
  }
  return facts;
}

} // namespace mhr::tracker
