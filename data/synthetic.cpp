#include "data/synthetic.h"

#include "data/random.h"
#include "support/assert.h"
#include "support/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace mhr::data {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr uint64_t kMammoStream = 0x6d616d6d6fULL; // "mammo"
constexpr uint64_t kCxrStream = 0x637872ULL;       // "cxr"

double smoothstep(double f) {
  return f * f * (3.0 - 2.0 * f);
}
double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

// Sum of value-noise octaves with amplitude spacing^((beta - 2) / 2): the power spectrum then falls as
// 1/f^beta (each octave adds variance proportional to spacing^(beta - 2)). Standardised to mean 0, std 1.
Image powerNoise(int64_t H, int64_t W, uint64_t seed, double beta, double minSpacing, double maxSpacing) {
  Image out(H, W, 0.0f);
  std::vector<double> acc(size_t(H * W), 0.0);
  std::vector<int64_t> xi(static_cast<size_t>(W));
  std::vector<double> xs(static_cast<size_t>(W));
  int octave = 0;
  for (double g = minSpacing; g <= maxSpacing; g *= 2.0, ++octave) {
    double amp = std::pow(g, (beta - 2.0) / 2.0);
    int64_t gh = int64_t(double(H) / g) + 3, gw = int64_t(double(W) / g) + 3;
    Rng rng(deriveStreamSeed(seed, uint64_t(octave)));
    std::vector<float> grid(size_t(gh * gw));
    for (auto& v : grid) v = float(rng.normal());
    double oy = rng.uniform() * g, ox = rng.uniform() * g; // octaves do not share grid lines
    for (int64_t x = 0; x < W; ++x) {
      double gx = (double(x) + ox) / g;
      xi[size_t(x)] = int64_t(gx);
      xs[size_t(x)] = smoothstep(gx - double(xi[size_t(x)]));
    }
    for (int64_t y = 0; y < H; ++y) {
      double gy = (double(y) + oy) / g;
      int64_t yi = int64_t(gy);
      double sy = smoothstep(gy - double(yi));
      const float* r0 = grid.data() + yi * gw;
      const float* r1 = r0 + gw;
      double* dst = acc.data() + y * W;
      for (int64_t x = 0; x < W; ++x) {
        int64_t i = xi[size_t(x)];
        double sx = xs[size_t(x)];
        double top = r0[i] + (r0[i + 1] - r0[i]) * sx;
        double bottom = r1[i] + (r1[i + 1] - r1[i]) * sx;
        dst[x] += amp * (top + (bottom - top) * sy);
      }
    }
  }
  double mean = 0, sq = 0;
  for (double v : acc) mean += v;
  mean /= double(acc.size());
  for (double v : acc) sq += (v - mean) * (v - mean);
  double sd = std::sqrt(sq / double(acc.size()));
  if (sd <= 0) sd = 1;
  for (size_t i = 0; i < acc.size(); ++i) out.pixels[i] = float((acc[i] - mean) / sd);
  return out;
}

// Adds f averaged over a 4x4 grid of sub-pixel positions to every pixel of the box (anti-aliased rendering
// of structures the size of a pixel). combineMax: take the maximum with what is there instead of adding.
template <typename F> void splat(Image& img, double cy, double cx, double radius, F f) {
  int64_t y0 = std::max<int64_t>(0, int64_t(std::floor(cy - radius)));
  int64_t y1 = std::min<int64_t>(img.height - 1, int64_t(std::ceil(cy + radius)));
  int64_t x0 = std::max<int64_t>(0, int64_t(std::floor(cx - radius)));
  int64_t x1 = std::min<int64_t>(img.width - 1, int64_t(std::ceil(cx + radius)));
  for (int64_t y = y0; y <= y1; ++y)
    for (int64_t x = x0; x <= x1; ++x) {
      double sum = 0;
      for (int sy = 0; sy < 4; ++sy)
        for (int sx = 0; sx < 4; ++sx)
          sum += f(double(y) + (sy + 0.5) / 4.0 - cy, double(x) + (sx + 0.5) / 4.0 - cx);
      img.at(y, x) += float(sum / 16.0);
    }
}

// ---- mammography lesions, in pixel units of the image being rendered

