// data/loader.h — batches for the runtime, as plain C++ (no Torch types in data/). In: a PreparedSplit (the
// memory-mapped cache) and the loader options of one epoch. Out: Batch objects in a fixed order: contiguous
// float pixels N x 1 x H x W (augmented, then normalised when the data set says `normalize`), labels as class
// indices (single-label) or multi-hot floats N x C (multi-label), and the sample ids.
//
// Determinism: the order of an epoch is a permutation drawn from (seed, epoch); each sample's augmentation
// from (seed, epoch, sample index in the data set). Worker threads only change speed, never content: batch b
// is built by worker b % workers and handed out in order.
//
// Sharding (data-parallel runs) follows torch.utils.data.DistributedSampler: the epoch's permutation is cut
// into world_size interleaved shards (rank r takes positions r, r + world, ...). Without drop_last the list
// is first padded by repeating its beginning so every rank gets ceil(n / world) samples; with drop_last it is
// truncated to floor(n / world) per rank, and a last incomplete batch is dropped too.
#pragma once

#include "compiler/plan/value.h"
#include "data/augment.h"
#include "data/cache.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mhr::data {

struct LoaderOptions {
  int64_t batchSize = 8;
  bool shuffle = true;
  uint64_t seed = 0; // the run seed
  int64_t epoch = 0;
  std::vector<plan::AugmentOp> augment; // the stage's `augment:` list (plan::TrainConfig::augmentOps)
  int workers = 2;  // threads building batches; 0 = build in next() on the caller's thread
  int prefetch = 2; // batches each worker may have ready ahead
  bool dropLast = false;
  int64_t rank = 0;
  int64_t worldSize = 1;
  // false (evaluation): no padding, rank r takes r, r + world, ... < n, so the shards partition the split
  // exactly (their sizes differ by at most one, a rank may get none).
  bool padShards = true;
};

struct Batch {
  int64_t size = 0; // N
  int64_t height = 0, width = 0;
  std::vector<float> pixels;    // N x 1 x H x W, contiguous
  std::vector<int64_t> labels;  // single-label: N class indices
  std::vector<float> targets;   // multi-label: N x C (0 or 1)
  int64_t classes = 0;          // C
  std::vector<std::string> ids; // sample ids, N
  std::vector<int64_t> samples; // sample indices in the data set (stable across epochs), N
};

// One sample exactly as BatchLoader yields it, normalize excluded, computed without a cache: decode or
// render, preprocess, quantise to the cache's 16 bits, augment with the stream of (seed, epoch, sample).
// Previews use it to show a few samples of a large data set without preparing all of it.
Image sampleAsLoaded(const Dataset& dataset, size_t sample, int64_t height, int64_t width,
                     const AugmentSpec& augment, uint64_t seed, int64_t epoch);

// The positions (into the split) this rank visits in this epoch, in order.
std::vector<size_t> epochOrder(size_t splitSize, const LoaderOptions& options);

class BatchLoader {
public:
  // Throws UserError for bad options (batch < 1, rank outside world).
  BatchLoader(const PreparedSplit& split, LoaderOptions options);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  int64_t batches() const { return int64_t(batchStarts_.size()); }
  int64_t samples() const { return int64_t(order_.size()); } // this rank, this epoch (after drop_last)
  // The next batch, or nullopt at the end of the epoch. Rethrows a worker's error.
  std::optional<Batch> next();

  // Builds batch b directly (what the workers do); for tests and the preview.
  Batch build(int64_t b) const;

private:
  void workerLoop(int worker);
  const PreparedSplit& split_;
  LoaderOptions options_;
  AugmentSpec augment_;
  std::vector<size_t> order_;
  std::vector<size_t> batchStarts_;
  int64_t nextBatch_ = 0;

  struct Slot {
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<Batch> ready;
    std::exception_ptr error;
  };
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<std::thread> threads_;
  bool stop_ = false; // guarded by each slot's mutex when read in waits; set under all of them
};

} // namespace mhr::data
