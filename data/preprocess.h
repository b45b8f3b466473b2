// data/preprocess.h — from decoded codes to what the network sees, in plain C++ (no OpenCV: it must run with
// MHR_WITH_IMAGE_IO=OFF on synthetic data). In: a RawImage, the data set's typed options (plan::DatasetSpec,
// checked by the compiler), and the target resolution. Out: an Image on the unit intensity scale at exactly H
// x W.
//
// The steps always run in this order (a spec listing them otherwise is an error, not silently reordered):
//   1. intensity to unit scale: `voi` (the file's VOI LUT or first window) | `window(center, width)` on
//      modality values | by default the nominal range of the codes (e.g. 0..65535 for 16-bit) mapped to
//      0..1; MONOCHROME1 is inverted after this step so larger is always brighter;
//   2. `breast_crop`: threshold (given, or Otsu's) on a coarse proxy, largest 8-connected component, crop
//      to its bounding box; `flip` (default true) mirrors so the chest wall is on the left;
//   3. resize to H x W: `pad` (default; keep aspect ratio, centre, pad with 0), `crop` (keep aspect ratio,
//      fill, centre-crop) or `stretch`; area averaging when shrinking an axis (exactly the box filter of
//      the `upscale by R` morph for integer factors), bilinear when enlarging;
//   4. `clahe(clip, tiles)` at the target resolution (OpenCV's algorithm and statistics, see clahe());
//   5. `normalize(mean, std)`: (x - mean) / std, applied when batches are made so the cache stays in 0..1.
#pragma once

#include "compiler/plan/dataset_spec.h"
#include "data/image.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mhr::data {

enum class ResizeMode { Pad, Crop, Stretch };

struct PreprocessSpec {
  bool voi = false;
  std::optional<Window> window; // window(center, width)
  bool breastCrop = false;
  std::optional<double> cropThreshold; // unit scale; absent = Otsu
  bool cropFlip = true;
  bool clahe = false;
  double claheClip = 2.0;
  int64_t claheTiles = 8;
  bool normalize = false;
  double mean = 0.0;
  double std = 1.0;
  ResizeMode resize = ResizeMode::Pad;

  // Everything that changes cached pixels, as stable text (part of the cache key). normalize is not in it:
  // it is applied at batch time.
  std::string cacheKeyText() const;
};

struct DatasetOptions {
  PreprocessSpec preprocess;
  bool skipErrors = false;             // on_error: skip
  std::string cacheDir = ".mhr-cache"; // cache:
};

// The typed options of a data set statement (plan::DatasetSpec, checked by the compiler) as the data layer
// uses them. No validation: the compiler reported every spec error with its location.
DatasetOptions datasetOptionsOf(const plan::DatasetSpec& spec);

// Step 1 as a table over all 65,536 code bit patterns: unit value of code c at index uint16_t(c).
// Throws UserError naming the file when `voi` is asked for and the file has no VOI.
std::vector<float> unitLut(const RawImage& raw, const PreprocessSpec& spec);

// A window function of DICOM PS3.3 C.11.2.1.2 with output range 0..1.
double applyWindow(const Window& w, double x);

// Everything up to and including CLAHE (normalize excluded), at target H x W.
Image preprocess(const RawImage& raw, const PreprocessSpec& spec, int64_t height, int64_t width);
// The same into `out`, reusing its buffer (workers preparing many images).
void preprocess(const RawImage& raw, const PreprocessSpec& spec, int64_t height, int64_t width, Image& out);

// ---- building blocks, exposed for tests and the benchmark ----

struct Rect {
  int64_t y = 0, x = 0, h = 0, w = 0;
};

// Fetches columns [x0, x0 + n) of source row y as floats into out.
using RowFetch = std::function<void(int64_t y, int64_t x0, int64_t n, float* out)>;

// Separable resampling of region `r` of a source to outH x outW (area when shrinking, bilinear with
// half-pixel centres when enlarging, per axis).
Image resample(const RowFetch& fetch, Rect r, int64_t outH, int64_t outW);
// The same, accumulating into outH rows of outW floats at dst (rows `stride` floats apart; cleared first).
void resampleInto(const RowFetch& fetch, Rect r, int64_t outH, int64_t outW, float* dst, int64_t stride);
Image resample(const Image& src, int64_t outH, int64_t outW);

// Output size and placement of `resize` for a source h x w into H x W: the region of the source to use and
// the size it is resampled to (pad: fits inside; crop: covers, the source region is centre-cropped).
struct Placement {
  Rect source; // region of the source image
  int64_t scaledH = 0, scaledW = 0;
  int64_t offsetY = 0, offsetX = 0; // where the scaled region goes in the H x W canvas
};
Placement place(ResizeMode mode, int64_t srcH, int64_t srcW, int64_t H, int64_t W);

// Otsu's threshold of values in 0..1 (256 bins); returns the upper edge of the background class.
double otsuThreshold(const std::vector<float>& values);

// Breast region on a unit image proxy: bounding box of the largest 8-connected component above the
// threshold, and whether the chest wall is on the right (more tissue in the right half of the box).
struct BreastRegion {
  Rect box;
  bool chestWallRight = false;
  bool found = false;
};
BreastRegion findBreast(const Image& proxy, std::optional<double> threshold);

// CLAHE in place on a unit image (OpenCV's algorithm: tiles x tiles grid, clip limit relative to the mean
// bin height, excess redistributed, bilinear blend of neighbouring tile maps). Histograms have `bins` levels
// (256, OpenCV's 8-bit statistics: more levels make the integer clip limit meaningless on small tiles); the
// map is interpolated between levels, so 16-bit inputs keep their precision and 8-bit inputs get exactly
// OpenCV's result.
void clahe(Image& img, double clip, int64_t tiles, int bins = 256);

void flipHorizontal(Image& img);

} // namespace mhr::data
