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

const char* constructorName(const DatasetSource& source) {
  static const char* const names[] = {"synthetic_mammo", "synthetic_cxr", "cbis_ddsm", "chestxray14",
                                      "manifest"};
  return names[source.index()];
}

} // namespace mhr::plan
