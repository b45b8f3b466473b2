#include "compiler/plan/plan.h"

namespace mhr::plan {

const DatasetConfig* ExperimentPlan::dataset(const std::string& n) const {
  for (const auto& d : datasets)
    if (d.name == n) return &d;
  return nullptr;
}

const NetworkPlan* ExperimentPlan::network(const std::string& n) const {
  for (const auto& d : networks)
    if (d.name == n) return &d;
  return nullptr;
}

} // namespace mhr::plan
