// The data layer's random numbers: reproducible, unbiased enough to trust for splits and augmentation.
#include "data/random.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace mhr::data {

TEST(Random, SameSeedSameStreamDifferentSeedDifferentStream) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    differs |= x != c.next();
  }
  EXPECT_TRUE(differs);
}

TEST(Random, DerivedSeedsDependOnOrderAndEveryComponent) {
  EXPECT_NE(deriveStreamSeed(1, 2, 3), deriveStreamSeed(1, 3, 2));
  EXPECT_NE(deriveStreamSeed(1, 2, 3), deriveStreamSeed(2, 2, 3));
  EXPECT_NE(deriveStreamSeed(1, 2, 3, 0), deriveStreamSeed(1, 2, 3, 1));
  EXPECT_EQ(deriveStreamSeed(9, 8, 7, 6), deriveStreamSeed(9, 8, 7, 6));
}

TEST(Random, BelowIsInRangeAndCoversIt) {
  Rng r(5);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) {
    uint64_t v = r.below(7);
    ASSERT_LT(v, 7u);
    ++counts[v];
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 600); // ~6 sigma
}

TEST(Random, UniformAndNormalMoments) {
  Rng r(11);
  double sum = 0, sumN = 0, sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    double z = r.normal();
    sumN += z;
    sq += z * z;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.005);
  EXPECT_NEAR(sumN / n, 0.0, 0.01);
  EXPECT_NEAR(sq / n, 1.0, 0.02);
}

TEST(Random, PermutationIsAPermutationAndSeeded) {
  auto p = permutation(1000, 3);
  std::set<size_t> s(p.begin(), p.end());
  EXPECT_EQ(s.size(), 1000u);
  EXPECT_EQ(*s.rbegin(), 999u);
  EXPECT_EQ(p, permutation(1000, 3));
  EXPECT_NE(p, permutation(1000, 4));
  std::vector<size_t> sorted(1000);
  for (size_t i = 0; i < 1000; ++i) sorted[i] = i;
  EXPECT_NE(p, sorted);
}

} // namespace mhr::data
