// compiler/verify/branch.h — `branch SOURCE to TARGET with BLOCK`: a side branch from an NCHW tensor (often
// the full-resolution `input`) whose result is added to a flat tensor downstream (often the classifier's
// logits, `head`). Network Morphism's parallel atomic, G -> G + F with F's last layer zero (research
// notes 2.6). BLOCK is a `+` sequence of deepen's terms plus `out_channels: C` on conv (any stride) and
// exactly one global pool, `global_max` or `global_avg` (adaptive pool to 1x1, then flatten), optionally
// followed by linear and activations on the flat features. Requires: SOURCE is NCHW and comes before TARGET;
// TARGET is flat (N x F). Rewrite: the block's nodes (`<SOURCE>_branch.<i>`, the pool's flatten
// `<SOURCE>_branch.<i>_flatten`), then
// `<SOURCE>_branch.fc` (linear to F features, weight and bias zero) and `<SOURCE>_branch.add` (TARGET + fc),
// inserted after TARGET; every reader of TARGET reads the sum instead.
// Proof: the joining linear is zero, so the branch adds exactly 0 in train and eval mode whatever it computes
// (finite inputs); the block's own layers get torch's default initialisation from the statement's seed (bn:
// weight 1, bias 0; prelu 0.25; p(ACT) a = 0), so they learn from the first step on.
#pragma once

#include "compiler/verify/step.h"

namespace mhr::verify {

std::optional<StepOutcome> rewriteBranch(const StepInput& in, diag::DiagnosticEngine& diags);

} // namespace mhr::verify
