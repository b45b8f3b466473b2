#include "data/io/contact_sheet.h"

#include "support/assert.h"
#include "support/error.h"
#include "support/files.h"
#include "support/strings.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <string_view>

namespace mhr::data::io {

namespace {
constexpr int kPad = 6, kCaption = 22, kTitleLine = 20;
const cv::Scalar kBackground(32, 32, 32), kText(235, 235, 235);

// Shortens text from the left until it fits `width` pixels at the caption font.
std::string fit(const std::string& text, int width, double scale) {
  std::string s = text;
  int base = 0;
  while (s.size() > 3 && cv::getTextSize(s, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &base).width > width)
    s = "..." + s.substr(4);
  return s;
}
} // namespace

void writeContactSheet(const std::vector<SheetTile>& tiles, const std::string& title, int columns,
                       int tileHeight, const std::string& path) {
  MHR_ASSERT(!tiles.empty() && columns > 0 && tileHeight > 0, "writeContactSheet: nothing to draw");
  int tileWidth = 0;
  for (const SheetTile& t : tiles)
    tileWidth =
        std::max(tileWidth, int(std::lround(double(t.image.width) * tileHeight / double(t.image.height))));
  tileWidth = std::max(tileWidth, 120);
  int cols = std::min<int>(columns, int(tiles.size()));
  int rows = int((tiles.size() + size_t(cols) - 1) / size_t(cols));
  int cellW = tileWidth + kPad, cellH = tileHeight + kCaption + kPad;
  std::vector<std::string> lines = support::split(title, '\n');
  const int kTitle = kTitleLine * int(lines.size()) + kPad;
  cv::Mat sheet(kTitle + rows * cellH + kPad, cols * cellW + kPad, CV_8UC1, kBackground);
  for (size_t l = 0; l < lines.size(); ++l)
    cv::putText(sheet, fit(lines[l], sheet.cols - 2 * kPad, 0.5), {kPad, 16 + kTitleLine * int(l)},
                cv::FONT_HERSHEY_SIMPLEX, 0.5, kText, 1, cv::LINE_AA);
  for (size_t i = 0; i < tiles.size(); ++i) {
    const Image& img = tiles[i].image;
    cv::Mat f(int(img.height), int(img.width), CV_32FC1, const_cast<float*>(img.pixels.data()));
    cv::Mat grey;
    f.convertTo(grey, CV_8UC1, 255.0); // saturates outside [0, 1]
    int w = int(std::lround(double(img.width) * tileHeight / double(img.height)));
    cv::Mat scaled;
    cv::resize(grey, scaled, {std::max(1, w), tileHeight}, 0, 0,
               img.height > tileHeight ? cv::INTER_AREA : cv::INTER_NEAREST);
    int x = kPad + int(i % size_t(cols)) * cellW, y = kTitle + int(i / size_t(cols)) * cellH;
    scaled.copyTo(sheet(cv::Rect(x + (tileWidth - scaled.cols) / 2, y, scaled.cols, scaled.rows)));
    cv::putText(sheet, fit(tiles[i].caption, tileWidth, 0.4), {x, y + tileHeight + 15},
                cv::FONT_HERSHEY_SIMPLEX, 0.4, kText, 1, cv::LINE_AA);
  }
  std::vector<uchar> bytes;
  if (!cv::imencode(".png", sheet, bytes)) throw UserError(path + ": cannot encode the contact sheet");
  support::writeFileAtomic(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

} // namespace mhr::data::io
