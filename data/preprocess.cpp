#include "data/preprocess.h"

#include "support/assert.h"
#include "support/error.h"
#include "support/strings.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace mhr::data {

// ---------------------------------------------------------------- options

std::string PreprocessSpec::cacheKeyText() const {
  std::string s = "preprocess-v1;";
  if (voi) s += "voi;";
  if (window)
    s += fmt::format("window({:.17g},{:.17g},{});", window->center, window->width, window->function);
  if (breastCrop) {
    s += "breast_crop(";
    s += cropThreshold ? fmt::format("{:.17g}", *cropThreshold) : std::string("otsu");
    s += cropFlip ? ",flip);" : ",noflip);";
  }
  if (clahe) s += fmt::format("clahe({:.17g},{});", claheClip, claheTiles);
  s += resize == ResizeMode::Pad    ? "resize=pad"
       : resize == ResizeMode::Crop ? "resize=crop"
                                    : "resize=stretch";
  return s;
}

DatasetOptions datasetOptionsOf(const plan::DatasetSpec& spec) {
  DatasetOptions out;
  PreprocessSpec& p = out.preprocess;
  const plan::PreprocessSteps& steps = spec.preprocess;
  p.voi = steps.voi;
  if (steps.window) {
    Window w;
    w.center = steps.window->center;
    w.width = steps.window->width;
    p.window = w;
  }
  if (steps.breastCrop) {
    p.breastCrop = true;
    p.cropThreshold = steps.breastCrop->threshold;
    p.cropFlip = steps.breastCrop->flip;
  }
  if (steps.clahe) {
    p.clahe = true;
    p.claheClip = steps.clahe->clip;
    p.claheTiles = steps.clahe->tiles;
  }
  if (steps.normalize) {
    p.normalize = true;
    p.mean = steps.normalize->mean;
    p.std = steps.normalize->std;
  }
  p.resize = spec.resize == plan::ResizeMode::Crop      ? ResizeMode::Crop
             : spec.resize == plan::ResizeMode::Stretch ? ResizeMode::Stretch
                                                        : ResizeMode::Pad;
  out.skipErrors = spec.onError == plan::OnError::Skip;
  out.cacheDir = spec.cacheDir;
  return out;
}

// ---------------------------------------------------------------- intensity

double applyWindow(const Window& w, double x) {
  if (w.function == "SIGMOID") return 1.0 / (1.0 + std::exp(-4.0 * (x - w.center) / w.width));
  double c = w.center, width = w.width;
  if (w.function != "LINEAR_EXACT") { // LINEAR, the default
    c -= 0.5;
    width -= 1.0;
  }
  if (x <= c - width / 2) return 0.0;
  if (x > c + width / 2) return 1.0;
  return (x - c) / width + 0.5;
}

std::vector<float> unitLut(const RawImage& raw, const PreprocessSpec& spec) {
  std::vector<float> lut(65536, 0.0f);
  const double lo = raw.rangeMin(), hi = raw.rangeMax();
  const VoiLut* voiLut = nullptr;
  const Window* window = spec.window ? &*spec.window : nullptr;
  if (spec.voi) {
    if (!raw.voiLuts.empty())
      voiLut = &raw.voiLuts.front();
    else if (!raw.windows.empty())
      window = &raw.windows.front();
    else
      throw UserError(raw.source + ": `voi` asks for the file's VOI LUT or window, but the file has neither "
                                   "(use window(center: ..., width: ...) instead)");
    if (window && window->function == "LINEAR" && window->width < 1.0)
      throw UserError(raw.source + ": WindowWidth " + support::formatNumber(window->width) +
                      " is below 1 (invalid for a LINEAR window)");
    if (window && !(window->width > 0.0)) throw UserError(raw.source + ": WindowWidth must be positive");
  }
  for (int32_t c = raw.codeMin(); c <= raw.codeMax(); ++c) {
    double v = raw.rescaled(c);
    double u;
    if (voiLut) {
      int64_t i = std::clamp<int64_t>(int64_t(std::floor(v)) - voiLut->firstMapped, 0,
                                      int64_t(voiLut->data.size()) - 1);
      u = voiLut->data[size_t(i)] / double((1u << voiLut->bits) - 1);
    } else if (window) {
      u = applyWindow(*window, v);
    } else {
      u = hi > lo ? (v - lo) / (hi - lo) : 0.0;
    }
    u = std::clamp(u, 0.0, 1.0);
    if (raw.invert) u = 1.0 - u;
    lut[uint16_t(c)] = float(u);
  }
  return lut;
}

