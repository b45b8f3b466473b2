// Augmentation: the list as written in a train stage, exact flips, determinism per (seed, epoch, sample).
#include "data/augment.h"
#include "data/random.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <numeric>

namespace mhr::data {

using namespace test;

namespace {
Image pattern(int64_t h, int64_t w) {
  Image img(h, w);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) img.at(y, x) = float((y * 31 + x * 17) % 97) / 96.0f;
  return img;
}
// An augment list as the compiler lowers it (its mistakes are the compiler's to report:
// tests/golden/check/err_augment.mhr).
AugmentSpec spec(std::vector<plan::Value> v) {
  return AugmentSpec{lower::lowerAugment(v)};
}
} // namespace

TEST(Augment, ParsesTheLanguageForms) {
  AugmentSpec s = spec({sym("hflip"), call("vflip"), call("rotate", {}, {plan::Value::ofQuantity(15, "deg")}),
                        call("scale", {}, {num(0.9), num(1.1)}), call("brightness", {}, {num(0.1)}),
                        call("contrast", {{"delta", num(0.2)}})});
  ASSERT_EQ(s.ops.size(), 6u);
  EXPECT_EQ(s.ops[2].a, 15);
  EXPECT_EQ(s.ops[3].b, 1.1);
  EXPECT_EQ(s.ops[5].a, 0.2);
  EXPECT_EQ(s.str(), "[hflip, vflip, rotate(15deg), scale(0.9, 1.1), brightness(0.1), contrast(0.2)]");
}

TEST(Augment, FlipsMovePixelsExactly) {
  Image src = pattern(20, 14);
  int mirrored = 0, same = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    Image img = src;
    augment(img, spec({sym("hflip")}), seed);
    bool isSame = img.pixels == src.pixels;
    bool isMirror = true;
    for (int64_t y = 0; y < 20; ++y)
      for (int64_t x = 0; x < 14; ++x) isMirror &= img.at(y, x) == src.at(y, 13 - x);
    ASSERT_TRUE(isSame || isMirror);
    mirrored += isMirror;
    same += isSame;
  }
  EXPECT_GT(mirrored, 5); // probability 1/2 each
  EXPECT_GT(same, 5);
  Image v = src;
  for (uint64_t seed = 0;; ++seed) { // the first seed whose vflip fires
    v = src;
    augment(v, spec({sym("vflip")}), seed);
    if (v.pixels != src.pixels) break;
  }
  for (int64_t x = 0; x < 14; ++x) EXPECT_EQ(v.at(0, x), src.at(19, x));
}

TEST(Augment, DeterministicPerStreamAndVariedAcrossStreams) {
  AugmentSpec s = spec({sym("hflip"), call("rotate", {}, {plan::Value::ofQuantity(20, "deg")}),
                        call("scale", {}, {num(0.8), num(1.2)}), call("brightness", {}, {num(0.1)}),
                        call("contrast", {}, {num(0.1)})});
  Image src = pattern(32, 24);
  Image a = src, b = src, c = src;
  augment(a, s, deriveStreamSeed(7, 0, 5));
  augment(b, s, deriveStreamSeed(7, 0, 5));
  augment(c, s, deriveStreamSeed(7, 1, 5)); // next epoch
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_NE(a.pixels, c.pixels);
  for (float v : a.pixels) {
    ASSERT_GE(v, 0.0f);
    ASSERT_LE(v, 1.0f);
  }
  Image none = src;
  augment(none, AugmentSpec{}, 1);
  EXPECT_EQ(none.pixels, src.pixels);
}

TEST(Augment, ZoomAboutTheCentre) {
  Image src(41, 41, 0.0f);
  src.at(20, 20) = 1.0f; // centre stays
  src.at(20, 30) = 1.0f; // 10 px right of centre -> 20 px right after 2x zoom
  Image img = src;
  augment(img, spec({call("scale", {}, {num(2.0), num(2.0)})}), 3);
  EXPECT_NEAR(img.at(20, 20), 1.0f, 1e-6);
  EXPECT_NEAR(img.at(20, 40), 1.0f, 1e-6);
  EXPECT_NEAR(img.at(20, 30), 0.0f, 1e-6);
}

} // namespace mhr::data
