#include "runtime/trainer.h"

#include "runtime/evaluator.h"
#include "runtime/optimizer.h"
#include "runtime/state_dict.h"
#include "support/assert.h"
#include "support/error.h"
#include "support/files.h"
#include "support/sha256.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>

namespace mhr::runtime {

namespace F = torch::nn::functional;

namespace {

constexpr int64_t kCheckpointFormat = 1;

torch::Tensor stringTensor(const std::string& s) {
  torch::Tensor t = torch::empty({static_cast<int64_t>(s.size())}, torch::kByte);
  if (!s.empty()) std::memcpy(t.data_ptr(), s.data(), s.size());
  return t;
}

std::string tensorString(const torch::Tensor& t) {
  torch::Tensor c = t.to(torch::kCPU, torch::kByte).contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.numel()));
}

int64_t scalar(const StateDict& sd, const std::string& key, const std::string& path) {
  const torch::Tensor* t = sd.find(key);
  if (!t || t->numel() != 1)
    throw UserError("checkpoint '" + path + "' has no '" + key + "': not an mhr checkpoint");
  return t->to(torch::kLong).item<int64_t>();
}

// The network's tensors (names, shapes) as a hash: a checkpoint only resumes the network it was written for.
std::string networkFingerprint(const NetworkImpl& net) {
  std::string text;
  StateDict sd = moduleStateDict(net);
  for (const std::string& n : sd.names()) text += n + shapeString(sd.at(n).sizes()) + ";";
  return support::sha256Hex(text);
}

// Splits "prefix.rest" entries of a checkpoint into their own state dict.
StateDict section(const StateDict& sd, const std::string& prefix) {
  StateDict out;
  for (const std::string& n : sd.names())
    if (n.compare(0, prefix.size(), prefix) == 0) out.add(n.substr(prefix.size()), sd.at(n));
  return out;
}

// "NaN", "+Inf", "-Inf" (printf's spelling of NaN depends on its sign bit).
std::string nonFinite(double v) {
  return std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf");
}

