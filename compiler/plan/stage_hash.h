// compiler/plan/stage_hash.h — what a stage's result depends on, as a hash. In: a lowered ExperimentPlan.
// Out: for every stage, the sha256 of everything that decides what it computes: the experiment seed and
// preservation level, the stage as `mhr emit plan` prints it plus its block as written, the data sets it
// reads (with the folder their paths resolve against), and the weights its network holds when it starts —
// itself a hash of the network's definition (init seed, morph steps) and of every earlier train stage that
// trained it or, before a morph, its parent. Two plans that agree on a stage's hash compute the same result
// for it (bit for bit on the CPU), whatever else differs: `mhr run` of a sweep trains such a stage once and
// reuses it in the other members (runtime/execute.h: StageReuse).
#pragma once

#include "compiler/plan/plan.h"

#include <string>
#include <vector>

namespace mhr::plan {

// One hex sha256 per stage of `plan`, in stage order.
std::vector<std::string> stageInputHashes(const ExperimentPlan& plan);

} // namespace mhr::plan
