// The `mhr` data commands end to end: synth, preview (through the real compiler), prepare; exit codes and
// messages for bad input.
#include "data/decode.h"
#include "data/io/contact_sheet.h"
#include "data/loader.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

namespace mhr::data {

using namespace test;
namespace fs = std::filesystem;

namespace {
const std::string kMhr = MHR_BINARY;
}

TEST(DataCli, SynthWritesBothFormats) {
  TempDir dir;
  std::string out;
  ASSERT_EQ(run(kMhr + " synth mammo --out '" + dir / "m" + "' --count 8 --size 64x52 --seed 3", &out), 0)
      << out;
  EXPECT_NE(out.find("wrote 8 synthetic mammograms"), std::string::npos) << out;
  EXPECT_TRUE(fs::exists(dir / "m/calc_case_description_train_set.csv"));
  ASSERT_EQ(run(kMhr + " synth cxr --out '" + dir / "x" + "' --count 6 --size 64x64", &out), 0) << out;
  EXPECT_TRUE(fs::exists(dir / "x/images/00000001_000.png"));
  EXPECT_EQ(run(kMhr + " synth mammo --out '" + dir / "bad" + "' --size 64y52", &out), 1);
  EXPECT_NE(out.find("--size: expected a size such as 512x416"), std::string::npos) << out;
  EXPECT_EQ(run(kMhr + " synth ct --out '" + dir / "bad" + "'", &out), 2) << out;
}

TEST(DataCli, PreviewAndPrepareASpec) {
  TempDir dir;
  std::string out;
  ASSERT_EQ(run(kMhr + " synth mammo --out '" + dir / "cbis" + "' --count 12 --size 128x104 --seed 5", &out),
            0)
      << out;
  writeText(dir / "spec.mhr", "experiment \"cli-test\"\nseed 7\n"
                              "dataset cbis = cbis_ddsm(root: \"" +
                                  dir / "cbis" +
                                  "\") {\n"
                                  "  preprocess: [breast_crop, clahe]\n  cache: \"" +
                                  dir / "cache" +
                                  "\"\n}\n"
                                  "network base = resnet18(classes: 2, width: 0.25, in_channels: 1)\n"
                                  "train base on cbis.train at 64x52 {\n  epochs: 1\n  batch: 4\n"
                                  "  optimizer: sgd(lr: 0.1)\n  augment: [hflip, rotate(10deg)]\n}\n"
                                  "evaluate base on cbis.test at 64x52 { metrics: [auc] }\n");
  int rc =
      run(kMhr + " preview '" + dir / "spec.mhr" + "' --dataset cbis -o '" + dir / "grid.png" + "' --count 6",
          &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("wrote " + dir / "grid.png" + " (6 samples of cbis.train)"), std::string::npos) << out;
  std::string png = support::readFile(dir / "grid.png").value_or("");
  EXPECT_EQ(png.substr(0, 4), "\x89PNG");
  EXPECT_EQ(run(kMhr + " preview '" + dir / "spec.mhr" + "' --dataset cbs", &out), 1);
  EXPECT_NE(out.find("no data set named 'cbs' in the spec (did you mean 'cbis'?)"), std::string::npos) << out;

  ASSERT_EQ(run(kMhr + " prepare '" + dir / "spec.mhr" + "'", &out), 0) << out;
  EXPECT_NE(out.find("built cache for cbis at 64x52"), std::string::npos) << out;
  ASSERT_EQ(run(kMhr + " prepare '" + dir / "spec.mhr" + "'", &out), 0) << out;
  EXPECT_NE(out.find("reusing cache for cbis at 64x52"), std::string::npos) << out;
  size_t caches = 0;
  for (auto& e : fs::directory_iterator(dir / "cache")) caches += e.path().extension() == ".mhrc";
  EXPECT_EQ(caches, 1u);
  // A missing DICOM stops with the CSV line; on_error: skip would leave it out.
  for (auto& e : fs::recursive_directory_iterator(dir / "cbis"))
    if (e.path().extension() == ".dcm") {
      fs::remove(e.path());
      break;
    }
  EXPECT_EQ(run(kMhr + " prepare '" + dir / "spec.mhr" + "'", &out), 1);
  EXPECT_NE(out.find("_case_description_"), std::string::npos) << out;
  EXPECT_NE(out.find("does not exist"), std::string::npos) << out;
}

TEST(DataCli, PreviewSkipsUnreadableFilesUnderOnErrorSkip) {
  // `run` and `prepare` leave an unreadable file out under on_error: skip; preview used to exit 1.
  TempDir dir;
  std::string out;
  ASSERT_EQ(run(kMhr + " synth mammo --out '" + dir / "cbis" + "' --count 6 --size 64x52 --seed 5", &out), 0)
      << out;
  std::vector<std::string> broken;
  for (auto& e : fs::recursive_directory_iterator(dir / "cbis"))
    if (e.path().extension() == ".dcm") broken.push_back(e.path().string());
  std::sort(broken.begin(), broken.end());
  ASSERT_FALSE(broken.empty());
  writeText(broken[0], "not a DICOM file at all");
  auto spec = [&](const std::string& onError) {
    writeText(dir / "spec.mhr", "experiment \"skip\"\n"
                                "dataset cbis = cbis_ddsm(root: \"" +
                                    dir / "cbis" + "\") {\n  on_error: " + onError +
                                    "\n}\n"
                                    "network base = resnet18(classes: 2, width: 0.25, in_channels: 1)\n"
                                    "evaluate base on cbis.train at 64x52 { metrics: [auc] }\n");
  };
  spec("skip");
  int rc = run(kMhr + " preview '" + dir / "spec.mhr" + "' --dataset cbis --no-augment -o '" + dir / "p.png" +
                   "' --count 16",
               &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find(broken[0]), std::string::npos) << out;
  EXPECT_NE(out.find("left out (on_error: skip)"), std::string::npos) << out;
  spec("stop");
  EXPECT_EQ(
      run(kMhr + " preview '" + dir / "spec.mhr" + "' --dataset cbis -o '" + dir / "p.png" + "' --count 16",
          &out),
      1)
      << out;
  EXPECT_NE(out.find(broken[0]), std::string::npos) << out;
}

TEST(ContactSheet, TilesCaptionsAndTitleFromADatasetConfig) {
  TempDir dir;
  Dataset ds = openDataset(config("m", "synthetic_mammo", {{"count", integer(8)}, {"size", size(128, 104)}},
                                  {{"preprocess", list({sym("breast_crop")})}}),
                           7);
  AugmentSpec augment{{AugmentOp{AugmentOp::Kind::HFlip}}};
  std::vector<io::SheetTile> tiles;
  for (size_t i = 0; i < 5; ++i)
    tiles.push_back({sampleAsLoaded(ds, i, 64, 52, augment, 7, 0),
                     ds.samples()[i].id + "  " + ds.classes()[size_t(ds.samples()[i].label)]});
  io::writeContactSheet(tiles, "m.train at 64x52\nsecond title line", 3, 128, dir / "sheet.png");
  RawImage png = decodeImage(dir / "sheet.png");
  // 3 columns of (tile width 120 minimum, 6 px gaps), 2 rows of (128 + caption 22 + 6), two title lines.
  EXPECT_EQ(png.width, 6 + 3 * (120 + 6));
  EXPECT_EQ(png.height, 2 * 20 + 6 + 2 * (128 + 22 + 6) + 6);
  // The first tile shows the first image: its mean brightness matches the scaled image's.
  double tileMean = 0, imageMean = 0;
  int64_t tileW = 104; // 52 * 128 / 64
  int64_t x0 = 6 + (120 - tileW) / 2, y0 = 2 * 20 + 6;
  for (int64_t y = 0; y < 128; ++y)
    for (int64_t x = 0; x < tileW; ++x) tileMean += png.stored[size_t((y0 + y) * png.width + x0 + x)];
  tileMean /= double(128 * tileW);
  for (float v : tiles[0].image.pixels) imageMean += v;
  imageMean = imageMean / double(tiles[0].image.pixels.size()) * 255.0;
  EXPECT_NEAR(tileMean, imageMean, 3.0);
  // Captions are drawn: the strip under the first tile is not plain background.
  int bright = 0;
  for (int64_t y = y0 + 128; y < y0 + 128 + 22; ++y)
    for (int64_t x = 6; x < 6 + 120; ++x) bright += png.stored[size_t(y * png.width + x)] > 128;
  EXPECT_GT(bright, 20);
}

} // namespace mhr::data
