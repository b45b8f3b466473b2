#include "runtime/execute.h"

#include "compiler/cost/checkpoint.h"
#include "compiler/cost/cost_model.h"
#include "data/cache.h"
#include "data/dataset.h"
#include "runtime/batch_source.h"
#include "runtime/device.h"
#include "runtime/distributed.h"
#include "runtime/evaluator.h"
#include "runtime/model_record.h"
#include "runtime/morph.h"
#include "runtime/network.h"
#include "runtime/state_dict.h"
#include "runtime/trainer.h"
#include "support/assert.h"
#include "support/error.h"
#include "support/files.h"
#include "support/random.h"
#include "support/sha256.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <unistd.h>

namespace mhr::runtime {
namespace {

// Forwards everything; keeps what a train stage logs under its own key, for StageReuse.
class StageCapture : public MetricsSink {
public:
  StageCapture(MetricsSink& inner, std::string prefix, int64_t stepBase)
      : inner_(inner), prefix_(std::move(prefix)), stepBase_(stepBase) {}
  void logParam(const std::string& k, const ParamValue& v) override { inner_.logParam(k, v); }
  void logMetric(const std::string& key, double value, int64_t step, int64_t epoch) override {
    inner_.logMetric(key, value, step, epoch);
    if (key.compare(0, prefix_.size(), prefix_) == 0)
      metrics.push_back({key, value, step - stepBase_, epoch});
  }
  void setTag(const std::string& k, const std::string& v) override {
    inner_.setTag(k, v);
    if (k.compare(0, prefix_.size(), prefix_) == 0) tags.emplace_back(k, v);
  }
  void logEnvironment(const std::map<std::string, std::string>& f) override { inner_.logEnvironment(f); }
  void logVerdict(const VerdictRecord& v) override { inner_.logVerdict(v); }
  void logLineage(const LineageRecord& l) override { inner_.logLineage(l); }
  void logArtifact(const ArtifactRecord& a) override { inner_.logArtifact(a); }
  void logPredictions(const PredictionSet& p) override { inner_.logPredictions(p); }
  void logCam(const CamRecord& c) override { inner_.logCam(c); }
  void flush() override { inner_.flush(); }

  std::vector<ReusedMetric> metrics;
  std::vector<std::pair<std::string, std::string>> tags;

private:
  MetricsSink& inner_;
  std::string prefix_;
  int64_t stepBase_;
};

struct LiveNetwork {
  const plan::NetworkPlan* plan = nullptr;
  Network net{nullptr};
  std::string lastStage; // the stage whose training produced the current weights ("" = as materialised)
};

class Runner {
public:
  Runner(const plan::ExperimentPlan& plan, const ExecuteOptions& options, MetricsSink& sink)
      : plan_(plan), options_(options), sink_(sink), log_(options.log ? *options.log : std::cerr) {}

  ExecuteResult run() {
    if (options_.threads > 0) torch::set_num_threads(static_cast<int>(options_.threads));
    device_ = chooseDevice(options_.distributed ? options_.distributed->device() : options_.device);
    root_ = !options_.distributed || options_.distributed->isRoot();
    if (options_.resume && options_.checkpointDir.empty())
      throw UserError("resume needs the run's checkpoint folder");
    if (!options_.checkpointDir.empty()) support::makeDirectories(options_.checkpointDir);
    if (options_.resume && root_) removeStaleTemporaries();
    progress_.enabled = options_.progress;
    progress_.terminal = stderrIsTerminal();

    sink_.logEnvironment(environmentFacts(device_));
    sink_.setTag("device", device_.str());
    if (options_.distributed) {
      sink_.setTag("distributed.world_size", std::to_string(options_.distributed->worldSize()));
      sink_.setTag("distributed.backend", options_.distributed->backend());
    }
    for (const auto& [key, value] : plan_.params) sink_.logParam(key, toParamValue(value));

    ExecuteResult result;
    result.device = device_.str();
    for (size_t s = 0; s < plan_.stages.size(); ++s) {
      materialize(s);
      const plan::Stage& stage = plan_.stages[s];
      StageOutcome outcome;
      outcome.key = stage.key;
      outcome.network = stage.network;
      outcome.split = stage.dataset + "." + stage.split;
      if (stage.kind == plan::Stage::Kind::Train)
        runTrain(stage, outcome);
      else
        runEvaluate(stage, outcome);
      markDone(stage.key, runStep_);
      result.stages.push_back(std::move(outcome));
      sink_.flush();
    }
    materialize(plan_.stages.size()); // networks defined after the last stage: their proofs are still checked
    sink_.flush();
    return result;
  }

private:
  // A process killed inside an atomic write leaves its temporary (`NAME.tmp.PID`, support/files.h) next to
  // the checkpoints; the resumed run removes those of writers that are gone, so a successful resume leaves
  // nothing stale behind.
  void removeStaleTemporaries() const {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(options_.checkpointDir, ec)) {
      const std::string name = entry.path().filename().string();
      const size_t at = name.rfind(".tmp.");
      if (at == std::string::npos) continue;
      const std::string digits = name.substr(at + 5);
      if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos)
        continue;
      const pid_t pid = static_cast<pid_t>(std::stol(digits));
      // Only a writer that no longer exists (ESRCH); a live one, or one we may not signal, keeps its file.
      if (pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH)
        std::filesystem::remove(entry.path(), ec);
    }
  }

