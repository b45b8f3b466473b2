#include "compiler/verify/random.h"

#include "support/assert.h"

namespace mhr::verify {

namespace {
uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
} // namespace

uint64_t SplitMix64::next() {
  state_ += 0x9e3779b97f4a7c15ULL;
  return mix(state_);
}

double SplitMix64::uniform() {
  return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0);
}

int64_t SplitMix64::below(int64_t n) {
  MHR_ASSERT(n >= 1, "below() needs a positive bound");
  const uint64_t bound = static_cast<uint64_t>(n);
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound; // values >= limit would bias the modulo
  uint64_t x;
  do x = next();
  while (x >= limit);
  return static_cast<int64_t>(x % bound);
}

uint64_t hashLabel(std::string_view label) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : label) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint64_t deriveSeed(uint64_t base, std::string_view label, uint64_t index) {
  return mix(mix(base ^ 0x6d68722d6d6f7270ULL) ^ hashLabel(label) ^ mix(index + 1));
}

} // namespace mhr::verify
