// runtime/batch_source.h — where training and evaluation get their batches. In: a split (the data layer's
// prepared cache and batch loader, or tensors held in memory for tests). Out: tensor batches, one epoch at a
// time, in an order that depends only on (seed, epoch), so an interrupted run resumes on the same batches.
#pragma once

#include "compiler/plan/dataset_spec.h"
#include "runtime/torch_compat.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mhr::data {
struct PreparedSplit;
} // namespace mhr::data

namespace mhr::runtime {

struct TensorBatch {
  torch::Tensor images;         // N x C x H x W float32 on the CPU
  torch::Tensor labels;         // single-label: N int64 class indices
  torch::Tensor targets;        // multi-label: N x K float32 (0/1)
  std::vector<std::string> ids; // sample ids
  int64_t size() const { return images.size(0); }
};

class BatchSource {
public:
  virtual ~BatchSource() = default;
  virtual const std::vector<std::string>& classes() const = 0;
  virtual bool multiLabel() const = 0;
  virtual int64_t samples() const = 0;
  // Starts `epoch` (0-based): a fresh pass in that epoch's order. Augmentation on or off is fixed at
  // creation.
  virtual void startEpoch(int64_t epoch) = 0;
  virtual int64_t batchesPerEpoch() const = 0;
  virtual std::optional<TensorBatch> next() = 0;
};

struct SourceOptions {
  int64_t batch = 8;
  bool shuffle = true;
  bool dropLast = false;
  uint64_t seed = 0;
  int64_t workers = 2;
  int64_t channels = 1;                 // the network's input channels: gray images are repeated to 3
  std::vector<plan::AugmentOp> augment; // training only
  int64_t rank = 0; // data-parallel: this rank's shard (data/loader.h, DistributedSampler's)
  int64_t worldSize = 1;
  bool padShards = true; // false: the shards partition the split exactly (evaluation; data/loader.h)
};

// Batches from the data layer (data::BatchLoader over a prepared, memory-mapped split). `split` must outlive
// the source.
std::unique_ptr<BatchSource> makeDataSource(const data::PreparedSplit& split, const SourceOptions& options);

// Batches from tensors in memory (tests, benchmarks): images N x C x H x W, labels N (int64) or targets N x
// K. The epoch's order is a permutation drawn from (seed, epoch) when shuffling.
std::unique_ptr<BatchSource> makeTensorSource(torch::Tensor images, torch::Tensor labelsOrTargets,
                                              std::vector<std::string> classes, bool multiLabel,
                                              const SourceOptions& options);

} // namespace mhr::runtime