// ---------------------------------------------------------------- resampling

namespace {

// Taps of one axis: output o reads source indices start[o] .. start[o] + count - 1 (relative to the region)
// with weights weight[o * taps + k]; unused taps have weight 0 and a valid index.
struct AxisTaps {
  int64_t taps = 1;
  std::vector<int64_t> start;
  std::vector<float> weight;
};

AxisTaps axisTaps(int64_t in, int64_t out) {
  AxisTaps t;
  if (in > out) { // area: output o covers [o * scale, (o + 1) * scale)
    double scale = double(in) / double(out);
    t.taps = int64_t(std::ceil(scale)) + 1;
    t.start.resize(size_t(out));
    t.weight.assign(size_t(out * t.taps), 0.0f);
    for (int64_t o = 0; o < out; ++o) {
      double f0 = o * scale, f1 = std::min(double(in), f0 + scale);
      int64_t i0 = int64_t(std::floor(f0));
      t.start[size_t(o)] = std::min(i0, in - t.taps >= 0 ? in - t.taps : 0);
      int64_t base = t.start[size_t(o)];
      double cell = f1 - f0;
      for (int64_t i = i0; i < in && double(i) < f1; ++i) {
        double overlap = std::min(f1, double(i + 1)) - std::max(f0, double(i));
        if (overlap <= 0) continue;
        int64_t k = i - base;
        MHR_ASSERT(k >= 0 && k < t.taps, "area taps out of range");
        t.weight[size_t(o * t.taps + k)] += float(overlap / cell);
      }
    }
  } else { // bilinear with half-pixel centres (OpenCV INTER_LINEAR, align_corners = false), edge clamped
    t.taps = 2;
    t.start.resize(size_t(out));
    t.weight.assign(size_t(out * 2), 0.0f);
    double scale = double(in) / double(out);
    for (int64_t o = 0; o < out; ++o) {
      double s = (o + 0.5) * scale - 0.5;
      s = std::clamp(s, 0.0, double(in - 1));
      int64_t i0 = std::min(int64_t(std::floor(s)), std::max<int64_t>(in - 2, 0));
      double f = s - double(i0);
      if (in == 1) {
        t.start[size_t(o)] = 0;
        t.weight[size_t(o * 2)] = 1.0f;
        continue;
      }
      t.start[size_t(o)] = i0;
      t.weight[size_t(o * 2)] = float(1.0 - f);
      t.weight[size_t(o * 2 + 1)] = float(f);
    }
  }
  return t;
}

} // namespace

