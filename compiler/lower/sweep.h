// compiler/lower/sweep.h — a `sweep { ... }` block as a list of runs. In: the plan's SweepConfig. Out: one
// SweepRun per combination — its `--set` overrides in canonical value syntax (so a run can be reproduced with
// plain `mhr run --set ...`) and a short label. Grid: every combination, the last key varying fastest.
// Random: `count` distinct combinations drawn with the sweep's seed (all of them when count >= the grid
// size), in drawing order. Deterministic: the same spec gives the same list on every machine.
#pragma once

#include "compiler/plan/plan.h"

#include <string>
#include <vector>

namespace mhr::lower {

struct SweepRun {
  std::vector<std::string> overrides; // "train.n.optimizer.lr=0.1"
  std::string label;                  // "train.n.optimizer.lr=0.1 seed=2"
};

std::vector<SweepRun> expandSweep(const plan::SweepConfig& sweep);
// Number of combinations of the full grid (saturates at INT64_MAX).
int64_t sweepGridSize(const plan::SweepConfig& sweep);

} // namespace mhr::lower
