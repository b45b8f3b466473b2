// tracker/png_writer.cpp — see png_writer.h. Format: PNG (ISO/IEC 15948) chunks IHDR, IDAT, IEND; the IDAT
// payload is a zlib stream (RFC 1950) of stored deflate blocks (RFC 1951, BTYPE 00), each scanline prefixed
// by filter type 0 (None).
#include "tracker/png_writer.h"

#include "support/assert.h"

#include <array>

namespace mhr::tracker {

namespace {

const std::array<uint32_t, 256>& crcTable() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  return table;
}

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
  const auto& table = crcTable();
  uint32_t c = crc ^ 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) c = table[(c ^ data[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t adler32(const uint8_t* data, size_t size, uint32_t adler) {
  uint32_t a = adler & 0xFFFF, b = adler >> 16;
  for (size_t i = 0; i < size; ++i) {
    a = (a + data[i]) % 65521;
    b = (b + a) % 65521;
  }
  return (b << 16) | a;
}

std::string encodePngStored(const uint8_t* pixels, int width, int height, int channels) {
  MHR_ASSERT(width > 0 && height > 0, "PNG needs a positive size");
  MHR_ASSERT(channels == 1 || channels == 3 || channels == 4, "PNG: 1, 3 or 4 channels");
  const size_t rowBytes = static_cast<size_t>(width) * static_cast<size_t>(channels);

  // The raw image: a filter byte (0) before each row.
  std::string raw;
  raw.reserve((rowBytes + 1) * static_cast<size_t>(height));
  for (int y = 0; y < height; ++y) {
    raw += '\0';
    raw.append(reinterpret_cast<const char*>(pixels) + static_cast<size_t>(y) * rowBytes, rowBytes);
  }

  std::string zlib;
  zlib += static_cast<char>(0x78); // CMF: deflate, 32K window
  zlib += static_cast<char>(0x01); // FLG: no dictionary, fastest; (0x78 << 8 | 0x01) % 31 == 0
  const size_t kMaxBlock = 65535;
  size_t offset = 0;
  do {
    size_t len = std::min(kMaxBlock, raw.size() - offset);
    bool last = offset + len == raw.size();
    zlib += static_cast<char>(last ? 1 : 0); // BFINAL, BTYPE = 00 (stored)
    zlib += static_cast<char>(len & 0xFF);
    zlib += static_cast<char>((len >> 8) & 0xFF);
    zlib += static_cast<char>(~len & 0xFF);
    zlib += static_cast<char>((~len >> 8) & 0xFF);
    zlib.append(raw, offset, len);
    offset += len;
  } while (offset < raw.size());
  putBigEndian(zlib, adler32(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()));

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
