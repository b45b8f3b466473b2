// tracker/png_writer.h — a small PNG encoder (on zlib) and base64, so reports embed images in builds without
// OpenCV. In: 8-bit pixels (gray, RGB or RGBA, rows top to bottom); out: the bytes of a valid PNG file, its
// image data filtered (Up) and deflated by zlib, with zlib's CRC-32 and Adler-32. Every image mhr writes
// (report pictures, `mhr predict --cam` overlays) goes through it; its files are smaller than OpenCV's
// default PNGs (zlib level 9 against OpenCV's fast level).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mhr::tracker {

// channels: 1 (gray), 3 (RGB) or 4 (RGBA); pixels holds width*height*channels bytes.
std::string encodePng(const uint8_t* pixels, int width, int height, int channels);

uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc = 0);
uint32_t adler32(const uint8_t* data, size_t size, uint32_t adler = 1);

std::string base64Encode(std::string_view bytes);

} // namespace mhr::tracker
