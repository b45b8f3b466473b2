// tracker/time_format.cpp — see time_format.h.
#include "tracker/time_format.h"

#include <ctime>

namespace mhr::tracker {

namespace {

std::string formatTime(int64_t ms, bool utc, const char* format) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  if (utc) {
    gmtime_r(&seconds, &tm);
  } else {
    localtime_r(&seconds, &tm);
  }
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

} // namespace

std::string formatLocalTime(int64_t ms) {
  return formatTime(ms, false, "%Y-%m-%d %H:%M:%S");
}

std::string formatIsoTime(int64_t ms) {
  return formatTime(ms, true, "%Y-%m-%dT%H:%M:%SZ");
}

} // namespace mhr::tracker
