// support/error.h — the one exception type that crosses layer boundaries at run time. It carries a message
// written for the user: which file, which field or parameter, what is wrong. The `mhr` driver catches it,
// prints it and records it in the tracker; it is never used for our own bugs (see assert.h).
#pragma once

#include <stdexcept>
#include <string>

namespace mhr {

class UserError : public std::runtime_error {
public:
  explicit UserError(const std::string& message) : std::runtime_error(message) {}
};

} // namespace mhr