void resampleInto(const RowFetch& fetch, Rect r, int64_t outH, int64_t outW, float* dst, int64_t stride) {
  MHR_ASSERT(r.h > 0 && r.w > 0 && outH > 0 && outW > 0 && stride >= outW,
             "resample: empty region or output");
  AxisTaps xt = axisTaps(r.w, outW);
  AxisTaps yt = axisTaps(r.h, outH);
  // Invert the vertical taps: for each source row, the output rows it feeds (flat arrays: row y's entries
  // are feedRow/feedWeight[feedStart[y] .. feedStart[y + 1])). Source rows are then read once, in order.
  std::vector<int64_t> feedStart(size_t(r.h + 1), 0);
  for (int64_t o = 0; o < outH; ++o)
    for (int64_t k = 0; k < yt.taps; ++k)
      if (yt.weight[size_t(o * yt.taps + k)] != 0.0f) ++feedStart[size_t(yt.start[size_t(o)] + k + 1)];
  for (int64_t y = 0; y < r.h; ++y) feedStart[size_t(y + 1)] += feedStart[size_t(y)];
  std::vector<int64_t> feedRow(size_t(feedStart.back())), fill(feedStart.begin(), feedStart.end() - 1);
  std::vector<float> feedWeight(feedRow.size());
  for (int64_t o = 0; o < outH; ++o)
    for (int64_t k = 0; k < yt.taps; ++k) {
      float w = yt.weight[size_t(o * yt.taps + k)];
      if (w == 0.0f) continue;
      size_t at = size_t(fill[size_t(yt.start[size_t(o)] + k)]++);
      feedRow[at] = o;
      feedWeight[at] = w;
    }
  for (int64_t oy = 0; oy < outH; ++oy) std::fill(dst + oy * stride, dst + oy * stride + outW, 0.0f);
  // Padded by the tap count: the last outputs' unused taps (weight 0) may index past the row.
  std::vector<float> row(size_t(r.w + xt.taps), 0.0f);
  std::vector<float> hrow(static_cast<size_t>(outW));
  const int64_t taps = xt.taps;
  for (int64_t y = 0; y < r.h; ++y) {
    size_t f0 = size_t(feedStart[size_t(y)]), f1 = size_t(feedStart[size_t(y + 1)]);
    if (f0 == f1) continue;
    fetch(r.y + y, r.x, r.w, row.data());
    for (int64_t ox = 0; ox < outW; ++ox) {
      const float* src = row.data() + xt.start[size_t(ox)];
      const float* w = xt.weight.data() + ox * taps;
      float acc = 0.0f;
      for (int64_t k = 0; k < taps; ++k) acc += w[k] * src[k];
      hrow[size_t(ox)] = acc;
    }
    for (size_t f = f0; f < f1; ++f) {
      float* out = dst + feedRow[f] * stride;
      const float w = feedWeight[f];
      for (int64_t ox = 0; ox < outW; ++ox) out[ox] += w * hrow[size_t(ox)];
    }
  }
}

Image resample(const RowFetch& fetch, Rect r, int64_t outH, int64_t outW) {
  Image out(outH, outW);
  resampleInto(fetch, r, outH, outW, out.pixels.data(), outW);
  return out;
}

Image resample(const Image& src, int64_t outH, int64_t outW) {
  RowFetch fetch = [&](int64_t y, int64_t x0, int64_t n, float* out) {
    std::memcpy(out, src.pixels.data() + y * src.width + x0, size_t(n) * sizeof(float));
  };
  return resample(fetch, Rect{0, 0, src.height, src.width}, outH, outW);
}

Placement place(ResizeMode mode, int64_t srcH, int64_t srcW, int64_t H, int64_t W) {
  Placement p;
  p.source = Rect{0, 0, srcH, srcW};
  if (mode == ResizeMode::Stretch) {
    p.scaledH = H;
    p.scaledW = W;
  } else if (mode == ResizeMode::Pad) {
    double s = std::min(double(H) / srcH, double(W) / srcW);
    p.scaledH = std::clamp<int64_t>(std::llround(srcH * s), 1, H);
    p.scaledW = std::clamp<int64_t>(std::llround(srcW * s), 1, W);
    p.offsetY = (H - p.scaledH) / 2;
    p.offsetX = (W - p.scaledW) / 2;
  } else { // crop: the centred source region with the target's aspect ratio
    double s = std::max(double(H) / srcH, double(W) / srcW);
    int64_t rh = std::clamp<int64_t>(std::llround(H / s), 1, srcH);
    int64_t rw = std::clamp<int64_t>(std::llround(W / s), 1, srcW);
    p.source = Rect{(srcH - rh) / 2, (srcW - rw) / 2, rh, rw};
    p.scaledH = H;
    p.scaledW = W;
  }
  return p;
}

// ---------------------------------------------------------------- breast region

double otsuThreshold(const std::vector<float>& values) {
  std::vector<double> hist(256, 0.0);
  for (float v : values) hist[size_t(std::clamp(int(v * 255.0f + 0.5f), 0, 255))] += 1.0;
  double total = double(values.size()), sumAll = 0;
  for (int i = 0; i < 256; ++i) sumAll += i * hist[size_t(i)];
  double wB = 0, sumB = 0, best = -1;
  int bestT = 0;
  for (int t = 0; t < 256; ++t) {
    wB += hist[size_t(t)];
    if (wB == 0) continue;
    double wF = total - wB;
    if (wF == 0) break;
    sumB += t * hist[size_t(t)];
    double mB = sumB / wB, mF = (sumAll - sumB) / wF;
    double between = wB * wF * (mB - mF) * (mB - mF);
    if (between > best) {
      best = between;
      bestT = t;
    }
  }
  return (bestT + 0.5) / 255.0;
}

