#include "data/cache.h"

#include "data/decode.h"
#include "support/assert.h"
#include "support/error.h"
#include "support/files.h"
#include "support/sha256.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <sys/mman.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace mhr::data {

namespace {

constexpr char kMagic[8] = {'M', 'H', 'R', 'C', 'A', 'C', 'H', '1'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 4096;

// Header fields at fixed offsets, little-endian (the only byte order mhr runs on; checked below).
struct Header {
  char magic[8];
  uint32_t version;
  uint32_t headerSize;
  int64_t height;
  int64_t width;
  uint64_t count;
  uint64_t pixelOffset;
  uint64_t failuresOffset;
  uint64_t failuresSize;
  uint64_t totalSize;
  char key[64];
  uint32_t descriptionSize;
};
static_assert(sizeof(Header) + 1024 < kHeaderSize, "header must fit its page");

bool littleEndian() {
  uint16_t x = 1;
  uint8_t b;
  std::memcpy(&b, &x, 1);
  return b == 1;
}

void writeAll(int fd, const void* data, size_t size, uint64_t offset, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::pwrite(fd, p, size, off_t(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw UserError(path + ": cannot write the cache (" + std::strerror(errno) + "; disk full?)");
    }
    p += n;
    size -= size_t(n);
    offset += uint64_t(n);
  }
}

// Temporary files "<final>.tmp.<pid>" of processes that no longer exist are debris of killed builds.
void removeDeadTemporaries(const std::string& finalPath) {
  namespace fs = std::filesystem;
  fs::path p(finalPath);
  std::string prefix = p.filename().string() + ".tmp.";
  std::error_code ec;
  for (auto it = fs::directory_iterator(p.parent_path(), ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && ::kill(pid_t(pid), 0) != 0 && errno == ESRCH) fs::remove(it->path(), ec);
  }
}

std::string sanitize(const std::string& name) {
  std::string out;
  for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  return out.empty() ? "data" : out;
}

} // namespace

// ---------------------------------------------------------------- CacheFile

CacheFile::~CacheFile() {
  if (base_) ::munmap(const_cast<uint8_t*>(base_), size_);
}

std::shared_ptr<const CacheFile> CacheFile::open(const std::string& path, const std::string& key,
                                                 int64_t height, int64_t width, size_t count) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st;
  if (::fstat(fd, &st) != 0 || size_t(st.st_size) < kHeaderSize) {
    ::close(fd);
    return nullptr;
  }
  size_t size = size_t(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd); // the mapping keeps the file alive
  if (map == MAP_FAILED) return nullptr;
  std::shared_ptr<CacheFile> c(new CacheFile());
  c->path_ = path;
  c->base_ = static_cast<const uint8_t*>(map);
  c->size_ = size;
  Header h;
  std::memcpy(&h, c->base_, sizeof h);
  const uint64_t pixels = uint64_t(height) * uint64_t(width) * 2 * count;
  bool ok = std::memcmp(h.magic, kMagic, 8) == 0 && h.version == kVersion && h.headerSize == kHeaderSize &&
            h.height == height && h.width == width && h.count == count && h.pixelOffset == kHeaderSize &&
            std::memcmp(h.key, key.data(), 64) == 0 && h.totalSize == size &&
            h.failuresOffset == kHeaderSize + pixels && h.failuresOffset + h.failuresSize == size;
  if (!ok) return nullptr; // destructor unmaps
  c->height_ = height;
  c->width_ = width;
  c->count_ = count;
  c->pixelOffset_ = kHeaderSize;
  c->failures_.assign(count, "");
  // Failure records: u64 entry, u32 length, message bytes.
  size_t at = size_t(h.failuresOffset), end = size;
  while (at < end) {
    if (end - at < 12) return nullptr;
    uint64_t entry;
    uint32_t len;
    std::memcpy(&entry, c->base_ + at, 8);
    std::memcpy(&len, c->base_ + at + 8, 4);
    at += 12;
    if (entry >= count || end - at < len) return nullptr;
    c->failures_[size_t(entry)].assign(reinterpret_cast<const char*>(c->base_ + at), len);
    if (c->failures_[size_t(entry)].empty()) return nullptr;
    at += len;
  }
  // Pages are read on demand; tell the kernel accesses are random (shuffled batches).
  ::madvise(const_cast<uint8_t*>(c->base_), size, MADV_RANDOM);
  return c;
}

const uint16_t* CacheFile::pixels(size_t entry) const {
  MHR_ASSERT(entry < count_, "CacheFile::pixels: entry out of range");
  return reinterpret_cast<const uint16_t*>(base_ + pixelOffset_ + entry * size_t(height_ * width_) * 2);
}

bool CacheFile::failed(size_t entry) const {
  return !failures_[entry].empty();
}
const std::string& CacheFile::failure(size_t entry) const {
  return failures_[entry];
}

// ---------------------------------------------------------------- key and path

