// Preprocessing: the options block (typed by the compiler), intensity mapping, resampling, breast crop,
// CLAHE. Comparisons with OpenCV itself are in raster_test.cpp (they need Python's cv2); these checks need no
// image I/O.
#include "data/preprocess.h"
#include "data/synthetic.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

namespace mhr::data {

using namespace test;

namespace {
// An options block as the compiler lowers it (the mistakes in one are the compiler's to report:
// tests/golden/check/err_dataset_options.mhr).
DatasetOptions parse(plan::Attrs attrs) {
  return datasetOptionsOf(lower::lowerDatasetSpec(config("d", "synthetic_mammo", {}, std::move(attrs)), 0));
}
} // namespace

TEST(PreprocessOptions, DefaultsAndAFullBlock) {
  DatasetOptions d = parse({});
  EXPECT_FALSE(d.preprocess.breastCrop);
  EXPECT_EQ(d.preprocess.resize, ResizeMode::Pad);
  EXPECT_FALSE(d.skipErrors);
  EXPECT_EQ(d.cacheDir, ".mhr-cache");

  DatasetOptions o =
      parse({{"preprocess",
              list({call("window", {{"center", num(40)}, {"width", num(400)}}),
                    call("breast_crop", {{"threshold", num(0.1)}, {"flip", plan::Value::ofBool(false)}}),
                    call("clahe", {{"clip", num(3.0)}}),
                    call("normalize", {{"mean", num(0.2)}, {"std", num(0.25)}})})},
             {"resize", sym("crop")},
             {"on_error", sym("skip")},
             {"cache", str("/tmp/c")}});
  ASSERT_TRUE(o.preprocess.window.has_value());
  EXPECT_EQ(o.preprocess.window->center, 40);
  EXPECT_EQ(o.preprocess.window->width, 400);
  EXPECT_TRUE(o.preprocess.breastCrop);
  EXPECT_EQ(*o.preprocess.cropThreshold, 0.1);
  EXPECT_FALSE(o.preprocess.cropFlip);
  EXPECT_TRUE(o.preprocess.clahe);
  EXPECT_EQ(o.preprocess.claheClip, 3.0);
  EXPECT_EQ(o.preprocess.claheTiles, 8);
  EXPECT_TRUE(o.preprocess.normalize);
  EXPECT_EQ(o.preprocess.std, 0.25);
  EXPECT_EQ(o.preprocess.resize, ResizeMode::Crop);
  EXPECT_TRUE(o.skipErrors);
  EXPECT_EQ(o.cacheDir, "/tmp/c");
  // Symbols and calls without arguments both work.
  DatasetOptions s = parse({{"preprocess", list({sym("voi"), sym("breast_crop"), sym("clahe")})}});
  EXPECT_TRUE(s.preprocess.voi);
  EXPECT_FALSE(s.preprocess.cropThreshold.has_value()); // Otsu
}

TEST(PreprocessOptions, CacheKeyCoversPixelsButNotNormalize) {
  auto key = [](plan::Attrs a) { return parse(std::move(a)).preprocess.cacheKeyText(); };
  std::string base = key({{"preprocess", list({sym("clahe")})}});
  EXPECT_EQ(base, key({{"preprocess",
                        list({sym("clahe"), call("normalize", {{"mean", num(0.5)}, {"std", num(0.2)}})})}}));
  EXPECT_NE(base, key({{"preprocess", list({call("clahe", {{"clip", num(3)}})})}}));
  EXPECT_NE(base, key({{"preprocess", list({sym("clahe")})}, {"resize", sym("crop")}}));
  EXPECT_NE(base, key({{"preprocess", list({sym("breast_crop"), sym("clahe")})}}));
}

TEST(Intensity, DicomWindowFunctions) {
  Window w{40, 400, "LINEAR"};
  EXPECT_EQ(applyWindow(w, -160), 0.0); // <= c - 0.5 - (w - 1) / 2
  EXPECT_EQ(applyWindow(w, 240), 1.0);  //  > c - 0.5 + (w - 1) / 2
  EXPECT_DOUBLE_EQ(applyWindow(w, 39.5), 0.5);
  Window e{40, 400, "LINEAR_EXACT"};
  EXPECT_EQ(applyWindow(e, -160), 0.0);
  EXPECT_DOUBLE_EQ(applyWindow(e, 40), 0.5);
  EXPECT_DOUBLE_EQ(applyWindow(e, 140), 0.75);
  Window s{40, 400, "SIGMOID"};
  EXPECT_DOUBLE_EQ(applyWindow(s, 40), 0.5);
  EXPECT_NEAR(applyWindow(s, 240), 1.0 / (1.0 + std::exp(-2.0)), 1e-12);
}

TEST(Intensity, UnitTableHonoursRangeRescaleAndMonochrome1) {
  RawImage r;
  r.bitsStored = 12;
  PreprocessSpec spec;
  auto lut = unitLut(r, spec);
  EXPECT_EQ(lut[0], 0.0f);
  EXPECT_EQ(lut[4095], 1.0f);
  EXPECT_FLOAT_EQ(lut[2048], float(2048.0 / 4095.0));
  r.invert = true; // MONOCHROME1: larger codes are darker
  lut = unitLut(r, spec);
  EXPECT_EQ(lut[0], 1.0f);
  EXPECT_EQ(lut[4095], 0.0f);
  // Signed CT-like data with a rescale: the window is on modality values (HU).
  RawImage ct;
  ct.bitsStored = 16;
  ct.isSigned = true;
  ct.slope = 1;
  ct.intercept = -1024;
  spec.window = Window{40, 400, "LINEAR"};
  lut = unitLut(ct, spec);
  EXPECT_EQ(lut[uint16_t(int16_t(1024 - 200))], 0.0f);
  EXPECT_EQ(lut[uint16_t(int16_t(1024 + 300))], 1.0f);
  EXPECT_NEAR(lut[uint16_t(int16_t(1024 + 40))], applyWindow(*spec.window, 40), 1e-7);
  EXPECT_NEAR(ct.value(-32768), -32768 - 1024, 0);
  // `voi` without any VOI in the file names the file.
  PreprocessSpec v;
  v.voi = true;
  ct.source = "scan.dcm";
  std::string e = errorOf([&] { unitLut(ct, v); });
  EXPECT_NE(e.find("scan.dcm"), std::string::npos) << e;
  ct.windows.push_back(Window{100, 50, "LINEAR"});
  lut = unitLut(ct, v);
  EXPECT_EQ(lut[uint16_t(int16_t(1024 + 70))], 0.0f);
}

namespace {
Image ramp(int64_t h, int64_t w) {
  Image img(h, w);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) img.at(y, x) = float((y * 7 + x * 3) % 101) / 100.0f;
  return img;
}
} // namespace

