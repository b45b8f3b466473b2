// tests/tracker/report_test.cpp — the report's parts: the built-in PNG encoder (decoded back with zlib),
// base64, ROC/AUC/DeLong against brute force and against scikit-learn, the SVG plot helpers, CAM overlays,
// and the HTML itself (self-contained, every section present, verdicts beside their spec lines, hostile
// text escaped, bad records reported instead of crashing).
#include "tests/tracker/test_util.h"
#include "tracker/cam_overlay.h"
#include "tracker/png_writer.h"
#include "tracker/report.h"
#include "tracker/roc.h"
#include "tracker/svg_plot.h"

#include "support/files.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <regex>
#include <zlib.h>

namespace mhr::tracker {
namespace {

using testing::TempDir;

uint32_t be32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) |
         (uint32_t(uint8_t(s[at + 2])) << 8) | uint32_t(uint8_t(s[at + 3]));
}

// A minimal PNG reader for the test: checks the signature and every chunk CRC, inflates IDAT with zlib,
// undoes filter type 0 (None) or 2 (Up), the ones the encoder writes, and returns the pixels.
std::vector<uint8_t> decodePng(const std::string& png, int& width, int& height, int& channels) {
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  size_t at = 8;
  std::string idat;
  while (at + 12 <= png.size()) {
    uint32_t len = be32(png, at);
    std::string type = png.substr(at + 4, 4);
    std::string data = png.substr(at + 8, len);
    uint32_t crc = be32(png, at + 8 + len);
    EXPECT_EQ(crc, crc32(reinterpret_cast<const uint8_t*>(png.data() + at + 4), len + 4)) << type;
    if (type == "IHDR") {
      width = int(be32(data, 0));
      height = int(be32(data, 4));
      EXPECT_EQ(uint8_t(data[8]), 8);
      int color = uint8_t(data[9]);
      channels = color == 0 ? 1 : color == 2 ? 3 : 4;
    } else if (type == "IDAT") {
      idat += data;
    }
    at += 12 + len;
  }
  EXPECT_EQ(at, png.size());
  std::vector<uint8_t> raw(size_t(width * channels + 1) * size_t(height));
  uLongf rawSize = raw.size();
  EXPECT_EQ(uncompress(raw.data(), &rawSize, reinterpret_cast<const Bytef*>(idat.data()), idat.size()), Z_OK);
  EXPECT_EQ(rawSize, raw.size());
  const size_t stride = size_t(width * channels);
  std::vector<uint8_t> pixels(stride * size_t(height));
  for (size_t y = 0; y < size_t(height); ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    EXPECT_TRUE(filter == 0 || filter == 2) << "row " << y << " filter " << int(filter);
    for (size_t i = 0; i < stride; ++i) {
      const uint8_t above = filter == 2 && y > 0 ? pixels[(y - 1) * stride + i] : 0;
      pixels[y * stride + i] = uint8_t(raw[y * (stride + 1) + 1 + i] + above);
    }
  }
  return pixels;
}

TEST(ReportPng, RoundTripsThroughZlib) {
  for (int channels : {1, 3, 4}) {
    // Noisy pixels at a size over 64 KiB (more than one deflate block), and a 1x1 image (one row, no row
    // above it for the Up filter).
    int w = 300, h = 250;
    std::vector<uint8_t> pixels(size_t(w * h * channels));
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = uint8_t((i * 7 + i / 13) & 0xFF);
    std::string png = encodePng(pixels.data(), w, h, channels);
    int dw = 0, dh = 0, dc = 0;
    EXPECT_EQ(decodePng(png, dw, dh, dc), pixels) << channels;
    EXPECT_EQ(dw, w);
    EXPECT_EQ(dh, h);
    EXPECT_EQ(dc, channels);
    const std::vector<uint8_t> one(size_t(channels), 200);
    EXPECT_EQ(decodePng(encodePng(one.data(), 1, 1, channels), dw, dh, dc), one) << channels;
  }
}

