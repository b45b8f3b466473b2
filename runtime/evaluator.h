// runtime/evaluator.h — an evaluate stage. In: a network, the stage's EvalConfig and a batch source over the
// split. Out, through the MetricsSink: the metrics it asks for (keys STAGE/METRIC[/CLASS], e.g.
// "evaluate.hr/auc", "evaluate.hr/auc_ci_low", "evaluate.hr/auc/Effusion"), the per-sample predictions (for
// ROC curves and confusion matrices) and Grad-CAM maps of the last convolutional stage for `cam_samples`
// samples.
#pragma once

#include "compiler/plan/plan.h"
#include "runtime/batch_source.h"
#include "runtime/distributed.h"
#include "runtime/metrics.h"
#include "runtime/metrics_sink.h"
#include "runtime/network.h"
#include "runtime/progress.h"

#include <string>

namespace mhr::runtime {

struct EvalContext {
  std::string stageKey; // "evaluate.hr"; metric keys start with it
  torch::Device device = torch::kCPU;
  bool channelsLast = false;
  ProgressOptions progress;
  uint64_t seed = 0; // bootstrap
  int64_t step = 0;  // step/epoch recorded with the metrics
  int64_t epoch = 0;
  // Data-parallel evaluation: `source` holds this rank's shard (padShards off, so the shards partition the
  // split); the predictions are gathered on every rank, in the split's order, before the metrics. Grad-CAM
  // runs on rank 0 only, over `camSource` (the whole split); without one, over `source`.
  Distributed* distributed = nullptr;
  BatchSource* camSource = nullptr;
};

// Runs the network in eval mode over one pass of `source` (which must not shuffle or augment). Scores are
// softmax probabilities (single-label) or sigmoids (multi-label); `meanLoss` receives the mean loss (cross
// entropy / BCE with logits, unweighted) when not null. `tta` averages the scores with the horizontally
// flipped image's.
PredictionSet predict(NetworkImpl& net, BatchSource& source, const EvalContext& context, bool tta,
                      double* meanLoss = nullptr);

// The shards of a data-parallel evaluation, reassembled on every rank: rank r's i-th sample is the split's
// sample r + i * world (data/loader.h without padding). `meanLoss`, when not null, becomes the mean over the
// whole split. Every rank must call it with the same stage key and step (they name the exchange).
PredictionSet gatherShards(const PredictionSet& local, Distributed& dist, const std::string& exchange,
                           double* meanLoss = nullptr);

// predict + the summary + logging + Grad-CAM. Returns the summary (also for the caller's console table).
EvaluationSummary evaluate(NetworkImpl& net, const plan::EvalConfig& config, BatchSource& source,
                           const EvalContext& context, MetricsSink& sink);

// The node Grad-CAM looks at by default: the last trunk node (not global pooling, not a branch) whose output
// is at least 8x8 at this input size, else the last one larger than 1x1; kNoNode when there is none.
ir::NodeId camNode(const ir::Graph& graph, int64_t height, int64_t width);

// Grad-CAM (Selvaraju et al.) of class `target` for one image (1 x C x H x W): ReLU of the feature maps at
// `node` weighted by the spatially averaged gradient of the class logit, scaled to [0, 1].
torch::Tensor gradCam(NetworkImpl& net, const torch::Tensor& image, ir::NodeId node, int64_t target);

// The record the report (and `mhr predict --cam`) draws: the first channel of `image` (1 x C x H x W) scaled
// to [0, 1], the map, and "CLASS 0.91" as the prediction.
CamRecord camRecord(const torch::Tensor& image, const torch::Tensor& cam, const std::string& stage,
                    const std::string& sampleId, const std::string& label, const std::string& predictedClass,
                    double score);

} // namespace mhr::runtime