struct Calc {
  double dy, dx, sigmaMajor, sigmaMinor, angle, amplitude;
};
struct Spicule {
  double angle, length, amplitude;
};
struct LesionParams {
  double cy = 0, cx = 0;
  std::vector<Calc> calcs;
  double coreRadius = 0, coreAmplitude = 0, coreEdge = 0, spiculeSigma = 0;
  std::vector<Spicule> spicules;
};

constexpr double kFwhmToSigma = 1.0 / 2.354820045;

// A spiculated mass as a function of the offset from its centre: a sharp-edged core and thin spicules whose
// brightness falls linearly to their tip; the maximum of the parts, so overlaps are not doubly bright.
double spiculatedValue(const LesionParams& p, double dy, double dx) {
  double d = std::sqrt(dy * dy + dx * dx);
  double v = p.coreAmplitude * sigmoid((p.coreRadius - d) / p.coreEdge);
  double base = 0.8 * p.coreRadius;
  for (const Spicule& s : p.spicules) {
    double ux = std::cos(s.angle), uy = std::sin(s.angle);
    double t = dx * ux + dy * uy - base;
    if (t < 0 || t > s.length) continue;
    double perp = -dx * uy + dy * ux;
    double w =
        s.amplitude * (1.0 - t / s.length) * std::exp(-perp * perp / (2 * p.spiculeSigma * p.spiculeSigma));
    v = std::max(v, w);
  }
  return v;
}

double spiculatedExtent(const LesionParams& p) {
  double e = p.coreRadius + 4 * p.coreEdge;
  for (const Spicule& s : p.spicules) e = std::max(e, 0.8 * p.coreRadius + s.length + 3 * p.spiculeSigma);
  return e;
}

// The smooth round mass with the same integrated intensity and radius of gyration as the spiculated mass of
// the same parameters (computed on a 4x4 sub-sampled grid around the centre).
struct SmoothMass {
  double radius, amplitude, edge;
};
SmoothMass matchedSmoothMass(const LesionParams& p, double pixelMm) {
  double extent = spiculatedExtent(p);
  double integral = 0, moment = 0;
  int64_t n = int64_t(std::ceil(extent)) + 1;
  for (int64_t y = -n; y <= n; ++y)
    for (int64_t x = -n; x <= n; ++x)
      for (int sy = 0; sy < 4; ++sy)
        for (int sx = 0; sx < 4; ++sx) {
          double dy = y + (sy + 0.5) / 4.0, dx = x + (sx + 0.5) / 4.0;
          double v = spiculatedValue(p, dy, dx) / 16.0;
          integral += v;
          moment += v * (dy * dy + dx * dx);
        }
  SmoothMass m;
  m.edge = 1.0 / pixelMm; // 1 mm soft edge: a circumscribed margin
  double rg2 = moment / integral;
  // For a disc of radius R, rg^2 = R^2 / 2; the soft edge adds about (pi^2 / 6) edge^2.
  m.radius = std::sqrt(std::max(2.0 * (rg2 - kPi * kPi / 6.0 * m.edge * m.edge), 1.0));
  // Amplitude so that the integral matches exactly: integrate the unit-amplitude disc numerically.
  double unit = 0;
  int64_t r = int64_t(std::ceil(m.radius + 8 * m.edge)) + 1;
  for (int64_t y = -r; y <= r; ++y)
    for (int64_t x = -r; x <= r; ++x)
      for (int sy = 0; sy < 4; ++sy)
        for (int sx = 0; sx < 4; ++sx) {
          double dy = y + (sy + 0.5) / 4.0, dx = x + (sx + 0.5) / 4.0;
          unit += sigmoid((m.radius - std::sqrt(dy * dy + dx * dx)) / m.edge) / 16.0;
        }
  m.amplitude = integral / unit;
  return m;
}

} // namespace

const char* lesionName(LesionKind kind) {
  switch (kind) {
  case LesionKind::None:
    return "none";
  case LesionKind::CalcCluster:
    return "calcification cluster";
  case LesionKind::SpiculatedMass:
    return "spiculated mass";
  case LesionKind::SmoothMass:
    return "smooth round mass";
  }
  return "?";
}