  // ---- files of the run
  std::string checkpointPath(const std::string& key) const {
    return options_.checkpointDir.empty() ? "" : options_.checkpointDir + "/" + key + ".ckpt";
  }
  std::string markerPath(const std::string& what) const {
    return options_.checkpointDir + "/" + what + ".done";
  }
  bool done(const std::string& what) const {
    return options_.resume && !options_.checkpointDir.empty() && std::filesystem::exists(markerPath(what));
  }
  // "done STEP": the run-wide step at which the stage finished (resumeStep reads it).
  void markDone(const std::string& what, int64_t step = -1) const {
    if (!options_.checkpointDir.empty() && root_)
      support::writeFileAtomic(markerPath(what),
                               step >= 0 ? "done " + std::to_string(step) + "\n" : "done\n");
  }

  // ---- networks
  void materialize(size_t stageIndex) {
    for (const plan::NetworkPlan& np : plan_.networks) {
      if (np.afterStages != stageIndex || networks_.count(np.name)) continue;
      LiveNetwork live;
      live.plan = &np;
      if (np.origin == plan::NetworkPlan::Origin::Stdlib) {
        uint64_t seed = np.initSeed >= 0
                            ? static_cast<uint64_t>(np.initSeed)
                            : support::deriveSeed(static_cast<uint64_t>(plan_.seed), "init:" + np.name, 0);
        torch::manual_seed(static_cast<int64_t>(seed & 0x7fffffffffffffffULL));
        live.net = Network(np.graph);
        live.net->resetParameters();
        if (!np.weights.empty()) {
          importWeights(np, *live.net);
          log_ << "mhr: network " << np.name << ": weights from " << np.weights << "\n";
        }
      } else {
        auto parent = networks_.find(np.parent);
        MHR_ASSERT(parent != networks_.end(), "a morph child is materialised before its parent");
        LiveNetwork& p = parent->second;
        p.net->to(torch::kCPU);
        StateDict parentWeights;
        StateDict live0 = moduleStateDict(*p.net);
        for (const std::string& n : live0.names()) parentWeights.add(n, live0.at(n).detach().clone());
        // After a resume the proofs were already recorded: re-derive the weights without logging them twice.
        NullSink quiet;
        MetricsSink& out = done("network." + np.name) ? static_cast<MetricsSink&>(quiet) : sink_;
        RecheckOptions ro;
        ro.seed = support::deriveSeed(static_cast<uint64_t>(plan_.seed), "recheck:" + np.name, 0);
        StateDict childWeights = morphWeights(np, p.plan->graph, parentWeights, p.lastStage, out, ro);
        live.net = Network(np.graph);
        loadStateDict(*live.net, childWeights, "the morph of '" + np.name + "'");
        log_ << "mhr: network " << np.name << " = morph " << np.parent << ": " << np.steps.size()
             << " statement(s) applied and re-checked\n";
      }
      markDone("network." + np.name);
      networks_.emplace(np.name, std::move(live));
    }
  }

  LiveNetwork& network(const std::string& name) {
    auto it = networks_.find(name);
    MHR_ASSERT(it != networks_.end(), "a stage uses a network that was not materialised");
    return it->second;
  }