BreastRegion findBreast(const Image& proxy, std::optional<double> threshold) {
  BreastRegion br;
  const int64_t H = proxy.height, W = proxy.width;
  double t = threshold ? *threshold : otsuThreshold(proxy.pixels);
  std::vector<uint8_t> mask(size_t(H * W));
  for (size_t i = 0; i < mask.size(); ++i) mask[i] = proxy.pixels[i] > t;
  // Opening with a 3x3 cross removes isolated noise pixels before the components are labelled.
  auto morph = [&](bool erode) {
    std::vector<uint8_t> out(mask.size());
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        auto m = [&](int64_t yy, int64_t xx) {
          if (yy < 0 || yy >= H || xx < 0 || xx >= W) return erode ? uint8_t(1) : uint8_t(0);
          return mask[size_t(yy * W + xx)];
        };
        uint8_t c = m(y, x), u = m(y - 1, x), d = m(y + 1, x), l = m(y, x - 1), r = m(y, x + 1);
        out[size_t(y * W + x)] = erode ? (c & u & d & l & r) : (c | u | d | l | r);
      }
    mask.swap(out);
  };
  morph(true);
  morph(false);
  std::vector<int32_t> label(mask.size(), -1);
  std::vector<int64_t> stack;
  int64_t bestCount = 0;
  Rect bestBox;
  int64_t bestLeft = 0, bestRight = 0;
  int32_t next = 0;
  for (int64_t start = 0; start < H * W; ++start) {
    if (!mask[size_t(start)] || label[size_t(start)] >= 0) continue;
    int32_t id = next++;
    int64_t count = 0, y0 = H, y1 = -1, x0 = W, x1 = -1;
    std::vector<int64_t> members;
    stack.push_back(start);
    label[size_t(start)] = id;
    while (!stack.empty()) {
      int64_t p = stack.back();
      stack.pop_back();
      members.push_back(p);
      int64_t y = p / W, x = p % W;
      ++count;
      y0 = std::min(y0, y), y1 = std::max(y1, y), x0 = std::min(x0, x), x1 = std::max(x1, x);
      for (int64_t dy = -1; dy <= 1; ++dy)
        for (int64_t dx = -1; dx <= 1; ++dx) {
          int64_t yy = y + dy, xx = x + dx;
          if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
          int64_t q = yy * W + xx;
          if (mask[size_t(q)] && label[size_t(q)] < 0) {
            label[size_t(q)] = id;
            stack.push_back(q);
          }
        }
    }
    if (count > bestCount) {
      bestCount = count;
      bestBox = Rect{y0, x0, y1 - y0 + 1, x1 - x0 + 1};
      int64_t mid2 = x0 + x1; // compare 2x to the box's centre line without rounding
      bestLeft = bestRight = 0;
      for (int64_t p : members) {
        int64_t x2 = 2 * (p % W);
        if (x2 < mid2)
          ++bestLeft;
        else if (x2 > mid2)
          ++bestRight;
      }
    }
  }
  if (bestCount == 0) return br;
  br.found = true;
  br.box = bestBox;
  br.chestWallRight = bestRight > bestLeft;
  return br;
}

// ---------------------------------------------------------------- CLAHE

