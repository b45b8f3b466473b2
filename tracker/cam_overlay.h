// tracker/cam_overlay.h — pictures for the report's sample predictions. In: a runtime::CamRecord (the
// preprocessed input image, gray or 3 RGB planes, and the class-activation map at the last conv stage's
// resolution); out: 8-bit RGB images, downscaled to at most maxSide pixels on the longer side: the input as
// seen by the network, and the input with the map upsampled (bilinear) and blended in a jet colour scale
// (blue = low, red = high; more opaque where the map is high, so the anatomy stays readable elsewhere).
#pragma once

#include "runtime/metrics_sink.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mhr::tracker {

struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels; // row-major RGB
};

// The record must be consistent (image size h*w or 3*h*w, map camH*camW); returns "" when it is, else what
// is wrong (the report shows that instead of a picture).
std::string camProblem(const runtime::CamRecord& cam);

// For a consistent record: "" when the map can show where the evidence is, else why it cannot, said on the
// page next to the picture (an all-zero map draws as a uniformly blue copy of the image and would otherwise
// read as "no evidence anywhere" without a word): all zero, uniform, or too coarse (at most 2x2 cells).
std::string camFlatness(const runtime::CamRecord& cam);

RgbImage renderInput(const runtime::CamRecord& cam, int maxSide);
RgbImage renderOverlay(const runtime::CamRecord& cam, int maxSide);
// A horizontal strip of the colour scale, low to high.
RgbImage colorScale(int width, int height);
void jetColor(double t, uint8_t rgb[3]);

} // namespace mhr::tracker