  // ---- data
  const data::Dataset& dataset(const std::string& name) {
    auto it = datasets_.find(name);
    if (it != datasets_.end()) return *it->second;
    const plan::DatasetConfig* cfg = plan_.dataset(name);
    MHR_ASSERT(cfg != nullptr, "a stage uses an unknown data set");
    data::OpenOptions o;
    o.baseDir = options_.dataDir;
    std::ostream* log = &log_;
    o.warn = [log](const std::string& m) { *log << "mhr: warning: " << m << "\n"; };
    auto ds = std::make_unique<data::Dataset>(data::openDataset(*cfg, o));
    // Provenance: where the data came from and what it was, so that runs on different data never look
    // alike (`dataset.NAME.root` is only what the spec wrote). Resuming on changed data is refused here.
    const data::Dataset::Provenance& pv = ds->provenance();
    if (!pv.root.empty()) sink_.logParam("data." + name + ".root", pv.root);
    sink_.logParam("data." + name + ".fingerprint", pv.fingerprint);
    sink_.logParam("data." + name + ".images", static_cast<int64_t>(pv.images));
    sink_.logParam("data." + name + ".bytes", pv.bytes);
    return *datasets_.emplace(name, std::move(ds)).first->second;
  }

  const data::PreparedSplit& split(const std::string& datasetName, const std::string& splitName,
                                   const plan::Size& at) {
    std::string key = datasetName + "." + splitName + "@" + std::to_string(at.h) + "x" + std::to_string(at.w);
    auto it = splits_.find(key);
    if (it != splits_.end()) return *it->second;
    data::PrepareOptions o;
    o.cacheDir = options_.cacheDir;
    o.progress = options_.progress ? data::ProgressMode::Auto : data::ProgressMode::Off;
    o.out = &log_;
    auto ps = std::make_unique<data::PreparedSplit>(
        data::prepareSplit(dataset(datasetName), data::parseSplit(splitName), at.h, at.w, o));
    return *splits_.emplace(key, std::move(ps)).first->second;
  }

  std::unique_ptr<BatchSource> source(const std::string& datasetName, const std::string& splitName,
                                      const plan::Size& at, const NetworkImpl& net, int64_t batch,
                                      bool training, const plan::TrainConfig* cfg, uint64_t seed,
                                      bool evalShard = false) {
    const data::PreparedSplit& ps = split(datasetName, splitName, at);
    SourceOptions o;
    o.batch = batch;
    o.shuffle = training;
    o.seed = seed;
    o.workers = cfg ? cfg->workers : 2;
    if ((training || evalShard) && options_.distributed) {
      o.rank = options_.distributed->rank();
      o.worldSize = options_.distributed->worldSize();
      o.padShards = training; // evaluation: the shards partition the split, nothing counted twice
    }
    o.channels = net.graph().node(net.graph().inputId()).input.channels;
    if (training && cfg) o.augment = cfg->augmentOps;
    if (training && cfg) o.dropLast = cfg->dropLast;
    auto src = makeDataSource(ps, o);
    const size_t outputs = static_cast<size_t>(net.graph().node(net.graph().outputId()).linear.outFeatures);
    if (net.graph().node(net.graph().outputId()).op == ir::OpKind::Linear && outputs != src->classes().size())
      throw UserError("network '" + net.graph().outputName() + "' has " + std::to_string(outputs) +
                      " outputs but data set '" + datasetName + "' has " +
                      std::to_string(src->classes().size()) + (src->multiLabel() ? " labels" : " classes") +
                      " (set `classes:` on the network or `replace head with linear(classes: " +
                      std::to_string(src->classes().size()) + ")`)");
    return src;
  }

