// runtime/optimizer.h — the optimizers and learning-rate schedules of a train stage. In: the stage's
// OptimizerConfig/ScheduleConfig, the network's named parameters, `freeze` prefixes and per-layer-group lr
// multipliers. Out: an optimizer whose update rules are torch.optim's (1.13, single-tensor path) written out
// — SGD (momentum, Nesterov, weight decay), Adam (L2 weight decay), AdamW (decoupled weight decay) — with its
// state held by parameter NAME, so checkpoints are plain state dicts and resume is bit-exact; and the
// learning rate as a pure function of the global step, so a schedule needs no state of its own.
#pragma once

#include "compiler/plan/plan.h"
#include "runtime/state_dict.h"

#include <string>
#include <vector>

namespace mhr::runtime {

// The learning rate at `step` (0-based optimizer step) of a stage with `totalSteps` steps, `stepsPerEpoch`
// steps an epoch, for a base rate `lr`:
//   warm-up (constant, step, cosine): linear from lr/100 to lr over warmupEpochs epochs;
//   constant: lr;  step: lr * gamma^floor(epoch / stepEvery) with epoch = step / stepsPerEpoch;
//   cosine: minLr + (lr - minLr) * (1 + cos(pi * t)) / 2, t = progress after the warm-up in [0, 1];
//   onecycle (torch.optim.lr_scheduler.OneCycleLR, cosine, div_factor 25, final_div_factor 1e4): from
//   maxLr/25 up to maxLr over pctStart of the steps, then down to maxLr/25/1e4 (maxLr 0 = lr).
double scheduledLr(const plan::ScheduleConfig& schedule, double lr, int64_t step, int64_t stepsPerEpoch,
                   int64_t totalSteps);

struct ParamEntry {
  std::string name;
  torch::Tensor param;
  double lrMultiplier = 1.0;
};

class Optimizer {
public:
  // Parameters under a `freeze` prefix get requires_grad = false and are left out. The multiplier of a
  // parameter is that of the longest lr-group path that is its node or a prefix of it ("layer4" covers
  // "layer4.0.conv1.weight"); 1 otherwise. Throws mhr::UserError for an unknown optimizer kind.
  Optimizer(const plan::OptimizerConfig& config,
            const std::vector<std::pair<std::string, torch::Tensor>>& named,
            const std::vector<std::string>& freeze, const std::vector<plan::LrGroup>& groups);

  // One update with base learning rate `lr` (each parameter uses lr * its multiplier). Parameters without a
  // gradient are skipped, as torch.optim does. On CUDA the update runs as multi-tensor (_foreach_) kernels,
  // torch.optim's default there; elsewhere one parameter at a time (the bit-reproducible CPU path).
  void step(double lr);
  // Forces the multi-tensor path on (true) or off (false) whatever the device (tests).
  void setForeach(bool on) { foreach_ = on ? 1 : 0; }
  void zeroGrad();

  const std::vector<ParamEntry>& params() const { return params_; }
  int64_t frozenCount() const { return frozen_; }

  // State by parameter name: "<param>.momentum_buffer" (sgd), "<param>.exp_avg", "<param>.exp_avg_sq",
  // "<param>.step" (adam, adamw).
  StateDict state() const;
  // Restores what state() returned; throws mhr::UserError when names or shapes do not fit.
  void loadState(const StateDict& state, const std::string& source);

private:
  struct Slots {
    torch::Tensor momentum; // sgd
    torch::Tensor expAvg, expAvgSq;
    int64_t steps = 0;
  };
  void stepSingle(double lr);
  void stepForeach(double lr);
  plan::OptimizerConfig config_;
  int foreach_ = -1; // -1: on CUDA only
  std::vector<ParamEntry> params_;
  std::vector<Slots> slots_;
  int64_t frozen_ = 0;
};

// Whether `name` (a parameter or node name) lies under the layer path `prefix`.
bool underPath(const std::string& name, const std::string& prefix);

} // namespace mhr::runtime