TEST(Resample, IntegerFactorIsExactlyTheBoxAverage) {
  Image src = ramp(64, 48);
  Image out = resample(src, 8, 6);
  for (int64_t y = 0; y < 8; ++y)
    for (int64_t x = 0; x < 6; ++x) {
      double sum = 0;
      for (int dy = 0; dy < 8; ++dy)
        for (int dx = 0; dx < 8; ++dx) sum += src.at(y * 8 + dy, x * 8 + dx);
      EXPECT_NEAR(out.at(y, x), sum / 64, 1e-6);
    }
}

TEST(Resample, AreaWeightsSumToOneAndBilinearKeepsRamps) {
  Image flat(50, 30, 0.37f);
  for (auto [h, w] : std::vector<std::pair<int, int>>{{17, 11}, {50, 30}, {120, 77}, {1, 1}}) {
    Image out = resample(flat, h, w);
    for (float v : out.pixels) ASSERT_NEAR(v, 0.37f, 1e-6);
  }
  // Shrinking by a non-integer factor keeps the mean (every source pixel's weight adds up to 1).
  Image src = ramp(50, 30);
  Image out = resample(src, 20, 12);
  double a = std::accumulate(src.pixels.begin(), src.pixels.end(), 0.0) / double(src.pixels.size());
  double b = std::accumulate(out.pixels.begin(), out.pixels.end(), 0.0) / double(out.pixels.size());
  EXPECT_NEAR(a, b, 1e-5);
  // Bilinear enlargement reproduces a linear ramp inside the image.
  Image lin(10, 10);
  for (int64_t y = 0; y < 10; ++y)
    for (int64_t x = 0; x < 10; ++x) lin.at(y, x) = float(x) / 10.0f;
  Image big = resample(lin, 10, 40);
  for (int64_t x = 2; x < 38; ++x) EXPECT_NEAR(big.at(5, x), ((x + 0.5) / 4.0 - 0.5) / 10.0, 1e-6);
}