std::string cacheKey(const Dataset& dataset, int64_t height, int64_t width) {
  support::Sha256 h;
  h.update(fmt::format("mhr-cache-v{};uint16-unit;{}x{};{};count={};", kVersion, height, width,
                       dataset.options().preprocess.cacheKeyText(), dataset.samples().size()));
  for (size_t i = 0; i < dataset.samples().size(); ++i) {
    h.update(dataset.fingerprint(i));
    h.update("\n", 1);
  }
  return h.hexDigest();
}

std::string cachePath(const Dataset& dataset, int64_t height, int64_t width, const PrepareOptions& options) {
  std::string dir = options.cacheDir.empty() ? dataset.options().cacheDir : options.cacheDir;
  std::string key = cacheKey(dataset, height, width);
  return (std::filesystem::path(dir) /
          fmt::format("{}-{}x{}-{}.mhrc", sanitize(dataset.name()), height, width, key.substr(0, 16)))
      .string();
}

// ---------------------------------------------------------------- building

namespace {

void build(const Dataset& dataset, int64_t height, int64_t width, const std::string& path,
           const std::string& key, const PrepareOptions& options, std::ostream& out) {
  const size_t count = dataset.samples().size();
  const size_t imageBytes = size_t(height * width) * 2;
  const uint64_t failuresOffset = kHeaderSize + uint64_t(imageBytes) * count;
  support::makeDirectories(std::filesystem::path(path).parent_path().string());
  removeDeadTemporaries(path);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw UserError(tmp + ": cannot create the cache file (" + std::strerror(errno) + ")");
  struct Cleanup { // removes the temporary file on every error path
    int fd;
    std::string tmp;
    bool done = false;
    ~Cleanup() {
      if (fd >= 0) ::close(fd);
      if (!done) ::unlink(tmp.c_str());
    }
  } cleanup{fd, tmp};
  if (::ftruncate(fd, off_t(failuresOffset)) != 0)
    throw UserError(tmp + ": cannot size the cache file (" + std::strerror(errno) + ")");

  const PreprocessSpec& spec = dataset.options().preprocess;
  const bool skip = dataset.options().skipErrors;
  unsigned threads =
      options.threads > 0 ? unsigned(options.threads) : std::max(1u, std::thread::hardware_concurrency());
  threads = unsigned(std::min<size_t>(threads, count));
  std::atomic<size_t> next{0}, done{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::string firstError;
  std::vector<std::pair<size_t, std::string>> failures;
  auto work = [&] {
    std::vector<uint16_t> codes(size_t(height * width));
    RawImage raw; // reused: no 30 MB allocation per mammogram
    Image img;
    while (!stop) {
      size_t i = next++;
      if (i >= count) break;
      try {
        dataset.load(i, raw);
        preprocess(raw, spec, height, width, img);
        for (size_t k = 0; k < codes.size(); ++k) codes[k] = cacheCode(img.pixels[k]);
        writeAll(fd, codes.data(), imageBytes, kHeaderSize + uint64_t(imageBytes) * i, tmp);
      } catch (const UserError& e) {
        std::lock_guard<std::mutex> lock(mutex);
        std::string message = e.what();
        if (message.find(dataset.samples()[i].path) == std::string::npos &&
            !dataset.samples()[i].path.empty())
          message = dataset.samples()[i].path + ": " + message;
        message = dataset.samples()[i].origin + ": " + message;
        if (skip && message.find("cannot write the cache") == std::string::npos) {
          failures.push_back({i, message});
        } else if (firstError.empty()) {
          firstError = message;
          stop = true;
        }
      } catch (const std::bad_alloc&) {
        std::lock_guard<std::mutex> lock(mutex);
        if (firstError.empty())
          firstError = dataset.samples()[i].origin + ": out of memory while preparing the image";
        stop = true;
      } catch (const std::exception& e) { // a library's own exception: report it, never terminate the process
        std::lock_guard<std::mutex> lock(mutex);
        if (firstError.empty())
          firstError = dataset.samples()[i].origin + ": " + dataset.samples()[i].path + ": " + e.what();
        stop = true;
      }
      ++done;
    }
  };
  Progress progress(fmt::format("prepare {} at {}x{}", dataset.name(), height, width), count, out,
                    options.progress);
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work);
  while (done < count && !stop) {
    progress.update(done);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (auto& t : pool) t.join();
  if (!firstError.empty()) {
    progress.finish(done, "stopped");
    throw UserError(
        firstError +
        (skip ? "" : "\n  (set `on_error: skip` in the data set's options to leave such files out)"));
  }

  std::sort(failures.begin(), failures.end());
  std::string failureBytes;
  for (const auto& [entry, message] : failures) {
    uint64_t e = entry;
    uint32_t len = uint32_t(message.size());
    failureBytes.append(reinterpret_cast<const char*>(&e), 8);
    failureBytes.append(reinterpret_cast<const char*>(&len), 4);
    failureBytes += message;
  }
  writeAll(fd, failureBytes.data(), failureBytes.size(), failuresOffset, tmp);
  std::vector<char> headerPage(kHeaderSize, 0);
  Header h{};
  std::memcpy(h.magic, kMagic, 8);
  h.version = kVersion;
  h.headerSize = kHeaderSize;
  h.height = height;
  h.width = width;
  h.count = count;
  h.pixelOffset = kHeaderSize;
  h.failuresOffset = failuresOffset;
  h.failuresSize = failureBytes.size();
  h.totalSize = failuresOffset + failureBytes.size();
  std::memcpy(h.key, key.data(), 64);
  std::string description = fmt::format("dataset {} ({}), {} samples, {}x{}, {}", dataset.name(),
                                        dataset.constructorName(), count, height, width, spec.cacheKeyText());
  description.resize(std::min<size_t>(description.size(), kHeaderSize - sizeof(Header) - 1));
  h.descriptionSize = uint32_t(description.size());
  std::memcpy(headerPage.data(), &h, sizeof h);
  std::memcpy(headerPage.data() + sizeof h, description.data(), description.size());
  writeAll(fd, headerPage.data(), kHeaderSize, 0, tmp);
  if (::fsync(fd) != 0) throw UserError(tmp + ": cannot flush the cache file (" + std::strerror(errno) + ")");
  ::close(cleanup.fd);
  cleanup.fd = -1;
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    throw UserError(tmp + ": cannot move the cache into place (" + std::strerror(errno) + ")");
  cleanup.done = true;
  int dirFd = ::open(std::filesystem::path(path).parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd >= 0) { // make the rename itself durable
    ::fsync(dirFd);
    ::close(dirFd);
  }
  progress.finish(done, "");
}

} // namespace

std::shared_ptr<const CacheFile> prepareCache(const Dataset& dataset, int64_t height, int64_t width,
                                              const PrepareOptions& options) {
  MHR_ASSERT(littleEndian(), "the cache format is little-endian");
  if (height <= 0 || width <= 0 || height > 16384 || width > 16384)
    throw UserError(
        fmt::format("{}: resolution {}x{} is outside 1..16384 per side", dataset.where(), height, width));
  if (dataset.samples().empty()) throw UserError(dataset.where() + ": the data set has no samples");
  std::ostream& out = options.out ? *options.out : std::cerr;
  const std::string key = cacheKey(dataset, height, width);
  const std::string path = cachePath(dataset, height, width, options);
  const size_t count = dataset.samples().size();
  auto cache = CacheFile::open(path, key, height, width, count);
  bool built = false;
  if (!cache) {
    bool needsDecoding = false;
    for (const Sample& s : dataset.samples()) needsDecoding |= s.generated < 0;
    if (needsDecoding && !imageIoAvailable())
      throw UserError(
          fmt::format("{}: no prepared cache at {} and this mhr cannot decode images (built with "
                      "MHR_WITH_IMAGE_IO=OFF); run `mhr prepare` for this spec on a machine with image "
                      "decoding and copy the cache folder here",
                      dataset.where(), path));
    build(dataset, height, width, path, key, options, out);
    built = true;
    cache = CacheFile::open(path, key, height, width, count);
    if (!cache) throw UserError(path + ": the cache just written cannot be read back (file system problem?)");
  }
  size_t failed = 0;
  for (size_t i = 0; i < count; ++i)
    if (cache->failed(i)) {
      ++failed;
      dataset.warn(cache->failure(i) + "; left out (on_error: skip)");
    }
  if (failed)
    dataset.warn(fmt::format("{}: {} of {} images could not be read and are left out (on_error: skip)",
                             dataset.where(), failed, count));
  if (options.progress != ProgressMode::Off)
    out << fmt::format("{} cache for {} at {}x{}: {} ({} images{})\n", built ? "built" : "reusing",
                       dataset.name(), height, width, path, count - failed,
                       failed ? fmt::format(", {} left out", failed) : "");
  return cache;
}

PreparedSplit prepareSplit(const Dataset& dataset, SplitId split, int64_t height, int64_t width,
                           const PrepareOptions& options) {
  std::vector<size_t> members = dataset.indices(split);
  if (members.empty())
    throw UserError(fmt::format("{}: the {} split is empty", dataset.where(), splitName(split)));
  PreparedSplit s;
  s.cache = prepareCache(dataset, height, width, options);
  s.dataset = dataset.name();
  s.split = split;
  s.height = height;
  s.width = width;
  s.classes = dataset.classes();
  s.multiLabel = dataset.multiLabel();
  s.normalize = dataset.options().preprocess.normalize;
  s.mean = dataset.options().preprocess.mean;
  s.std = dataset.options().preprocess.std;
  for (size_t i : members) {
    if (s.cache->failed(i)) continue;
    const Sample& sample = dataset.samples()[i];
    s.entries.push_back(i);
    s.ids.push_back(sample.id);
    if (s.multiLabel)
      s.positives.push_back(sample.positives);
    else
      s.labels.push_back(sample.label);
  }
  if (s.entries.empty())
    throw UserError(
        fmt::format("{}: every image of the {} split failed to load", dataset.where(), splitName(split)));
  return s;
}

} // namespace mhr::data
