// compiler/plan/plan_printer.h — `mhr emit plan`: the Plan as stable text (no pointers, fixed order), one
// section per data set, network (with every morph step's recipe summarised) and stage (every resolved
// setting). Golden tests compare it; `mhr explain` prints a friendlier view with costs.
#pragma once

#include "compiler/plan/plan.h"

#include <ostream>
#include <string>

namespace mhr::plan {

std::string printPlan(const ExperimentPlan& plan);
// Its sections, one at a time (compiler/plan/stage_hash.cpp hashes those a stage depends on).
void printDataset(std::ostream& out, const DatasetConfig& dataset);
void printNetwork(std::ostream& out, const NetworkPlan& network);
void printStage(std::ostream& out, size_t index, const Stage& stage);
std::string
describeRecipe(const MorphRecipe& recipe); // one line: "widen 16 -> 32 channels, split random, ..."

} // namespace mhr::plan
