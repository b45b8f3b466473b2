#include "data/loader.h"

#include "data/random.h"
#include "support/assert.h"
#include "support/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace mhr::data {

Image sampleAsLoaded(const Dataset& dataset, size_t sample, int64_t height, int64_t width,
                     const AugmentSpec& spec, uint64_t seed, int64_t epoch) {
  Image img = preprocess(dataset.load(sample), dataset.options().preprocess, height, width);
  for (float& v : img.pixels) // the cache's quantisation, so the preview shows exactly what training reads
    v = float(std::lround(std::clamp(double(v), 0.0, 1.0) * 65535.0)) * (1.0f / 65535.0f);
  augment(img, spec, deriveStreamSeed(seed, uint64_t(epoch), uint64_t(sample)));
  return img;
}

std::vector<size_t> epochOrder(size_t n, const LoaderOptions& o) {
  std::vector<size_t> all;
  if (o.shuffle)
    all = permutation(n, deriveStreamSeed(o.seed, 0x6f72646572ULL /* "order" */, uint64_t(o.epoch)));
  else {
    all.resize(n);
    for (size_t i = 0; i < n; ++i) all[i] = i;
  }
  const size_t world = size_t(o.worldSize);
  size_t perRank = o.dropLast ? n / world : (n + world - 1) / world;
  size_t total = perRank * world;
  if (!o.padShards && !o.dropLast) total = n;
  if (total > n) { // pad by repeating the beginning (cyclically, if the pad is longer than the list)
    size_t missing = total - n;
    for (size_t k = 0; k < missing; ++k) all.push_back(all[k % n]);
  }
  all.resize(total);
  std::vector<size_t> mine;
  for (size_t i = size_t(o.rank); i < total; i += world) mine.push_back(all[i]);
  return mine;
}

BatchLoader::BatchLoader(const PreparedSplit& split, LoaderOptions options)
    : split_(split), options_(std::move(options)) {
  const std::string where = fmt::format("loader for {}.{}", split_.dataset, splitName(split_.split));
  if (options_.batchSize < 1) throw UserError(where + ": batch size must be at least 1");
  if (options_.worldSize < 1 || options_.rank < 0 || options_.rank >= options_.worldSize)
    throw UserError(
        fmt::format("{}: rank {} is outside world size {}", where, options_.rank, options_.worldSize));
  if (options_.workers < 0 || options_.prefetch < 1)
    throw UserError(where + ": workers >= 0 and prefetch >= 1 needed");
  MHR_ASSERT(split_.size() > 0 && split_.cache, "BatchLoader: empty or unprepared split");
  augment_.ops = options_.augment;
  order_ = epochOrder(split_.size(), options_);
  for (size_t start = 0; start < order_.size(); start += size_t(options_.batchSize)) {
    if (options_.dropLast && start + size_t(options_.batchSize) > order_.size()) break;
    batchStarts_.push_back(start);
  }
  for (int w = 0; w < options_.workers; ++w) slots_.push_back(std::make_unique<Slot>());
  for (int w = 0; w < options_.workers && w < int(batchStarts_.size()); ++w)
    threads_.emplace_back(&BatchLoader::workerLoop, this, w);
}

BatchLoader::~BatchLoader() {
  for (auto& s : slots_) {
    std::lock_guard<std::mutex> lock(s->mutex);
    stop_ = true;
  }
  for (auto& s : slots_) s->changed.notify_all();
  for (auto& t : threads_) t.join();
}

Batch BatchLoader::build(int64_t b) const {
  MHR_ASSERT(b >= 0 && b < batches(), "BatchLoader::build: batch out of range");
  const size_t start = batchStarts_[size_t(b)];
  const size_t n = std::min(order_.size() - start, size_t(options_.batchSize));
  const int64_t H = split_.height, W = split_.width, plane = H * W;
  Batch batch;
  batch.size = int64_t(n);
  batch.height = H;
  batch.width = W;
  batch.classes = int64_t(split_.classes.size());
  batch.pixels.resize(n * size_t(plane));
  if (split_.multiLabel) batch.targets.assign(n * split_.classes.size(), 0.0f);
  const double invStd = 1.0 / split_.std;
  Image img(H, W);
  for (size_t k = 0; k < n; ++k) {
    size_t pos = order_[start + k];
    size_t entry = split_.entries[pos];
    const uint16_t* src = split_.cache->pixels(entry);
    float* dst = batch.pixels.data() + k * size_t(plane);
    if (augment_.empty()) {
      for (int64_t i = 0; i < plane; ++i) dst[i] = cacheUnit(src[i]);
    } else {
      for (int64_t i = 0; i < plane; ++i) img.pixels[size_t(i)] = cacheUnit(src[i]);
      augment(img, augment_, deriveStreamSeed(options_.seed, uint64_t(options_.epoch), uint64_t(entry)));
      std::copy(img.pixels.begin(), img.pixels.end(), dst);
    }
    if (split_.normalize)
      for (int64_t i = 0; i < plane; ++i) dst[i] = float((double(dst[i]) - split_.mean) * invStd);
    batch.ids.push_back(split_.ids[pos]);
    batch.samples.push_back(int64_t(entry));
    if (split_.multiLabel) {
      const auto& p = split_.positives[pos];
      for (size_t c = 0; c < p.size(); ++c) batch.targets[k * split_.classes.size() + c] = p[c] ? 1.0f : 0.0f;
    } else {
      batch.labels.push_back(split_.labels[pos]);
    }
  }
  return batch;
}

void BatchLoader::workerLoop(int worker) {
  Slot& slot = *slots_[size_t(worker)];
  for (int64_t b = worker; b < batches(); b += options_.workers) {
    {
      std::unique_lock<std::mutex> lock(slot.mutex);
      slot.changed.wait(lock, [&] { return stop_ || int(slot.ready.size()) < options_.prefetch; });
      if (stop_) return;
    }
    try {
      Batch batch = build(b);
      std::lock_guard<std::mutex> lock(slot.mutex);
      slot.ready.push_back(std::move(batch));
    } catch (...) {
      std::lock_guard<std::mutex> lock(slot.mutex);
      slot.error = std::current_exception();
      slot.changed.notify_all();
      return;
    }
    slot.changed.notify_all();
  }
}

std::optional<Batch> BatchLoader::next() {
  if (nextBatch_ >= batches()) return std::nullopt;
  int64_t b = nextBatch_++;
  if (options_.workers == 0) return build(b);
  Slot& slot = *slots_[size_t(b % options_.workers)];
  std::unique_lock<std::mutex> lock(slot.mutex);
  slot.changed.wait(lock, [&] { return !slot.ready.empty() || slot.error; });
  if (slot.ready.empty()) std::rethrow_exception(slot.error);
  Batch batch = std::move(slot.ready.front());
  slot.ready.pop_front();
  lock.unlock();
  slot.changed.notify_all();
  return batch;
}

} // namespace mhr::data
