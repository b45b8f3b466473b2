// compiler/cost/checkpoint.h — activation checkpointing plans (`checkpointing: off | auto | all`). In: a
// graph, its cost at a resolution, the training setup and a memory budget. Out: the checkpointed segments
// (node ranges the runtime recomputes during backward), the memory estimate with them, the extra forward MACs
// they cost, and whether the step fits the budget.
//
// Segments start and end at *cut points*: nodes whose output is the only tensor that later nodes read from
// everything before them (ResNet and EfficientNet block outputs, DenseNet transitions, VGG layers); the
// runtime therefore needs to keep only a segment's input. `all` checkpoints every run between consecutive cut
// points; `auto` returns no segments when the step fits without them, and otherwise searches the groupings of
// runs (a dynamic program per cap on the recomputed segment's size) for the plan that fits with the fewest
// recomputed MACs — or, when nothing fits, the plan with the least memory (fits = false).
#pragma once

#include "compiler/cost/cost_model.h"

#include <string>
#include <vector>

namespace mhr::cost {

using CheckpointPolicy = plan::Checkpointing; // off | auto | all, the plan's enum

struct CheckpointPlan {
  std::vector<Segment> segments;
  MemoryEstimate memory;
  int64_t recomputeMacs = 0; // per image, added to the forward MACs of a training step
  bool fits = true;          // memory.totalBytes() <= budget (always true without a budget)
};

// Nodes after which exactly one tensor (that node's output) is live, in graph order (the input node first).
std::vector<ir::NodeId> cutPoints(const ir::Graph& graph);

// `budgetBytes` <= 0 means no budget (auto then checkpoints nothing). setup.segments is ignored.
CheckpointPlan planCheckpoints(const ir::Graph& graph, const NetworkCost& cost, TrainingSetup setup,
                               CheckpointPolicy policy, int64_t budgetBytes);

} // namespace mhr::cost
