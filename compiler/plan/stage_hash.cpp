#include "compiler/plan/stage_hash.h"

#include "compiler/plan/plan_printer.h"
#include "support/sha256.h"

#include <map>
#include <set>
#include <sstream>

namespace mhr::plan {

namespace {

void printDatasetFor(std::ostream& o, const ExperimentPlan& plan, const std::string& name) {
  if (const DatasetConfig* d = plan.dataset(name)) {
    printDataset(o, *d);
    o << "  base " << d->baseDir << "\n";
  }
}

} // namespace

std::vector<std::string> stageInputHashes(const ExperimentPlan& plan) {
  // The weights each materialised network holds now, as a hash.
  std::map<std::string, std::string> weights;
  auto materialize = [&](size_t stageIndex) {
    for (const NetworkPlan& n : plan.networks) {
      if (n.afterStages > stageIndex || weights.count(n.name)) continue;
      std::ostringstream o;
      o << "seed " << plan.seed << " preservation " << plan.preservation << "\n";
      printNetwork(o, n);
      o << "  init_seed " << n.initSeed << "\n";
      if (n.origin == NetworkPlan::Origin::Morph) {
        auto parent = weights.find(n.parent);
        o << "  from " << (parent == weights.end() ? "?" : parent->second) << "\n";
      }
      weights[n.name] = support::sha256Hex(o.str());
    }
  };
  std::vector<std::string> out;
  for (size_t i = 0; i < plan.stages.size(); ++i) {
    materialize(i);
    const Stage& s = plan.stages[i];
    std::ostringstream o;
    o << "seed " << plan.seed << " preservation " << plan.preservation << "\n";
    o << "weights " << weights[s.network] << "\n";
    printStage(o, 0, s); // the index is where it runs, not what it computes
    for (const auto& [key, value] : s.written) o << "  written " << key << ": " << value.str() << "\n";
    std::set<std::string> datasets = {s.dataset};
    if (s.kind == Stage::Kind::Train && !s.train.valSplit.empty()) {
      const std::string& v = s.train.valSplit;
      const size_t dot = v.rfind('.');
      datasets.insert(dot == std::string::npos ? s.dataset : v.substr(0, dot));
    }
    for (const std::string& d : datasets) printDatasetFor(o, plan, d);
    out.push_back(support::sha256Hex(o.str()));
    if (s.kind == Stage::Kind::Train) weights[s.network] = out.back();
  }
  return out;
}

} // namespace mhr::plan
