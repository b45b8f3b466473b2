// tests/tracker/report_render_test.cpp — the report opened in headless Chromium (Debian's chromium package):
// it renders with no console error and no network request, every plot has a size, every image decodes, and a
// screenshot shows drawn plots (non-blank areas with the series colours where the DOM says the plots are).
// The page of `mhr runs aggregate --html` gets the same checks (its dot plots drawn, a dot per run in the
// DOM). A deliberately broken page shows that the same checks do catch errors. Skipped only when
// /usr/bin/chromium is absent.
#include "tests/tracker/test_util.h"
#include "tracker/aggregate.h"
#include "tracker/report.h"

#include "support/files.h"

#include <filesystem>
#include <gtest/gtest.h>
#include <regex>
#include <sstream>
#include <zlib.h>

namespace mhr::tracker {
namespace {

using testing::TempDir;

const char* kChromium = "/usr/bin/chromium";
const int kWidth = 1280, kHeight = 4000;

struct Rect {
  int x, y, w, h;
};

struct Image {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;
  const uint8_t* at(int x, int y) const {
    return &pixels[(size_t(y) * size_t(width) + size_t(x)) * size_t(channels)];
  }
};

uint32_t be32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) |
         (uint32_t(uint8_t(s[at + 2])) << 8) | uint32_t(uint8_t(s[at + 3]));
}

// Decodes the 8-bit RGB/RGBA, non-interlaced PNGs Chromium writes (all five scanline filters).
bool decodePng(const std::string& png, Image& img, std::string& error) {
  if (png.size() < 8 || png.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) != 0) {
    error = "not a PNG";
    return false;
  }
  std::string idat;
  int depth = 0, color = 0, interlace = 0;
  for (size_t at = 8; at + 12 <= png.size();) {
    uint32_t len = be32(png, at);
    std::string type = png.substr(at + 4, 4);
    if (type == "IHDR") {
      img.width = int(be32(png, at + 8));
      img.height = int(be32(png, at + 12));
      depth = uint8_t(png[at + 16]);
      color = uint8_t(png[at + 17]);
      interlace = uint8_t(png[at + 20]);
    } else if (type == "IDAT") {
      idat += png.substr(at + 8, len);
    }
    at += 12 + len;
  }
  if (depth != 8 || (color != 2 && color != 6) || interlace != 0) {
    error = "unsupported PNG layout (depth " + std::to_string(depth) + ", colour type " +
            std::to_string(color) + ")";
    return false;
  }
  img.channels = color == 2 ? 3 : 4;
  const size_t stride = size_t(img.width) * size_t(img.channels);
  std::vector<uint8_t> raw((stride + 1) * size_t(img.height));
  uLongf rawSize = raw.size();
  if (uncompress(raw.data(), &rawSize, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) != Z_OK ||
      rawSize != raw.size()) {
    error = "IDAT does not inflate to the image size";
    return false;
  }
  img.pixels.assign(stride * size_t(img.height), 0);
  const size_t bpp = size_t(img.channels);
  for (int y = 0; y < img.height; ++y) {
    uint8_t filter = raw[size_t(y) * (stride + 1)];
    const uint8_t* in = &raw[size_t(y) * (stride + 1) + 1];
    uint8_t* out = &img.pixels[size_t(y) * stride];
    const uint8_t* prev = y ? &img.pixels[size_t(y - 1) * stride] : nullptr;
    for (size_t i = 0; i < stride; ++i) {
      int a = i >= bpp ? out[i - bpp] : 0, b = prev ? prev[i] : 0, c = (prev && i >= bpp) ? prev[i - bpp] : 0;
      int predictor = 0;
      switch (filter) {
      case 0:
        predictor = 0;
        break;
      case 1:
        predictor = a;
        break;
      case 2:
        predictor = b;
        break;
      case 3:
        predictor = (a + b) / 2;
        break;
      case 4: {
        int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        break;
      }
      default:
        error = "bad filter type";
        return false;
      }
      out[i] = uint8_t(in[i] + predictor);
    }
  }
  return true;
}

std::vector<std::string> chromiumArgs(const TempDir& tmp, const std::string& profile) {
  return {"/usr/bin/timeout", "180", kChromium, "--headless", "--no-sandbox", "--disable-gpu",
          "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
          "--disable-sync", "--disable-extensions", "--disable-default-apps", "--mute-audio",
          "--hide-scrollbars", "--force-device-scale-factor=1", "--enable-logging=stderr", "--v=0",
          // Any attempt to reach the network fails loudly in the log instead of silently succeeding.
          "--host-resolver-rules=MAP * ~NOTFOUND", "--user-data-dir=" + tmp.file(profile)};
}