void clahe(Image& img, double clip, int64_t tiles, int bins) {
  const int64_t H = img.height, W = img.width;
  if (H < tiles || W < tiles) return; // too small to tile: leave unchanged
  // OpenCV extends the image (reflect-101) to a multiple of the tile count for the histograms only.
  const int64_t extH = (H % tiles) ? H + tiles - H % tiles : H;
  const int64_t extW = (W % tiles) ? W + tiles - W % tiles : W;
  const int64_t th = extH / tiles, tw = extW / tiles;
  auto reflect = [](int64_t i, int64_t n) {
    if (n == 1) return int64_t(0);
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
  };
  // Histograms use `bins` levels (OpenCV's 8-bit statistics with the default 256); the map is read at the
  // value's fractional position between two levels, so 16-bit precision survives (8-bit inputs fall exactly
  // on levels and get OpenCV's result).
  const float top = float(bins - 1);
  std::vector<int32_t> binOf(size_t(H * W));
  for (size_t i = 0; i < binOf.size(); ++i)
    binOf[i] = std::clamp(int32_t(std::lround(double(img.pixels[i]) * (bins - 1))), 0, bins - 1);
  const int64_t tileArea = th * tw;
  int64_t clipLimit = std::max<int64_t>(int64_t(clip * double(tileArea) / bins), 1);
  const float lutScale = top / float(tileArea);
  std::vector<float> luts(size_t(tiles * tiles * bins));
  std::vector<int64_t> hist(static_cast<size_t>(bins));
  for (int64_t ty = 0; ty < tiles; ++ty)
    for (int64_t tx = 0; tx < tiles; ++tx) {
      std::fill(hist.begin(), hist.end(), 0);
      for (int64_t y = ty * th; y < (ty + 1) * th; ++y) {
        int64_t sy = reflect(y, H);
        for (int64_t x = tx * tw; x < (tx + 1) * tw; ++x)
          ++hist[size_t(binOf[size_t(sy * W + reflect(x, W))])];
      }
      int64_t clipped = 0;
      for (auto& h : hist)
        if (h > clipLimit) {
          clipped += h - clipLimit;
          h = clipLimit;
        }
      int64_t batch = clipped / bins, residual = clipped - batch * bins;
      for (auto& h : hist) h += batch;
      if (residual != 0) {
        int64_t step = std::max<int64_t>(bins / residual, 1);
        for (int64_t i = 0; i < bins && residual > 0; i += step, --residual) ++hist[size_t(i)];
      }
      float* lut = luts.data() + (ty * tiles + tx) * bins;
      int64_t sum = 0;
      for (int i = 0; i < bins; ++i) {
        sum += hist[size_t(i)];
        lut[i] = std::nearbyint(float(sum) * lutScale); // OpenCV rounds the map to whole levels (cvRound)
      }
    }
  const float invTh = 1.0f / float(th), invTw = 1.0f / float(tw);
  const float norm = 1.0f / top;
  for (int64_t y = 0; y < H; ++y) {
    float tyf = float(y) * invTh - 0.5f;
    int64_t ty1 = int64_t(std::floor(tyf)), ty2 = ty1 + 1;
    float ya = tyf - float(ty1), ya1 = 1.0f - ya;
    ty1 = std::max<int64_t>(ty1, 0);
    ty2 = std::min<int64_t>(ty2, tiles - 1);
    for (int64_t x = 0; x < W; ++x) {
      float txf = float(x) * invTw - 0.5f;
      int64_t tx1 = int64_t(std::floor(txf)), tx2 = tx1 + 1;
      float xa = txf - float(tx1), xa1 = 1.0f - xa;
      tx1 = std::max<int64_t>(tx1, 0);
      tx2 = std::min<int64_t>(tx2, tiles - 1);
      // Position between two levels: b0 + f.
      float pos = std::clamp(img.pixels[size_t(y * W + x)], 0.0f, 1.0f) * top;
      int64_t b0 = std::min<int64_t>(int64_t(pos), bins - 2);
      float f = pos - float(b0);
      auto at = [&](int64_t t) {
        const float* l = luts.data() + t * bins;
        return f == 0.0f ? l[b0] : l[b0] + (l[b0 + 1] - l[b0]) * f;
      };
      float v = (at(ty1 * tiles + tx1) * xa1 + at(ty1 * tiles + tx2) * xa) * ya1 +
                (at(ty2 * tiles + tx1) * xa1 + at(ty2 * tiles + tx2) * xa) * ya;
      img.pixels[size_t(y * W + x)] = v * norm;
    }
  }
}

void flipHorizontal(Image& img) {
  for (int64_t y = 0; y < img.height; ++y) {
    float* row = img.pixels.data() + y * img.width;
    std::reverse(row, row + img.width);
  }
}

// ---------------------------------------------------------------- the pipeline

