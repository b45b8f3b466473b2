// runtime/morph.h — morphs in weight space and their numeric re-check. In: a morph child's NetworkPlan (one
// recipe per statement, compiler/plan/network_plan.h) and the parent's current state dict. Out: the child's
// state dict, built exactly as the recipes describe (float64 arithmetic, rounded once), and per statement a
// VerdictRecord with the numeric errors of child vs parent: float64 on the CPU, random inputs with negative
// values at a size not divisible by the network's total stride (upscale: a divisible size, and the error at a
// non-divisible one reported in the reason), in train and eval mode where the proof holds in both. A
// statement the prover called exact (or exact in eval mode) that fails numerically stops the run: a UserError
// carrying both facts. Also the import of a stdlib network's weights file (3 -> 1 input channels).
#pragma once

#include "compiler/plan/network_plan.h"
#include "runtime/metrics_sink.h"
#include "runtime/network.h"
#include "runtime/state_dict.h"

#include <string>

namespace mhr::runtime {

// One recipe: the state dict of the step's graph from the state dict of the graph before it. Asserts (our
// bug) that the result holds exactly the tensors ir::stateDictSpec(childGraph) lists.
StateDict applyRecipe(const plan::MorphRecipe& recipe, const StateDict& parent, const ir::Graph& childGraph);

struct RecheckOptions {
  int64_t batch = 2;
  uint64_t seed = 0;       // inputs and train-mode random draws
  double tolerance = 1e-5; // relative error (max |child - parent| / max |parent|) an exact statement may
                           // show: the float32 rounding of recipe results (R3), well above float64 noise
};

struct RecheckResult {
  bool ran = false;
  std::string mode; // "both", "eval" or "train"
  int64_t height = 0, width = 0;
  double maxAbsError = NAN; // on the network outputs, worst over the modes run
  double relError = NAN;    // maxAbsError / max |parent output|
  double borderError = NAN; // max |difference| on the border pixels of the last feature map both graphs share
  double borderRelError = NAN; // borderError / max |parent feature map|
  std::string borderNode;      // where borderError was measured ("" when no shared spatial map exists)
  std::string note;            // e.g. the error of an upscale at a non-divisible size
};

// Child (after `step`) vs parent (before it) on the same random input (upscale: parent on the box-downsampled
// input). `childGraph` is step.edit applied to `parentGraph`; `parentWeights` / `childWeights` are the state
// dicts of `parentGraph` / `childGraph`.
RecheckResult recheckStep(const ir::Graph& parentGraph, const StateDict& parentWeights,
                          const plan::MorphStep& step, const ir::Graph& childGraph,
                          const StateDict& childWeights, const RecheckOptions& options);

// Applies every step of `child` to `parentWeights` (the state dict of `parentGraph`), re-checks each applied,
// non-declared step, logs a VerdictRecord per step and the lineage, and returns the child's state dict.
// Throws mhr::UserError when an exact/eval statement fails its re-check.
StateDict morphWeights(const plan::NetworkPlan& child, const ir::Graph& parentGraph,
                       const StateDict& parentWeights, const std::string& parentStage, MetricsSink& sink,
                       const RecheckOptions& options);

// A stdlib network's weights file, with the plan's import recipe (3-channel stem weights summed into a
// 1-channel stem) and name/shape/dtype checks; loads into `network`.
void importWeights(const plan::NetworkPlan& plan, NetworkImpl& network);

} // namespace mhr::runtime
