// compiler/verify/random.h — the compiler's only source of randomness: SplitMix64, fully specified, so the
// replication maps and splits a morph draws are the same on every platform and compiler (std::
// distributions are not). In: a 64-bit seed. Out: a reproducible stream of integers and doubles. The drawn
// values are written into the plan (recipes), so the runtime never needs to reproduce this generator.
#pragma once

#include <cstdint>
#include <string_view>

namespace mhr::verify {

class SplitMix64 {
public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next();
  double uniform();         // [0, 1), 53 random bits
  int64_t below(int64_t n); // uniform on [0, n), unbiased (rejection); n >= 1
  double uniform(double a, double b) { return a + (b - a) * uniform(); }

private:
  uint64_t state_;
};

// FNV-1a 64 of a label, for deriving seeds from names.
uint64_t hashLabel(std::string_view label);
// A seed for `index`-th use of `label` under `base`: SplitMix64 finalizer of a mix of the three.
uint64_t deriveSeed(uint64_t base, std::string_view label, uint64_t index);

} // namespace mhr::verify
