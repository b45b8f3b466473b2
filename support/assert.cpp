#include "support/assert.h"

#include <cstdio>
#include <cstdlib>

namespace mhr::support {

void assertFailed(const char* file, int line, const char* condition, const char* message) {
  std::fprintf(
      stderr,
      "mhr: internal error at %s:%d: %s (%s)\nThis is a bug in mhr, not in your input; please report it.\n",
      file, line, message, condition);
  std::fflush(stderr);
  std::abort();
}

} // namespace mhr::support
