#include "runtime/batch_source.h"

#include "data/cache.h"
#include "data/loader.h"
#include "support/assert.h"
#include "support/error.h"

#include <ATen/CPUGeneratorImpl.h>

namespace mhr::runtime {
namespace {

torch::Tensor toChannels(torch::Tensor gray, int64_t channels) {
  if (channels == gray.size(1)) return gray;
  MHR_ASSERT(gray.size(1) == 1 && channels == 3, "only gray images are repeated into 3 channels");
  // A gray image seen by an RGB network: (x, x, x), as ImageNet models take grayscale input.
  return gray.expand({gray.size(0), 3, gray.size(2), gray.size(3)}).contiguous();
}

class DataSource : public BatchSource {
public:
  DataSource(const data::PreparedSplit& split, SourceOptions options)
      : split_(split), options_(std::move(options)) {
    if (split_.size() == 0) throw UserError("data set '" + split_.dataset + "': the split is empty");
  }
  const std::vector<std::string>& classes() const override { return split_.classes; }
  bool multiLabel() const override { return split_.multiLabel; }
  // This rank's samples per epoch (all of them in one process).
  int64_t samples() const override {
    const int64_t n = static_cast<int64_t>(split_.size()), w = options_.worldSize, r = options_.rank;
    if (!options_.padShards && !options_.dropLast) return n > r ? (n - r + w - 1) / w : 0;
    return options_.dropLast ? n / w : (n + w - 1) / w;
  }
  void startEpoch(int64_t epoch) override {
    loader_.reset();
    data::LoaderOptions o;
    o.batchSize = options_.batch;
    o.shuffle = options_.shuffle;
    o.seed = options_.seed;
    o.epoch = epoch;
    o.augment = options_.augment;
    o.workers = static_cast<int>(options_.workers);
    o.dropLast = options_.dropLast;
    o.rank = options_.rank;
    o.worldSize = options_.worldSize;
    o.padShards = options_.padShards;
    loader_ = std::make_unique<data::BatchLoader>(split_, o);
  }
  int64_t batchesPerEpoch() const override {
    if (loader_) return loader_->batches();
    int64_t n = samples();
    return options_.dropLast ? n / options_.batch : (n + options_.batch - 1) / options_.batch;
  }
  std::optional<TensorBatch> next() override {
    MHR_ASSERT(loader_ != nullptr, "next() before startEpoch()");
    std::optional<data::Batch> b = loader_->next();
    if (!b) return std::nullopt;
    TensorBatch t;
    torch::Tensor px =
        torch::from_blob(b->pixels.data(), {b->size, 1, b->height, b->width}, torch::kFloat).clone();
    t.images = toChannels(px, options_.channels);
    if (split_.multiLabel)
      t.targets = torch::from_blob(b->targets.data(), {b->size, b->classes}, torch::kFloat).clone();
    else
      t.labels = torch::tensor(b->labels, torch::kLong);
    t.ids = std::move(b->ids);
    return t;
  }

private:
  const data::PreparedSplit& split_;
  SourceOptions options_;
  std::unique_ptr<data::BatchLoader> loader_;
};

class TensorSource : public BatchSource {
public:
  TensorSource(torch::Tensor images, torch::Tensor labels, std::vector<std::string> classes, bool multiLabel,
               SourceOptions options)
      : images_(std::move(images)), labels_(std::move(labels)), classes_(std::move(classes)),
        multiLabel_(multiLabel), options_(std::move(options)) {
    MHR_ASSERT(images_.dim() == 4 && labels_.size(0) == images_.size(0), "tensor source: images and labels");
    for (int64_t i = 0; i < images_.size(0); ++i) ids_.push_back("sample-" + std::to_string(i));
  }
  const std::vector<std::string>& classes() const override { return classes_; }
  bool multiLabel() const override { return multiLabel_; }
  int64_t samples() const override { return images_.size(0); }
  void startEpoch(int64_t epoch) override {
    const int64_t n = samples();
    if (options_.shuffle) {
      at::Generator gen =
          at::make_generator<at::CPUGeneratorImpl>(options_.seed * 1000003u + static_cast<uint64_t>(epoch));
      order_ = torch::randperm(n, gen, torch::kLong);
    } else {
      order_ = torch::arange(n, torch::kLong);
    }
    position_ = 0;
  }
  int64_t batchesPerEpoch() const override {
    int64_t n = samples();
    return options_.dropLast ? n / options_.batch : (n + options_.batch - 1) / options_.batch;
  }
  std::optional<TensorBatch> next() override {
    const int64_t n = samples();
    int64_t end = std::min(n, position_ + options_.batch);
    if (position_ >= n || (options_.dropLast && end - position_ < options_.batch)) return std::nullopt;
    torch::Tensor idx = order_.slice(0, position_, end);
    TensorBatch b;
    b.images = toChannels(images_.index_select(0, idx), options_.channels);
    if (multiLabel_)
      b.targets = labels_.index_select(0, idx).to(torch::kFloat);
    else
      b.labels = labels_.index_select(0, idx).to(torch::kLong);
    for (int64_t i = 0; i < idx.size(0); ++i)
      b.ids.push_back(ids_[static_cast<size_t>(idx[i].item<int64_t>())]);
    position_ = end;
    return b;
  }

private:
  torch::Tensor images_, labels_;
  std::vector<std::string> classes_;
  bool multiLabel_;
  SourceOptions options_;
  std::vector<std::string> ids_;
  torch::Tensor order_;
  int64_t position_ = 0;
};

} // namespace

std::unique_ptr<BatchSource> makeDataSource(const data::PreparedSplit& split, const SourceOptions& options) {
  return std::make_unique<DataSource>(split, options);
}

std::unique_ptr<BatchSource> makeTensorSource(torch::Tensor images, torch::Tensor labelsOrTargets,
                                              std::vector<std::string> classes, bool multiLabel,
                                              const SourceOptions& options) {
  return std::make_unique<TensorSource>(std::move(images), std::move(labelsOrTargets), std::move(classes),
                                        multiLabel, options);
}

} // namespace mhr::runtime
