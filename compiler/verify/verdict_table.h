// compiler/verify/verdict_table.h — the verdict table `mhr check` and `mhr explain` show for a morph network.
// In: the child's name, its parent's name and the MorphResult (or the NetworkPlan's steps). Out: aligned
// text, one block per statement (position, verdict, mode, statement, reason), ending with the composed
// verdict; or the same as a JSON object for tools:
//   {"network", "parent", "verdict", "mode", "steps": [{"statement", "location", "kind", "verdict", "mode",
//    "reason", "applied", "seed"}]}
#pragma once

#include "compiler/plan/network_plan.h"

#include <string>
#include <vector>

namespace mhr::verify {

std::string verdictTable(const std::string& network, const std::string& parent,
                         const std::vector<plan::MorphStep>& steps, plan::Verdict verdict,
                         plan::ProofMode mode);
std::string verdictTableJson(const std::string& network, const std::string& parent,
                             const std::vector<plan::MorphStep>& steps, plan::Verdict verdict,
                             plan::ProofMode mode);

} // namespace mhr::verify