  // ---- stages
  void runTrain(const plan::Stage& stage, StageOutcome& outcome) {
    LiveNetwork& live = network(stage.network);
    const plan::TrainConfig& cfg = stage.train;
    const std::string ckpt = checkpointPath(stage.key);
    if (done(stage.key)) {
      if (!std::filesystem::exists(ckpt))
        throw UserError("resume: stage '" + stage.key + "' finished, but its checkpoint '" + ckpt +
                        "' is missing");
      loadCheckpointWeights(*live.net, ckpt);
      runStep_ += readCheckpointInfo(ckpt).globalStep;
      live.lastStage = stage.key;
      outcome.skipped = true;
      log_ << "mhr: " << stage.key << ": finished before the resume; weights from " << ckpt << "\n";
      return;
    }
    const bool reusable =
        options_.reuse && !options_.distributed && !ckpt.empty() && !stage.inputHash.empty();
    if (reusable && reuseStage(stage, live, ckpt, outcome)) return;
    StageCapture capture(sink_, stage.key + "/", runStep_);
    const uint64_t seed = support::deriveSeed(static_cast<uint64_t>(plan_.seed), stage.key, 0);
    torch::manual_seed(static_cast<int64_t>(seed & 0x7fffffffffffffffULL));
    configureBackends(device_, cfg.deterministic, cfg.cudnnBenchmark);

    auto trainSrc =
        source(stage.dataset, stage.split, stage.resolution, *live.net, cfg.batch, true, &cfg, seed);
    // Never silently: a batch larger than the split trains on the whole split at each step, and under
    // drop_last it would train on nothing.
    if (cfg.dropLast && cfg.batch > trainSrc->samples())
      throw UserError(stage.location + ": " + stage.key + ": batch " + std::to_string(cfg.batch) +
                      " is larger than the " + std::to_string(trainSrc->samples()) + " images of " +
                      stage.dataset + "." + stage.split +
                      (options_.distributed ? " (this rank's shard)" : "") +
                      ", and `drop_last: true` leaves out every batch that is not full: no step would train "
                      "(lower the batch or set `drop_last: false`)");
    if (cfg.batch > trainSrc->samples())
      log_ << "mhr: warning: " << stage.location << ": " << stage.key << ": batch " << cfg.batch
           << " is larger than the " << trainSrc->samples() << " images of " << stage.dataset << "."
           << stage.split << ", so every step trains on all " << trainSrc->samples() << " of them\n";
    std::unique_ptr<BatchSource> valSrc;
    if (!cfg.valSplit.empty()) {
      std::string ds = stage.dataset, sp = cfg.valSplit;
      if (size_t dot = sp.rfind('.'); dot != std::string::npos) {
        ds = sp.substr(0, dot);
        sp = sp.substr(dot + 1);
      }
      // Data-parallel: each rank validates its shard; the trainer gathers the predictions.
      valSrc = source(ds, sp, stage.resolution, *live.net, cfg.batch, false, &cfg, seed,
                      options_.distributed && options_.distributed->worldSize() > 1);
    }

    // Activation checkpointing and the memory estimate, from the compiler's cost model.
    std::string why;
    std::optional<cost::NetworkCost> nc =
        cost::analyze(live.net->graph(), stage.resolution.h, stage.resolution.w, &why);
    if (!nc) throw UserError(stage.location + ": " + stage.key + ": " + why);
    cost::TrainingSetup setup;
    setup.batch = cfg.batch;
    setup.precision = device_.is_cuda() ? cfg.precision : plan::Precision::Fp32;
    setup.optimizer = cfg.optimizer.kind;
    setup.momentum = cfg.optimizer.momentum != 0;
    const cost::CheckpointPolicy policy = cfg.checkpointing;
    const int64_t budget = cfg.memoryBudgetBytes > 0 ? cfg.memoryBudgetBytes : deviceMemoryBytes(device_);
    cost::CheckpointPlan cp = cost::planCheckpoints(live.net->graph(), *nc, setup, policy, budget);
    std::vector<CheckpointSegment> segments;
    for (const cost::Segment& s : cp.segments) segments.push_back({s.first, s.last + 1});
    live.net->setCheckpointSegments(segments);
    // Logged at the stage's first step: a stage resumed from its checkpoint logged it before.
    if (!(options_.resume && std::filesystem::exists(ckpt)))
      capture.logMetric(stage.key + "/memory_estimate_bytes", static_cast<double>(cp.memory.totalBytes()),
                        runStep_, 0);
    if (!segments.empty())
      log_ << "mhr: " << stage.key << ": activation checkpointing over " << segments.size()
           << " segment(s)\n";
    if (!cp.fits)
      log_ << "mhr: warning: " << stage.key << ": the estimated " << cp.memory.totalBytes() / (1 << 20)
           << " MiB exceed the memory budget of " << budget / (1 << 20) << " MiB even with checkpointing\n";

    TrainContext ctx;
    ctx.stageKey = stage.key;
    ctx.device = device_;
    ctx.checkpointPath = ckpt;
    ctx.resume = options_.resume;
    ctx.progress = progress_;
    ctx.seed = seed;
    ctx.stepOffset = runStep_;
    ctx.log = &log_;
    ctx.distributed = options_.distributed.get();
    ctx.writeCheckpoints = root_;
    int64_t epochsDone = 0;
    ctx.onEpochEnd = [&](int64_t e) {
      epochsDone = e;
      if (options_.onEpochEnd) options_.onEpochEnd(stage.key, e);
    };
    resetPeakMemory(device_);
    // An allocation failure names the stage, the epoch, the batch and the cost model's estimate (it used to
    // end as a bare "std::bad_alloc"); the run is then marked failed by the driver, and the checkpoint of
    // the last finished epoch stays where it is, for `--resume` with a smaller batch.
    auto outOfMemory = [&](const std::string& what) {
      auto n = [](int64_t v) { return std::to_string(v); };
      return UserError(stage.location + ": " + stage.key + ": out of memory in epoch " + n(epochsDone + 1) +
                       " of " + n(cfg.epochs) + " (batch " + n(cfg.batch) + " at " + n(stage.resolution.h) +
                       "x" + n(stage.resolution.w) + "; the cost model estimated " +
                       n(cp.memory.totalBytes() / (1 << 20)) + " MiB per step" +
                       (budget > 0 ? ", the limit is " + n(budget / (1 << 20)) + " MiB" : std::string()) +
                       "): " + what + "; " +
                       (epochsDone > 0 ? "the checkpoint after epoch " + n(epochsDone) + " is kept in " + ckpt
                                       : std::string("no epoch finished, so there is no checkpoint")) +
                       " — lower the batch or the resolution, or use `checkpointing: auto` with a "
                       "`memory_budget`");
    };
    TrainResult r;
    try {
      r = train(*live.net, cfg, *trainSrc, valSrc.get(), ctx, capture);
    } catch (const std::bad_alloc&) {
      throw outOfMemory("the host could not allocate memory");
    } catch (const c10::OutOfMemoryError& e) {
      throw outOfMemory(e.what_without_backtrace());
    }
    live.net->setCheckpointSegments({});
    runStep_ += r.globalStep;
    const int64_t peak = peakMemoryBytes(device_);
    if (peak >= 0)
      capture.logMetric(stage.key + "/peak_memory_bytes", static_cast<double>(peak), runStep_, 0);
    live.lastStage = stage.key;
    outcome.trainLoss = r.lastEpochLoss;
    // A stage trained from its start here can serve later sweep members (a resumed one logged only part).
    if (reusable && r.resumedAtEpoch < 0) {
      ReusableStage done;
      done.from = options_.reuse->currentRun;
      done.checkpoint = ckpt;
      done.steps = r.globalStep;
      done.metrics = std::move(capture.metrics);
      done.tags = std::move(capture.tags);
      options_.reuse->byHash[stage.inputHash] = std::move(done);
    }
  }