std::string format(double v, const char* fmt = "%.4f") {
  char buf[48];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// Dynamic loss scaling for fp16 (torch.cuda.amp.GradScaler's defaults: 2^16, x2 after 2000 good steps, x0.5
// and skip the step on overflow).
struct LossScaler {
  bool enabled = false;
  double scale = 65536.0;
  int64_t goodSteps = 0;
  // Unscales the gradients in place; false when one of them is not finite (the step must be skipped).
  bool unscale(const std::vector<ParamEntry>& params) {
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> grads;
    for (const ParamEntry& p : params)
      if (p.param.grad().defined()) grads.push_back(p.param.grad());
    if (grads.empty()) return true;
    torch::Tensor found = torch::zeros({1}, grads[0].options().dtype(torch::kFloat));
    torch::Tensor inv = torch::full({1}, 1.0 / scale, grads[0].options().dtype(torch::kFloat));
    if (grads[0].is_cuda()) {
      at::_amp_foreach_non_finite_check_and_unscale_(grads, found, inv);
    } else {
      for (torch::Tensor& g : grads) {
        g.mul_(inv);
        found += torch::isfinite(g).all().logical_not().to(torch::kFloat);
      }
    }
    return found.item<float>() == 0.0f;
  }
  void update(bool finite) {
    if (!finite) {
      scale *= 0.5;
      goodSteps = 0;
    } else if (++goodSteps >= 2000) {
      scale *= 2.0;
      goodSteps = 0;
    }
  }
};

struct LossFunction {
  bool multiLabel = false;
  torch::Tensor classWeights, posWeight;
  double labelSmoothing = 0.0;
  torch::Tensor operator()(const torch::Tensor& logits, const TensorBatch& b, const torch::Device& d) const {
    if (multiLabel) {
      auto o = F::BinaryCrossEntropyWithLogitsFuncOptions();
      if (posWeight.defined()) o.pos_weight(posWeight);
      return F::binary_cross_entropy_with_logits(logits, b.targets.to(d), o);
    }
    auto o = F::CrossEntropyFuncOptions().label_smoothing(labelSmoothing);
    if (classWeights.defined()) o.weight(classWeights);
    return F::cross_entropy(logits, b.labels.to(d), o);
  }
};

LossFunction makeLoss(const plan::LossConfig& cfg, const BatchSource& source, const torch::Device& device,
                      const std::string& stage) {
  LossFunction f;
  const size_t k = source.classes().size();
  const std::string kind = cfg.kind == plan::LossKind::Auto ? (source.multiLabel() ? "bce" : "cross_entropy")
                                                            : plan::name(cfg.kind);
  if (kind == "bce" && !source.multiLabel())
    throw UserError(stage +
                    ": loss bce needs a multi-label data set; this one is single-label (use cross_entropy)");
  if (kind == "cross_entropy" && source.multiLabel())
    throw UserError(stage +
                    ": loss cross_entropy needs a single-label data set; this one is multi-label (use bce)");
  f.multiLabel = kind == "bce";
  if (!cfg.classWeights.empty()) {
    if (cfg.classWeights.size() != k)
      throw UserError(stage + ": class_weights has " + std::to_string(cfg.classWeights.size()) +
                      " values, the data set " + std::to_string(k) + " classes");
    f.classWeights = torch::tensor(cfg.classWeights, torch::kDouble).to(device, torch::kFloat);
  }
  if (!cfg.posWeight.empty()) {
    if (cfg.posWeight.size() != k)
      throw UserError(stage + ": pos_weight has " + std::to_string(cfg.posWeight.size()) +
                      " values, the data set " + std::to_string(k) + " labels");
    f.posWeight = torch::tensor(cfg.posWeight, torch::kDouble).to(device, torch::kFloat);
  }
  f.labelSmoothing = cfg.labelSmoothing;
  return f;
}

// The best value of a validation metric so far and how long ago it was reached: `checkpoint: best(...)`
// (min_delta 0: only a strictly better epoch replaces the best, so ties keep the earliest) and `early_stop`.
struct BestTracker {
  plan::ValMetric metric;
  double minDelta = 0.0;
  double best = NAN;
  int64_t bestEpoch = 0; // 1-based; 0 = no epoch yet
  int64_t badEpochs = 0; // epochs in a row without a gain since bestEpoch
  bool update(double v, int64_t epoch) {
    const bool gain = bestEpoch == 0 || (metric.maximize ? v > best + minDelta : v < best - minDelta);
    if (gain) {
      best = v;
      bestEpoch = epoch;
      badEpochs = 0;
    } else {
      ++badEpochs;
    }
    return gain;
  }
  void save(StateDict& sd, const std::string& prefix) const {
    sd.add(prefix + ".best_value", torch::tensor(best, torch::kDouble));
    sd.add(prefix + ".best_epoch", torch::tensor(bestEpoch, torch::kLong));
    sd.add(prefix + ".bad_epochs", torch::tensor(badEpochs, torch::kLong));
  }
  void load(const StateDict& sd, const std::string& prefix, const std::string& path) {
    const torch::Tensor* b = sd.find(prefix + ".best_value");
    if (!b)
      throw UserError(
          "checkpoint '" + path + "' has no '" + prefix +
          ".best_value': it was written without this stage's checkpoint/early_stop setting (did the "
          "spec change?)");
    best = b->item<double>();
    bestEpoch = scalar(sd, prefix + ".best_epoch", path);
    badEpochs = scalar(sd, prefix + ".bad_epochs", path);
  }
};

// A validation metric of one epoch; nullopt where it is undefined (an AUC on a split with one class).
std::optional<double> validationValue(const std::string& metric, const EvaluationSummary& s, double loss) {
  if (metric == "loss") return std::isfinite(loss) ? std::optional<double>(loss) : std::nullopt;
  if (metric == "auc") return s.auc;
  if (metric == "pr_auc") return s.prAuc;
  if (metric == "accuracy") return s.accuracy;
  if (metric == "balanced_accuracy") return s.balancedAccuracy;
  if (metric == "brier") return s.brier;
  if (metric == "ece") return s.ece;
  MHR_UNREACHABLE("the compiler let through a validation metric it does not know");
  return std::nullopt;
}

} // namespace

