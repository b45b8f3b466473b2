// data/io/raster.h — PNG/JPEG/TIFF/BMP through OpenCV (built only with MHR_WITH_IMAGE_IO). In: a path, or
// grey pixel codes to write. Out: a RawImage of 8- or 16-bit codes (colour converted to grey with the
// ITU-R 601 weights PIL's "L" mode uses, alpha dropped), or a PNG file (atomic write).
#pragma once

#include "data/image.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mhr::data::io {

// Into `img`, reusing its pixel buffer (see decodeImage in data/decode.h).
void decodeRaster(const std::string& path, RawImage& img);

// bits: 8 (codes 0..255) or 16. Throws UserError naming the file on failure.
void writeGreyPng(const std::string& path, int64_t height, int64_t width, const std::vector<uint16_t>& codes,
                  int bits);

} // namespace mhr::data::io
