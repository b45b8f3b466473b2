// compiler/plan/plan.h — the Plan: everything the runtime needs to execute one experiment, as plain data.
// Produced by compiler/lower from a checked AST (+ IR and proofs); consumed by runtime/ and data/, which read
// nothing else of the compiler. Every field has its default filled in by lowering, so consumers never guess.
#pragma once

#include "compiler/plan/dataset_spec.h"
#include "compiler/plan/enums.h"
#include "compiler/plan/network_plan.h"
#include "compiler/plan/value.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mhr::plan {

struct DatasetConfig {
  std::string name; // `mammo` in `dataset mammo = ...`
  // As written (printed in the plan, hashed, recorded as params); data/ reads only `spec`.
  Value constructor;    // a Call: synthetic_mammo(...), cbis_ddsm(...), chestxray14(...), manifest(...), ...
  Attrs options;        // the optional `{ ... }` block: preprocess, resize, on_error, cache
  DatasetSpec spec;     // the same, typed and complete (compiler/lower/lower_dataset)
  std::string location; // "file:line:col" of the statement, for run-time messages
  // Absolute folder that relative paths in the constructor (root, csv) resolve against: the folder of the
  // file the constructor call is written in, as for `include` (the working directory for a `--set` value).
  // Not part of the printed plan or its hash: the same spec moved with its data is the same experiment.
  std::string baseDir;
};

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::Sgd;
  double lr = 0.01;
  double momentum = 0.0; // sgd
  bool nesterov = false; // sgd
  double weightDecay = 0.0;
  double beta1 = 0.9; // adam, adamw
  double beta2 = 0.999;
  double eps = 1e-8;
};

struct ScheduleConfig {
  ScheduleKind kind = ScheduleKind::Constant;
  double warmupEpochs = 0.0; // linear warm-up from lr/100 (cosine, step, constant)
  int64_t stepEvery = 1;     // step: epochs between decays
  double gamma = 0.1;        // step: decay factor
  double minLr = 0.0;        // cosine: final lr
  double maxLr = 0.0;        // onecycle: peak lr (0 = the optimizer's lr)
  double pctStart = 0.3;     // onecycle: fraction of steps spent rising
};

struct LossConfig {
  LossKind kind = LossKind::Auto;   // auto: cross_entropy for single-label, bce for multi-label
  std::vector<double> classWeights; // cross_entropy: one per class (empty = none)
  std::vector<double> posWeight;    // bce: one per label (empty = none)
  double labelSmoothing = 0.0;
};

struct LrGroup {
  std::string path;  // layer path prefix, e.g. "layer4" or "fc"
  double multiplier; // lr multiplier for parameters under it
};

// A validation metric a train stage selects or stops on: `val.auc` -> {"auc", true}.
struct ValMetric {
  std::string metric;   // loss | auc | pr_auc | accuracy | balanced_accuracy | brier | ece
  bool maximize = true; // false for loss, brier, ece
  std::string text() const { return "val." + metric; }
};

struct TrainConfig {
  int64_t epochs = 1;
  int64_t batch = 8;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  Precision precision = Precision::Fp32;            // autocast on CUDA; fp32 on CPU
  Checkpointing checkpointing = Checkpointing::Off; // activation checkpointing
  int64_t memoryBudgetBytes = 0;                    // for checkpointing: auto; 0 = device memory
  std::vector<Value>
      augment; // as written: hflip, vflip, rotate(15deg), scale(0.9, 1.1), brightness(0.1), ...
  std::vector<AugmentOp> augmentOps; // the same, typed (what data/ reads)
  int64_t accumulate = 1;            // gradient accumulation steps
  double clipGrad = 0.0;             // max global grad norm; 0 = off
  LossConfig loss;
  std::vector<std::string> freeze; // layer path prefixes whose parameters are not trained
  std::vector<LrGroup> lrGroups;
  bool channelsLast = false; // CUDA only
  bool deterministic = true; // CPU runs are bit-reproducible
  bool cudnnBenchmark = true;
  bool syncBatchNorm = false;   // data-parallel: sync BN statistics across ranks
  std::string valSplit;         // "DATASET.SPLIT" evaluated after each epoch ("" = none)
  int64_t workers = 2;          // data loader threads
  int64_t maxStepsPerEpoch = 0; // 0 = whole split
  bool dropLast = false;        // leave out each epoch's last, smaller batch
  // `checkpoint: best(val.M)`: the stage hands on the weights of the epoch with the best val.M (ties: the
  // earliest); unset = the last epoch's (`checkpoint: last`).
  std::optional<ValMetric> selectBest;
  // `early_stop: patience(N, on: val.M, min_delta: d)`: stop after N epochs in a row without a gain of more
  // than d over the best val.M so far; 0 = off.
  int64_t patience = 0;
  ValMetric stopOn{"loss", false};
  double minDelta = 0.0;
};

struct EvalConfig {
  std::vector<std::string> metrics = {"auc"}; // auc, accuracy, sensitivity, specificity, loss
  double threshold = 0.5;                     // operating point for sensitivity/specificity/accuracy
  bool thresholdAtEer = false;                // `threshold: eer`: use the equal-error point instead
  int64_t bootstrap = 1000;                   // resamples for the AUC confidence interval (0 = off)
  double ciLevel = 0.95;
  int64_t camSamples = 0; // Grad-CAM overlays for this many samples
  std::string
      camLayer; // the layer (node or single-output module) Grad-CAM explains; "" = the trunk's last map
  int64_t batch = 16;
  bool tta = false; // average over horizontal flip
};

struct Stage {
  enum class Kind { Train, Evaluate };
  Kind kind = Kind::Train;
  std::string key; // stable name used by --set and the tracker: "train.hr", "evaluate.base.2"
  std::string network;
  std::string dataset;
  std::string split;    // train | val | test
  Size resolution;      // H x W the network sees
  TrainConfig train;    // kind == Train
  EvalConfig eval;      // kind == Evaluate
  std::string location; // "file:line:col"
  // The block's attributes as written (after `--set`), so that the tracker records every setting a user can
  // change, not only those with a typed field above (lr_groups, loss, freeze, val, ...).
  Attrs written;
  // sha256 of everything this stage's result depends on (compiler/plan/stage_hash.h); equal across sweep
  // members that train it alike. Not printed by `mhr emit plan`.
  std::string inputHash;
};

struct SweepConfig {
  SweepMode mode = SweepMode::None;
  int64_t count = 0;                                            // random: number of runs
  int64_t seed = 0;                                             // random: sampling seed
  std::vector<std::pair<std::string, std::vector<Value>>> axes; // key -> candidate values, in source order
};

struct ExperimentPlan {
  std::string name;
  int64_t seed = 0;
  std::string preservation = "exact"; // exact | eval | approximate
  std::string specPath;
  std::string specText;             // the main file as written (includes are listed in `sources`)
  std::string specHash;             // sha256 of the spec text(s)
  std::string semanticHash;         // sha256 of the canonical AST print: ignores formatting and comments
  std::vector<std::string> sources; // every file read, main first
  std::vector<DatasetConfig> datasets;
  std::vector<NetworkPlan> networks; // in definition order; a morph's parent comes before it
  std::vector<Stage> stages;         // in execution order
  SweepConfig sweep;
  Attrs params; // every resolved setting, flattened ("train.hr.optimizer.lr" -> 0.001)

  const DatasetConfig* dataset(const std::string& name) const;
  const NetworkPlan* network(const std::string& name) const;
};

} // namespace mhr::plan
