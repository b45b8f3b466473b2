// tracker/png_writer.cpp — see png_writer.h. Format: PNG (ISO/IEC 15948) chunks IHDR, IDAT, IEND; each
// scanline is prefixed by filter type 2 (Up) and the filtered image is one zlib stream (RFC 1950) made by
// zlib itself, which also computes the CRC-32 and Adler-32 checksums.
#include "tracker/png_writer.h"

#include "support/assert.h"

#include <zlib.h>

namespace mhr::tracker {

namespace {

void putBigEndian(std::string& out, uint32_t v) {
  out += static_cast<char>((v >> 24) & 0xFF);
  out += static_cast<char>((v >> 16) & 0xFF);
  out += static_cast<char>((v >> 8) & 0xFF);
  out += static_cast<char>(v & 0xFF);
}

void chunk(std::string& png, const char type[4], const std::string& data) {
  putBigEndian(png, static_cast<uint32_t>(data.size()));
  std::string typed(type, 4);
  typed += data;
  png += typed;
  putBigEndian(png, crc32(reinterpret_cast<const uint8_t*>(typed.data()), typed.size()));
}

} // namespace

uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc) {
  return static_cast<uint32_t>(::crc32_z(crc, data, size));
}

uint32_t adler32(const uint8_t* data, size_t size, uint32_t adler) {
  return static_cast<uint32_t>(::adler32_z(adler, data, size));
}

std::string encodePng(const uint8_t* pixels, int width, int height, int channels) {
  MHR_ASSERT(width > 0 && height > 0, "PNG needs a positive size");
  MHR_ASSERT(channels == 1 || channels == 3 || channels == 4, "PNG: 1, 3 or 4 channels");
  const size_t rowBytes = static_cast<size_t>(width) * static_cast<size_t>(channels);

  // Filter Up (each byte minus the one above it; the row above the first is zeros) turns the smooth
  // vertical gradients of scans and CAM overlays into runs of small values that deflate well: on a 320x320
  // overlay it makes the file about half the size that no filter does. The per-row adaptive choice of
  // libpng gains only a few percent more here, so one fixed filter keeps this simple.
  std::string raw;
  raw.reserve((rowBytes + 1) * static_cast<size_t>(height));
  for (int y = 0; y < height; ++y) {
    const uint8_t* row = pixels + static_cast<size_t>(y) * rowBytes;
    raw += '\2';
    for (size_t i = 0; i < rowBytes; ++i) {
      const uint8_t above = y > 0 ? row[i - rowBytes] : 0;
      raw += static_cast<char>(static_cast<uint8_t>(row[i] - above));
    }
  }

  uLongf zlibBytes = compressBound(static_cast<uLong>(raw.size()));
  std::string zlib(zlibBytes, '\0');
  // Level 9: report images are a few hundred KiB, where the best level costs milliseconds.
  const int rc =
      compress2(reinterpret_cast<Bytef*>(zlib.data()), &zlibBytes, reinterpret_cast<const Bytef*>(raw.data()),
                static_cast<uLong>(raw.size()), Z_BEST_COMPRESSION);
  MHR_ASSERT(rc == Z_OK, "zlib compress2 failed");
  zlib.resize(zlibBytes);

  std::string png = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  putBigEndian(ihdr, static_cast<uint32_t>(width));
  putBigEndian(ihdr, static_cast<uint32_t>(height));
  ihdr += static_cast<char>(8);                                         // bit depth
  ihdr += static_cast<char>(channels == 1 ? 0 : channels == 3 ? 2 : 6); // color type
  ihdr += std::string(3, '\0'); // deflate, adaptive filters, no interlace
  chunk(png, "IHDR", ihdr);
  chunk(png, "IDAT", zlib);
  chunk(png, "IEND", "");
  return png;
}

std::string base64Encode(std::string_view bytes) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v =
        (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint8_t(bytes[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i + 1 == bytes.size()) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    uint32_t v = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

} // namespace mhr::tracker
