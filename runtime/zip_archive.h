// runtime/zip_archive.h — the zip container of torch.save files, without LibTorch. In: a file's bytes (which
// may be hostile: every offset and size is checked against the buffer). Out: the stored entries by name,
// their bytes CRC-checked. The writer produces uncompressed entries aligned to 64 bytes, the layout PyTorch's
// own writer uses, so torch.load (and memory-mapped loading in newer PyTorch) accepts what we write.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mhr::runtime {

struct ZipEntry {
  std::string name;
  uint64_t dataOffset = 0; // where the entry's bytes start in the archive
  uint64_t size = 0;
  uint32_t crc32 = 0;
  uint16_t method = 0; // 0 = stored; anything else is refused by read()
};

class ZipReader {
public:
  // Parses the central directory (zip64 included). Throws mhr::UserError naming `displayName` when the bytes
  // are not a zip archive, are truncated, or hold encrypted entries.
  ZipReader(std::string_view bytes, std::string displayName);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(std::string_view name) const;
  // The entry's bytes, a view into the archive. Throws mhr::UserError when its CRC-32 does not match or the
  // entry is compressed (torch.save stores entries uncompressed; a re-zipped file must be saved again).
  std::string_view read(const ZipEntry& entry) const;

private:
  std::string_view bytes_;
  std::string displayName_;
  std::vector<ZipEntry> entries_;
};

class ZipWriter {
public:
  void add(const std::string& name, std::string_view data);
  // The whole archive. Throws mhr::UserError when it would need zip64 (over 4 GiB or 65535 entries).
  std::string finish();

private:
  struct Written {
    std::string name;
    uint64_t headerOffset;
    uint64_t size;
    uint32_t crc32;
  };
  std::string out_;
  std::vector<Written> written_;
};

uint32_t crc32(std::string_view data);

} // namespace mhr::runtime