// A CAM overlay of a smooth scan, as the report draws it: the file must be far smaller than the raw
// pixels (the stored-block encoder this replaced made it slightly larger) and decode to the same pixels.
TEST(ReportPng, SmoothOverlayCompresses) {
  runtime::CamRecord cam;
  cam.height = cam.width = 256;
  for (int y = 0; y < 256; ++y) {
    for (int x = 0; x < 256; ++x) {
      const double u = (x - 128) / 128.0, v = (y - 128) / 128.0;
      cam.image.push_back(float(0.2 + 0.6 * std::exp(-2 * (u * u + v * v)) + 0.05 * std::sin(y / 9.0)));
    }
  }
  cam.camHeight = cam.camWidth = 8;
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 8; ++x)
      cam.cam.push_back(float(std::exp(-((x - 3) * (x - 3) + (y - 4) * (y - 4)) / 4.0)));
  }
  RgbImage overlay = renderOverlay(cam, 256);
  std::string png = encodePng(overlay.pixels.data(), overlay.width, overlay.height, 3);
  int dw = 0, dh = 0, dc = 0;
  EXPECT_EQ(decodePng(png, dw, dh, dc), overlay.pixels);
  EXPECT_LT(png.size() * 4, overlay.pixels.size()) << png.size() << " bytes for " << overlay.pixels.size();
}

TEST(ReportPng, ChecksumsAndBase64MatchKnownValues) {
  const std::string text = "The quick brown fox jumps over the lazy dog";
  EXPECT_EQ(crc32(reinterpret_cast<const uint8_t*>(text.data()), text.size()), 0x414FA339u);
  EXPECT_EQ(adler32(reinterpret_cast<const uint8_t*>(text.data()), text.size()), 0x5BDC0FDAu);
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64Encode(std::string("\xff\x00\xfe", 3)), "/wD+");
}

// AUC as the Mann-Whitney statistic and the DeLong variance, straight from the definitions: O(m n).
void bruteForce(const std::vector<float>& labels, const std::vector<float>& scores, double& auc,
                double& variance) {
  std::vector<double> pos, neg;
  for (size_t i = 0; i < labels.size(); ++i) (labels[i] > 0.5f ? pos : neg).push_back(scores[i]);
  auto psi = [](double x, double y) { return x > y ? 1.0 : x == y ? 0.5 : 0.0; };
  const double m = double(pos.size()), n = double(neg.size());
  std::vector<double> v10(pos.size(), 0), v01(neg.size(), 0);
  auc = 0;
  for (size_t i = 0; i < pos.size(); ++i) {
    for (size_t j = 0; j < neg.size(); ++j) {
      double s = psi(pos[i], neg[j]);
      auc += s;
      v10[i] += s / n;
      v01[j] += s / m;
    }
  }
  auc /= m * n;
  auto var = [](const std::vector<double>& v) {
    double mean = 0, s = 0;
    for (double x : v) mean += x / double(v.size());
    for (double x : v) s += (x - mean) * (x - mean);
    return s / double(v.size() - 1);
  };
  variance = var(v10) / m + var(v01) / n;
}

TEST(ReportRoc, AucAndDelongMatchTheDefinitions) {
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0, 1);
  for (int trial = 0; trial < 5; ++trial) {
    std::vector<float> labels, scores;
    for (int i = 0; i < 300; ++i) {
      bool p = rng() % 3 == 0;
      labels.push_back(p ? 1.f : 0.f);
      // Rounded scores: plenty of ties, which the midrank formulation must handle.
      scores.push_back(float(std::round((p ? 0.8 : 0.0) + noise(rng)) / 4));
    }
    RocCurve roc = computeRoc(labels, scores);
    double auc = 0, variance = 0;
    bruteForce(labels, scores, auc, variance);
    EXPECT_NEAR(roc.auc, auc, 1e-12);
    EXPECT_NEAR(roc.variance, variance, 1e-12);
    EXPECT_LE(roc.ciLow, roc.auc);
    EXPECT_GE(roc.ciHigh, roc.auc);
    EXPECT_NEAR(roc.ciHigh - roc.auc, 1.959963984540054 * std::sqrt(variance), 1e-9);
    // The trapezoid area under the drawn curve is the same AUC (ties as diagonal segments).
    double area = 0;
    for (size_t i = 1; i < roc.fpr.size(); ++i)
      area += (roc.fpr[i] - roc.fpr[i - 1]) * (roc.tpr[i] + roc.tpr[i - 1]) / 2;
    EXPECT_NEAR(area, roc.auc, 1e-12);
    EXPECT_EQ(roc.fpr.front(), 0);
    EXPECT_EQ(roc.tpr.back(), 1);
  }
}

