// tracker/cam_overlay.cpp — see cam_overlay.h.
#include "tracker/cam_overlay.h"

#include "support/assert.h"

#include <algorithm>
#include <cmath>

namespace mhr::tracker {

namespace {

double clamp01(double v) {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

struct Size {
  int width, height;
};

Size targetSize(int width, int height, int maxSide) {
  double scale = std::min(1.0, double(maxSide) / double(std::max(width, height)));
  return {std::max(1, int(std::lround(width * scale))), std::max(1, int(std::lround(height * scale)))};
}

// Channel c of the input (c = 0 for gray images), box-averaged over the source footprint of target pixel
// (tx, ty): downscaling by averaging keeps thin structures visible instead of aliasing them away.
std::vector<double> downscaled(const runtime::CamRecord& cam, int channel, Size to) {
  const int w = int(cam.width), h = int(cam.height);
  const size_t plane = size_t(w) * size_t(h);
  const float* src = cam.image.data() + (cam.image.size() == 3 * plane ? size_t(channel) * plane : 0);
  // The contract is values in [0, 1]; a normalised image (mean/std) is stretched into that range instead.
  float lo = *std::min_element(src, src + plane), hi = *std::max_element(src, src + plane);
  bool stretch = lo < -0.01f || hi > 1.01f;
  std::vector<double> out(size_t(to.width) * size_t(to.height));
  for (int ty = 0; ty < to.height; ++ty) {
    int y0 = ty * h / to.height, y1 = std::max(y0 + 1, (ty + 1) * h / to.height);
    for (int tx = 0; tx < to.width; ++tx) {
      int x0 = tx * w / to.width, x1 = std::max(x0 + 1, (tx + 1) * w / to.width);
      double sum = 0;
      for (int y = y0; y < y1; ++y) {
        for (int x = x0; x < x1; ++x) sum += src[size_t(y) * size_t(w) + size_t(x)];
      }
      double v = sum / double((y1 - y0) * (x1 - x0));
      if (stretch) v = hi > lo ? (v - lo) / (hi - lo) : 0.5;
      out[size_t(ty) * size_t(to.width) + size_t(tx)] = clamp01(v);
    }
  }
  return out;
}

// Bilinear upsampling with half-pixel centres (align_corners = false, as torch's interpolate).
double sampleCam(const runtime::CamRecord& cam, double fy, double fx) {
  const int ch = int(cam.camHeight), cw = int(cam.camWidth);
  double sy = std::clamp(fy * ch - 0.5, 0.0, double(ch - 1)),
         sx = std::clamp(fx * cw - 0.5, 0.0, double(cw - 1));
  int y0 = int(sy), x0 = int(sx);
  int y1 = std::min(y0 + 1, ch - 1), x1 = std::min(x0 + 1, cw - 1);
  double wy = sy - y0, wx = sx - x0;
  auto at = [&](int y, int x) { return double(cam.cam[size_t(y) * size_t(cw) + size_t(x)]); };
  double top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx;
  double bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx;
  return clamp01(top * (1 - wy) + bottom * wy);
}

} // namespace

std::string camProblem(const runtime::CamRecord& cam) {
  const size_t plane = size_t(std::max<int64_t>(0, cam.height)) * size_t(std::max<int64_t>(0, cam.width));
  if (cam.height <= 0 || cam.width <= 0) return "image size is not positive";
  if (cam.image.size() != plane && cam.image.size() != 3 * plane) {
    return "image has " + std::to_string(cam.image.size()) + " values, expected " + std::to_string(plane) +
           " (gray) or " + std::to_string(3 * plane) + " (RGB) for " + std::to_string(cam.height) + "x" +
           std::to_string(cam.width);
  }
  if (cam.camHeight <= 0 || cam.camWidth <= 0 || cam.cam.size() != size_t(cam.camHeight * cam.camWidth)) {
    return "activation map has " + std::to_string(cam.cam.size()) + " values for a " +
           std::to_string(cam.camHeight) + "x" + std::to_string(cam.camWidth) + " map";
  }
  for (float v : cam.image) {
    if (!std::isfinite(v)) return "image holds NaN or infinite values";
  }
  for (float v : cam.cam) {
    if (!std::isfinite(v)) return "activation map holds NaN or infinite values";
  }
  return "";
}

std::string camFlatness(const runtime::CamRecord& cam) {
  if (cam.cam.empty()) return "";
  const auto [lo, hi] = std::minmax_element(cam.cam.begin(), cam.cam.end());
  const std::string size = std::to_string(cam.camHeight) + "x" + std::to_string(cam.camWidth);
  if (*hi <= 0.0f)
    return "flat map: every cell of the " + size +
           " Grad-CAM map is 0 (no positive evidence for the predicted class at this layer)";
  if (*hi - *lo <= 1e-6f * std::max(1.0f, std::fabs(*hi)))
    return "flat map: every cell of the " + size + " Grad-CAM map has the same value";
  if (cam.camHeight * cam.camWidth <= 4)
    return "coarse map: " + size +
           " cells at this layer, too few to localise; a `cam_layer` with more rows "
           "shows more";
  return "";
}

void jetColor(double t, uint8_t rgb[3]) {
  t = clamp01(t);
  double r = clamp01(1.5 - std::fabs(4 * t - 3)), g = clamp01(1.5 - std::fabs(4 * t - 2)),
         b = clamp01(1.5 - std::fabs(4 * t - 1));
  rgb[0] = uint8_t(std::lround(r * 255));
  rgb[1] = uint8_t(std::lround(g * 255));
  rgb[2] = uint8_t(std::lround(b * 255));
}

RgbImage renderInput(const runtime::CamRecord& cam, int maxSide) {
  MHR_ASSERT(camProblem(cam).empty(), "renderInput on an inconsistent CAM record");
  Size to = targetSize(int(cam.width), int(cam.height), maxSide);
  bool rgb = cam.image.size() == 3 * size_t(cam.width * cam.height);
  std::vector<std::vector<double>> channels;
  for (int c = 0; c < (rgb ? 3 : 1); ++c) channels.push_back(downscaled(cam, c, to));
  RgbImage img{to.width, to.height, std::vector<uint8_t>(size_t(to.width) * size_t(to.height) * 3)};
  for (size_t i = 0; i < size_t(to.width) * size_t(to.height); ++i) {
    for (int c = 0; c < 3; ++c) {
      img.pixels[i * 3 + size_t(c)] = uint8_t(std::lround(channels[rgb ? size_t(c) : 0][i] * 255));
    }
  }
  return img;
}

RgbImage renderOverlay(const runtime::CamRecord& cam, int maxSide) {
  RgbImage img = renderInput(cam, maxSide);
  for (int y = 0; y < img.height; ++y) {
    for (int x = 0; x < img.width; ++x) {
      double v = sampleCam(cam, (y + 0.5) / img.height, (x + 0.5) / img.width);
      uint8_t heat[3];
      jetColor(v, heat);
      double alpha = 0.08 + 0.6 * v;
      uint8_t* p = &img.pixels[(size_t(y) * size_t(img.width) + size_t(x)) * 3];
      for (int c = 0; c < 3; ++c) p[c] = uint8_t(std::lround(p[c] * (1 - alpha) + heat[c] * alpha));
    }
  }
  return img;
}

RgbImage colorScale(int width, int height) {
  RgbImage img{width, height, std::vector<uint8_t>(size_t(width) * size_t(height) * 3)};
  for (int x = 0; x < width; ++x) {
    uint8_t rgb[3];
    jetColor(width > 1 ? double(x) / (width - 1) : 0, rgb);
    for (int y = 0; y < height; ++y)
      std::copy(rgb, rgb + 3, &img.pixels[(size_t(y) * size_t(width) + size_t(x)) * 3]);
  }
  return img;
}

} // namespace mhr::tracker