// Lines of Chromium's log that mean the page misbehaved: script errors, console output, blocked or failed
// requests. (Chromium's own start-up noise about D-Bus, GPU or sandbox is not about the page.)
std::vector<std::string> pageProblems(const std::string& log) {
  std::vector<std::string> problems;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos ||
        line.find("net::ERR_") != std::string::npos || line.find("Refused to") != std::string::npos ||
        line.find("Failed to load resource") != std::string::npos) {
      problems.push_back(line);
    }
  }
  return problems;
}

std::string attribute(const std::string& dom, const std::string& name) {
  std::smatch m;
  if (std::regex_search(dom, m, std::regex(name + "=\"([^\"]*)\""))) return m[1];
  return "";
}

class ReportRenderTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (!std::filesystem::exists(kChromium))
      GTEST_SKIP() << kChromium << " is absent (Debian package chromium)";
  }
  TempDir tmp_;
};

TEST_F(ReportRenderTest, RendersWithoutErrorsAndShowsThePlots) {
  std::string reportPath = tmp_.file("report.html");
  {
    Tracker tracker = Tracker::open(tmp_.file("runs.sqlite"));
    std::string id = testing::fillReportRun(tracker);
    writeReport(tracker.db(), id, reportPath);
  }
  std::string url = "file://" + reportPath;

  auto args = chromiumArgs(tmp_, "profile-dom");
  args.push_back("--window-size=" + std::to_string(kWidth) + "," + std::to_string(kHeight));
  args.push_back("--dump-dom");
  args.push_back(url);
  auto dom = testing::runCommand(args);
  ASSERT_EQ(dom.exitCode, 0) << dom.err;
  EXPECT_EQ(attribute(dom.out, "data-render"), "ok") << dom.out.substr(0, 400);
  EXPECT_EQ(attribute(dom.out, "data-images"), "9");
  EXPECT_EQ(attribute(dom.out, "data-broken-images"), "0");
  EXPECT_TRUE(pageProblems(dom.err).empty()) << ::testing::PrintToString(pageProblems(dom.err));

  // The plots' boxes as laid out by the browser.
  std::vector<Rect> plots;
  std::istringstream rects(attribute(dom.out, "data-plots"));
  std::string item;
  while (rects >> item) {
    Rect r{};
    ASSERT_EQ(std::sscanf(item.c_str(), "%d,%d,%d,%d", &r.x, &r.y, &r.w, &r.h), 4) << item;
    plots.push_back(r);
  }
  ASSERT_EQ(plots.size(), 9u);
  for (const auto& r : plots) {
    EXPECT_GE(r.w, 200) << "plot too narrow";
    EXPECT_GE(r.h, 150) << "plot too flat";
    EXPECT_GE(r.x, 0);
    EXPECT_LE(r.x + r.w, kWidth);
  }

  auto shotArgs = chromiumArgs(tmp_, "profile-shot");
  shotArgs.push_back("--window-size=" + std::to_string(kWidth) + "," + std::to_string(kHeight));
  shotArgs.push_back("--screenshot=" + tmp_.file("shot.png"));
  shotArgs.push_back(url);
  auto shot = testing::runCommand(shotArgs);
  ASSERT_EQ(shot.exitCode, 0) << shot.err;
  EXPECT_TRUE(pageProblems(shot.err).empty()) << ::testing::PrintToString(pageProblems(shot.err));
  Image img;
  std::string error;
  ASSERT_TRUE(decodePng(testing::readText(tmp_.file("shot.png")), img, error)) << error;
  EXPECT_EQ(img.width, kWidth);
  EXPECT_EQ(img.height, kHeight);

  // Every plot that lies inside the screenshot is drawn: a good share of non-white pixels (grid, axes,
  // text) and pixels in saturated series colours (the curves).
  int checked = 0;
  for (const auto& r : plots) {
    if (r.y + r.h > img.height) continue;
    int64_t nonWhite = 0, coloured = 0, total = 0;
    for (int y = r.y; y < r.y + r.h; ++y) {
      for (int x = r.x; x < r.x + r.w; ++x) {
        const uint8_t* p = img.at(x, y);
        int lo = std::min({p[0], p[1], p[2]}), hi = std::max({p[0], p[1], p[2]});
        ++total;
        if (lo < 235) ++nonWhite;
        if (hi - lo > 90) ++coloured;
      }
    }
    EXPECT_GT(double(nonWhite) / double(total), 0.02) << "plot at y=" << r.y << " looks blank";
    EXPECT_GT(coloured, 200) << "plot at y=" << r.y << " has no visible curve";
    ++checked;
  }
  EXPECT_GE(checked, 3) << "the screenshot should reach several plots";
  // The page's background around the sections is not one flat colour everywhere (it rendered at all).
  std::set<uint32_t> colours;
  for (int y = 0; y < img.height; y += 7) {
    for (int x = 0; x < img.width; x += 7) {
      const uint8_t* p = img.at(x, y);
      colours.insert(uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2]);
    }
  }
  EXPECT_GT(colours.size(), 50u);
}

