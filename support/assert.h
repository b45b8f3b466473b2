// support/assert.h — broken invariants (our bugs, never user mistakes) stop the process with file, line and
// the condition. User mistakes are diagnostics (compiler) or mhr::UserError (runtime boundary), never
// asserts.
#pragma once

namespace mhr::support {
[[noreturn]] void assertFailed(const char* file, int line, const char* condition, const char* message);
} // namespace mhr::support

#define MHR_ASSERT(cond, msg)                                                                                \
  do {                                                                                                       \
    if (!(cond)) ::mhr::support::assertFailed(__FILE__, __LINE__, #cond, (msg));                             \
  } while (0)

#define MHR_UNREACHABLE(msg) ::mhr::support::assertFailed(__FILE__, __LINE__, "unreachable", (msg))
