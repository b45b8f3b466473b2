// compiler/verify/grow_kernel.h — `grow kernel PATH to KxK` (zero-padded kernel growth; research notes 2.5).
// Requires: PATH names a conv2d; K >= the current kernel size in each dimension.
// Rewrite: the old kernel sits at (top, left) = (floor((K_h - k_h)/2), floor((K_w - k_w)/2)) of a zero KxK
// kernel; padding grows by dilation x (top, bottom, left, right) with bottom/right taking the odd extra row
// or column, so every old tap reads the same input pixel and the output size is unchanged. Proof: exact for
// any stride, dilation and padding mode, in train and eval mode (the new taps are zero).
#pragma once

#include "compiler/verify/step.h"

namespace mhr::verify {

std::optional<StepOutcome> rewriteGrowKernel(const StepInput& in, diag::DiagnosticEngine& diags);

} // namespace mhr::verify
