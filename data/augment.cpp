#include "data/augment.h"

#include "data/random.h"
#include "support/error.h"
#include "support/strings.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace mhr::data {

std::string AugmentSpec::str() const {
  std::string s;
  for (const AugmentOp& op : ops) {
    if (!s.empty()) s += ", ";
    switch (op.kind) {
    case AugmentOp::Kind::HFlip:
      s += "hflip";
      break;
    case AugmentOp::Kind::VFlip:
      s += "vflip";
      break;
    case AugmentOp::Kind::Rotate:
      s += fmt::format("rotate({}deg)", op.a);
      break;
    case AugmentOp::Kind::Scale:
      s += fmt::format("scale({}, {})", op.a, op.b);
      break;
    case AugmentOp::Kind::Brightness:
      s += fmt::format("brightness({})", op.a);
      break;
    case AugmentOp::Kind::Contrast:
      s += fmt::format("contrast({})", op.a);
      break;
    }
  }
  return "[" + s + "]";
}

void augment(Image& img, const AugmentSpec& spec, uint64_t seed) {
  if (spec.empty()) return;
  Rng rng(seed);
  // Draw every parameter first, in list order, whether or not it changes anything: the stream position of
  // each operation then does not depend on the others' outcomes.
  bool hflip = false, vflip = false;
  double angle = 0.0, zoom = 1.0;
  struct Intensity {
    bool brightness;
    double value;
  };
  std::vector<Intensity> intensity;
  for (const AugmentOp& op : spec.ops) {
    switch (op.kind) {
    case AugmentOp::Kind::HFlip:
      hflip ^= rng.chance(0.5);
      break;
    case AugmentOp::Kind::VFlip:
      vflip ^= rng.chance(0.5);
      break;
    case AugmentOp::Kind::Rotate:
      angle += rng.uniform(-op.a, op.a);
      break;
    case AugmentOp::Kind::Scale:
      zoom *= rng.uniform(op.a, op.b);
      break;
    case AugmentOp::Kind::Brightness:
      intensity.push_back({true, rng.uniform(-op.a, op.a)});
      break;
    case AugmentOp::Kind::Contrast:
      intensity.push_back({false, rng.uniform(1.0 - op.a, 1.0 + op.a)});
      break;
    }
  }
  const int64_t H = img.height, W = img.width;
  if (angle != 0.0 || zoom != 1.0) {
    // Output pixel p maps to source c + R(-angle) * (flip(p - c)) / zoom; bilinear, zero outside.
    const double rad = angle * 3.14159265358979323846 / 180.0;
    const double ca = std::cos(rad) / zoom, sa = std::sin(rad) / zoom;
    const double cy = (double(H) - 1) / 2, cx = (double(W) - 1) / 2;
    Image out(H, W, 0.0f);
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        double dy = double(y) - cy, dx = double(x) - cx;
        if (hflip) dx = -dx;
        if (vflip) dy = -dy;
        double sx = cx + ca * dx + sa * dy, sy = cy - sa * dx + ca * dy;
        double fx = std::floor(sx), fy = std::floor(sy);
        int64_t x0 = int64_t(fx), y0 = int64_t(fy);
        double wx = sx - fx, wy = sy - fy;
        auto px = [&](int64_t yy, int64_t xx) {
          return (yy < 0 || yy >= H || xx < 0 || xx >= W) ? 0.0 : double(img.at(yy, xx));
        };
        double v = (px(y0, x0) * (1 - wx) + px(y0, x0 + 1) * wx) * (1 - wy) +
                   (px(y0 + 1, x0) * (1 - wx) + px(y0 + 1, x0 + 1) * wx) * wy;
        out.at(y, x) = float(v);
      }
    img = std::move(out);
  } else {
    if (hflip)
      for (int64_t y = 0; y < H; ++y)
        std::reverse(img.pixels.begin() + y * W, img.pixels.begin() + (y + 1) * W);
    if (vflip)
      for (int64_t y = 0; y < H / 2; ++y)
        std::swap_ranges(img.pixels.begin() + y * W, img.pixels.begin() + (y + 1) * W,
                         img.pixels.begin() + (H - 1 - y) * W);
  }
  for (const Intensity& op : intensity) {
    if (op.brightness) {
      for (float& v : img.pixels) v = float(double(v) + op.value);
    } else {
      double mean = 0;
      for (float v : img.pixels) mean += v;
      mean /= double(img.pixels.size());
      for (float& v : img.pixels) v = float((double(v) - mean) * op.value + mean);
    }
  }
  if (!intensity.empty())
    for (float& v : img.pixels) v = std::clamp(v, 0.0f, 1.0f);
}

} // namespace mhr::data
