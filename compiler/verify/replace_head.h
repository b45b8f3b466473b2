// compiler/verify/replace_head.h — `replace head with linear(classes: N)`: a new classifier.
// Requires: the network ends in a linear layer (ir::findHead: fc, classifier, classifier.1, classifier.6,
// ...). Rewrite: the head keeps its name and input features and gets N outputs; its weight and bias are
// dropped and re-created with torch's default initialisation (U(-1/sqrt(in), 1/sqrt(in))) from the
// statement's seed. Proof: none by design: the verdict is `declared`, excluded from the composed proof.
#pragma once

#include "compiler/verify/step.h"

namespace mhr::verify {

std::optional<StepOutcome> rewriteReplaceHead(const StepInput& in, diag::DiagnosticEngine& diags);

} // namespace mhr::verify
