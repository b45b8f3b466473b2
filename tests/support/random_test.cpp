// support/random: the one generator. The known answers pin the streams, because sweeps, morph recipes,
// splits and synthetic images are reproducible only while these numbers never change (they were taken
// from the three generators this file replaced, data/random, compiler/verify/random and sweep's own).
#include "support/random.h"

#include <gtest/gtest.h>

#include <set>

namespace mhr::support {

TEST(SupportRandom, KnownAnswersOfTheStreamsItReplaced) {
  SplitMix64 r(123);
  EXPECT_EQ(r.next(), 13032462758197477675ULL);
  EXPECT_EQ(r.below(1000), 148);
  EXPECT_DOUBLE_EQ(r.uniform(), 0.85966223893360116);
  EXPECT_EQ(deriveSeed(9, "init:resnet18", 0), 11854569404594007605ULL);
  EXPECT_EQ(hashLabel("morph"), 5148335185787610277ULL);
  EXPECT_EQ(deriveStreamSeed(42, 7), 11990728468338233783ULL);
  EXPECT_EQ(deriveStreamSeed(1, 2, 3, 4), 5876282591165298497ULL);
}

TEST(SupportRandom, DerivedSeedsDependOnEveryComponent) {
  EXPECT_NE(deriveSeed(1, "a", 0), deriveSeed(1, "a", 1));
  EXPECT_NE(deriveSeed(1, "a", 0), deriveSeed(1, "b", 0));
  EXPECT_NE(deriveSeed(1, "a", 0), deriveSeed(2, "a", 0));
  EXPECT_NE(deriveStreamSeed(1, 2, 3), deriveStreamSeed(1, 3, 2));
}

TEST(SupportRandom, BelowStaysInRangeAndCoversIt) {
  SplitMix64 r(7);
  std::set<int64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    int64_t v = r.below(10);
    ASSERT_GE(v, 0);
    ASSERT_LT(v, 10);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 10u);
  for (int i = 0; i < 1000; ++i) {
    double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

} // namespace mhr::support
