// compiler/verify/activation.h — `activation PATH to prelu | p(ACT)` (parametric activations initialised to
// the current function; research notes 1.3 and 2.3).
// Requires: PATH names an activation, prelu or p(ACT) node.
// Rewrite: the node becomes prelu (slope per channel, or `prelu(num_parameters: 1)`) or p(ACT) (one a per
// channel), same name, with its new parameter initialised so the function is unchanged:
//   relu -> prelu: slope 0        leaky_relu(s) -> prelu: slope s     identity -> prelu: slope 1
//   ACT -> p(ACT): a = 0           identity -> p(ACT): a = 1           leaky_relu(s) -> p(relu): a = s
//   prelu -> p(relu): a = slope    p(relu) -> prelu: slope = a (copied, per channel)
// Proof: exact in train and eval mode for those; any other pair is refuted (and not applied) with the
// parametric form that would work (e.g. prelu cannot represent gelu: use p(gelu)).
#pragma once

#include "compiler/verify/step.h"

namespace mhr::verify {

std::optional<StepOutcome> rewriteActivation(const StepInput& in, diag::DiagnosticEngine& diags);

} // namespace mhr::verify
