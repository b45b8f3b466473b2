#include "support/random.h"

#include "support/assert.h"

namespace mhr::support {

namespace {
constexpr uint64_t kGamma = 0x9E3779B97F4A7C15ULL; // the SplitMix64 increment (golden ratio)
}

uint64_t splitMix64Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t SplitMix64::next() {
  state_ += kGamma;
  return splitMix64Mix(state_);
}

double SplitMix64::uniform() {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
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
  return splitMix64Mix(splitMix64Mix(base ^ 0x6d68722d6d6f7270ULL) ^ hashLabel(label) ^
                       splitMix64Mix(index + 1));
}

uint64_t deriveStreamSeed(uint64_t seed, uint64_t a, uint64_t b, uint64_t c) {
  SplitMix64 round(seed);
  uint64_t h = round.next();
  for (uint64_t v : {a, b, c}) {
    round = SplitMix64(h ^ (v + 0x632BE59BD9B4E019ULL));
    h = round.next();
  }
  return h;
}

} // namespace mhr::support
