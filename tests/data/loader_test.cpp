// The batch loader: deterministic whatever the thread count, reshuffled per epoch, sharded like PyTorch's
// DistributedSampler, with labels that belong to their pixels.
#include "data/loader.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

namespace mhr::data {

using namespace test;

namespace {
struct Fixture {
  TempDir dir;
  std::ostringstream log;
  std::unique_ptr<Dataset> dataset;
  PreparedSplit split;
  explicit Fixture(const std::string& ctor = "synthetic_mammo", plan::Attrs extra = {}, int64_t count = 30) {
    plan::Attrs options = {{"cache", str(dir / "cache")}};
    for (auto& e : extra) options.push_back(e);
    dataset = std::make_unique<Dataset>(openDataset(
        config("d", ctor, {{"count", integer(count)}, {"size", size(64, 64)}, {"seed", integer(3)}}, options),
        0));
    PrepareOptions o;
    o.out = &log;
    o.progress = ProgressMode::Off;
    split = prepareSplit(*dataset, SplitId::Train, 32, 24, o);
  }
};
std::vector<Batch> epoch(const PreparedSplit& s, LoaderOptions o) {
  BatchLoader l(s, o);
  std::vector<Batch> out;
  while (auto b = l.next()) out.push_back(std::move(*b));
  EXPECT_EQ(int64_t(out.size()), l.batches());
  return out;
}
LoaderOptions opts(int64_t batch, int workers, int64_t ep = 0) {
  LoaderOptions o;
  o.batchSize = batch;
  o.workers = workers;
  o.seed = 11;
  o.epoch = ep;
  return o;
}
} // namespace

TEST(Loader, BatchesHaveTheDocumentedLayoutAndTheirOwnLabels) {
  Fixture f;
  auto batches = epoch(f.split, opts(4, 2));
  size_t n = 0;
  std::set<std::string> seen;
  for (const Batch& b : batches) {
    EXPECT_EQ(b.height, 32);
    EXPECT_EQ(b.width, 24);
    EXPECT_EQ(b.pixels.size(), size_t(b.size * 32 * 24));
    ASSERT_EQ(b.labels.size(), size_t(b.size));
    EXPECT_TRUE(b.targets.empty());
    for (int64_t k = 0; k < b.size; ++k) {
      const Sample& s = f.dataset->samples()[size_t(b.samples[size_t(k)])];
      EXPECT_EQ(b.ids[size_t(k)], s.id);
      EXPECT_EQ(b.labels[size_t(k)], s.label);
      const uint16_t* px = f.split.cache->pixels(size_t(b.samples[size_t(k)]));
      for (int64_t i = 0; i < 32 * 24; i += 97)
        ASSERT_EQ(b.pixels[size_t(k * 32 * 24 + i)], float(px[i]) * (1.0f / 65535.0f));
      seen.insert(s.id);
    }
    n += size_t(b.size);
  }
  EXPECT_EQ(n, f.split.size());
  EXPECT_EQ(seen.size(), f.split.size());
  EXPECT_LT(batches.back().size, 4 + 1);
}

TEST(Loader, SameContentForAnyNumberOfWorkers) {
  Fixture f;
  LoaderOptions o = opts(3, 0);
  o.augment = lower::lowerAugment({sym("hflip"), call("rotate", {}, {plan::Value::ofQuantity(10, "deg")}),
                                   call("brightness", {}, {num(0.1)})});
  auto a = epoch(f.split, o);
  o.workers = 1;
  auto b = epoch(f.split, o);
  o.workers = 3;
  o.prefetch = 1;
  auto c = epoch(f.split, o);
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.size(), c.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].ids, b[i].ids);
    EXPECT_EQ(a[i].pixels, b[i].pixels);
    EXPECT_EQ(a[i].pixels, c[i].pixels);
  }
}

TEST(Loader, EpochsReshuffleAndShuffleOffKeepsOrder) {
  Fixture f;
  auto ids = [&](LoaderOptions o) {
    std::vector<std::string> out;
    for (const Batch& b : epoch(f.split, o)) out.insert(out.end(), b.ids.begin(), b.ids.end());
    return out;
  };
  auto e0 = ids(opts(5, 1, 0)), e0again = ids(opts(5, 1, 0)), e1 = ids(opts(5, 1, 1));
  EXPECT_EQ(e0, e0again);
  EXPECT_NE(e0, e1);
  EXPECT_EQ(std::set<std::string>(e0.begin(), e0.end()), std::set<std::string>(e1.begin(), e1.end()));
  LoaderOptions o = opts(5, 1);
  o.shuffle = false;
  EXPECT_EQ(ids(o), f.split.ids);
}