TEST(ReportRoc, MatchesScikitLearn) {
  const char* python = "/usr/bin/python3";
  if (!std::filesystem::exists(python)) GTEST_SKIP() << "no /usr/bin/python3 for the scikit-learn comparison";
  auto probe = testing::runCommand({python, "-c", "import sklearn.metrics"});
  if (probe.exitCode != 0) GTEST_SKIP() << "python3-sklearn is not installed: " << probe.err;
  std::vector<float> labels = {1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0, 1};
  std::vector<float> scores = {0.9f,  0.1f, 0.8f,  0.35f, 0.35f, 0.2f,  0.7f, 0.6f,
                               0.55f, 0.3f, 0.65f, 0.4f,  0.35f, 0.05f, 0.95f};
  std::string l, s;
  for (size_t i = 0; i < labels.size(); ++i) {
    l += (i ? "," : "") + std::to_string(int(labels[i]));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", double(scores[i])); // exact for a float
    s += (i ? "," : "") + std::string(buf);
  }
  auto result =
      testing::runCommand({python, "-c",
                           "import sklearn.metrics as m, numpy as np; print(repr(float(m.roc_auc_score([" +
                               l + "], np.array([" + s + "], dtype=np.float32)))))"});
  ASSERT_EQ(result.exitCode, 0) << result.err;
  double sklearn = std::stod(result.out);
  EXPECT_NEAR(computeRoc(labels, scores).auc, sklearn, 1e-12);
}

TEST(ReportRoc, DegenerateClassesAndThresholdCounts) {
  RocCurve none = computeRoc({0, 0, 0}, {0.1f, 0.5f, 0.9f});
  EXPECT_TRUE(std::isnan(none.auc));
  EXPECT_EQ(none.positives, 0);
  BinaryCounts c = countAtThreshold({1, 1, 0, 0, 1}, {0.9f, 0.4f, 0.6f, 0.1f, 0.5f}, 0.5);
  EXPECT_EQ(c.tp, 2);
  EXPECT_EQ(c.fn, 1);
  EXPECT_EQ(c.fp, 1);
  EXPECT_EQ(c.tn, 1);
  EXPECT_NEAR(c.sensitivity(), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(c.specificity(), 0.5, 1e-12);
}

TEST(ReportPlot, NiceTicksAndLabels) {
  EXPECT_EQ(niceTicks(0, 1, 5), (std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}));
  auto t = niceTicks(0.123, 0.789, 5);
  ASSERT_FALSE(t.empty());
  EXPECT_NEAR(t[1] - t[0], 0.1, 1e-12);
  EXPECT_EQ(niceTicks(0, 179, 4, true), (std::vector<double>{0, 50, 100, 150}));
  EXPECT_EQ(niceTicks(0, 3, 8, true), (std::vector<double>{0, 1, 2, 3})); // no fractional steps on step axes
  EXPECT_EQ(formatTick(0.6000000000000001, 0.2), "0.6");
  EXPECT_EQ(formatTick(0.25, 0.25), "0.25");
  EXPECT_EQ(formatTick(150, 50), "150");
  EXPECT_EQ(formatTick(0, 0.2), "0.0"); // the same decimals as its neighbours
  EXPECT_EQ(formatTick(-1e-17, 0.2), "0.0");
  EXPECT_EQ(formatTick(2e-5, 1e-5), "2e-5");
}

