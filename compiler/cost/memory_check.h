// compiler/cost/memory_check.h — `mhr check` refuses a stage that cannot fit before anything runs. In: a
// stage's network graph, resolution and lowered settings, and the memory limit (the stage's
// `memory_budget:`, else the device's memory that the driver passes in: host RAM for the CPU). Out: the
// estimate of the cost model, and when it exceeds the limit, what would fit (a batch, a resolution, or
// `checkpointing: auto`). Evaluation stages are estimated forward only (weights, input batch, the two
// largest live activations per image).
#pragma once

#include "compiler/cost/checkpoint.h"
#include "compiler/plan/plan.h"

#include <optional>
#include <string>

namespace mhr::cost {

struct StageMemory {
  int64_t estimateBytes = 0;
  int64_t limitBytes = 0;
  bool fits = true;
  std::optional<int64_t> fittingBatch;                          // the largest batch that fits (when one does)
  std::optional<std::pair<int64_t, int64_t>> fittingResolution; // at the stage's batch, multiples of 32
  bool checkpointingWouldFit = false;                           // checkpointing: off now, auto would fit
};

// nullopt when the network cannot run at the stage's resolution (reported elsewhere). `cuda` selects the
// precision the runtime uses (autocast only on CUDA).
std::optional<StageMemory> stageMemory(const ir::Graph& graph, const plan::Stage& stage, int64_t limitBytes,
                                       bool cuda);

// "1.5 GiB", "730 MiB".
std::string bytesText(int64_t bytes);

} // namespace mhr::cost
