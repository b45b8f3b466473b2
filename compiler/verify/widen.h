// compiler/verify/widen.h — `widen PATH to C [split uniform | split random(seed: S) | split noise(SIGMA)]`
// and the tied-class form `widen [a, b, c] to C` (Net2WiderNet; research notes 2.4). Requires: every PATH is
// a conv2d with groups 1 or a linear; all name layers of one channel class (channels.h); C >= the current
// width. Rewrite: the class's producers get C output channels: rows j < old are kept, row j >= old copies row
// g(j) (g drawn uniformly from the statement's seed, or from S); every per-channel value between the
// producers and their consumers (batch norm, prelu, p(ACT), depthwise conv) is replicated with g; every
// consumer's input columns (at the class's channel offset inside its input, in blocks of H*W features after a
// flatten) are replicated and multiplied by alpha_j, where for each old channel the alphas of its copies sum
// to 1 (uniform: 1/n; random: unequal random parts). noise(SIGMA) adds Gaussian noise to the new columns.
// Proof: exact in train and eval mode when only channel-wise layers lie between producers and consumers and
// the whole class is widened with one g; eval when a dropout lies in between (different masks per replica);
// approximate with noise. Refuted (and not applied) when a member of the class is left out (the message names
// the add or mul that ties it and offers the `widen [...]` form), when the class reaches the network output,
// the network input, a grouped conv, or an add joining tensors with different channel boundaries.
#pragma once

#include "compiler/verify/step.h"

namespace mhr::verify {

std::optional<StepOutcome> rewriteWiden(const StepInput& in, diag::DiagnosticEngine& diags);

} // namespace mhr::verify