TEST(Resample, PlacementKeepsAspectRatio) {
  Placement pad = place(ResizeMode::Pad, 5000, 3000, 1024, 832);
  EXPECT_EQ(pad.scaledH, 1024);
  EXPECT_EQ(pad.scaledW, 614); // 3000 * 1024 / 5000
  EXPECT_EQ(pad.offsetX, (832 - 614) / 2);
  EXPECT_EQ(pad.offsetY, 0);
  Placement crop = place(ResizeMode::Crop, 5000, 3000, 1024, 832);
  EXPECT_EQ(crop.scaledH, 1024);
  EXPECT_EQ(crop.scaledW, 832);
  EXPECT_EQ(crop.source.w, 3000);
  EXPECT_EQ(crop.source.h, 3692); // 1024 / (832 / 3000)
  EXPECT_EQ(crop.source.y, (5000 - 3692) / 2);
  Placement st = place(ResizeMode::Stretch, 5000, 3000, 1024, 832);
  EXPECT_EQ(st.source.h, 5000);
  EXPECT_EQ(st.scaledW, 832);
}

TEST(BreastCrop, FindsTheBreastIgnoresTheFilmLabelAndFlipsToTheLeft) {
  MammoParams p;
  p.count = 40;
  p.seed = 3;
  p.height = 256;
  p.width = 208;
  SyntheticMammo gen(p);
  int withLabelChecked = 0;
  for (const MammoCase& c : gen.cases()) {
    Image img = gen.renderUnit(c.index);
    BreastRegion br = findBreast(img, std::nullopt);
    ASSERT_TRUE(br.found);
    EXPECT_EQ(br.chestWallRight, !c.leftBreast) << "case " << c.index;
    // The box touches the chest wall and leaves the far corner (where film labels sit) out.
    if (c.leftBreast) {
      EXPECT_LE(br.box.x, 2);
    } else {
      EXPECT_GE(br.box.x + br.box.w, img.width - 2);
    }
    bool label = false;
    int64_t lx = c.leftBreast ? int64_t(0.85 * p.width) : int64_t(0.15 * p.width);
    label = img.at(int64_t(0.05 * p.height), lx) > 0.8f;
    if (label) {
      ++withLabelChecked;
      EXPECT_FALSE(br.box.x <= lx && lx < br.box.x + br.box.w && br.box.y <= int64_t(0.05 * p.height))
          << "the film label was included in case " << c.index;
    }
  }
  EXPECT_GT(withLabelChecked, 3); // the generator puts labels on about 30% of images

  // Through the pipeline: a right breast comes out with its chest wall on the left.
  for (const MammoCase& c : gen.cases()) {
    if (c.leftBreast) continue;
    PreprocessSpec spec;
    spec.breastCrop = true;
    Image out = preprocess(gen.render(c.index), spec, 128, 104);
    double left = 0, right = 0;
    for (int64_t y = 0; y < out.height; ++y)
      for (int64_t x = 0; x < out.width / 4; ++x) left += out.at(y, x), right += out.at(y, out.width - 1 - x);
    EXPECT_GT(left, right) << "case " << c.index;
    break;
  }
}

TEST(Clahe, RaisesLocalContrastWithinTheUnitRange) {
  Image img(96, 80);
  for (int64_t y = 0; y < 96; ++y)
    for (int64_t x = 0; x < 80; ++x) img.at(y, x) = 0.45f + 0.05f * float((x * 13 + y * 7) % 17) / 16.0f;
  auto sd = [](const Image& i) {
    double m = std::accumulate(i.pixels.begin(), i.pixels.end(), 0.0) / double(i.pixels.size()), s = 0;
    for (float v : i.pixels) s += (v - m) * (v - m);
    return std::sqrt(s / double(i.pixels.size()));
  };
  double before = sd(img);
  Image out = img;
  clahe(out, 4.0, 4);
  for (float v : out.pixels) {
    ASSERT_GE(v, 0.0f);
    ASSERT_LE(v, 1.0f);
  }
  EXPECT_GT(sd(out), 2 * before);
  // The mapping is monotone: within one row of a single-tile image order is kept.
  Image one = img;
  clahe(one, 40.0, 1);
  for (int64_t x = 1; x < 80; ++x)
    if (img.at(0, x) > img.at(0, x - 1)) {
      EXPECT_GE(one.at(0, x), one.at(0, x - 1));
    }
}

TEST(Pipeline, OutputHasTheTargetSizeAndPadsWithBlack) {
  MammoParams p;
  p.count = 2;
  SyntheticMammo gen(p);
  PreprocessSpec spec;
  Image out = preprocess(gen.render(0), spec, 64, 128); // wide target: pad left and right
  ASSERT_EQ(out.height, 64);
  ASSERT_EQ(out.width, 128);
  EXPECT_EQ(out.at(30, 0), 0.0f);
  EXPECT_EQ(out.at(30, 127), 0.0f);
  spec.resize = ResizeMode::Crop;
  out = preprocess(gen.render(0), spec, 64, 128);
  EXPECT_EQ(out.width, 128);
}

} // namespace mhr::data