TEST_F(ReportRenderTest, AggregatePageRendersItsDotPlots) {
  std::string pagePath = tmp_.file("aggregate.html");
  {
    Tracker tracker = Tracker::open(tmp_.file("runs.sqlite"));
    testing::fillStudyFixture(tracker);
    AggregateOptions o;
    o.metric = "evaluate.net/auc";
    o.by = "arm";
    o.within = "target_size";
    o.pair = "seed";
    o.where = "tags.study = 's1'";
    o.compare = {{"b", "a"}};
    o.title = "Study s1";
    support::writeFileAtomic(pagePath, renderAggregateHtml(aggregateRuns(tracker.db(), o)));
  }
  const int width = 1280, height = 1400;
  std::string url = "file://" + pagePath;
  auto args = chromiumArgs(tmp_, "profile-aggregate-dom");
  args.push_back("--window-size=" + std::to_string(width) + "," + std::to_string(height));
  args.push_back("--dump-dom");
  args.push_back(url);
  auto dom = testing::runCommand(args);
  ASSERT_EQ(dom.exitCode, 0) << dom.err;
  EXPECT_EQ(attribute(dom.out, "data-render"), "ok") << dom.out.substr(0, 400);
  EXPECT_TRUE(pageProblems(dom.err).empty()) << ::testing::PrintToString(pageProblems(dom.err));
  size_t dots = 0;
  for (size_t at = dom.out.find("<circle class=\"dot\""); at != std::string::npos;
       at = dom.out.find("<circle class=\"dot\"", at + 1))
    ++dots;
  EXPECT_EQ(dots, 12u) << "one dot per finished run of the study";

  std::vector<Rect> plots;
  std::istringstream rects(attribute(dom.out, "data-plots"));
  std::string item;
  while (rects >> item) {
    Rect r{};
    ASSERT_EQ(std::sscanf(item.c_str(), "%d,%d,%d,%d", &r.x, &r.y, &r.w, &r.h), 4) << item;
    plots.push_back(r);
  }
  ASSERT_EQ(plots.size(), 2u) << "one dot plot per target_size";

  auto shotArgs = chromiumArgs(tmp_, "profile-aggregate-shot");
  shotArgs.push_back("--window-size=" + std::to_string(width) + "," + std::to_string(height));
  shotArgs.push_back("--screenshot=" + tmp_.file("aggregate.png"));
  shotArgs.push_back(url);
  auto shot = testing::runCommand(shotArgs);
  ASSERT_EQ(shot.exitCode, 0) << shot.err;
  Image img;
  std::string error;
  ASSERT_TRUE(decodePng(testing::readText(tmp_.file("aggregate.png")), img, error)) << error;
  for (const auto& r : plots) {
    ASSERT_GE(r.w, 200) << "plot too narrow";
    ASSERT_GE(r.h, 100) << "plot too flat";
    ASSERT_LE(r.y + r.h, img.height) << "the screenshot should hold both plots";
    int64_t nonWhite = 0, coloured = 0, total = 0;
    for (int y = r.y; y < r.y + r.h; ++y) {
      for (int x = r.x; x < std::min(r.x + r.w, img.width); ++x) {
        const uint8_t* p = img.at(x, y);
        int lo = std::min({p[0], p[1], p[2]}), hi = std::max({p[0], p[1], p[2]});
        ++total;
        if (lo < 235) ++nonWhite;
        if (hi - lo > 90) ++coloured;
      }
    }
    EXPECT_GT(double(nonWhite) / double(total), 0.01) << "plot at y=" << r.y << " looks blank";
    EXPECT_GT(coloured, 100) << "plot at y=" << r.y << " shows no coloured dots";
  }
}

TEST_F(ReportRenderTest, TheChecksCatchABrokenPage) {
  // The same report machinery around a page with a script error and a request for a remote resource: the
  // checks above must see both (a test that cannot fail proves nothing).
  std::string page =
      "<!DOCTYPE html><html data-render=\"pending\"><body><img src=\"http://example.invalid/x.png\">"
      "<script>window.addEventListener('error',function(){document.documentElement.setAttribute("
      "'data-render','error');});</script><script>undefinedFunction();</script></body></html>";
  support::writeFileAtomic(tmp_.file("broken.html"), page);
  auto args = chromiumArgs(tmp_, "profile-broken");
  args.push_back("--dump-dom");
  args.push_back("file://" + tmp_.file("broken.html"));
  auto dom = testing::runCommand(args);
  ASSERT_EQ(dom.exitCode, 0) << dom.err;
  EXPECT_EQ(attribute(dom.out, "data-render"), "error");
  EXPECT_FALSE(pageProblems(dom.err).empty()) << dom.err;
}

} // namespace
} // namespace mhr::tracker