Image preprocess(const RawImage& raw, const PreprocessSpec& spec, int64_t height, int64_t width) {
  Image out;
  preprocess(raw, spec, height, width, out);
  return out;
}

void preprocess(const RawImage& raw, const PreprocessSpec& spec, int64_t height, int64_t width,
                Image& canvas) {
  MHR_ASSERT(height > 0 && width > 0, "preprocess: empty target");
  MHR_ASSERT(raw.height > 0 && raw.width > 0 && raw.stored.size() == size_t(raw.height * raw.width),
             "preprocess: malformed RawImage");
  const std::vector<float> lut = unitLut(raw, spec);
  RowFetch fetch = [&](int64_t y, int64_t x0, int64_t n, float* out) {
    const uint16_t* row = raw.stored.data() + y * raw.width + x0;
    for (int64_t i = 0; i < n; ++i) out[i] = lut[row[i]];
  };
  // Without a window the map is affine (range to 0..1, inverted for MONOCHROME1): computed directly it
  // vectorises, where the table lookup cannot; the table stays for the proxy and the windowed cases.
  if (!spec.voi && !spec.window && raw.rangeMax() > raw.rangeMin()) {
    double scale = raw.slope / (raw.rangeMax() - raw.rangeMin());
    double offset = (raw.intercept - raw.rangeMin()) / (raw.rangeMax() - raw.rangeMin());
    if (raw.invert) scale = -scale, offset = 1.0 - offset;
    const float a = float(scale), b = float(offset);
    if (raw.isSigned)
      fetch = [&raw, a, b](int64_t y, int64_t x0, int64_t n, float* out) {
        const int16_t* row = reinterpret_cast<const int16_t*>(raw.stored.data() + y * raw.width + x0);
        for (int64_t i = 0; i < n; ++i) out[i] = float(row[i]) * a + b;
      };
    else
      fetch = [&raw, a, b](int64_t y, int64_t x0, int64_t n, float* out) {
        const uint16_t* row = raw.stored.data() + y * raw.width + x0;
        for (int64_t i = 0; i < n; ++i) out[i] = float(row[i]) * a + b;
      };
  }
  Rect region{0, 0, raw.height, raw.width};
  bool flip = false;
  if (spec.breastCrop) {
    // A point-sampled proxy (long side <= 512) is enough to find the breast: the box is then widened by
    // one proxy step on each side so sampling never cuts tissue off.
    int64_t step = std::max<int64_t>(1, (std::max(raw.height, raw.width) + 511) / 512);
    Image proxy((raw.height + step - 1) / step, (raw.width + step - 1) / step);
    for (int64_t py = 0; py < proxy.height; ++py)
      for (int64_t px = 0; px < proxy.width; ++px)
        proxy.at(py, px) = lut[raw.stored[size_t(py * step * raw.width + px * step)]];
    BreastRegion br = findBreast(proxy, spec.cropThreshold);
    if (br.found) {
      int64_t y0 = std::max<int64_t>(0, (br.box.y - 1) * step);
      int64_t x0 = std::max<int64_t>(0, (br.box.x - 1) * step);
      int64_t y1 = std::min<int64_t>(raw.height, (br.box.y + br.box.h + 1) * step);
      int64_t x1 = std::min<int64_t>(raw.width, (br.box.x + br.box.w + 1) * step);
      region = Rect{y0, x0, y1 - y0, x1 - x0};
      flip = spec.cropFlip && br.chestWallRight;
    }
  }
  Placement p = place(spec.resize, region.h, region.w, height, width);
  Rect src{region.y + p.source.y, region.x + p.source.x, p.source.h, p.source.w};
  // Resampled straight into the canvas; its buffer is reused when the caller passes the same Image again.
  canvas.height = height;
  canvas.width = width;
  canvas.pixels.resize(size_t(height * width));
  std::fill(canvas.pixels.begin(), canvas.pixels.end(), 0.0f);
  resampleInto(fetch, src, p.scaledH, p.scaledW, &canvas.at(p.offsetY, p.offsetX), width);
  if (flip) flipHorizontal(canvas);
  if (spec.clahe) clahe(canvas, spec.claheClip, spec.claheTiles);
}

} // namespace mhr::data
