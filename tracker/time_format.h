// tracker/time_format.h — the tracker's two ways of writing a point in time. In: milliseconds since the Unix
// epoch (as stored in the database); out: text at whole seconds (the milliseconds are dropped).
#pragma once

#include <cstdint>
#include <string>

namespace mhr::tracker {

// Local time "2025-11-27 12:21:03" (TZ decides; tests set TZ=UTC): tables for people.
std::string formatLocalTime(int64_t ms);
// UTC ISO 8601 "2025-11-27T12:21:03Z": exports, reports and stored messages.
std::string formatIsoTime(int64_t ms);

} // namespace mhr::tracker
