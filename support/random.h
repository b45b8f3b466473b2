// support/random.h — the one specified random generator every layer shares: SplitMix64 and the rules
// that derive a seed for one stream from a base seed. In: 64-bit seeds, labels, stream numbers. Out:
// reproducible integers and doubles.
// Why not <random>: std:: distributions and std::shuffle are implementation-defined, so the same seed would
// draw other replication maps, sweeps, splits and synthetic images with another standard library. The
// compiler (morph recipes, sweeps), the runtime (init and re-check seeds) and data/ (whose xoshiro256**
// state is seeded from this generator) all draw through this file.
#pragma once

#include <cstdint>
#include <string_view>

namespace mhr::support {

// The SplitMix64 output function (a bijective 64-bit mixer).
uint64_t splitMix64Mix(uint64_t z);

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

// A seed for the `index`-th use of `label` under `base` (morph statement i of child X, "init:<network>",
// a stage key): the mixer applied to a mix of the three.
uint64_t deriveSeed(uint64_t base, std::string_view label, uint64_t index);

// A seed for one numbered stream (run seed, epoch, sample index; dataset seed, stream tag, patient...).
// Each component goes through a full SplitMix round before the next is folded in, so (1, 2) and (2, 1)
// differ and small consecutive numbers do not give correlated streams.
uint64_t deriveStreamSeed(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0);

} // namespace mhr::support
