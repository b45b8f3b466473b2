// data/random.h — the data layer's random numbers: a small, fully specified generator (xoshiro256**,
// seeded from support/random's SplitMix64) and the stream-seed rule (support::deriveStreamSeed). In: a
// 64-bit seed (or a seed plus stream numbers such as epoch and sample index). Out: integers, uniform
// doubles, normals, permutations.
// Why not <random>: std::uniform_*_distribution and std::shuffle are implementation-defined, so the same seed
// would give different splits, augmentations and synthetic images with another standard library. Every
// random choice in data/ goes through this file and is identical on every platform.
#pragma once

#include "support/random.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mhr::data {

// A seed for one stream, mixed from a base seed and up to three stream numbers (e.g. run seed, epoch,
// sample index). Different tuples give statistically independent streams.
using support::deriveStreamSeed;

class Rng {
public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift with rejection: exact, unbiased).
  uint64_t below(uint64_t n);
  // Uniform double in [0, 1) with 53 random bits.
  double uniform();
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal (Box-Muller, no cached second value so the stream position is simple to reason about).
  double normal();
  bool chance(double p) { return uniform() < p; }

private:
  uint64_t s_[4];
};

// Fisher-Yates shuffle driven by Rng::below.
template <typename T> void shuffle(std::vector<T>& items, Rng& rng) {
  for (size_t i = items.size(); i > 1; --i) {
    size_t j = static_cast<size_t>(rng.below(i));
    std::swap(items[i - 1], items[j]);
  }
}

// 0..n-1 in a seeded random order.
std::vector<size_t> permutation(size_t n, uint64_t seed);

} // namespace mhr::data
