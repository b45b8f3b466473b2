// runtime/trainer.h — a train stage. In: a network, the stage's TrainConfig, batch sources for the training
// split (and the validation split, evaluated after each epoch), a device and a checkpoint file. Out: trained
// weights, per-step loss and learning rate and per-epoch metrics through the MetricsSink (keys
// "train.hr/loss", "train.hr/lr", "train.hr/epoch_loss", "train.hr/val_auc", "train.hr/val_loss"), and a
// checkpoint written atomically at the end of every epoch holding everything a bit-exact resume needs
// (weights and buffers, optimizer state, the position in the schedule, random-generator states, the loader
// position, the best validation values so far).
//
// Model selection: `checkpoint: best(val.M)` keeps the best epoch's weights (in memory and in
// CHECKPOINT.best) and hands them on at the end (tag "train.hr/checkpoint", metric
// "train.hr/selected_epoch"); `early_stop: patience(N, on: val.M)` ends the stage after N epochs without a
// gain (tag "train.hr/early_stop", metric "train.hr/stopped_at_epoch"). The schedule keeps its planned
// length.
//
// On CUDA: autocast to bf16/fp16 (fp16 with a dynamic loss scaler), channels_last, cudnn.benchmark; on the
// CPU the stage runs in fp32 (bf16/fp16 requests print a warning). A NaN/Inf loss stops the stage with a
// UserError naming the epoch and step; the last good checkpoint (previous epoch) stays as it was.
#pragma once

#include "compiler/plan/plan.h"
#include "runtime/batch_source.h"
#include "runtime/distributed.h"
#include "runtime/metrics_sink.h"
#include "runtime/network.h"
#include "runtime/progress.h"

#include <functional>
#include <ostream>
#include <string>

namespace mhr::runtime {

struct TrainContext {
  std::string stageKey; // "train.hr": metric keys start with it
  torch::Device device = torch::kCPU;
  std::string checkpointPath; // "" = no checkpoints
  bool resume = false;        // continue from checkpointPath when it exists
  ProgressOptions progress;
  uint64_t seed = 0;
  // Metric steps are run-wide: optimizer step k (0-based) of this stage is logged as stepOffset + k + 1, so
  // the tracker can drop what an interrupted process logged after its last checkpoint (execute.h:
  // resumeStep).
  int64_t stepOffset = 0;
  std::ostream* log = nullptr; // warnings and the per-epoch line; nullptr = std::cerr
  // Data-parallel training (runtime/distributed.h): every rank calls train() with its shard of the data
  // (the source's rank/world); weights start from rank 0's, gradients are averaged over the ranks, step and
  // epoch losses are the means over the ranks, batch norm syncs when the config says `sync_bn`. Only the rank
  // with writeCheckpoints writes the checkpoint (rank 0); after it every rank passes a barrier, so
  // onEpochEnd runs when the epoch's checkpoint is durable for all of them. nullptr = one process.
  Distributed* distributed = nullptr;
  bool writeCheckpoints = true;
  int64_t bucketBytes = 25 << 20; // gradient bucket size (DistributedDataParallel's default, 25 MiB)
  // Called after each epoch's checkpoint is durable, with the number of epochs done (tests use it to kill a
  // run at a known point).
  std::function<void(int64_t epochsDone)> onEpochEnd;
};

struct TrainResult {
  int64_t epochsDone = 0;
  int64_t globalStep = 0;
  int64_t resumedAtEpoch = -1; // the epoch count loaded from the checkpoint, -1 = fresh start
  double lastEpochLoss = NAN;
  int64_t selectedEpoch = 0; // checkpoint: best(...): the epoch whose weights the stage handed on (1-based)
  bool stoppedEarly = false; // early_stop ended the stage before its last epoch
};

TrainResult train(NetworkImpl& net, const plan::TrainConfig& config, BatchSource& trainSource,
                  BatchSource* valSource, const TrainContext& context, MetricsSink& sink);

// What a checkpoint file holds for `net` (reads `path`; throws mhr::UserError naming it when it does not
// fit).
struct CheckpointInfo {
  std::string stage;
  int64_t epochsDone = 0;
  int64_t globalStep = 0; // optimizer steps of this stage done
  int64_t runStep = 0;    // the run-wide step of the checkpoint (TrainContext::stepOffset + globalStep)
};
CheckpointInfo readCheckpointInfo(const std::string& path);
// Loads only the weights and buffers of a checkpoint into `net` (a later stage resuming past this one).
void loadCheckpointWeights(NetworkImpl& net, const std::string& path);

} // namespace mhr::runtime
