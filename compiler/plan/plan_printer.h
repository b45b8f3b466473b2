// compiler/plan/plan_printer.h — `mhr emit plan`: the Plan as stable text (no pointers, fixed order), one
// section per data set, network (with every morph step's recipe summarised) and stage (every resolved
// setting). Golden tests compare it; `mhr explain` prints a friendlier view with costs.
#pragma once

#include "compiler/plan/plan.h"

#include <string>

namespace mhr::plan {

std::string printPlan(const ExperimentPlan& plan);
std::string
describeRecipe(const MorphRecipe& recipe); // one line: "widen 16 -> 32 channels, split random, ..."

} // namespace mhr::plan
