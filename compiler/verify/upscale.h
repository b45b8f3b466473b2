// compiler/verify/upscale.h — `upscale PATH by R`: fuse an RxR box downsampler into a conv (MorphHR's
// high-resolution front; research notes section 2.7).
// Requires: PATH names a conv2d with dilation 1; R >= 1.
// Rewrite: kernel, stride and every padding side x R; recipe W'[o,c,R*u+a,R*v+b] = W[o,c,u,v] / R^2.
// Proof: child(x) == parent(boxR(x)) when (a) zero padding (other modes: approximate, borders differ),
// (b) every layer between the input and PATH commutes with the box filter (none, or 1x1 stride-1 convs,
// batch norm (eval), identity, dropout (eval), adds) and nothing else reads those tensors (refuted otherwise:
// those layers would see the full-resolution input), (c) H and W divisible by R times every later upscale
// factor at every resolution the child is used at (refuted naming the resolution and the stage otherwise).
#pragma once

#include "compiler/verify/step.h"

namespace mhr::verify {

std::optional<StepOutcome> rewriteUpscale(const StepInput& in, diag::DiagnosticEngine& diags);

// The upscale factor a statement asks for (its Int argument), or 0 when it is not a valid integer.
int64_t upscaleFactor(const ast::MorphStmt& stmt);

} // namespace mhr::verify