CheckpointInfo readCheckpointInfo(const std::string& path) {
  StateDict sd = readStateDict(path);
  CheckpointInfo info;
  if (scalar(sd, "meta.format", path) != kCheckpointFormat)
    throw UserError("checkpoint '" + path + "' was written by another version of mhr");
  const torch::Tensor* stage = sd.find("meta.stage");
  if (!stage) throw UserError("checkpoint '" + path + "' has no stage name");
  info.stage = tensorString(*stage);
  info.epochsDone = scalar(sd, "progress.epochs_done", path);
  info.globalStep = scalar(sd, "progress.global_step", path);
  info.runStep = scalar(sd, "progress.run_step", path);
  return info;
}

void loadCheckpointWeights(NetworkImpl& net, const std::string& path) {
  StateDict sd = readStateDict(path);
  loadStateDict(net, section(sd, "model."), path);
}

TrainResult train(NetworkImpl& net, const plan::TrainConfig& cfg, BatchSource& trainSource,
                  BatchSource* valSource, const TrainContext& ctx, MetricsSink& sink) {
  std::ostream& log = ctx.log ? *ctx.log : std::cerr;
  const torch::Device device = ctx.device;
  const bool cuda = device.is_cuda();
  // The compiler checked these (sema's schema); a plan without them is our bug.
  MHR_ASSERT(cfg.epochs >= 1 && cfg.accumulate >= 1, "train stage with epochs or accumulate below 1");

  // ---- precision and layout
  bool autocast = false;
  at::ScalarType autocastType = at::kBFloat16;
  LossScaler scaler;
  if (cfg.precision != plan::Precision::Fp32) {
    if (cuda) {
      autocast = true;
      autocastType = cfg.precision == plan::Precision::Bf16 ? at::kBFloat16 : at::kHalf;
      scaler.enabled = cfg.precision == plan::Precision::Fp16;
    } else {
      log << "mhr: warning: " << ctx.stageKey << ": precision " << plan::name(cfg.precision)
          << " applies on CUDA only; this CPU run trains in fp32\n";
      sink.setTag(ctx.stageKey + "/precision", "fp32 (cpu)");
    }
  }
  const bool channelsLast = cuda && cfg.channelsLast;
  net.to(device);
  if (channelsLast) {
    torch::NoGradGuard noGrad;
    for (auto& p : net.parameters())
      if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
  }

  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (const auto& p : net.named_parameters(true)) named.emplace_back(p.key(), p.value());
  Optimizer optimizer(cfg.optimizer, named, cfg.freeze, cfg.lrGroups);
  if (optimizer.params().empty())
    throw UserError(ctx.stageKey + ": every parameter is frozen; nothing to train");
  LossFunction lossFn = makeLoss(cfg.loss, trainSource, device, ctx.stageKey);

  const int64_t batchesAvailable = trainSource.batchesPerEpoch();
  if (batchesAvailable == 0)
    throw UserError(ctx.stageKey + ": the training split has fewer samples (" +
                    std::to_string(trainSource.samples()) + ") than one batch (" + std::to_string(cfg.batch) +
                    ")");
  const int64_t batchesPerEpoch = cfg.maxStepsPerEpoch > 0
                                      ? std::min(batchesAvailable, cfg.maxStepsPerEpoch * cfg.accumulate)
                                      : batchesAvailable;
  const int64_t stepsPerEpoch = (batchesPerEpoch + cfg.accumulate - 1) / cfg.accumulate;
  const int64_t totalSteps = stepsPerEpoch * cfg.epochs;

  TrainResult result;
  int64_t globalStep = 0;
  int64_t startEpoch = 0;
  at::Generator generator = compat::defaultGenerator(device);

  // ---- model selection and early stopping (checkpoint: best(val.M), early_stop: patience(N, on: val.M))
  MHR_ASSERT(!(cfg.selectBest || cfg.patience > 0) || valSource,
             "checkpoint: best(...) / early_stop without `val:` (sema's checkModelSelection refuses it)");
  std::optional<BestTracker> selector, stopper;
  if (cfg.selectBest) selector = BestTracker{*cfg.selectBest, 0.0};
  if (cfg.patience > 0) stopper = BestTracker{cfg.stopOn, cfg.minDelta};
  bool stoppedEarly = false;
  StateDict bestWeights; // the selected epoch's weights, on the CPU
  // Beside the checkpoint, so that a resumed stage still hands on the best epoch it trained before.
  const std::string bestPath = ctx.checkpointPath.empty() ? "" : ctx.checkpointPath + ".best";
  auto weightsOnCpu = [&] {
    StateDict out;
    StateDict model = moduleStateDict(net);
    for (const std::string& n : model.names())
      out.add(n, model.at(n).detach().to(torch::kCPU).clone().contiguous());
    return out;
  };

  // ---- resume
  if (ctx.resume && !ctx.checkpointPath.empty() && std::filesystem::exists(ctx.checkpointPath)) {
    StateDict sd = readStateDict(ctx.checkpointPath);
    CheckpointInfo info = readCheckpointInfo(ctx.checkpointPath);
    if (info.stage != ctx.stageKey)
      throw UserError("checkpoint '" + ctx.checkpointPath + "' belongs to stage '" + info.stage + "', not '" +
                      ctx.stageKey + "'");
    const torch::Tensor* fp = sd.find("meta.network");
    if (!fp || tensorString(*fp) != networkFingerprint(net))
      throw UserError("checkpoint '" + ctx.checkpointPath +
                      "' was written for a different network than stage '" + ctx.stageKey +
                      "' trains now (did the spec change?)");
    loadStateDict(net, section(sd, "model."), ctx.checkpointPath);
    optimizer.loadState(section(sd, "optimizer."), ctx.checkpointPath);
    {
      torch::NoGradGuard noGrad;
      const torch::Tensor* rng = sd.find(cuda ? "rng.cuda" : "rng.cpu");
      if (!rng)
        throw UserError("checkpoint '" + ctx.checkpointPath + "' has no random state for this device");
      generator.set_state(*rng);
      if (cuda && sd.find("rng.cpu")) compat::defaultGenerator(torch::kCPU).set_state(sd.at("rng.cpu"));
    }
    if (const torch::Tensor* s = sd.find("scaler.scale")) scaler.scale = s->item<double>();
    if (const torch::Tensor* g = sd.find("scaler.good_steps")) scaler.goodSteps = g->item<int64_t>();
    if (selector) {
      selector->load(sd, "select", ctx.checkpointPath);
      if (selector->bestEpoch > 0) {
        if (bestPath.empty() || !std::filesystem::exists(bestPath))
          throw UserError("resume: stage '" + ctx.stageKey + "' selected epoch " +
                          std::to_string(selector->bestEpoch) + " by " + selector->metric.text() +
                          ", but its weights '" + bestPath + "' are missing");
        bestWeights = readStateDict(bestPath);
      }
    }
    if (stopper) {
      stopper->load(sd, "stop", ctx.checkpointPath);
      stoppedEarly = scalar(sd, "stop.stopped", ctx.checkpointPath) != 0;
    }
    startEpoch = info.epochsDone;
    globalStep = info.globalStep;
    result.resumedAtEpoch = startEpoch;
    log << "mhr: " << ctx.stageKey << ": resuming after epoch " << startEpoch << " of " << cfg.epochs
        << " (step " << globalStep << ")\n";
  }

  // ---- data-parallel: rank 0's weights everywhere, gradients averaged in buckets during backward
  Distributed* dist = ctx.distributed;
  std::unique_ptr<GradientBucketer> bucketer;
  std::optional<SyncBatchNormScope> syncBn;
  if (dist) {
    broadcastModule(net, *dist);
    std::vector<torch::Tensor> trainable;
    for (const ParamEntry& e : optimizer.params()) trainable.push_back(e.param);
    bucketer = std::make_unique<GradientBucketer>(*dist, trainable, ctx.bucketBytes);
    if (cfg.syncBatchNorm) syncBn.emplace(net, *dist);
  }
  const double worldSize = dist ? static_cast<double>(dist->worldSize()) : 1.0;

  auto writeCheckpoint = [&](int64_t epochsDone) {
    if (ctx.checkpointPath.empty() || !ctx.writeCheckpoints) return;
    StateDict sd;
    sd.add("meta.format", torch::tensor(kCheckpointFormat, torch::kLong));
    sd.add("meta.stage", stringTensor(ctx.stageKey));
    sd.add("meta.network", stringTensor(networkFingerprint(net)));
    sd.add("progress.epochs_done", torch::tensor(epochsDone, torch::kLong));
    sd.add("progress.global_step", torch::tensor(globalStep, torch::kLong));
    sd.add("progress.run_step", torch::tensor(ctx.stepOffset + globalStep, torch::kLong));
    // The loader restarts each epoch from (seed, epoch): the position is the next epoch's first batch.
    sd.add("progress.loader_epoch", torch::tensor(epochsDone, torch::kLong));
    sd.add("progress.loader_batch", torch::tensor(int64_t{0}, torch::kLong));
    StateDict model = moduleStateDict(net);
    for (const std::string& n : model.names())
      sd.add("model." + n, model.at(n).detach().to(torch::kCPU).contiguous());
    StateDict opt = optimizer.state();
    for (const std::string& n : opt.names())
      sd.add("optimizer." + n, opt.at(n).detach().to(torch::kCPU).contiguous());
    sd.add(cuda ? "rng.cuda" : "rng.cpu", generator.get_state());
    if (cuda) sd.add("rng.cpu", compat::defaultGenerator(torch::kCPU).get_state());
    if (scaler.enabled) {
      sd.add("scaler.scale", torch::tensor(scaler.scale, torch::kDouble));
      sd.add("scaler.good_steps", torch::tensor(scaler.goodSteps, torch::kLong));
    }
    if (selector) selector->save(sd, "select");
    if (stopper) {
      stopper->save(sd, "stop");
      sd.add("stop.stopped", torch::tensor(int64_t{stoppedEarly ? 1 : 0}, torch::kLong));
    }
    // Metrics logged so far become durable before the checkpoint that follows them.
    sink.flush();
    writeStateDict(ctx.checkpointPath, sd);
    ArtifactRecord a;
    a.kind = "checkpoint";
    a.path = ctx.checkpointPath;
    a.sha256 = support::sha256File(ctx.checkpointPath);
    a.bytes = static_cast<int64_t>(std::filesystem::file_size(ctx.checkpointPath));
    a.stage = ctx.stageKey;
    sink.logArtifact(a);
    sink.flush();
  };

  const std::string p = ctx.stageKey + "/";
  // Losses stay on the device until they are logged: reading one back is a device synchronisation, which on
  // CUDA every few steps costs nothing but every step would stall the queue. On the CPU every step is
  // checked.
  const size_t lossBatch = cuda ? 20 : 1;
  struct PendingLoss {
    torch::Tensor loss;
    int64_t globalStep, epoch, stepInEpoch;
    double lr;
  };
  std::vector<PendingLoss> pending;
  double lastLoss = NAN;
  auto flushLosses = [&] {
    if (pending.empty()) return;
    std::vector<torch::Tensor> parts;
    for (const PendingLoss& q : pending) parts.push_back(q.loss.reshape({1}).to(torch::kFloat));
    torch::Tensor values = torch::cat(parts);
    if (dist) { // the step loss is the mean over the ranks (every rank flushes at the same steps)
      values = values.contiguous();
      dist->allReduceSum(values, ctx.stageKey + ": the loss all-reduce");
      values = values / worldSize;
    }
    values = values.to(torch::kCPU, torch::kDouble).contiguous();
    for (size_t i = 0; i < pending.size(); ++i) {
      const PendingLoss& q = pending[i];
      const double v = values[static_cast<int64_t>(i)].item<double>();
      if (!std::isfinite(v)) {
        const std::string where =
            "epoch " + std::to_string(q.epoch + 1) + ", step " + std::to_string(q.stepInEpoch + 1);
        sink.setTag(p + "stopped", "loss " + nonFinite(v) + " at " + where);
        sink.flush();
        throw UserError(ctx.stageKey + ": the loss became " + nonFinite(v) + " at " + where +
                        " (global step " + std::to_string(q.globalStep + 1) + "); training stopped" +
                        (ctx.checkpointPath.empty() || q.epoch == 0
                             ? ""
                             : "; the last good checkpoint (end of epoch " + std::to_string(q.epoch) +
                                   ") is kept at " + ctx.checkpointPath) +
                        ". A lower learning rate, gradient clipping (clip_grad) or fp32 usually helps");
      }
      sink.logMetric(p + "loss", v, ctx.stepOffset + q.globalStep + 1, q.epoch + 1);
      sink.logMetric(p + "lr", q.lr, ctx.stepOffset + q.globalStep + 1, q.epoch + 1);
      lastLoss = v;
    }
    pending.clear();
  };

  for (int64_t epoch = startEpoch; epoch < cfg.epochs && !stoppedEarly; ++epoch) {
    net.train();
    trainSource.startEpoch(epoch);
    Progress progress(ctx.stageKey + " epoch " + std::to_string(epoch + 1) + "/" + std::to_string(cfg.epochs),
                      batchesPerEpoch, ctx.progress);
    optimizer.zeroGrad();
    int64_t micro = 0, batchIndex = 0, stepInEpoch = 0;
    torch::Tensor accumulated, epochLoss; // on the device
    int64_t epochSamples = 0;

    auto optimizerStep = [&](int64_t microBatches) {
      if (bucketer) bucketer->finishStep();
      // Fewer micro-batches than `accumulate` at the end of an epoch: rescale to their mean.
      if (microBatches != cfg.accumulate) {
        torch::NoGradGuard noGrad;
        for (const ParamEntry& e : optimizer.params())
          if (e.param.grad().defined())
            e.param.grad().mul_(static_cast<double>(cfg.accumulate) / static_cast<double>(microBatches));
      }
      bool finite = true;
      if (scaler.enabled) finite = scaler.unscale(optimizer.params());
      if (finite && cfg.clipGrad > 0) {
        std::vector<torch::Tensor> ps;
        for (const ParamEntry& e : optimizer.params()) ps.push_back(e.param);
        double norm = torch::nn::utils::clip_grad_norm_(ps, cfg.clipGrad);
        if (!std::isfinite(norm) && !scaler.enabled)
          throw UserError(ctx.stageKey + ": the gradient norm became " + nonFinite(norm) + " at epoch " +
                          std::to_string(epoch + 1) + ", step " + std::to_string(stepInEpoch + 1) +
                          " (global step " + std::to_string(globalStep + 1) + "); training stopped" +
                          (ctx.checkpointPath.empty()
                               ? ""
                               : "; the last good checkpoint is kept at " + ctx.checkpointPath));
        finite = std::isfinite(norm);
      }
      const double lr = scheduledLr(cfg.schedule, cfg.optimizer.lr, globalStep, stepsPerEpoch, totalSteps);
      if (finite) optimizer.step(lr);
      if (scaler.enabled) scaler.update(finite);
      optimizer.zeroGrad();
      pending.push_back(
          {accumulated / static_cast<double>(microBatches), globalStep, epoch, stepInEpoch, lr});
      if (pending.size() >= lossBatch) flushLosses();
      ++globalStep;
      ++stepInEpoch;
      accumulated = torch::Tensor();
    };

    while (batchIndex < batchesPerEpoch) {
      std::optional<TensorBatch> batch = trainSource.next();
      if (!batch) break;
      ++batchIndex;
      torch::Tensor x = batch->images.to(device, /*non_blocking=*/true);
      if (channelsLast) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
      torch::Tensor loss;
      {
        compat::CudaAutocastGuard guard(autocast, autocastType);
        torch::Tensor logits = net.forward(x);
        loss = lossFn(logits.to(torch::kFloat), *batch, device);
      }
      torch::Tensor scaled = loss / static_cast<double>(cfg.accumulate);
      if (scaler.enabled) scaled = scaled * scaler.scale;
      if (bucketer) bucketer->beginBackward(micro + 1 == cfg.accumulate || batchIndex == batchesPerEpoch);
      scaled.backward();
      torch::Tensor detached = loss.detach().to(torch::kDouble);
      accumulated = accumulated.defined() ? accumulated + detached : detached;
      torch::Tensor weighted = detached * static_cast<double>(batch->size());
      epochLoss = epochLoss.defined() ? epochLoss + weighted : weighted;
      epochSamples += batch->size();
      if (++micro == cfg.accumulate) {
        optimizerStep(micro);
        micro = 0;
      }
      progress.advance(1, std::isnan(lastLoss) ? "" : "loss " + format(lastLoss));
    }
    if (micro > 0) optimizerStep(micro);
    flushLosses();
    if (dist) { // the mean over every rank's samples
      torch::Tensor both =
          torch::stack({epochLoss.defined() ? epochLoss.reshape({}).to(torch::kDouble)
                                            : torch::zeros({}, torch::kDouble).to(device),
                        torch::full({}, static_cast<double>(epochSamples),
                                    torch::TensorOptions().dtype(torch::kDouble).device(device))});
      dist->allReduceSum(both, ctx.stageKey + ": the epoch loss all-reduce");
      both = both.to(torch::kCPU);
      epochLoss = both[0];
      epochSamples = static_cast<int64_t>(both[1].item<double>());
    }
    result.lastEpochLoss = epochSamples ? epochLoss.item<double>() / static_cast<double>(epochSamples) : NAN;
    progress.finish("loss " + format(result.lastEpochLoss));
    const int64_t runStep = ctx.stepOffset + globalStep;
    sink.logMetric(p + "epoch_loss", result.lastEpochLoss, runStep, epoch + 1);

    // Without sync_bn each rank's running statistics saw only its shard: keep rank 0's everywhere.
    if (dist && !cfg.syncBatchNorm) broadcastBuffers(net, *dist);
    if (valSource) {
      EvalContext ec;
      ec.stageKey = ctx.stageKey + " validation";
      ec.device = device;
      ec.channelsLast = channelsLast;
      ec.progress = ctx.progress;
      double valLoss = NAN;
      PredictionSet preds = predict(net, *valSource, ec, false, &valLoss);
      // Data-parallel: valSource is this rank's shard (execute.cpp); gathered, every rank has the whole
      // split.
      if (dist && dist->worldSize() > 1)
        preds =
            gatherShards(preds, *dist, "mhr/val/" + ctx.stageKey + "/" + std::to_string(runStep), &valLoss);
      EvaluationSummary s = summarize(preds, 0.5, 0, 0.95, ctx.seed);
      sink.logMetric(p + "val_loss", valLoss, runStep, epoch + 1);
      if (s.auc) sink.logMetric(p + "val_auc", *s.auc, runStep, epoch + 1);
      sink.logMetric(p + "val_accuracy", s.accuracy, runStep, epoch + 1);
      log << "mhr: " << ctx.stageKey << " epoch " << epoch + 1 << ": val loss " << format(valLoss)
          << (s.auc ? ", val auc " + format(*s.auc) : "") << "\n";
      for (BestTracker* t : {selector ? &*selector : nullptr, stopper ? &*stopper : nullptr}) {
        if (!t) continue;
        const std::string& m = t->metric.metric;
        std::optional<double> v = validationValue(m, s, valLoss);
        if (!v)
          throw UserError(ctx.stageKey + ": " + t->metric.text() + " is undefined after epoch " +
                          std::to_string(epoch + 1) + " on " + cfg.valSplit +
                          " (an AUC needs both classes in the split), so epochs cannot be compared by it; "
                          "select on val.loss, or validate on a split with both classes");
        if (m != "loss" && m != "auc" && m != "accuracy")
          sink.logMetric(p + "val_" + m, *v, runStep, epoch + 1);
        const bool gain = t->update(*v, epoch + 1);
        if (selector && t == &*selector && gain) {
          bestWeights = weightsOnCpu();
          if (!bestPath.empty() && ctx.writeCheckpoints) writeStateDict(bestPath, bestWeights);
        }
      }
      if (stopper && stopper->badEpochs >= cfg.patience && epoch + 1 < cfg.epochs) {
        stoppedEarly = true;
        const std::string why = "stopped after epoch " + std::to_string(epoch + 1) + " of " +
                                std::to_string(cfg.epochs) + ": " + stopper->metric.text() + " has not " +
                                (stopper->metric.maximize ? "risen" : "fallen") + " by more than " +
                                format(cfg.minDelta, "%g") + " for " + std::to_string(cfg.patience) +
                                " epochs (best " + format(stopper->best) + " after epoch " +
                                std::to_string(stopper->bestEpoch) + ")";
        sink.setTag(p + "early_stop", why);
        sink.logMetric(p + "stopped_at_epoch", static_cast<double>(epoch + 1), runStep, epoch + 1);
        log << "mhr: " << ctx.stageKey << ": early stop: " << why << "\n";
      }
    }
    writeCheckpoint(epoch + 1);
    if (dist) dist->barrier(ctx.stageKey + ": the end-of-epoch barrier");
    result.epochsDone = epoch + 1;
    if (ctx.onEpochEnd) ctx.onEpochEnd(epoch + 1);
  }
  result.epochsDone = std::max(result.epochsDone, startEpoch);
  result.stoppedEarly = stoppedEarly;
  // checkpoint: best(...): the stage hands on the selected epoch's weights. The final checkpoint then holds
  // them, so that a later stage resuming past this one (execute.cpp) loads what this stage handed on.
  if (selector && selector->bestEpoch > 0) {
    result.selectedEpoch = selector->bestEpoch;
    if (selector->bestEpoch != result.epochsDone) {
      loadStateDict(net, bestWeights, bestPath.empty() ? "the selected epoch's weights" : bestPath);
      writeCheckpoint(result.epochsDone);
      if (dist) dist->barrier(ctx.stageKey + ": the selected-weights barrier");
    }
    const std::string what = "best(" + selector->metric.text() + "): the weights of epoch " +
                             std::to_string(selector->bestEpoch) + " of " +
                             std::to_string(result.epochsDone) + " trained (" + selector->metric.text() +
                             " " + format(selector->best) + ")";
    sink.setTag(p + "checkpoint", what);
    sink.logMetric(p + "selected_epoch", static_cast<double>(selector->bestEpoch),
                   ctx.stepOffset + globalStep, result.epochsDone);
    sink.flush();
    log << "mhr: " << ctx.stageKey << ": checkpoint " << what << "\n";
  }
  result.globalStep = globalStep;
  return result;
}

} // namespace mhr::runtime
