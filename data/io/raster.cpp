#include "data/io/raster.h"

#include "support/assert.h"
#include "support/error.h"
#include "support/files.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <string_view>

namespace mhr::data::io {

void decodeRaster(const std::string& path, RawImage& img) {
  cv::Mat m;
  try {
    m = cv::imread(path, cv::IMREAD_ANYDEPTH | cv::IMREAD_ANYCOLOR);
  } catch (const cv::Exception& e) {
    throw UserError(path + ": cannot decode the image: " + e.what());
  }
  if (m.empty())
    throw UserError(path + ": cannot decode the image (corrupt, truncated or an unsupported variant)");
  if (m.depth() != CV_8U && m.depth() != CV_16U)
    throw UserError(path + ": pixel depth is not 8 or 16 bits unsigned; mhr reads 8- and 16-bit images");
  bool colour = false;
  if (m.channels() == 3 || m.channels() == 4) {
    // Grey stored as RGB (equal planes) is grey; anything else is colour.
    std::vector<cv::Mat> planes;
    cv::split(m, planes);
    colour = cv::countNonZero(planes[0] != planes[1]) > 0 || cv::countNonZero(planes[1] != planes[2]) > 0;
    cv::cvtColor(m, m, m.channels() == 3 ? cv::COLOR_BGR2GRAY : cv::COLOR_BGRA2GRAY);
  } else if (m.channels() == 2) {
    // Grey + alpha read without conversion: keep the grey plane.
    std::vector<cv::Mat> planes;
    cv::split(m, planes);
    m = planes[0];
  } else if (m.channels() != 1)
    throw UserError(path + ": " + std::to_string(m.channels()) + " channels; expected grey or colour");
  std::vector<uint16_t> buffer = std::move(img.stored);
  img = RawImage{}; // metadata reset, buffer kept
  img.stored = std::move(buffer);
  img.source = path;
  img.colour = colour;
  img.height = m.rows;
  img.width = m.cols;
  img.bitsStored = m.depth() == CV_8U ? 8 : 16;
  img.stored.resize(size_t(m.rows) * m.cols);
  for (int y = 0; y < m.rows; ++y) {
    uint16_t* out = img.stored.data() + size_t(y) * m.cols;
    if (m.depth() == CV_8U) {
      const uint8_t* row = m.ptr<uint8_t>(y);
      for (int x = 0; x < m.cols; ++x) out[x] = row[x];
    } else {
      const uint16_t* row = m.ptr<uint16_t>(y);
      for (int x = 0; x < m.cols; ++x) out[x] = row[x];
    }
  }
}

void writeGreyPng(const std::string& path, int64_t height, int64_t width, const std::vector<uint16_t>& codes,
                  int bits) {
  MHR_ASSERT(size_t(height * width) == codes.size(), "writeGreyPng: size mismatch");
  MHR_ASSERT(bits == 8 || bits == 16, "writeGreyPng: 8 or 16 bits");
  cv::Mat m(int(height), int(width), bits == 8 ? CV_8UC1 : CV_16UC1);
  for (int y = 0; y < m.rows; ++y)
    for (int x = 0; x < m.cols; ++x) {
      uint16_t v = codes[size_t(y) * width + x];
      if (bits == 8)
        m.at<uint8_t>(y, x) = static_cast<uint8_t>(v);
      else
        m.at<uint16_t>(y, x) = v;
    }
  std::vector<uchar> bytes;
  if (!cv::imencode(".png", m, bytes)) throw UserError(path + ": cannot encode PNG");
  support::writeFileAtomic(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

} // namespace mhr::data::io
