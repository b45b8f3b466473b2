// PNG/JPEG decoding and the OpenCV-equivalent parts of preprocessing, checked against OpenCV-Python
// (/usr/bin/python3): grey/colour/alpha, 8/16-bit, JPEG; CLAHE against cv2.createCLAHE on 8-bit data; area
// and bilinear resampling against cv2.resize.
#include "data/decode.h"
#include "data/preprocess.h"
#include "support/strings.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <sstream>

namespace mhr::data {

using namespace test;

namespace {
class RasterReference : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    std::string log;
    ASSERT_EQ(run("/usr/bin/python3 tests/data/make_rasters.py '" + dir_->path() + "'", &log), 0) << log;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string path(const std::string& name) { return *dir_ / name; }
  template <typename T> static std::vector<T> load(const std::string& file) {
    std::string bytes = support::readFile(path(file)).value_or("");
    std::vector<T> v(bytes.size() / sizeof(T));
    std::memcpy(v.data(), bytes.data(), v.size() * sizeof(T));
    return v;
  }
  static TempDir* dir_;
};
TempDir* RasterReference::dir_ = nullptr;
} // namespace

TEST_F(RasterReference, GreyCodesEqualOpenCvPython) {
  for (auto [file, ref, bits] :
       std::vector<std::tuple<std::string, std::string, int>>{{"grey8.png", "grey8", 8},
                                                              {"grey16.png", "grey16", 16},
                                                              {"rgb8.png", "rgb8", 8},
                                                              {"rgb16.png", "rgb16", 16},
                                                              {"rgba8.png", "rgba8", 8},
                                                              {"ga8.png", "ga8", 8},
                                                              {"grey.jpg", "grey_jpg", 8},
                                                              {"colour.jpg", "colour_jpg", 8}}) {
    SCOPED_TRACE(file);
    RawImage img = decodeImage(path(file));
    EXPECT_EQ(img.bitsStored, bits);
    EXPECT_EQ(img.stored, load<uint16_t>(ref + ".grey.u16"));
    EXPECT_FALSE(img.invert);
  }
  EXPECT_EQ(sniffFormat(path("grey8.png")), FileFormat::Png);
  EXPECT_EQ(sniffFormat(path("grey.jpg")), FileFormat::Jpeg);
}

TEST_F(RasterReference, BrokenImagesNameTheFile) {
  std::string e = errorOf([] { decodeImage(path("truncated.png")); });
  EXPECT_NE(e.find(path("truncated.png") + ": cannot decode"), std::string::npos) << e;
  PreprocessSpec spec;
  spec.voi = true;
  RawImage png = decodeImage(path("grey8.png"));
  e = errorOf([&] { unitLut(png, spec); });
  EXPECT_NE(e.find("has neither"), std::string::npos) << e;
}

TEST_F(RasterReference, ClaheMatchesOpenCvOn8BitImages) {
  for (auto [h, w] : std::vector<std::pair<int64_t, int64_t>>{{96, 80}, {100, 90}, {64, 64}}) {
    std::string name = "clahe_" + std::to_string(h) + "x" + std::to_string(w);
    SCOPED_TRACE(name);
    auto in = load<uint16_t>(name + ".in.u16"), ref = load<uint16_t>(name + ".out.u16");
    ASSERT_EQ(in.size(), size_t(h * w));
    Image img(h, w);
    for (size_t i = 0; i < in.size(); ++i) img.pixels[i] = float(in[i]) / 255.0f;
    clahe(img, 2.0, 8);
    // OpenCV rounds its float result half-to-even; ours is divided by 255 first, so an exact .5 may come back
    // a hair above or below. Every pixel must agree, except such ties, which may go either way.
    size_t ties = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      double v = double(img.pixels[i]) * 255.0;
      if (int(std::nearbyint(v)) == int(ref[i])) continue;
      bool tie = std::fabs(v - std::floor(v) - 0.5) < 1e-3 && std::fabs(v - double(ref[i])) < 0.5 + 1e-3;
      ASSERT_TRUE(tie) << "pixel " << i << ": mhr " << v << ", OpenCV " << ref[i];
      ++ties;
    }
    EXPECT_LT(ties, in.size() / 10);
  }
}

TEST_F(RasterReference, ResamplingMatchesCv2Resize) {
  for (const std::string& line : support::split(support::readFile(path("resize.txt")).value(), '\n')) {
    if (line.empty()) continue;
    std::istringstream in(line);
    std::string name;
    int64_t h, w, oh, ow;
    in >> name >> h >> w >> oh >> ow;
    SCOPED_TRACE(name);
    auto src = load<float>("resize_" + name + ".in.f32"), ref = load<float>("resize_" + name + ".out.f32");
    Image img(h, w);
    img.pixels = src;
    Image out = resample(img, oh, ow);
    ASSERT_EQ(out.pixels.size(), ref.size());
    for (size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(out.pixels[i], ref[i], 2e-5) << "pixel " << i;
  }
}

} // namespace mhr::data
