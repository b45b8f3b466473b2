// compiler/cost/cost_report.h — what `mhr explain` prints about a network at a resolution. In: the network's
// graph, H x W, the stage's training setup, checkpoint policy and memory budget. Out: a CostReport, its text
// form (aligned lines: parameters, MACs per image, the training step's memory broken down, the checkpoint
// segments) and its JSON form for tools:
//   {"network", "height", "width", "parameters", "macs", "batch", "precision", "optimizer", "checkpointing",
//    "budget_bytes", "memory": {"parameters", "gradients", "optimizer", "input", "saved_at_backward_start",
//    "activations", "recompute", "activation_grads", "total"} (the last four at the backward pass's peak),
//    "segments": [{"first", "last"}], "recompute_macs", "fits"}
#pragma once

#include "compiler/cost/checkpoint.h"

#include <optional>
#include <string>

namespace mhr::cost {

struct CostReport {
  std::string network;
  NetworkCost cost;
  TrainingSetup setup;
  CheckpointPolicy policy = CheckpointPolicy::Off;
  int64_t budgetBytes = 0;
  CheckpointPlan plan;
  std::vector<std::pair<std::string, std::string>> segmentNames; // first and last node of each segment
};

// nullopt (with `error`) when the network cannot run at H x W.
std::optional<CostReport> costReport(const std::string& network, const ir::Graph& graph, int64_t height,
                                     int64_t width, const TrainingSetup& setup, CheckpointPolicy policy,
                                     int64_t budgetBytes, std::string* error = nullptr);

std::string costText(const CostReport& report);
std::string costJson(const CostReport& report);

std::string humanBytes(int64_t bytes); // "44.6 MiB", "7.31 GiB"
std::string humanCount(int64_t count); // "4.09 G", "11.7 M", "512"

} // namespace mhr::cost
