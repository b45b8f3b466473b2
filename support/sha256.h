// support/sha256.h — SHA-256 for content addressing (data cache keys, spec hashes, artifact hashes,
// the grammar hash that guards the committed parser). Incremental, no dependencies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mhr::support {

class Sha256 {
public:
  Sha256();
  void update(const void* data, size_t size);
  void update(std::string_view text) { update(text.data(), text.size()); }
  std::string hexDigest(); // finishes the hash; the object must not be updated afterwards

private:
  void block(const uint8_t* chunk);
  uint32_t state_[8];
  uint8_t buffer_[64];
  size_t bufferSize_ = 0;
  uint64_t totalBytes_ = 0;
};

std::string sha256Hex(std::string_view data);
// Hash of a file's bytes; throws mhr::UserError naming the file when it cannot be read.
std::string sha256File(const std::string& path);

} // namespace mhr::support
