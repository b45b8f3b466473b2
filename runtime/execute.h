// runtime/execute.h — the runtime's entry point: one ExperimentPlan, executed. In: the plan (from
// compiler::compileFile), options from `mhr run` (device, checkpoint folder, resume, progress) and the
// tracker's MetricsSink. Out: everything through the sink (environment, params, verdicts and lineage of every
// morph, per-step and per-epoch metrics, checkpoints as artifacts, evaluation metrics, predictions and
// Grad-CAM maps) and a summary of the evaluation stages for the console.
//
// Order: networks are materialised just before the stage their statement precedes (NetworkPlan::afterStages):
// a stdlib network from its seed (and weights file), a morph child from its parent's weights at that moment,
// re-checked statement by statement. Stages run in plan order. With a checkpoint folder, every train stage
// writes `<key>.ckpt` each epoch and every finished stage a `<key>.done` marker; `resume` skips finished
// stages (loading their final weights) and continues an interrupted train stage after its last finished
// epoch, so a CPU run reaches bit-identical weights.
//
// Errors (bad data, a NaN loss, a failed re-check, an unusable device, LibTorch's own c10::Error) come out as
// mhr::UserError with a message for the user; nothing else escapes.
#pragma once

#include "compiler/plan/plan.h"
#include "runtime/metrics.h"
#include "runtime/metrics_sink.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace mhr::runtime {

class Distributed;

// Train stages that an earlier run of this process finished with the same inputs (plan::Stage::inputHash):
// `mhr run` of a sweep passes one StageReuse to every member, so a stage that all members share (the base
// network's training when the sweep varies only the morph child's lr) trains once. A reused stage copies the
// earlier run's final checkpoint into this run's folder, loads it, logs the earlier run's metrics and stage
// tags again at this run's steps, and records tag "STAGE/reused_from". Filled by execute() as stages finish.
struct ReusedMetric {
  std::string key; // "train.base/loss"
  double value;
  int64_t step; // relative to the stage's first step (step - the stage's step offset)
  int64_t epoch;
};
struct ReusableStage {
  std::string from;       // who trained it, for people: "run 1a2b3c4d (sweep member 1)"
  std::string checkpoint; // its final checkpoint (and CHECKPOINT.best beside it, when it selected an epoch)
  int64_t steps = 0;      // optimizer steps it took
  std::vector<ReusedMetric> metrics;
  std::vector<std::pair<std::string, std::string>> tags; // its "STAGE/..." tags
};
struct StageReuse {
  std::string currentRun; // the `from` text for what this run adds
  std::map<std::string, ReusableStage> byHash;
};

struct ExecuteOptions {
  std::string device = "auto"; // cpu | cuda | cuda:N | auto
  std::string checkpointDir;   // "" = no checkpoints (and no resume)
  bool resume = false;         // continue the run whose checkpoints are in checkpointDir
  bool progress = true;        // progress on stderr (bars on a terminal, periodic lines otherwise)
  int64_t threads = 0;         // LibTorch CPU threads; 0 = leave LibTorch's default
  std::string dataDir;         // relative data set paths are resolved against it ("" = working directory)
  std::string cacheDir;        // prepared-image caches ("" = each data set's `cache:` option / default)
  std::ostream* log = nullptr; // warnings and stage lines; nullptr = std::cerr
  // Data-parallel (runtime/distributed.h): every rank executes the whole plan; train stages read this rank's
  // shard of the training split (torch's DistributedSampler order) and average gradients; evaluation and
  // validation predict this rank's unpadded shard and gather the predictions (evaluator.h), so every rank
  // computes the metrics of the whole split; only rank 0's sink records them.
  // Only rank 0 writes checkpoints and stage markers (in a folder every rank can read, for resume). The
  // device is the group's (cuda:LOCAL_RANK on CUDA). nullptr = one process.
  std::shared_ptr<Distributed> distributed;
  // Sweeps: train stages to reuse, and where finished ones are added (nullptr = train every stage). Needs a
  // checkpoint folder; ignored for data-parallel runs.
  StageReuse* reuse = nullptr;
  // Tests: called after each epoch's checkpoint is durable.
  std::function<void(const std::string& stageKey, int64_t epochsDone)> onEpochEnd;
};

struct StageOutcome {
  std::string key;        // "evaluate.hr"
  std::string network;    // "hr"
  std::string split;      // "mammo.test"
  bool skipped = false;   // finished before a resume
  std::string reusedFrom; // a train stage reused from an earlier run (StageReuse), "" = trained here
  std::optional<EvaluationSummary> evaluation;
  double trainLoss = NAN; // last epoch's mean loss (train stages)
};

struct ExecuteResult {
  std::string device;
  std::vector<StageOutcome> stages;
};

ExecuteResult execute(const plan::ExperimentPlan& plan, const ExecuteOptions& options, MetricsSink& sink);

// Metric steps are run-wide: every optimizer step of every train stage advances them by one, every evaluate
// stage by one. This returns the step up to which a run's checkpoint folder holds durable results (the last
// checkpoint or finished stage); what the interrupted process logged with a larger step is logged again when
// the run resumes, so the tracker should drop it (tracker::ResumeOptions::discardMetricsAfterStep). -1 when
// the folder holds nothing to resume from.
int64_t resumeStep(const std::string& checkpointDir);

// A plan parameter as the tracker stores it (numbers stay numbers; lists and the like as their text). The
// runtime logs the plan's params with it, and `mhr run` records them at the run's start.
ParamValue toParamValue(const plan::Value& v);

} // namespace mhr::runtime
