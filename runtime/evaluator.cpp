#include "runtime/evaluator.h"

#include "compiler/ir/paths.h"
#include "compiler/ir/shapes.h"
#include "support/assert.h"
#include "support/error.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>

namespace mhr::runtime {

namespace F = torch::nn::functional;

namespace {

torch::Tensor toDevice(const torch::Tensor& x, const EvalContext& c) {
  torch::Tensor y = x.to(c.device, /*non_blocking=*/true);
  return c.channelsLast ? y.contiguous(torch::MemoryFormat::ChannelsLast) : y;
}

std::string formatScore(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

} // namespace

CamRecord camRecord(const torch::Tensor& image, const torch::Tensor& cam, const std::string& stage,
                    const std::string& sampleId, const std::string& label, const std::string& predictedClass,
                    double score) {
  CamRecord rec;
  rec.stage = stage;
  rec.sampleId = sampleId;
  rec.label = label;
  rec.predicted = predictedClass + " " + formatScore(score);
  torch::Tensor gray = image.select(1, 0).select(0, 0).to(torch::kCPU, torch::kFloat).contiguous();
  double lo = gray.min().item<double>(), hi = gray.max().item<double>();
  gray = hi > lo ? (gray - lo) / (hi - lo) : torch::zeros_like(gray);
  rec.height = gray.size(0);
  rec.width = gray.size(1);
  rec.image.assign(gray.data_ptr<float>(), gray.data_ptr<float>() + gray.numel());
  torch::Tensor map = cam.to(torch::kCPU, torch::kFloat).contiguous();
  rec.camHeight = map.size(0);
  rec.camWidth = map.size(1);
  rec.cam.assign(map.data_ptr<float>(), map.data_ptr<float>() + map.numel());
  return rec;
}

PredictionSet predict(NetworkImpl& net, BatchSource& source, const EvalContext& context, bool tta,
                      double* meanLoss) {
  PredictionSet out;
  out.stage = context.stageKey;
  out.classes = source.classes();
  out.multiLabel = source.multiLabel();
  const size_t k = out.classes.size();
  net.eval();
  torch::NoGradGuard noGrad;
  source.startEpoch(0);
  Progress progress(context.stageKey, source.batchesPerEpoch(), context.progress);
  double lossSum = 0;
  int64_t count = 0;
  while (std::optional<TensorBatch> b = source.next()) {
    torch::Tensor x = toDevice(b->images, context);
    torch::Tensor logits = net.forward(x).to(torch::kFloat);
    MHR_ASSERT(logits.dim() == 2 && static_cast<size_t>(logits.size(1)) == k,
               "network outputs do not match the data set's classes");
    torch::Tensor scores = out.multiLabel ? torch::sigmoid(logits) : torch::softmax(logits, 1);
    if (tta) {
      torch::Tensor flipped = net.forward(x.flip({3})).to(torch::kFloat);
      scores = (scores + (out.multiLabel ? torch::sigmoid(flipped) : torch::softmax(flipped, 1))) / 2;
    }
    if (meanLoss) {
      torch::Tensor l = out.multiLabel
                            ? F::binary_cross_entropy_with_logits(
                                  logits, b->targets.to(logits.device()),
                                  F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kSum))
                            : F::cross_entropy(logits, b->labels.to(logits.device()),
                                               F::CrossEntropyFuncOptions().reduction(torch::kSum));
      lossSum += l.item<double>() / (out.multiLabel ? static_cast<double>(k) : 1.0);
    }
    torch::Tensor s = scores.to(torch::kCPU).contiguous();
    const int64_t n = b->size();
    count += n;
    for (int64_t i = 0; i < n; ++i) {
      std::vector<float> row(s[i].data_ptr<float>(), s[i].data_ptr<float>() + k);
      std::vector<float> lab(k, 0.0f);
      if (out.multiLabel) {
        torch::Tensor t = b->targets[i].contiguous();
        lab.assign(t.data_ptr<float>(), t.data_ptr<float>() + k);
      } else {
        lab[static_cast<size_t>(b->labels[i].item<int64_t>())] = 1.0f;
      }
      out.scores.push_back(std::move(row));
      out.labels.push_back(std::move(lab));
      out.sampleIds.push_back(b->ids[static_cast<size_t>(i)]);
    }
    progress.advance();
  }
  progress.finish();
  if (meanLoss) *meanLoss = count ? lossSum / static_cast<double>(count) : NAN;
  return out;
}

PredictionSet gatherShards(const PredictionSet& local, Distributed& dist, const std::string& exchange,
                           double* meanLoss) {
  const int64_t world = dist.worldSize(), rank = dist.rank();
  const int64_t k = static_cast<int64_t>(local.classes.size());
  const torch::Device device(dist.device());
  const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
  // Shard sizes (and the loss sums) first; then scores and labels, each rank filling its own slot of a zero
  // tensor that the sum all-reduce completes: all-gather with the one collective every backend has.
  torch::Tensor sizes = torch::zeros({world + 2}, f64);
  double* pz = sizes.data_ptr<double>();
  pz[rank] = static_cast<double>(local.scores.size());
  if (meanLoss && !local.scores.empty()) {
    pz[world] = *meanLoss * static_cast<double>(local.scores.size());
    pz[world + 1] = static_cast<double>(local.scores.size());
  }
  sizes = sizes.to(device);
  dist.allReduceSum(sizes, exchange + ": shard sizes");
  sizes = sizes.to(torch::kCPU);
  std::vector<int64_t> counts(static_cast<size_t>(world));
  int64_t most = 0;
  for (int64_t q = 0; q < world; ++q) most = std::max(most, counts[size_t(q)] = sizes[q].item<int64_t>());
  torch::Tensor scores = torch::zeros({world, most, k}, f64), labels = torch::zeros({world, most, k}, f64);
  double* ps = scores.data_ptr<double>() + rank * most * k;
  double* pl = labels.data_ptr<double>() + rank * most * k;
  for (size_t i = 0; i < local.scores.size(); ++i)
    for (int64_t c = 0; c < k; ++c) {
      ps[int64_t(i) * k + c] = static_cast<double>(local.scores[i][size_t(c)]);
      pl[int64_t(i) * k + c] = static_cast<double>(local.labels[i][size_t(c)]);
    }
  scores = scores.to(device);
  labels = labels.to(device);
  dist.allReduceSum(scores, exchange + ": scores");
  dist.allReduceSum(labels, exchange + ": labels");
  scores = scores.to(torch::kCPU).contiguous();
  labels = labels.to(torch::kCPU).contiguous();
  // Sample ids are strings: through the store (small: one line per sample).
  std::string mine;
  for (const std::string& id : local.sampleIds) mine += id + '\n';
  dist.storeSet(exchange + "/ids/" + std::to_string(rank), mine);
  std::vector<std::vector<std::string>> ids(static_cast<size_t>(world));
  for (int64_t q = 0; q < world; ++q) {
    std::string all = q == rank ? mine : dist.storeGet(exchange + "/ids/" + std::to_string(q));
    for (size_t start = 0, end; (end = all.find('\n', start)) != std::string::npos; start = end + 1)
      ids[size_t(q)].push_back(all.substr(start, end - start));
    if (static_cast<int64_t>(ids[size_t(q)].size()) != counts[size_t(q)])
      throw UserError(exchange + ": rank " + std::to_string(q) + " sent " +
                      std::to_string(ids[size_t(q)].size()) + " sample ids for " +
                      std::to_string(counts[size_t(q)]) + " predictions");
  }
  PredictionSet out;
  out.stage = local.stage;
  out.classes = local.classes;
  out.multiLabel = local.multiLabel;
  const double* s = scores.data_ptr<double>();
  const double* l = labels.data_ptr<double>();
  for (int64_t i = 0; i < most; ++i)
    for (int64_t q = 0; q < world; ++q) {
      if (i >= counts[size_t(q)]) continue;
      const int64_t at = (q * most + i) * k;
      out.scores.emplace_back(s + at, s + at + k);
      out.labels.emplace_back(l + at, l + at + k);
      out.sampleIds.push_back(ids[size_t(q)][size_t(i)]);
    }
  if (meanLoss) {
    const double n = sizes[world + 1].item<double>();
    *meanLoss = n > 0 ? sizes[world].item<double>() / n : NAN;
  }
  return out;
}

ir::NodeId camNode(const ir::Graph& graph, int64_t height, int64_t width) {
  ir::ShapeResult shapes = ir::inferShapes(graph, 1, height, width);
  if (!shapes.ok()) return ir::kNoNode;
  // The last trunk feature map of at least 8x8: the very last one is often 2x2 or 1x1 at the sizes a CPU
  // run evaluates at (DenseNet-121 at 64x64: 2x2), a map that says nothing about where. Failing that (a tiny
  // input), the last one larger than 1x1.
  auto candidate = [&](ir::NodeId id, int64_t minSide) {
    const ir::Node& n = graph.node(id);
    const auto& s = shapes.shapes[static_cast<size_t>(id)];
    return n.op != ir::OpKind::Input && s.rank == 4 && s.h >= minSide && s.w >= minSide &&
           n.op != ir::OpKind::AdaptiveAvgPool2d && n.op != ir::OpKind::AdaptiveMaxPool2d &&
           !ir::inBranch(n.name);
  };
  for (int64_t minSide : {int64_t(8), int64_t(2)})
    for (ir::NodeId id = static_cast<ir::NodeId>(graph.size()) - 1; id >= 0; --id)
      if (candidate(id, minSide)) return id;
  return ir::kNoNode;
}

torch::Tensor gradCam(NetworkImpl& net, const torch::Tensor& image, ir::NodeId node, int64_t target) {
  net.eval();
  torch::AutoGradMode grad(true);
  // The input requires grad so the feature maps do even when every parameter is frozen.
  torch::Tensor x = image.detach().clone().requires_grad_(true);
  torch::Tensor features;
  torch::Tensor logits = net.forward(x, node, features);
  MHR_ASSERT(features.defined(), "Grad-CAM node produced no output");
  torch::Tensor score = logits.select(0, 0).select(0, target);
  torch::Tensor g = torch::autograd::grad({score}, {features})[0];
  torch::Tensor weights = g.mean({2, 3}, /*keepdim=*/true);
  torch::Tensor cam =
      torch::relu((weights * features).sum(1)).select(0, 0).detach().to(torch::kCPU, torch::kFloat);
  double peak = cam.max().item<double>();
  return peak > 0 ? cam / peak : cam;
}

EvaluationSummary evaluate(NetworkImpl& net, const plan::EvalConfig& config, BatchSource& source,
                           const EvalContext& context, MetricsSink& sink) {
  auto wants = [&](const std::string& m) {
    return std::find(config.metrics.begin(), config.metrics.end(), m) != config.metrics.end();
  };
  double loss = NAN;
  PredictionSet predictions = predict(net, source, context, config.tta, wants("loss") ? &loss : nullptr);
  const bool sharded = context.distributed && context.distributed->worldSize() > 1;
  if (sharded)
    predictions = gatherShards(predictions, *context.distributed,
                               "mhr/eval/" + context.stageKey + "/" + std::to_string(context.step),
                               wants("loss") ? &loss : nullptr);
  EvaluationSummary summary =
      summarize(predictions, config.threshold, config.bootstrap, config.ciLevel, context.seed);
  const bool binary = !predictions.multiLabel && predictions.classes.size() == 2;
  // `threshold: eer`: the operating point where sensitivity and specificity errors are equal.
  if (config.thresholdAtEer && binary && summary.classes[0].equalError) {
    double t = summary.classes[0].equalError->threshold;
    summary = summarize(predictions, t, config.bootstrap, config.ciLevel, context.seed);
    sink.logMetric(context.stageKey + "/threshold", t, context.step, context.epoch);
  }
  const std::string p = context.stageKey + "/";
  auto log = [&](const std::string& key, double v) {
    sink.logMetric(p + key, v, context.step, context.epoch);
  };
  if (wants("auc")) {
    if (summary.auc) log("auc", *summary.auc);
    if (summary.aucCi) {
      log("auc_ci_low", summary.aucCi->lower);
      log("auc_ci_high", summary.aucCi->upper);
    }
    if (!binary)
      for (const ClassSummary& c : summary.classes)
        if (c.auc) log("auc/" + c.name, *c.auc);
  }
  if (wants("pr_auc")) {
    if (summary.prAuc) log("pr_auc", *summary.prAuc);
    if (summary.prAucCi) {
      log("pr_auc_ci_low", summary.prAucCi->lower);
      log("pr_auc_ci_high", summary.prAucCi->upper);
    }
    if (!binary) {
      for (const ClassSummary& c : summary.classes)
        if (c.prAuc) log("pr_auc/" + c.name, *c.prAuc);
      if (summary.prAucMicro) log("pr_auc_micro", *summary.prAucMicro);
    }
  }
  if (wants("auc") && !binary && summary.aucMicro) log("auc_micro", *summary.aucMicro);
  if (wants("accuracy")) log("accuracy", summary.accuracy);
  if (wants("balanced_accuracy")) {
    log("balanced_accuracy", summary.balancedAccuracy);
    if (predictions.multiLabel)
      for (const ClassSummary& c : summary.classes)
        log("balanced_accuracy/" + c.name, balancedAccuracyOf(c.atThreshold));
  }
  for (const char* m : {"brier", "ece"}) {
    if (!wants(m)) continue;
    const bool brier = std::string(m) == "brier";
    log(m, brier ? summary.brier : summary.ece);
    if (!binary)
      for (const ClassSummary& c : summary.classes)
        log(std::string(m) + "/" + c.name, brier ? c.brier : c.ece);
  }
  // Metrics at the operating point, under the name the spec used (recall = sensitivity, precision = ppv).
  // Binary: one value (and the equal-error point's for sensitivity/specificity). Otherwise one per class,
  // their macro mean (over the classes where it is defined) and the micro value of the pooled counts.
  const std::pair<const char*, double (*)(const OperatingPoint&)> atPoint[] = {
      {"sensitivity", [](const OperatingPoint& o) { return o.sensitivity; }},
      {"recall", [](const OperatingPoint& o) { return o.sensitivity; }},
      {"specificity", [](const OperatingPoint& o) { return o.specificity; }},
      {"ppv", ppvOf},
      {"precision", ppvOf},
      {"npv", npvOf},
      {"f1", f1Of}};
  for (const auto& [m, value] : atPoint) {
    if (!wants(m)) continue;
    const std::string name = m;
    if (binary) {
      const ClassSummary& c = summary.classes[0];
      log(name, value(c.atThreshold));
      if (c.equalError && (name == "sensitivity" || name == "recall" || name == "specificity"))
        log(name + "_eer", value(*c.equalError));
      continue;
    }
    for (const ClassSummary& c : summary.classes) log(name + "/" + c.name, value(c.atThreshold));
    log(name, macroAtThreshold(summary, value));
    log(name + "_micro", value(summary.micro));
  }
  if (wants("loss")) log("loss", loss);
  // One tag holds them all, a line each (a tag per warning under one key kept only the last).
  if (!summary.warnings.empty()) {
    std::string all;
    for (const std::string& w : summary.warnings) all += (all.empty() ? "" : "\n") + w;
    sink.setTag(p + "warning", all);
  }
  sink.logPredictions(predictions);

  // Grad-CAM on rank 0 only (the others log into a null sink), over the whole split.
  BatchSource& camSource = context.camSource ? *context.camSource : source;
  if (config.camSamples > 0 && !predictions.scores.empty() && (!sharded || context.distributed->isRoot())) {
    // Half the most suspicious samples, half the least: what a reader wants to compare.
    const size_t positive = binary ? 1 : 0;
    std::vector<size_t> order(predictions.scores.size());
    std::iota(order.begin(), order.end(), 0);
    auto score = [&](size_t i) {
      const auto& s = predictions.scores[i];
      return binary ? s[positive] : *std::max_element(s.begin(), s.end());
    };
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score(a) > score(b); });
    std::vector<size_t> chosen;
    const size_t want = std::min<size_t>(static_cast<size_t>(config.camSamples), order.size());
    for (size_t i = 0; i < (want + 1) / 2; ++i) chosen.push_back(order[i]);
    for (size_t i = 0; chosen.size() < want; ++i) chosen.push_back(order[order.size() - 1 - i]);
    std::map<std::string, size_t> row;
    for (size_t i : chosen) row[predictions.sampleIds[i]] = i;
    // `cam_layer` (checked by the compiler), or else the trunk's last feature map at each image's size.
    ir::NodeId chosenLayer = ir::kNoNode;
    if (!config.camLayer.empty()) {
      std::optional<ir::LayerRef> ref = ir::findLayer(net.graph(), config.camLayer);
      MHR_ASSERT(ref && ref->node != ir::kNoNode, "the compiler checks cam_layer");
      chosenLayer = ref->node;
    }
    camSource.startEpoch(0);
    while (std::optional<TensorBatch> b = camSource.next()) {
      for (int64_t i = 0; i < b->size(); ++i) {
        auto it = row.find(b->ids[static_cast<size_t>(i)]);
        if (it == row.end()) continue;
        const size_t r = it->second;
        torch::Tensor img = b->images.narrow(0, i, 1);
        const ir::NodeId node =
            chosenLayer != ir::kNoNode ? chosenLayer : camNode(net.graph(), img.size(2), img.size(3));
        if (node == ir::kNoNode) continue;
        const auto& s = predictions.scores[r];
        int64_t target = binary ? 1 : std::max_element(s.begin(), s.end()) - s.begin();
        torch::Tensor cam = gradCam(net, toDevice(img, context), node, target);
        std::string label;
        for (size_t c = 0; c < predictions.classes.size(); ++c)
          if (predictions.labels[r][c] > 0.5f) label += (label.empty() ? "" : "|") + predictions.classes[c];
        sink.logCam(
            camRecord(img, cam, context.stageKey, predictions.sampleIds[r], label.empty() ? "none" : label,
                      predictions.classes[static_cast<size_t>(target)], s[static_cast<size_t>(target)]));
        row.erase(it);
      }
      if (row.empty()) break;
    }
  }
  return summary;
}

} // namespace mhr::runtime