std::vector<SplitId> splitGroups(const std::vector<int>& stratumOfGroup, double valFraction,
                                 double testFraction, uint64_t seed) {
  std::vector<SplitId> out(stratumOfGroup.size(), SplitId::Train);
  int maxStratum = 0;
  for (int s : stratumOfGroup) maxStratum = std::max(maxStratum, s);
  for (int s = 0; s <= maxStratum; ++s) {
    std::vector<size_t> members;
    for (size_t g = 0; g < stratumOfGroup.size(); ++g)
      if (stratumOfGroup[g] == s) members.push_back(g);
    Rng rng(deriveStreamSeed(seed, 0x73706c6974ULL /* "split" */, uint64_t(s)));
    shuffle(members, rng);
    size_t n = members.size();
    size_t nTest = size_t(std::llround(double(n) * testFraction));
    size_t nVal = size_t(std::llround(double(n) * valFraction));
    if (nTest + nVal > n) nVal = n - std::min(n, nTest);
    for (size_t i = 0; i < n; ++i)
      out[members[i]] = i < nTest ? SplitId::Test : i < nTest + nVal ? SplitId::Val : SplitId::Train;
  }
  return out;
}

namespace {
void checkSplit(const std::array<double, 3>& split, const char* what) {
  double sum = split[0] + split[1] + split[2];
  for (double f : split)
    if (!(f >= 0.0 && f <= 1.0))
      throw UserError(fmt::format("{}: split fractions must be in [0, 1], got [{}, {}, {}]", what, split[0],
                                  split[1], split[2]));
  if (std::fabs(sum - 1.0) > 1e-6)
    throw UserError(
        fmt::format("{}: split fractions [train, val, test] must add up to 1, got {}", what, sum));
}
void checkSize(int64_t count, int64_t h, int64_t w, const char* what, int64_t minSide) {
  if (count < 2) throw UserError(fmt::format("{}: count must be at least 2, got {}", what, count));
  if (count > 10'000'000)
    throw UserError(fmt::format("{}: count {} is larger than mhr allows (10,000,000)", what, count));
  if (h < minSide || w < minSide || h > 16384 || w > 16384)
    throw UserError(fmt::format("{}: size {}x{} is outside {}..16384 per side", what, h, w, minSide));
}
} // namespace

// ---------------------------------------------------------------- mammography

SyntheticMammo::SyntheticMammo(MammoParams params) : params_(std::move(params)) {
  const char* what = "synthetic_mammo";
  checkSize(params_.count, params_.height, params_.width, what, 32);
  checkSplit(params_.split, what);
  if (params_.lesion != "calcification" && params_.lesion != "mass" && params_.lesion != "mixed")
    throw UserError(std::string(what) + ": lesion must be calcification, mass or mixed, got '" +
                    params_.lesion + "'");
  if (!(params_.malignant > 0.0 && params_.malignant < 1.0))
    throw UserError(fmt::format("{}: malignant must be in (0, 1), got {}", what, params_.malignant));
  // Below 0.05 mm a lesion covers thousands of pixels; above 2 mm a calcification is under a pixel.
  if (params_.spacingMm != 0.0 && !(params_.spacingMm >= 0.05 && params_.spacingMm <= 2.0))
    throw UserError(
        fmt::format("{}: pixel spacing must be in [0.05, 2] mm, got {}", what, params_.spacingMm));

  const uint64_t seed = params_.seed;
  const int64_t patients = (params_.count + 1) / 2;
  int64_t nMalignant = std::llround(double(patients) * params_.malignant);
  nMalignant = std::clamp<int64_t>(nMalignant, 1, std::max<int64_t>(1, patients - 1));
  std::vector<size_t> order = permutation(size_t(patients), deriveStreamSeed(seed, kMammoStream, 1));
  std::vector<uint8_t> malignant(size_t(patients), 0);
  for (int64_t i = 0; i < nMalignant; ++i) malignant[order[size_t(i)]] = 1;
  std::vector<int> strata(malignant.begin(), malignant.end());
  std::vector<SplitId> splits =
      splitGroups(strata, params_.split[1], params_.split[2], deriveStreamSeed(seed, kMammoStream, 2));

  for (int64_t i = 0; i < params_.count; ++i) {
    int64_t p = i / 2;
    Rng prng(deriveStreamSeed(seed, kMammoStream, 3, uint64_t(p)));
    MammoCase c;
    c.index = i;
    c.patient = p;
    c.malignant = malignant[size_t(p)] != 0;
    c.leftBreast = prng.chance(0.5);
    // BI-RADS density a..d in the screening population: about 10 / 40 / 40 / 10 %.
    double u = prng.uniform();
    c.density = u < 0.1 ? 1 : u < 0.5 ? 2 : u < 0.9 ? 3 : 4;
    bool firstKind = prng.chance(0.5);
    if (params_.lesion == "calcification")
      c.lesion = c.malignant ? LesionKind::CalcCluster : LesionKind::None;
    else if (params_.lesion == "mass")
      c.lesion = c.malignant ? LesionKind::SpiculatedMass : LesionKind::SmoothMass;
    else if (c.malignant)
      c.lesion = firstKind ? LesionKind::CalcCluster : LesionKind::SpiculatedMass;
    else
      c.lesion = firstKind ? LesionKind::None : LesionKind::SmoothMass;
    c.mlo = (i % 2) == 1;
    c.split = splits[size_t(p)];
    cases_.push_back(c);
  }
}