  // StageReuse: a stage with the same inputs that an earlier run of this process trained is not trained
  // again. Its final checkpoint is copied into this run's folder (with this run's step, so that resume reads
  // the right one), its weights loaded, its metrics and stage tags logged again at this run's steps.
  bool reuseStage(const plan::Stage& stage, LiveNetwork& live, const std::string& ckpt,
                  StageOutcome& outcome) {
    auto it = options_.reuse->byHash.find(stage.inputHash);
    if (it == options_.reuse->byHash.end() || !std::filesystem::exists(it->second.checkpoint)) return false;
    const ReusableStage& from = it->second;
    // The data sets it read: their provenance belongs to this run too.
    dataset(stage.dataset);
    if (const std::string& v = stage.train.valSplit; !v.empty() && v.rfind('.') != std::string::npos)
      dataset(v.substr(0, v.rfind('.')));
    if (root_) {
      StateDict in = readStateDict(from.checkpoint), sd;
      for (const std::string& n : in.names())
        sd.add(n, n == "progress.run_step" ? torch::tensor(runStep_ + from.steps, torch::kLong) : in.at(n));
      writeStateDict(ckpt, sd);
      if (std::filesystem::exists(from.checkpoint + ".best"))
        std::filesystem::copy_file(from.checkpoint + ".best", ckpt + ".best",
                                   std::filesystem::copy_options::overwrite_existing);
      ArtifactRecord a;
      a.kind = "checkpoint";
      a.path = ckpt;
      a.sha256 = support::sha256File(ckpt);
      a.bytes = static_cast<int64_t>(std::filesystem::file_size(ckpt));
      a.stage = stage.key;
      sink_.logArtifact(a);
    }
    loadCheckpointWeights(*live.net, ckpt);
    for (const ReusedMetric& m : from.metrics) {
      sink_.logMetric(m.key, m.value, runStep_ + m.step, m.epoch);
      if (m.key == stage.key + "/epoch_loss") outcome.trainLoss = m.value;
    }
    for (const auto& [k, v] : from.tags) sink_.setTag(k, v);
    sink_.setTag(stage.key + "/reused_from", from.from + "; same inputs " + stage.inputHash.substr(0, 16));
    runStep_ += from.steps;
    live.lastStage = stage.key;
    outcome.reusedFrom = from.from;
    log_ << "mhr: " << stage.key << ": reused from " << from.from << " (same inputs "
         << stage.inputHash.substr(0, 12) << "): not trained again\n";
    return true;
  }