TEST(ReportPlot, ThinningKeepsExtremes) {
  std::vector<double> y(100000, 1.0);
  y[54321] = 50; // a spike
  y[777] = -3;
  auto keep = thinIndices(y, 1000);
  EXPECT_LE(keep.size(), 1000u);
  EXPECT_NE(std::find(keep.begin(), keep.end(), 54321u), keep.end());
  EXPECT_NE(std::find(keep.begin(), keep.end(), 777u), keep.end());
  EXPECT_EQ(keep.front(), 0u);
  EXPECT_EQ(keep.back(), 99999u);
  EXPECT_TRUE(std::is_sorted(keep.begin(), keep.end()));
}

TEST(ReportPlot, SvgHasAxesSeriesAndNoScript) {
  PlotSeries a{"loss", {0, 1, 2, 3}, {1.0, 0.5, NAN, 0.25}, "", false};
  PlotOptions o;
  o.id = "t1";
  o.title = "loss <by> step";
  o.xLabel = "step";
  o.yLabel = "loss";
  std::string svg = lineChartSvg({a}, o);
  EXPECT_EQ(svg.rfind("<svg class=\"plot\"", 0), 0u);
  EXPECT_NE(svg.find("<title>loss &lt;by&gt; step</title>"), std::string::npos);
  EXPECT_NE(svg.find("class=\"series\""), std::string::npos);
  EXPECT_EQ(std::count(svg.begin(), svg.end(), 'M'), 2) << "the NaN point splits the line in two";
  EXPECT_NE(svg.find(">step</text>"), std::string::npos);
  EXPECT_EQ(svg.find("<script"), std::string::npos);
}

TEST(ReportCam, OverlayColoursTheHotRegion) {
  runtime::CamRecord cam;
  cam.height = 40;
  cam.width = 40;
  cam.image.assign(1600, 0.5f);
  cam.camHeight = 2;
  cam.camWidth = 2;
  cam.cam = {1, 0, 0, 0}; // hot top-left
  ASSERT_EQ(camProblem(cam), "");
  RgbImage overlay = renderOverlay(cam, 20);
  EXPECT_EQ(overlay.width, 20);
  EXPECT_EQ(overlay.height, 20);
  const uint8_t* hot = &overlay.pixels[0];
  const uint8_t* cold = &overlay.pixels[(19 * 20 + 19) * 3];
  EXPECT_GT(hot[0], hot[2]) << "high activation is red";
  EXPECT_GT(cold[2], cold[0]) << "low activation is blue";
  RgbImage input = renderInput(cam, 100);
  EXPECT_EQ(input.width, 40);
  EXPECT_EQ(input.pixels[0], 128);
  cam.cam.pop_back();
  EXPECT_NE(camProblem(cam).find("activation map has 3 values"), std::string::npos);
}

// A map that cannot show where the evidence is says so (issue 19: all-zero DenseNet maps drew as uniformly
// blue copies of each X-ray, with no word).
TEST(ReportCam, FlatAndCoarseMapsAreSaid) {
  runtime::CamRecord cam;
  cam.height = cam.width = 16;
  cam.image.assign(256, 0.5f);
  cam.camHeight = cam.camWidth = 4;
  cam.cam.assign(16, 0.0f);
  EXPECT_NE(camFlatness(cam).find("flat map: every cell of the 4x4 Grad-CAM map is 0"), std::string::npos);
  cam.cam.assign(16, 0.25f);
  EXPECT_NE(camFlatness(cam).find("has the same value"), std::string::npos);
  cam.cam[5] = 1.0f;
  EXPECT_EQ(camFlatness(cam), "");
  cam.camHeight = cam.camWidth = 2;
  cam.cam = {1.0f, 0.0f, 0.2f, 0.0f};
  EXPECT_NE(camFlatness(cam).find("coarse map: 2x2 cells"), std::string::npos);
}