Image SyntheticMammo::renderUnit(int64_t index, bool withLesion) const {
  return renderImpl(index, withLesion, false);
}

Image SyntheticMammo::renderUnitWithMatchedSmoothMass(int64_t index) const {
  return renderImpl(index, true, true);
}

RawImage SyntheticMammo::render(int64_t index) const {
  Image unit = renderUnit(index);
  RawImage raw;
  raw.height = unit.height;
  raw.width = unit.width;
  raw.bitsStored = 16;
  raw.stored.resize(unit.pixels.size());
  for (size_t i = 0; i < unit.pixels.size(); ++i)
    raw.stored[i] = uint16_t(std::clamp(std::lround(double(unit.pixels[i]) * kCodeScale), 0L, 65535L));
  raw.source = fmt::format("synthetic_mammo(seed: {})#{}", params_.seed, index);
  return raw;
}

Image SyntheticMammo::renderImpl(int64_t index, bool withLesion, bool matchedSmooth) const {
  MHR_ASSERT(index >= 0 && index < params_.count, "SyntheticMammo: index out of range");
  const MammoCase& c = cases_[size_t(index)];
  const int64_t H = params_.height, W = params_.width;
  const double mm = 1.0 / pixelSpacingMm(); // pixels per millimetre
  const uint64_t imageSeed = deriveStreamSeed(params_.seed, kMammoStream, 4, uint64_t(index));
  Rng rng(imageSeed);

  // Breast outline: a half-ellipse on the chest wall; MLO views are taller and show the pectoral muscle.
  double depth = double(W) * rng.uniform(0.62, 0.85);
  double half = double(H) * rng.uniform(0.36, 0.44) * (c.mlo ? 1.08 : 1.0);
  double yc = double(H) * (0.5 + rng.uniform(-0.04, 0.04));
  double pectW = depth * rng.uniform(0.25, 0.40), pectH = double(H) * rng.uniform(0.30, 0.50);
  static const double kDensityBias[5] = {0, -2.0, -0.8, 0.2, 1.2};
  double bias = kDensityBias[c.density] + rng.uniform(-0.3, 0.3);
  bool label = rng.chance(0.3);
  double skin = 0.7 * mm; // skin-line blur
  Image texture = powerNoise(H, W, deriveStreamSeed(imageSeed, 1), 3.0, 2.0, double(std::max(H, W)) / 2.0);
  Image fine = powerNoise(H, W, deriveStreamSeed(imageSeed, 2), 3.0, 2.0, 16.0);

  Image img(H, W, 0.0f);
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      double xr =
          c.leftBreast ? double(x) + 0.5 : double(W) - double(x) - 0.5; // distance from the chest wall
      double dy = (double(y) + 0.5 - yc) / half, dx = xr / depth;
      double r = std::sqrt(dx * dx + dy * dy);
      double thick = std::sqrt(std::max(0.0, 1.0 - r * r));
      double gland = sigmoid(1.6 * texture.at(y, x) + bias);
      double tissue = 0.16 + 0.12 * thick + 0.22 * gland + 0.015 * fine.at(y, x);
      double inside = sigmoid((1.0 - r) * std::min(depth, half) / skin);
      double v = 0.03 + inside * (tissue - 0.03);
      if (c.mlo && (xr / pectW + double(y) / pectH) < 1.0) v = std::max(v, 0.50 + 0.04 * texture.at(y, x));
      img.at(y, x) = float(v);
    }
  if (label) { // a scanned-film label in the far corner: bright, not connected to the breast
    int64_t ly0 = int64_t(0.02 * H), ly1 = int64_t(0.09 * H);
    int64_t lx0 = int64_t(0.76 * W), lx1 = int64_t(0.95 * W);
    for (int64_t y = ly0; y < ly1; ++y)
      for (int64_t x = lx0; x < lx1; ++x) {
        int64_t xx = c.leftBreast ? x : W - 1 - x;
        bool stroke = ((y - ly0) / 3) % 3 == 1 && ((x - lx0) / 2) % 4 != 0;
        img.at(y, xx) = stroke ? 0.45f : 0.85f;
      }
  }

  // Lesion parameters are drawn from their own stream so that rendering without the lesion, or with the
  // matched smooth twin, leaves every other pixel identical.
  if (c.lesion != LesionKind::None && withLesion) {
    Rng lr(deriveStreamSeed(imageSeed, 3));
    LesionParams p;
    for (int tries = 0; tries < 1000; ++tries) { // uniform in the inner 70% of the breast, off the muscle
      double dy = lr.uniform(-0.7, 0.7), dx = lr.uniform(0.1, 0.7);
      if (dx * dx + dy * dy > 0.49) continue;
      double xr = dx * depth, y = yc + dy * half;
      if (c.mlo && (xr / pectW + y / pectH) < 1.1) continue;
      p.cy = y;
      p.cx = c.leftBreast ? xr : double(W) - xr;
      break;
    }
    if (c.lesion == LesionKind::CalcCluster) {
      // 5-12 calcifications of 0.5-1.0 mm (pleomorphic: up to 2:1 elongated) within a 3-5 mm radius.
      double radius = lr.uniform(3.0, 5.0) * mm;
      int n = 5 + int(lr.below(8));
      for (int k = 0; k < n; ++k) {
        Calc calc;
        double rr = radius * std::sqrt(lr.uniform()), th = lr.uniform(0, 2 * kPi);
        calc.dy = rr * std::sin(th);
        calc.dx = rr * std::cos(th);
        double d = lr.uniform(0.5, 1.0) * mm;
        calc.sigmaMinor = d * kFwhmToSigma;
        calc.sigmaMajor = d * lr.uniform(1.0, 2.0) * kFwhmToSigma;
        calc.angle = lr.uniform(0, kPi);
        calc.amplitude = lr.uniform(0.12, 0.25);
        p.calcs.push_back(calc);
      }
      for (const Calc& k : p.calcs) {
        double ca = std::cos(k.angle), sa = std::sin(k.angle);
        splat(img, p.cy + k.dy, p.cx + k.dx, 4 * k.sigmaMajor + 1, [&](double dy, double dx) {
          double u = dx * ca + dy * sa, v = -dx * sa + dy * ca;
          return k.amplitude * std::exp(-(u * u) / (2 * k.sigmaMajor * k.sigmaMajor) -
                                        (v * v) / (2 * k.sigmaMinor * k.sigmaMinor));
        });
      }
    } else {
      // Spiculated mass parameters; the smooth mass is its matched twin (same draws).
      p.coreRadius = lr.uniform(2.0, 4.0) * mm;
      p.coreAmplitude = lr.uniform(0.06, 0.10);
      p.coreEdge = 0.25 * mm;
      p.spiculeSigma = 0.6 * mm * kFwhmToSigma;
      int n = 6 + int(lr.below(7));
      for (int k = 0; k < n; ++k)
        p.spicules.push_back({lr.uniform(0, 2 * kPi), p.coreRadius * lr.uniform(1.5, 3.0),
                              p.coreAmplitude * lr.uniform(0.6, 0.9)});
      bool smooth = c.lesion == LesionKind::SmoothMass || matchedSmooth;
      if (smooth) {
        SmoothMass m = matchedSmoothMass(p, pixelSpacingMm());
        splat(img, p.cy, p.cx, m.radius + 8 * m.edge, [&](double dy, double dx) {
          return m.amplitude * sigmoid((m.radius - std::sqrt(dy * dy + dx * dx)) / m.edge);
        });
      } else {
        splat(img, p.cy, p.cx, spiculatedExtent(p),
              [&](double dy, double dx) { return spiculatedValue(p, dy, dx); });
      }
    }
  }

  // Quantum noise, white at the detector, from its own stream as well.
  Rng noise(deriveStreamSeed(imageSeed, 4));
  for (auto& v : img.pixels) v = float(std::clamp(double(v) + 0.006 * noise.normal(), 0.0, 1.0));
  return img;
}