  void runEvaluate(const plan::Stage& stage, StageOutcome& outcome) {
    LiveNetwork& live = network(stage.network);
    ++runStep_; // an evaluation is one run-wide step
    if (done(stage.key)) {
      outcome.skipped = true;
      log_ << "mhr: " << stage.key << ": finished before the resume\n";
      return;
    }
    live.net->to(device_);
    const uint64_t seed = support::deriveSeed(static_cast<uint64_t>(plan_.seed), stage.key, 0);
    // Data-parallel: each rank predicts its shard of the split, the predictions are gathered on every rank
    // (evaluator.h), and rank 0 alone computes Grad-CAM, over a source of the whole split.
    const bool sharded = options_.distributed && options_.distributed->worldSize() > 1;
    auto src = source(stage.dataset, stage.split, stage.resolution, *live.net, stage.eval.batch, false,
                      nullptr, seed, sharded);
    std::unique_ptr<BatchSource> camSrc;
    if (sharded && root_ && stage.eval.camSamples > 0)
      camSrc = source(stage.dataset, stage.split, stage.resolution, *live.net, stage.eval.batch, false,
                      nullptr, seed);
    EvalContext ctx;
    ctx.distributed = options_.distributed.get();
    ctx.camSource = camSrc.get();
    ctx.stageKey = stage.key;
    ctx.device = device_;
    ctx.progress = progress_;
    ctx.seed = seed;
    ctx.step = runStep_;
    outcome.evaluation = evaluate(*live.net, stage.eval, *src, ctx, sink_);
    // The tracker has them as a tag; the console is where a user reads them (rank 0 alone: one copy).
    if (root_)
      for (const std::string& w : outcome.evaluation->warnings)
        log_ << "mhr: warning: " << stage.key << ": " << w << "\n";
    if (root_ && !options_.checkpointDir.empty()) recordModel(stage, live, *outcome.evaluation);
  }

