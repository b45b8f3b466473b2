// compiler/cost/memory_check.cpp — see memory_check.h.
#include "compiler/cost/memory_check.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace mhr::cost {

namespace {

TrainingSetup setupOf(const plan::Stage& stage, bool cuda, int64_t batch) {
  TrainingSetup s;
  s.batch = batch;
  s.precision = cuda ? stage.train.precision : Precision::Fp32;
  s.optimizer = stage.train.optimizer.kind;
  s.momentum = stage.train.optimizer.momentum != 0;
  return s;
}

CheckpointPolicy policyOf(const plan::Stage& stage) {
  return stage.train.checkpointing;
}

// Forward only: fp32 weights, the input batch, and per image the two largest activations (a node's input
// and output are alive together; inference frees everything else).
int64_t evalBytes(const NetworkCost& c, int64_t batch) {
  int64_t largest = 0, second = 0;
  for (const NodeCost& n : c.nodes) {
    if (n.outputElements > largest) {
      second = largest;
      largest = n.outputElements;
    } else if (n.outputElements > second) {
      second = n.outputElements;
    }
  }
  const double bytes = 4.0 * double(c.parameters) + 4.0 * double(batch) * double(largest + second);
  return bytes > 9e18 ? int64_t(9e18) : int64_t(bytes);
}

// Memory of the stage at (batch, h, w); nullopt when the network cannot run there.
std::optional<int64_t> estimate(const ir::Graph& graph, const plan::Stage& stage, bool cuda, int64_t batch,
                                int64_t h, int64_t w, int64_t limit, CheckpointPolicy policy) {
  std::optional<NetworkCost> c = analyze(graph, h, w);
  if (!c) return std::nullopt;
  if (stage.kind == plan::Stage::Kind::Evaluate) return evalBytes(*c, batch);
  return planCheckpoints(graph, *c, setupOf(stage, cuda, batch), policy, limit).memory.totalBytes();
}

} // namespace

std::string bytesText(int64_t bytes) {
  char buf[64];
  const double b = double(bytes);
  if (b >= 1099511627776.0)
    std::snprintf(buf, sizeof buf, "%.1f TiB", b / 1099511627776.0);
  else if (b >= 1073741824.0)
    std::snprintf(buf, sizeof buf, "%.1f GiB", b / 1073741824.0);
  else
    std::snprintf(buf, sizeof buf, "%.0f MiB", b / 1048576.0);
  return buf;
}

std::optional<StageMemory> stageMemory(const ir::Graph& graph, const plan::Stage& stage, int64_t limitBytes,
                                       bool cuda) {
  const bool train = stage.kind == plan::Stage::Kind::Train;
  const int64_t batch = std::max<int64_t>(1, train ? stage.train.batch : stage.eval.batch);
  const int64_t h = stage.resolution.h, w = stage.resolution.w;
  const CheckpointPolicy policy = train ? policyOf(stage) : CheckpointPolicy::Off;
  std::optional<int64_t> now = estimate(graph, stage, cuda, batch, h, w, limitBytes, policy);
  if (!now) return std::nullopt;
  StageMemory m;
  m.estimateBytes = *now;
  m.limitBytes = limitBytes;
  m.fits = limitBytes <= 0 || *now <= limitBytes;
  if (m.fits) return m;
  auto fitsAt = [&](int64_t b, int64_t hh, int64_t ww) {
    std::optional<int64_t> e = estimate(graph, stage, cuda, b, hh, ww, limitBytes, policy);
    return e && *e <= limitBytes;
  };
  // Memory grows with the batch: bisect for the largest one that fits.
  if (batch > 1 && fitsAt(1, h, w)) {
    int64_t lo = 1, hi = batch - 1;
    while (lo < hi) {
      int64_t mid = lo + (hi - lo + 1) / 2;
      if (fitsAt(mid, h, w))
        lo = mid;
      else
        hi = mid - 1;
    }
    m.fittingBatch = lo;
  }
  // ... and with the pixels: scale both sides (same aspect, multiples of 32) at the stage's batch.
  double lo = 0.0, hi = 1.0;
  for (int i = 0; i < 20; ++i) {
    double mid = (lo + hi) / 2;
    int64_t hh = std::max<int64_t>(32, int64_t(double(h) * mid) / 32 * 32);
    int64_t ww = std::max<int64_t>(32, int64_t(double(w) * mid) / 32 * 32);
    if (fitsAt(batch, hh, ww))
      lo = mid;
    else
      hi = mid;
  }
  int64_t fh = int64_t(double(h) * lo) / 32 * 32, fw = int64_t(double(w) * lo) / 32 * 32;
  if (fh >= 32 && fw >= 32 && fitsAt(batch, fh, fw) && (fh < h || fw < w)) m.fittingResolution = {{fh, fw}};
  if (train && policy == CheckpointPolicy::Off) {
    std::optional<int64_t> e = estimate(graph, stage, cuda, batch, h, w, limitBytes, CheckpointPolicy::Auto);
    m.checkpointingWouldFit = e && *e <= limitBytes;
  }
  return m;
}

} // namespace mhr::cost