// ---------------------------------------------------------------- chest X-ray

const std::vector<std::string>& chestXray14Labels() {
  static const std::vector<std::string> labels = {
      "Atelectasis", "Cardiomegaly", "Effusion",           "Infiltration",  "Mass",
      "Nodule",      "Pneumonia",    "Pneumothorax",       "Consolidation", "Edema",
      "Emphysema",   "Fibrosis",     "Pleural_Thickening", "Hernia"};
  return labels;
}

std::string CxrCase::imageName() const {
  return fmt::format("{:08d}_{:03d}.png", patient, followUp);
}

SyntheticCxr::SyntheticCxr(CxrParams params) : params_(std::move(params)) {
  const char* what = "synthetic_cxr";
  checkSize(params_.count, params_.height, params_.width, what, 64);
  checkSplit(params_.split, what);
  const uint64_t seed = params_.seed;
  // Patients have 1-3 images (follow-ups), as in NIH's set; the split is by patient.
  Rng prng(deriveStreamSeed(seed, kCxrStream, 1));
  std::vector<int64_t> patientOf;
  int64_t patient = 0;
  while (int64_t(patientOf.size()) < params_.count) {
    ++patient;
    int64_t n = 1 + int64_t(prng.below(3));
    for (int64_t k = 0; k < n && int64_t(patientOf.size()) < params_.count; ++k) patientOf.push_back(patient);
  }
  std::vector<int> strata(size_t(patient), 0);
  std::vector<SplitId> splits =
      splitGroups(strata, params_.split[1], params_.split[2], deriveStreamSeed(seed, kCxrStream, 2));
  int64_t followUp = 0;
  for (int64_t i = 0; i < params_.count; ++i) {
    followUp = (i > 0 && patientOf[size_t(i)] == patientOf[size_t(i - 1)]) ? followUp + 1 : 0;
    Rng rng(deriveStreamSeed(seed, kCxrStream, 3, uint64_t(i)));
    CxrCase c;
    c.index = i;
    c.patient = patientOf[size_t(i)];
    c.followUp = followUp;
    // Every finding at 10% independently: NIH's prevalences (0.2% Hernia .. 18% Infiltration) would leave
    // rare labels without a single positive in sets of a few hundred images, and AUC undefined.
    c.findings.resize(chestXray14Labels().size());
    for (auto& f : c.findings) f = rng.chance(0.10) ? 1 : 0;
    Rng patientRng(deriveStreamSeed(seed, kCxrStream, 4, uint64_t(c.patient)));
    c.age = 20 + int(patientRng.below(66));
    c.male = patientRng.chance(0.56);
    c.pa = rng.chance(0.6);
    c.split = splits[size_t(c.patient - 1)];
    cases_.push_back(c);
  }
}

