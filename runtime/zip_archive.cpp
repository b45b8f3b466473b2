#include "runtime/zip_archive.h"

#include "support/error.h"

#include <array>
#include <cstring>
#include <limits>

namespace mhr::runtime {
namespace {

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEndOfCentralDirSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr size_t kLocalHeaderSize = 30;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kEndOfCentralDirSize = 22;
constexpr size_t kZip64EndSize = 56;
constexpr size_t kZip64LocatorSize = 20;
constexpr uint64_t kAlignment = 64; // PyTorch aligns record data to 64 bytes

std::array<uint32_t, 256> makeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

// Reads little-endian integers at an offset after checking the range lies inside the buffer.
class Cursor {
public:
  Cursor(std::string_view bytes, const std::string& displayName) : bytes_(bytes), displayName_(displayName) {}
  void need(uint64_t offset, uint64_t size, const char* what) const {
    if (offset > bytes_.size() || size > bytes_.size() - offset)
      throw UserError("'" + displayName_ + "' is not a valid zip archive: " + what +
                      " lies outside the file (" + std::to_string(bytes_.size()) +
                      " bytes; truncated or corrupted?)");
  }
  uint16_t u16(uint64_t offset) const {
    need(offset, 2, "a header field");
    auto p = reinterpret_cast<const unsigned char*>(bytes_.data() + offset);
    return static_cast<uint16_t>(p[0] | (p[1] << 8));
  }
  uint32_t u32(uint64_t offset) const {
    need(offset, 4, "a header field");
    auto p = reinterpret_cast<const unsigned char*>(bytes_.data() + offset);
    return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
           (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
  }
  uint64_t u64(uint64_t offset) const {
    return static_cast<uint64_t>(u32(offset)) | (static_cast<uint64_t>(u32(offset + 4)) << 32);
  }
  std::string_view slice(uint64_t offset, uint64_t size, const char* what) const {
    need(offset, size, what);
    return bytes_.substr(offset, size);
  }

private:
  std::string_view bytes_;
  const std::string& displayName_;
};

void putU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}
void putU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

} // namespace

uint32_t crc32(std::string_view data) {
  static const std::array<uint32_t, 256> table = makeCrcTable();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = table[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

ZipReader::ZipReader(std::string_view bytes, std::string displayName)
    : bytes_(bytes), displayName_(std::move(displayName)) {
  Cursor in(bytes_, displayName_);
  auto bad = [&](const std::string& why) {
    return UserError("'" + displayName_ + "' is not a valid zip archive: " + why);
  };
  if (bytes_.size() < kEndOfCentralDirSize)
    throw bad("too short (" + std::to_string(bytes_.size()) + " bytes)");

  // The end-of-central-directory record sits in the last 22 + up to 65535 (comment) bytes.
  uint64_t eocd = std::numeric_limits<uint64_t>::max();
  uint64_t searchFloor =
      bytes_.size() > kEndOfCentralDirSize + 0xffff ? bytes_.size() - kEndOfCentralDirSize - 0xffff : 0;
  for (uint64_t pos = bytes_.size() - kEndOfCentralDirSize + 1; pos-- > searchFloor;) {
    if (in.u32(pos) == kEndOfCentralDirSig) {
      eocd = pos;
      break;
    }
  }
  if (eocd == std::numeric_limits<uint64_t>::max())
    throw bad("no end-of-central-directory record (truncated?)");

  uint64_t entryCount = in.u16(eocd + 10);
  uint64_t dirSize = in.u32(eocd + 12);
  uint64_t dirOffset = in.u32(eocd + 16);
  if (in.u16(eocd + 4) != 0 || in.u16(eocd + 6) != 0) throw bad("multi-disk archives are not supported");

  // Zip64: the locator sits right before the classic record and points at the zip64 record.
  if (eocd >= kZip64LocatorSize && in.u32(eocd - kZip64LocatorSize) == kZip64LocatorSig) {
    uint64_t z64 = in.u64(eocd - kZip64LocatorSize + 8);
    in.need(z64, kZip64EndSize, "the zip64 end record");
    if (in.u32(z64) != kZip64EndSig) throw bad("broken zip64 end record");
    entryCount = in.u64(z64 + 32);
    dirSize = in.u64(z64 + 40);
    dirOffset = in.u64(z64 + 48);
  }
  in.need(dirOffset, dirSize, "the central directory");
  // Each central header is at least 46 bytes: a count larger than that bound is a corrupted count.
  if (entryCount > dirSize / kCentralHeaderSize) throw bad("entry count does not fit the central directory");

  uint64_t pos = dirOffset;
  const uint64_t dirEnd = dirOffset + dirSize;
  entries_.reserve(entryCount);
  for (uint64_t i = 0; i < entryCount; ++i) {
    if (pos + kCentralHeaderSize > dirEnd) throw bad("central directory ends inside an entry");
    if (in.u32(pos) != kCentralHeaderSig) throw bad("broken central directory entry " + std::to_string(i));
    uint16_t flags = in.u16(pos + 8);
    uint16_t method = in.u16(pos + 10);
    uint32_t crc = in.u32(pos + 16);
    uint64_t compSize = in.u32(pos + 20);
    uint64_t size = in.u32(pos + 24);
    uint16_t nameLen = in.u16(pos + 28);
    uint16_t extraLen = in.u16(pos + 30);
    uint16_t commentLen = in.u16(pos + 32);
    uint64_t localOffset = in.u32(pos + 42);
    uint64_t varEnd = pos + kCentralHeaderSize + nameLen + extraLen + commentLen;
    if (varEnd > dirEnd)
      throw bad("central directory entry " + std::to_string(i) + " runs past the directory");
    std::string name(in.slice(pos + kCentralHeaderSize, nameLen, "an entry name"));

    // Zip64 extra field: the 64-bit values of exactly those fields whose 32-bit value is all ones.
    uint64_t extra = pos + kCentralHeaderSize + nameLen;
    uint64_t extraEnd = extra + extraLen;
    while (extra + 4 <= extraEnd) {
      uint16_t id = in.u16(extra);
      uint16_t len = in.u16(extra + 2);
      if (extra + 4 + len > extraEnd) throw bad("broken extra field in entry '" + name + "'");
      if (id == 0x0001) {
        uint64_t f = extra + 4, fEnd = f + len;
        auto take = [&](uint64_t& field) {
          if (field != 0xFFFFFFFFu) return;
          if (f + 8 > fEnd) throw bad("short zip64 field in entry '" + name + "'");
          field = in.u64(f);
          f += 8;
        };
        take(size);
        take(compSize);
        take(localOffset);
      }
      extra += 4 + len;
    }

    if (flags & 0x1) throw bad("entry '" + name + "' is encrypted");
    if (method == 0 && compSize != size) throw bad("entry '" + name + "' is stored but its two sizes differ");

    // The local header repeats name and extra field with its own lengths; the data follows it.
    in.need(localOffset, kLocalHeaderSize, "a local header");
    if (in.u32(localOffset) != kLocalHeaderSig) throw bad("broken local header of entry '" + name + "'");
    uint64_t dataOffset =
        localOffset + kLocalHeaderSize + in.u16(localOffset + 26) + in.u16(localOffset + 28);
    in.need(dataOffset, compSize, ("the data of entry '" + name + "'").c_str());
    entries_.push_back(ZipEntry{std::move(name), dataOffset, compSize, crc, method});
    pos = varEnd;
  }
}

const ZipEntry* ZipReader::find(std::string_view name) const {
  for (const ZipEntry& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

std::string_view ZipReader::read(const ZipEntry& entry) const {
  if (entry.method != 0)
    throw UserError("'" + displayName_ + "': entry '" + entry.name + "' is compressed (zip method " +
                    std::to_string(entry.method) +
                    "); torch.save writes uncompressed entries: load the file in Python and save it again "
                    "with torch.save, or export safetensors");
  std::string_view data = bytes_.substr(entry.dataOffset, entry.size); // bounds checked in the constructor
  if (crc32(data) != entry.crc32)
    throw UserError("'" + displayName_ + "': entry '" + entry.name + "' is corrupted (CRC-32 mismatch)");
  return data;
}

void ZipWriter::add(const std::string& name, std::string_view data) {
  uint64_t headerOffset = out_.size();
  // Pad the local header's extra field so the data starts on a 64-byte boundary, as PyTorch does ("FB" id).
  uint64_t base = headerOffset + kLocalHeaderSize + name.size();
  uint64_t padding = 0;
  if ((base + 4) % kAlignment != 0) padding = kAlignment - (base + 4) % kAlignment;
  uint16_t extraLen = static_cast<uint16_t>(4 + padding);
  uint32_t crc = crc32(data);
  if (data.size() >= 0xFFFFFFFFu || out_.size() + data.size() >= 0xFFFFFFFFu || name.size() > 0xffff)
    throw UserError("the state dict is too large for a zip archive without zip64 (over 4 GiB): "
                    "export safetensors instead");
  putU32(out_, kLocalHeaderSig);
  putU16(out_, 20);   // version needed
  putU16(out_, 0);    // flags
  putU16(out_, 0);    // method: stored
  putU16(out_, 0);    // time
  putU16(out_, 0x21); // date: 1980-01-01, as PyTorch writes it
  putU32(out_, crc);
  putU32(out_, static_cast<uint32_t>(data.size()));
  putU32(out_, static_cast<uint32_t>(data.size()));
  putU16(out_, static_cast<uint16_t>(name.size()));
  putU16(out_, extraLen);
  out_ += name;
  putU16(out_, 0x4246); // "FB"
  putU16(out_, static_cast<uint16_t>(padding));
  out_.append(padding, 'Z');
  out_.append(data);
  written_.push_back(Written{name, headerOffset, data.size(), crc});
}

std::string ZipWriter::finish() {
  if (written_.size() >= 0xffff)
    throw UserError("too many tensors for a zip archive without zip64: export safetensors");
  uint64_t dirOffset = out_.size();
  for (const Written& w : written_) {
    putU32(out_, kCentralHeaderSig);
    putU16(out_, 20); // version made by
    putU16(out_, 20); // version needed
    putU16(out_, 0);
    putU16(out_, 0);
    putU16(out_, 0);
    putU16(out_, 0x21);
    putU32(out_, w.crc32);
    putU32(out_, static_cast<uint32_t>(w.size));
    putU32(out_, static_cast<uint32_t>(w.size));
    putU16(out_, static_cast<uint16_t>(w.name.size()));
    putU16(out_, 0); // extra
    putU16(out_, 0); // comment
    putU16(out_, 0); // disk
    putU16(out_, 0); // internal attributes
    putU32(out_, 0); // external attributes
    putU32(out_, static_cast<uint32_t>(w.headerOffset));
    out_ += w.name;
  }
  uint64_t dirSize = out_.size() - dirOffset;
  if (out_.size() >= 0xFFFFFFFFu)
    throw UserError("the state dict is too large for a zip archive without zip64");
  putU32(out_, kEndOfCentralDirSig);
  putU16(out_, 0);
  putU16(out_, 0);
  putU16(out_, static_cast<uint16_t>(written_.size()));
  putU16(out_, static_cast<uint16_t>(written_.size()));
  putU32(out_, static_cast<uint32_t>(dirSize));
  putU32(out_, static_cast<uint32_t>(dirOffset));
  putU16(out_, 0);
  written_.clear();
  return std::move(out_);
}

} // namespace mhr::runtime
