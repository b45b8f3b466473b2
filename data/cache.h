// data/cache.h — the prepared-image cache: every sample of a data set decoded and preprocessed at one
// resolution, in one memory-mapped file per (pixel sources, preprocessing, resolution). In: an opened
// Dataset and H x W. Out: a PreparedSplit the batch loader reads (pixels from the mapping, labels copied).
//
// Format (docs/data.md): a 4 KiB header (magic "MHRCACH1", size, count, the key, the preprocessing text),
// then count x H x W uint16 pixels, value = round(unit * 65535) where unit is the 0..1 intensity after
// preprocessing (normalize is applied at batch time), then the list of samples that failed to decode with
// their messages (on_error: skip). uint16 halves the size of float32 at 1.5e-5 precision, far below the
// 12-bit effective depth of mammograms; 3,103 CBIS-DDSM images at 1024x832 take 5.3 GB.
//
// Key: SHA-256 over the format version, the preprocessing, H x W and, per sample in order, its fingerprint:
// (path, size, mtime in ns) for files, the generator parameters for synthetic data. Hashing 160 GB of DICOM
// on every run is not an option; a stat per file is (3,103 stats take milliseconds). The cost: a file
// rewritten in place with the same size *and* the same mtime goes unnoticed; delete the cache folder after
// such surgery. The cache covers all splits, so changing the validation seed or fraction reuses it.
//
// Safety: built into "<file>.tmp.<pid>" and renamed into place after fsync, so a killed build leaves the old
// state (no cache) and never a torn file; temporary files of dead processes are removed by the next build.
// A file whose header, key or size does not match is rebuilt, never trusted.
#pragma once

#include "data/dataset.h"
#include "data/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace mhr::data {

// The cache's pixel code of a unit intensity and back; `mhr predict` quantises the same way so that its
// scores equal the evaluation's (the network saw these values, not the floats before them).
inline uint16_t cacheCode(float unit) {
  return uint16_t(std::lround(std::clamp(double(unit), 0.0, 1.0) * 65535.0));
}
inline float cacheUnit(uint16_t code) {
  return float(code) * (1.0f / 65535.0f);
}

// One cache file, mapped read-only. Shared by every PreparedSplit of the same data set and resolution.
class CacheFile {
public:
  ~CacheFile();
  CacheFile(const CacheFile&) = delete;
  CacheFile& operator=(const CacheFile&) = delete;

  // Maps and validates `path` (magic, version, expected key and sizes); nullptr when the file is absent or
  // does not match (it is then rebuilt).
  static std::shared_ptr<const CacheFile> open(const std::string& path, const std::string& key,
                                               int64_t height, int64_t width, size_t count);

  const std::string& path() const { return path_; }
  int64_t height() const { return height_; }
  int64_t width() const { return width_; }
  size_t count() const { return count_; }
  const uint16_t* pixels(size_t entry) const; // height * width codes
  bool failed(size_t entry) const;
  const std::string& failure(size_t entry) const; // "" when the entry is fine

private:
  CacheFile() = default;
  std::string path_;
  int64_t height_ = 0, width_ = 0;
  size_t count_ = 0;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  size_t pixelOffset_ = 0;
  std::vector<std::string> failures_; // per entry
};

// What the batch loader needs of one split, independent of the Dataset's lifetime.
struct PreparedSplit {
  std::string dataset; // data set name
  SplitId split = SplitId::Train;
  int64_t height = 0, width = 0;
  std::vector<std::string> classes;
  bool multiLabel = false;
  bool normalize = false;
  double mean = 0.0, std = 1.0;
  std::shared_ptr<const CacheFile> cache;
  // Per sample of the split, in data set order (failed entries left out):
  std::vector<size_t> entries;                 // entry in the cache file (= sample index in the data set)
  std::vector<std::string> ids;                // sample ids
  std::vector<int64_t> labels;                 // single-label
  std::vector<std::vector<uint8_t>> positives; // multi-label
  size_t size() const { return entries.size(); }
};

struct PrepareOptions {
  int threads = 0; // 0 = all hardware threads
  ProgressMode progress = ProgressMode::Auto;
  std::ostream* out = nullptr; // progress and the "reused"/"built" line; nullptr = std::cerr
  std::string cacheDir;        // overrides the data set's `cache:` option when not empty
};

// The cache key and file of a data set at H x W (no file is read or written).
std::string cacheKey(const Dataset& dataset, int64_t height, int64_t width);
std::string cachePath(const Dataset& dataset, int64_t height, int64_t width,
                      const PrepareOptions& options = {});

// Opens the cache of `dataset` at H x W, building it first when it is missing or stale. Decode errors stop
// with the file's message (on_error: stop) or are recorded and left out with a warning naming each file
// (on_error: skip), on every use of the cache, not only when it is built.
std::shared_ptr<const CacheFile> prepareCache(const Dataset& dataset, int64_t height, int64_t width,
                                              const PrepareOptions& options = {});

// prepareCache + the split's samples and labels. Throws UserError when the split is empty.
PreparedSplit prepareSplit(const Dataset& dataset, SplitId split, int64_t height, int64_t width,
                           const PrepareOptions& options = {});

} // namespace mhr::data