  // `mhr predict` and `mhr export` read this later: the network as evaluated, with the data set's typed
  // preprocessing and the operating point, independent of the spec file (which may change after the run).
  void recordModel(const plan::Stage& stage, LiveNetwork& live, const EvaluationSummary& summary) {
    const data::Dataset& ds = dataset(stage.dataset);
    ModelRecord r;
    r.network = stage.network;
    r.stage = stage.key;
    r.trainedBy = live.lastStage;
    r.dataset = stage.dataset;
    r.constructor = ds.constructorName();
    if (r.constructor == "cbis_ddsm")
      r.imageColumn = "image file path";
    else if (r.constructor == "chestxray14")
      r.imageColumn = "Image Index";
    else if (auto* m = std::get_if<plan::ManifestSource>(&plan_.dataset(stage.dataset)->spec.source))
      r.imageColumn = m->image;
    r.split = stage.split;
    r.height = stage.resolution.h;
    r.width = stage.resolution.w;
    r.channels = live.net->graph().node(live.net->graph().inputId()).input.channels;
    r.classes = ds.classes();
    r.multiLabel = ds.multiLabel();
    r.threshold = summary.threshold;
    const bool eer = stage.eval.thresholdAtEer && !r.multiLabel && r.classes.size() == 2 &&
                     !summary.classes.empty() && summary.classes[0].equalError;
    r.thresholdSource = eer ? "eer" : "spec";
    r.tta = stage.eval.tta;
    r.camLayer = stage.eval.camLayer;
    r.preprocess = ds.options().preprocess;
    r.graph = live.net->graph();
    r.specHash = plan_.specHash;
    // One weights file per network and training stage: evaluations of unchanged weights share it.
    r.weightsFile = "weights." + stage.network + "." + (live.lastStage.empty() ? "init" : live.lastStage) +
                    ".safetensors";
    const std::string weights = options_.checkpointDir + "/" + r.weightsFile;
    if (!std::filesystem::exists(weights)) {
      StateDict sd;
      StateDict model = moduleStateDict(*live.net);
      for (const std::string& n : model.names()) sd.add(n, model.at(n).detach().to(torch::kCPU).contiguous());
      writeStateDict(weights, sd);
    }
    r.weightsSha256 = support::sha256File(weights);
    const std::string path = options_.checkpointDir + "/model." + stage.key + ".json";
    support::writeFileAtomic(path, modelRecordToJson(r));
    for (const auto& [kind, file] :
         {std::pair<std::string, std::string>{"weights", weights}, {"model", path}}) {
      ArtifactRecord a;
      a.kind = kind;
      a.path = file;
      a.sha256 = support::sha256File(file);
      a.bytes = static_cast<int64_t>(std::filesystem::file_size(file));
      a.stage = stage.key;
      sink_.logArtifact(a);
    }
  }

  const plan::ExperimentPlan& plan_;
  const ExecuteOptions& options_;
  MetricsSink& sink_;
  std::ostream& log_;
  torch::Device device_ = torch::kCPU;
  bool root_ = true; // writes checkpoints and markers (rank 0 of a data-parallel run)
  ProgressOptions progress_;
  int64_t runStep_ = 0; // run-wide metric step (resumeStep in execute.h)
  std::map<std::string, LiveNetwork> networks_;
  std::map<std::string, std::unique_ptr<data::Dataset>> datasets_;
  std::map<std::string, std::unique_ptr<data::PreparedSplit>> splits_;
};

} // namespace

int64_t resumeStep(const std::string& checkpointDir) {
  int64_t step = -1;
  std::error_code ec;
  if (checkpointDir.empty() || !std::filesystem::is_directory(checkpointDir, ec)) return step;
  for (const auto& entry : std::filesystem::directory_iterator(checkpointDir, ec)) {
    const std::string path = entry.path().string();
    if (entry.path().extension() == ".ckpt") {
      step = std::max(step, readCheckpointInfo(path).runStep);
    } else if (entry.path().extension() == ".done") {
      std::optional<std::string> text = support::readFile(path);
      if (text && text->rfind("done ", 0) == 0)
        step = std::max<int64_t>(step, std::strtoll(text->c_str() + 5, nullptr, 10));
    }
  }
  return step;
}

ExecuteResult execute(const plan::ExperimentPlan& plan, const ExecuteOptions& options, MetricsSink& sink) {
  try {
    Runner runner(plan, options, sink);
    return runner.run();
  } catch (const c10::OutOfMemoryError& e) {
    throw UserError(std::string("out of device memory: ") + e.what_without_backtrace() +
                    " — lower the batch, use `checkpointing: auto` with a `memory_budget`, or bf16");
  } catch (const c10::Error& e) {
    throw UserError(std::string("LibTorch error: ") + e.what_without_backtrace());
  }
}

ParamValue toParamValue(const plan::Value& v) {
  switch (v.kind) {
  case plan::Value::Kind::Bool:
    return v.boolean;
  case plan::Value::Kind::Int:
    return v.integer;
  case plan::Value::Kind::Float:
    return v.number;
  case plan::Value::Kind::String:
  case plan::Value::Kind::Symbol:
    return v.text;
  default:
    return v.str();
  }
}

} // namespace mhr::runtime
