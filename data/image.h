// data/image.h — the two image shapes the data layer passes around. In: nothing (plain data). Out:
// RawImage, what a decoder returns (stored pixel codes plus the file's intensity metadata, untouched), and
// Image, a grey float image on the unit intensity scale that preprocessing and augmentation work on.
// Why keep stored codes: 16-bit mammograms are 30 MB each; mapping codes through a 65,536-entry table while
// resampling avoids materialising a full-resolution float copy (see preprocess.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mhr::data {

// A linear VOI window (DICOM PS3.3 C.11.2.1.2) on modality values.
struct Window {
  double center = 0;
  double width = 1;
  std::string function = "LINEAR"; // LINEAR | LINEAR_EXACT | SIGMOID (DICOM VOILUTFunction)
};

// A VOI LUT from the file (VOI LUT Sequence): entry i maps modality value firstMapped + i.
struct VoiLut {
  int64_t firstMapped = 0;
  int bits = 16; // LUT output bit depth: outputs are divided by 2^bits - 1
  std::vector<uint16_t> data;
};

struct RawImage {
  int64_t height = 0;
  int64_t width = 0;
  // Row-major stored pixel codes. For signed data (isSigned) the int16 bit pattern, already sign-extended
  // from bitsStored; for 8-bit sources the codes 0..255.
  std::vector<uint16_t> stored;
  bool isSigned = false;
  int bitsStored = 16;
  // Modality LUT (RescaleSlope/Intercept): value = slope * code + intercept.
  double slope = 1.0;
  double intercept = 0.0;
  // MONOCHROME1 (minimum is white): value := rangeMin() + rangeMax() - value, so larger is always brighter.
  bool invert = false;
  std::vector<Window> windows; // from the file, for `voi`
  std::vector<VoiLut> voiLuts; // from the file, for `voi` (preferred over windows when both exist)
  std::string source;          // the file, for messages
  // A colour raster (3 or 4 channels whose colour planes differ somewhere), converted to grey: data sets
  // accept it as their loaders always did; `mhr predict` refuses it for a network trained on grey images.
  bool colour = false;

  // The code as a number (sign applied).
  int32_t code(size_t i) const { return isSigned ? int32_t(int16_t(stored[i])) : int32_t(stored[i]); }
  int32_t codeMin() const { return isSigned ? -(1 << (bitsStored - 1)) : 0; }
  int32_t codeMax() const { return isSigned ? (1 << (bitsStored - 1)) - 1 : (1 << bitsStored) - 1; }
  // The modality value of a code before inversion, and the nominal range of modality values.
  double rescaled(int32_t c) const { return slope * c + intercept; }
  double rangeMin() const;
  double rangeMax() const;
  // The displayed modality value of a code: rescaled, then inverted for MONOCHROME1.
  double value(int32_t c) const;
};

// A grey image on the unit intensity scale (0 = black, 1 = white) unless normalised.
struct Image {
  int64_t height = 0;
  int64_t width = 0;
  std::vector<float> pixels; // row-major

  Image() = default;
  Image(int64_t h, int64_t w, float fill = 0.0f) : height(h), width(w), pixels(size_t(h * w), fill) {}
  float& at(int64_t y, int64_t x) { return pixels[size_t(y * width + x)]; }
  float at(int64_t y, int64_t x) const { return pixels[size_t(y * width + x)]; }
};

} // namespace mhr::data