RawImage SyntheticCxr::render(int64_t index) const {
  Image unit = renderUnit(index);
  RawImage raw;
  raw.height = unit.height;
  raw.width = unit.width;
  raw.bitsStored = 8;
  raw.stored.resize(unit.pixels.size());
  for (size_t i = 0; i < unit.pixels.size(); ++i)
    raw.stored[i] = uint16_t(std::clamp(std::lround(double(unit.pixels[i]) * 255.0), 0L, 255L));
  raw.source = fmt::format("synthetic_cxr(seed: {})#{}", params_.seed, index);
  return raw;
}

Image SyntheticCxr::renderUnit(int64_t index) const {
  MHR_ASSERT(index >= 0 && index < params_.count, "SyntheticCxr: index out of range");
  const CxrCase& c = cases_[size_t(index)];
  const int64_t H = params_.height, W = params_.width;
  const double mm = double(H) / 430.0; // a 43 cm detector
  const uint64_t imageSeed = deriveStreamSeed(params_.seed, kCxrStream, 5, uint64_t(index));
  Rng rng(imageSeed);
  auto has = [&](const char* name) {
    const auto& l = chestXray14Labels();
    return c.findings[size_t(std::find(l.begin(), l.end(), name) - l.begin())] != 0;
  };
  // Geometry in unit coordinates (u across, v down, both 0..1), scaled per patient.
  double bodyHalf = rng.uniform(0.40, 0.46);
  double lungTop = rng.uniform(0.14, 0.20), lungBottom = rng.uniform(0.70, 0.78);
  bool emphysema = has("Emphysema");
  if (emphysema) lungBottom += 0.05; // flattened, low diaphragm
  double lungHalfW = rng.uniform(0.15, 0.18), lungGap = rng.uniform(0.04, 0.06);
  double heartW = rng.uniform(0.12, 0.15) * (has("Cardiomegaly") ? 1.45 : 1.0); // cardiothoracic ratio > 0.5
  double heartH = rng.uniform(0.13, 0.16);
  Image texture = powerNoise(H, W, deriveStreamSeed(imageSeed, 1), 3.0, 2.0, double(std::max(H, W)) / 2.0);
  Image markings = powerNoise(H, W, deriveStreamSeed(imageSeed, 2), 2.2, 2.0, 32.0);
  Image patches = powerNoise(H, W, deriveStreamSeed(imageSeed, 3), 3.5, 16.0, 256.0);
  Image reticular = powerNoise(H, W, deriveStreamSeed(imageSeed, 4), 1.5, 2.0, 8.0);

  // Lung field membership (two half-ellipses above a domed diaphragm) as a soft mask.
  auto lungMask = [&](double u, double v, int side) { // side -1: image left (patient right), +1: image right
    double cu = 0.5 + side * (lungGap + lungHalfW);
    double cv = (lungTop + lungBottom) / 2, hv = (lungBottom - lungTop) / 2;
    double du = (u - cu) / lungHalfW, dv = (v - cv) / hv;
    double r = std::sqrt(du * du + dv * dv);
    return sigmoid((1.0 - r) * 40.0);
  };
  Image img(H, W, 0.0f);
  double pleuraSide = rng.chance(0.5) ? -1 : 1;
  double effusionSide = rng.chance(0.5) ? -1 : 1;
  double ptxSide = rng.chance(0.5) ? -1 : 1;
  double atelSide = rng.chance(0.5) ? -1 : 1;
  double consolU = 0.5 + (rng.chance(0.5) ? -1 : 1) * (lungGap + lungHalfW), consolV = rng.uniform(0.35, 0.6);
  double pneuU = 0.5 + (rng.chance(0.5) ? -1 : 1) * (lungGap + lungHalfW), pneuV = rng.uniform(0.4, 0.65);
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      double u = (double(x) + 0.5) / double(W), v = (double(y) + 0.5) / double(H);
      double body = sigmoid((bodyHalf - std::fabs(u - 0.5)) * 120.0);
      double val = 0.04 + body * (0.62 + 0.05 * texture.at(y, x));
      double lung = std::max(lungMask(u, v, -1), lungMask(u, v, 1));
      double lungVal = (emphysema ? 0.16 : 0.24) + (emphysema ? 0.02 : 0.05) * markings.at(y, x);
      // Ribs: bright arcs every ~2.5 cm across each lung.
      double rib = 0;
      double side = u < 0.5 ? -1 : 1;
      double arc = v - 0.05 * std::pow((u - 0.5) * side * 4.0 - 0.6, 2);
      double phase = std::fmod(arc * H / (25.0 * mm) + 10.0, 1.0);
      if (phase < 0.35) rib = 0.08 * std::sin(phase / 0.35 * kPi);
      double inLung = lung * body;
      val = val * (1 - inLung) + inLung * (lungVal + rib);
      // Mediastinum, spine and heart.
      double spine = sigmoid((0.035 - std::fabs(u - 0.5)) * 300.0);
      val = std::max(val, spine * (0.70 + 0.03 * texture.at(y, x)));
      double hu = (u - (0.5 + 0.03)) / heartW, hv = (v - (lungBottom - heartH * 0.7)) / heartH;
      double heart = sigmoid((1.0 - std::sqrt(hu * hu + hv * hv)) * 30.0);
      val = std::max(val, heart * 0.72);
      // Findings that change large areas.
      auto lungSide = [&](double s) { return lungMask(u, v, int(s)) * body; };
      if (has("Effusion")) { // fluid at the lung base with a meniscus
        double level =
            lungBottom - 0.10 + 0.04 * std::fabs(u - 0.5 - effusionSide * (lungGap + lungHalfW)) / lungHalfW;
        double f = lungSide(effusionSide) * sigmoid((v - level) * 200.0);
        val = val * (1 - f) + f * 0.60;
      }
      if (has("Infiltration")) val += 0.08 * lung * sigmoid(patches.at(y, x) * 3.0 - 2.0);
      if (has("Consolidation")) {
        double d = std::hypot((u - consolU) / 0.09, (v - consolV) / 0.07);
        val += 0.22 * lung * sigmoid((1 - d) * 25.0);
      }
      if (has("Pneumonia")) {
        double d = std::hypot((u - pneuU) / 0.10, (v - pneuV) / 0.08);
        val += 0.14 * lung * sigmoid((1 - d) * 6.0) * (0.7 + 0.3 * patches.at(y, x));
      }
      if (has("Atelectasis")) { // plate-like band in a lower zone
        double bandV = lungBottom - 0.12 + 0.05 * (u - 0.5);
        val += 0.16 * lungSide(atelSide) * std::exp(-std::pow((v - bandV) * H / (6 * mm), 2));
      }
      if (has("Edema")) { // perihilar haze plus Kerley B lines at the periphery
        double d = std::hypot((u - 0.5) / 0.25, (v - 0.45) / 0.2);
        val += 0.10 * lung * std::exp(-d * d);
        double edge = std::fabs(std::fabs(u - 0.5) - (lungGap + 2 * lungHalfW));
        if (edge < 0.03 && v > 0.5) {
          double line = std::fmod(v * H / (7 * mm), 1.0);
          if (line < 0.15) val += 0.06 * lung;
        }
      }
      if (has("Fibrosis"))
        val += 0.07 * lung * std::max(0.0, double(reticular.at(y, x))) * sigmoid((v - 0.5) * 20.0);
      if (has("Pneumothorax")) { // apical-lateral rim without lung markings, bordered by the visceral pleura
        double cu = 0.5 + ptxSide * (lungGap + lungHalfW);
        double du = (u - cu) / lungHalfW,
               dv = (v - (lungTop + lungBottom) / 2) / ((lungBottom - lungTop) / 2);
        double r = std::sqrt(du * du + dv * dv);
        if (lungSide(ptxSide) > 0.5 && v < 0.5 && r > 0.82) {
          val = 0.12;
          if (r < 0.84) val = 0.45; // the pleural line, ~1 mm
        }
      }
      if (has("Pleural_Thickening")) {
        double cu = 0.5 + pleuraSide * (lungGap + lungHalfW);
        double du = (u - cu) / lungHalfW,
               dv = (v - (lungTop + lungBottom) / 2) / ((lungBottom - lungTop) / 2);
        double r = std::sqrt(du * du + dv * dv);
        if (r > 0.93 && r < 1.0 && body > 0.5) val = std::max(val, 0.55);
      }
      img.at(y, x) = float(val);
    }
  // Focal findings: nodules are 5-15 mm, masses 30-60 mm round opacities.
  auto blob = [&](double diameterMm, double amplitude) {
    double side = rng.chance(0.5) ? -1 : 1;
    double cu = 0.5 + side * (lungGap + lungHalfW) + rng.uniform(-0.5, 0.5) * lungHalfW;
    double cv = rng.uniform(lungTop + 0.1, lungBottom - 0.12);
    double r = diameterMm * mm / 2;
    splat(img, cv * H, cu * W, r + 4 * mm, [&](double dy, double dx) {
      return amplitude * sigmoid((r - std::sqrt(dy * dy + dx * dx)) / (0.8 * mm));
    });
  };
  if (has("Nodule")) blob(rng.uniform(5, 15), 0.16);
  if (has("Mass")) blob(rng.uniform(30, 60), 0.18);
  if (has("Hernia")) { // retrocardiac gas bubble with an air-fluid level
    double r = rng.uniform(25, 40) * mm;
    double cy = (lungBottom - 0.02) * H, cx = 0.5 * W;
    splat(img, cy, cx, r + 3 * mm, [&](double dy, double dx) {
      double d = std::sqrt(dy * dy + dx * dx);
      double ring = std::exp(-std::pow((d - r) / (1.5 * mm), 2)) * 0.10;
      return d < r ? (dy < 0 ? -0.25 : 0.0) + ring : ring;
    });
  }
  Rng noise(deriveStreamSeed(imageSeed, 9));
  for (auto& v : img.pixels) v = float(std::clamp(double(v) + 0.01 * noise.normal(), 0.0, 1.0));
  return img;
}

} // namespace mhr::data