TEST(Loader, ShardsLikeDistributedSampler) {
  for (size_t n : {size_t(10), size_t(12), size_t(13)}) {
    for (bool dropLast : {false, true}) {
      LoaderOptions o;
      o.seed = 5;
      o.epoch = 2;
      o.worldSize = 3;
      o.dropLast = dropLast;
      std::vector<size_t> all;
      std::vector<std::vector<size_t>> shards;
      for (int64_t r = 0; r < 3; ++r) {
        o.rank = r;
        shards.push_back(epochOrder(n, o));
        all.insert(all.end(), shards.back().begin(), shards.back().end());
      }
      size_t per = dropLast ? n / 3 : (n + 2) / 3;
      for (const auto& s : shards) EXPECT_EQ(s.size(), per);
      std::set<size_t> distinct(all.begin(), all.end());
      if (dropLast) {
        EXPECT_EQ(distinct.size(), all.size()) << "no sample twice";
      } else {
        EXPECT_EQ(distinct.size(), n) << "every sample visited";
      }
      // Interleaving: rank r takes positions r, r + 3, ... of the one-process permutation (plus padding).
      o.worldSize = 1;
      o.rank = 0;
      o.dropLast = false;
      std::vector<size_t> whole = epochOrder(n, o);
      for (size_t i = 0; i < per; ++i) EXPECT_EQ(shards[1][i], whole[(3 * i + 1) % n]);
    }
  }
}

TEST(Loader, UnpaddedShardsPartitionTheSplit) {
  // Evaluation's shards: every sample exactly once over the ranks, rank r at positions r, r + world, ...
  for (size_t n : {size_t(2), size_t(10), size_t(12), size_t(13)}) {
    LoaderOptions o;
    o.shuffle = false;
    o.padShards = false;
    o.worldSize = 4;
    std::vector<size_t> all;
    for (int64_t r = 0; r < 4; ++r) {
      o.rank = r;
      std::vector<size_t> s = epochOrder(n, o);
      EXPECT_EQ(s.size(), n > size_t(r) ? (n - size_t(r) + 3) / 4 : 0) << n << " rank " << r;
      for (size_t i = 0; i < s.size(); ++i) EXPECT_EQ(s[i], 4 * i + size_t(r));
      all.insert(all.end(), s.begin(), s.end());
    }
    std::sort(all.begin(), all.end());
    std::vector<size_t> expected(n);
    std::iota(expected.begin(), expected.end(), size_t(0));
    EXPECT_EQ(all, expected);
  }
}

TEST(Loader, DropLastDropsTheIncompleteBatch) {
  Fixture f;
  size_t n = f.split.size();
  LoaderOptions o = opts(4, 2);
  o.dropLast = true;
  auto b = epoch(f.split, o);
  EXPECT_EQ(b.size(), n / 4);
  for (const Batch& x : b) EXPECT_EQ(x.size, 4);
}

TEST(Loader, NormalizeMultiLabelAndThePreviewPath) {
  Fixture f("synthetic_cxr",
            {{"preprocess", list({call("normalize", {{"mean", num(0.5)}, {"std", num(0.25)}})})}}, 12);
  LoaderOptions o = opts(4, 2);
  o.augment = lower::lowerAugment({sym("vflip"), call("contrast", {}, {num(0.2)})});
  auto batches = epoch(f.split, o);
  const Batch& b = batches.front();
  EXPECT_EQ(b.classes, 14);
  ASSERT_EQ(b.targets.size(), size_t(b.size * 14));
  EXPECT_TRUE(b.labels.empty());
  for (int64_t k = 0; k < b.size; ++k) {
    const Sample& s = f.dataset->samples()[size_t(b.samples[size_t(k)])];
    for (size_t c = 0; c < 14; ++c) EXPECT_EQ(b.targets[size_t(k) * 14 + c], float(s.positives[c]));
    // sampleAsLoaded renders the same sample without the cache: equal after the loader's normalization.
    Image img = sampleAsLoaded(*f.dataset, size_t(b.samples[size_t(k)]), 32, 24, AugmentSpec{o.augment},
                               o.seed, o.epoch);
    for (size_t i = 0; i < img.pixels.size(); i += 31)
      ASSERT_NEAR(b.pixels[size_t(k) * 32 * 24 + i], (img.pixels[i] - 0.5f) / 0.25f, 1e-6);
  }
}

TEST(Loader, BadOptionsAndEarlyDestruction) {
  Fixture f;
  LoaderOptions o = opts(0, 1);
  EXPECT_NE(errorOf([&] { BatchLoader l(f.split, o); }).find("batch size"), std::string::npos);
  o = opts(2, 1);
  o.rank = 2;
  o.worldSize = 2;
  EXPECT_NE(errorOf([&] { BatchLoader l(f.split, o); }).find("rank 2 is outside world size 2"),
            std::string::npos);
  { // a loader abandoned after one batch must not hang its workers
    BatchLoader l(f.split, opts(1, 3));
    ASSERT_TRUE(l.next().has_value());
  }
}

} // namespace mhr::data
