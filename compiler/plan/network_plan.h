// compiler/plan/network_plan.h — the networks of a plan: a base network built from the standard library,
// or a child made by a morph sequence from its parent's current weights. (Filled in with the IR.)
#pragma once

#include <string>

namespace mhr::plan {

struct NetworkPlan {
  std::string name;
};

} // namespace mhr::plan
