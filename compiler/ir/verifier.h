// compiler/ir/verifier.h — the per-op verifier. In: a Graph. Out: every attribute or wiring problem that does
// not depend on the input resolution (arity, positive sizes, groups dividing channels, channel counts
// agreeing between producer and consumer, probabilities in range, ...). Diagnostic form: E0305 at the node's
// origin (the .mhr statement that created it); stdlib nodes have no origin, and a problem there is our bug,
// reported without a location. Resolution-dependent checks are shapes.h's job.
#pragma once

#include "compiler/diag/diagnostics.h"
#include "compiler/ir/graph.h"

#include <string>
#include <vector>

namespace mhr::ir {

struct VerifyProblem {
  NodeId node = kNoNode;
  std::string message; // starts with the node's name
};

std::vector<VerifyProblem> verifyGraph(const Graph& graph);
// The problems of `after` that `before` does not have, for `after` made from `before` by withChanges (then
// only the changed nodes and their readers are looked at); otherwise every problem of `after`. Assumes
// `before` verified clean, as every graph a morph statement starts from has.
std::vector<VerifyProblem> verifyChanges(const Graph& after, const Graph& before);
// Reports each problem (E0305); returns true when there was none.
bool verifyGraph(const Graph& graph, diag::DiagnosticEngine& diags);

} // namespace mhr::ir