class ReportTest : public ::testing::Test {
protected:
  void SetUp() override {
    tracker_ = std::make_unique<Tracker>(Tracker::open(tmp_.file("runs.sqlite")));
    id_ = testing::fillReportRun(*tracker_);
  }
  TempDir tmp_;
  std::unique_ptr<Tracker> tracker_;
  std::string id_;
};

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST_F(ReportTest, SelfContainedWithEverySection) {
  std::string page = renderReport(tracker_->db(), id_);
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  // Nothing to fetch: no URLs, no external stylesheets, scripts or images.
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_EQ(page.find("src=\"/"), std::string::npos);
  EXPECT_EQ(page.find("@import"), std::string::npos);
  EXPECT_EQ(count(page, "url(#"), count(page, "url(")) << "only references to the page's own clip paths";
  for (const char* id : {"summary", "spec", "curves", "roc", "confusion", "samples", "lineage", "metrics",
                         "params", "environment"}) {
    EXPECT_NE(page.find(std::string("<section id=\"") + id + "\">"), std::string::npos) << id;
  }
  // 2 training stages x 3 curves (loss, lr, val_auc) + 1 per-class evaluation chart, 1 binary ROC chart,
  // 1 multi-label ROC chart (4 labels fit one chart).
  EXPECT_EQ(count(page, "<svg class=\"plot\""), 9u);
  // 4 samples x (input + overlay) + the colour scale.
  EXPECT_EQ(count(page, "src=\"data:image/png;base64,"), 9u);
  EXPECT_NE(page.find("AUC 0."), std::string::npos);
  EXPECT_NE(page.find("95% CI"), std::string::npos);
  EXPECT_NE(page.find("macro average"), std::string::npos);
  EXPECT_NE(page.find("true \\ predicted"), std::string::npos);
  EXPECT_NE(page.find("Pneumothorax"), std::string::npos);
  EXPECT_NE(page.find("libtorch"), std::string::npos);
  EXPECT_NE(page.find("out/quickstart/hr.pt"), std::string::npos);
  EXPECT_NE(page.find("5.0 MiB"), std::string::npos);
}

TEST_F(ReportTest, VerdictsSitBesideTheirSpecLines) {
  std::string page = renderReport(tracker_->db(), id_);
  // Line 16 of the spec is `upscale conv1 by 8`: its row carries the exact badge with the re-check error.
  std::regex line16(
      "<div class=\"line marked\"><span class=\"ln\">16</span><span class=\"code\">[^\\n]*?"
      "upscale[^\\n]*?</span><span class=\"verdicts\"><span class=\"badge v-exact\"[^>]*>exact · 3.2e-08");
  EXPECT_TRUE(std::regex_search(page, line16));
  std::regex line18("<span class=\"ln\">18</span>.*?<span class=\"badge v-approximate\"");
  EXPECT_TRUE(std::regex_search(page, line18));
  std::regex line20("<span class=\"ln\">20</span>.*?<span class=\"badge v-declared\"[^>]*>declared</span>");
  EXPECT_TRUE(std::regex_search(page, line20));
  EXPECT_EQ(count(page, "<div class=\"line marked\">"), 5u);
  EXPECT_NE(page.find("<span class=\"tok-com\"># declared NOT function-preserving</span>"),
            std::string::npos);
}

TEST_F(ReportTest, HostileTextIsEscaped) {
  RunStart start;
  start.experiment = "<script>alert('x')</script>";
  start.runName = "\"><img src=x onerror=alert(1)>";
  start.specText = "experiment \"</div><script>bad()</script>\"\n";
  start.tags = {{"note", "<b>bold</b> & <i>"}};
  auto writer = tracker_->startRun(start);
  writer->finish(RunStatus::Failed, "<script>evil()</script>");
  std::string page = renderReport(tracker_->db(), writer->runId());
  EXPECT_EQ(count(page, "<script"), 1u) << "only the report's own script";
  EXPECT_EQ(page.find("<img src=x"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;evil()&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(page.find("&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;"), std::string::npos);
}

// The confusion matrix uses the threshold the run used (issue 19: with `threshold: eer` the page said
// "Threshold 0.5", the report command's own default): the equal-error one it logged, else the spec's number;
// `--threshold` overrides and the page says so.
TEST_F(ReportTest, ConfusionUsesTheRunsOwnThresholdUnlessOverridden) {
  auto makeRun = [&](const std::function<void(RunWriter&)>& log) {
    RunStart start;
    start.experiment = "thresholds";
    auto writer = tracker_->startRun(start);
    runtime::PredictionSet set;
    set.stage = "evaluate.hr";
    set.classes = {"benign", "malignant"};
    const float scores[] = {0.3f, 0.6f, 0.4f, 0.8f};
    const int labels[] = {0, 1, 1, 1};
    for (int i = 0; i < 4; ++i) {
      set.sampleIds.push_back("s" + std::to_string(i));
      set.labels.push_back({labels[i] ? 0.0f : 1.0f, labels[i] ? 1.0f : 0.0f});
      set.scores.push_back({1.0f - scores[i], scores[i]});
    }
    writer->logPredictions(set);
    log(*writer);
    writer->finish(RunStatus::Finished);
    return writer->runId();
  };
  // The malignant row of the matrix: "<th class="row">malignant</th><td ...>FN<small>..</small></td><td
  // ...>TP".
  auto malignantRow = [](const std::string& page) {
    size_t at = page.find("<th class=\"row\">malignant</th>");
    return at == std::string::npos ? std::string() : page.substr(at, page.find("</tr>", at) - at);
  };
  const std::string eer = makeRun([](RunWriter& w) {
    w.logParam("evaluate.hr.threshold", std::string("eer"));
    w.logMetric("evaluate.hr/threshold", 0.35, 1, 0);
  });
  std::string page = renderReport(tracker_->db(), eer);
  EXPECT_NE(page.find("Threshold 0.35 on the positive score: the equal-error threshold the run chose"),
            std::string::npos);
  EXPECT_EQ(page.find("Threshold 0.5"), std::string::npos);
  EXPECT_NE(malignantRow(page).find(">0<small>0%</small>"), std::string::npos) << malignantRow(page); // no FN

  const std::string fixed = makeRun([](RunWriter& w) { w.logParam("evaluate.hr.threshold", 0.7); });
  page = renderReport(tracker_->db(), fixed);
  EXPECT_NE(page.find("Threshold 0.7 on the positive score: the `threshold` in the spec"), std::string::npos);
  EXPECT_NE(malignantRow(page).find(">2<small>67%</small>"), std::string::npos) << malignantRow(page);

  ReportOptions o;
  o.threshold = 0.5;
  page = renderReport(tracker_->db(), eer, o);
  EXPECT_NE(page.find("Threshold 0.5 on the positive score, set by `--threshold` (the run used 0.35"),
            std::string::npos);
  EXPECT_NE(malignantRow(page).find(">1<small>33%</small>"), std::string::npos) << malignantRow(page);
}

TEST_F(ReportTest, SummaryComparesEveryEvaluationInRunOrder) {
  RunStart start;
  start.experiment = "three-way";
  auto writer = tracker_->startRun(start);
  // Logged out of name order: scratch (step 30) ran after hr (step 20), base first (step 10).
  writer->logMetric("evaluate.scratch/auc", 0.61, 30, 0);
  writer->logMetric("evaluate.base/auc", 0.55, 10, 0);
  writer->logMetric("evaluate.base/auc_ci_low", 0.45, 10, 0);
  writer->logMetric("evaluate.base/auc_ci_high", 0.65, 10, 0);
  writer->logMetric("evaluate.base/accuracy", 0.5, 10, 0);
  writer->logMetric("evaluate.hr/auc", 0.8125, 20, 0);
  writer->logMetric("evaluate.hr/auc/Mass", 0.7, 20, 0); // per-class: not a summary column
  writer->logMetric("train.hr/loss", 0.3, 19, 0);        // not an evaluation
  writer->finish(RunStatus::Finished);
  std::string page = renderReport(tracker_->db(), writer->runId());
  size_t at = page.find("<section id=\"summary\">");
  ASSERT_NE(at, std::string::npos);
  std::string summary = page.substr(at, page.find("</section>", at) - at);
  size_t base = summary.find("<td>evaluate.base</td>"), hr = summary.find("<td>evaluate.hr</td>"),
         scratch = summary.find("<td>evaluate.scratch</td>");
  ASSERT_NE(base, std::string::npos) << summary;
  ASSERT_NE(hr, std::string::npos);
  ASSERT_NE(scratch, std::string::npos);
  EXPECT_LT(base, hr);
  EXPECT_LT(hr, scratch);
  EXPECT_NE(summary.find("0.55 [0.45, 0.65]"), std::string::npos) << summary;
  EXPECT_NE(summary.find("<th class=\"num\">auc</th><th class=\"num\">accuracy</th></tr>"), std::string::npos)
      << summary;
  EXPECT_EQ(summary.find("auc_ci_low"), std::string::npos);
  EXPECT_EQ(summary.find("Mass"), std::string::npos);
  EXPECT_EQ(summary.find("loss"), std::string::npos);
}

TEST_F(ReportTest, SpecSectionNamesTheOverridesTheRunUsed) {
  RunStart start;
  start.experiment = "overridden";
  start.specText = "experiment \"overridden\"\n";
  start.tags = {{"mhr.overrides", "train.hr.epochs=1 dataset.cbis.root=/tmp/<x>"}};
  auto writer = tracker_->startRun(start);
  writer->finish(RunStatus::Finished);
  std::string page = renderReport(tracker_->db(), writer->runId());
  EXPECT_NE(page.find("with the overrides <code>train.hr.epochs=1 dataset.cbis.root=/tmp/&lt;x&gt;</code>"),
            std::string::npos);
}

TEST_F(ReportTest, BadRecordsAreReportedNotFatal) {
  RunStart start;
  start.experiment = "broken";
  auto writer = tracker_->startRun(start);
  runtime::PredictionSet set;
  set.stage = "evaluate.x";
  set.classes = {"a", "b"};
  set.sampleIds = {"s1", "s2"};
  set.labels = {{1, 0}, {0, 1}};
  set.scores = {{0.5f, NAN}, {0.2f, 0.8f}};
  writer->logPredictions(set);
  writer->finish(RunStatus::Finished);
  // A CAM whose blob was truncated in the database (e.g. edited by hand): the report says so.
  runtime::CamRecord cam;
  std::string page = renderReport(tracker_->db(), writer->runId());
  EXPECT_NE(page.find("non-finite score for class b"), std::string::npos);
  tracker_->db().exec(
      "INSERT INTO cams (run_uuid, stage, sample_id, height, width, image, cam_height, cam_width, cam, "
      "logged_time) VALUES ('" +
      writer->runId() +
      "', 'evaluate.x', 's1', 4, 4, x'00000000', 2, 2, "
      "x'0000000000000000000000000000000000000000000000000000000000000000', 0)");
  page = renderReport(tracker_->db(), writer->runId());
  EXPECT_NE(page.find("Cannot draw this sample: image has 1 values, expected 16"), std::string::npos);
}

TEST_F(ReportTest, InjectedPngEncoderIsUsed) {
  ReportOptions options;
  int calls = 0;
  options.encodePng = [&](const uint8_t* pixels, int w, int h, int c) {
    ++calls;
    return encodePng(pixels, w, h, c);
  };
  options.maxSamples = 2;
  std::string page = renderReport(tracker_->db(), id_, options);
  EXPECT_EQ(calls, 5); // the colour scale + 2 samples x 2 pictures
  EXPECT_NE(page.find("2 more samples are in the tracker"), std::string::npos);
}

TEST_F(ReportTest, WriteReportReplacesTheFileAtomically) {
  std::string path = tmp_.file("out/report.html");
  writeReport(tracker_->db(), id_, path);
  std::string first = testing::readText(path);
  EXPECT_GT(first.size(), 10000u);
  writeReport(tracker_->db(), id_, path);
  EXPECT_EQ(testing::readText(path).size(), first.size());
}

} // namespace
} // namespace mhr::tracker
