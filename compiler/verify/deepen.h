// compiler/verify/deepen.h — `deepen after PATH with BLOCK` and `deepen after PATH with residual(BLOCK)`
// (Net2DeeperNet identity insertion and zero-initialised residual branches; research notes 2.1 and 2.6).
// BLOCK is a `+` sequence of terms: conv(KxK [, bias: B, groups: G, stride: S, dilation: D,
// padding_mode: M]), bn [ (eps: E, momentum: M) ], linear, prelu [ (num_parameters: 1) ], p(ACT), or an
// activation (relu, relu6, leaky_relu(s), hardtanh(a, b), gelu, silu, sigmoid, tanh, identity).
// Requires: PATH names a node or a module with one output; conv/bn need an NCHW tensor, linear a flat one;
// every new layer keeps the channel count C of PATH's output.
// Rewrite: the block's nodes are inserted after PATH (named `<PATH>_deepen.<i>`, `<PATH>_residual.<i>` and
// `<PATH>_residual.add`) and every reader of PATH reads the block's output instead.
// Identity block proof: each term must be the identity on the values reaching it: conv with an odd kernel,
// stride 1 and 'same' padding initialised to its centre tap (any padding mode, groups dividing C); linear =
// I; bn (running_mean 0, running_var 1, weight sqrt(1 + eps), bias 0) — the identity in eval mode only; prelu
// (slope 1) and p(ACT) (a = 1) — always; a plain activation only where value ranges prove it is the identity
// (relu after a non-negative tensor, relu6/hardtanh inside their range); never gelu/silu/sigmoid/tanh.
// Residual proof: x + R(x) with R's last conv/linear/bn zero-initialised (weight and bias), every activation
// after it mapping 0 to 0 (so R(x) = 0 in train and eval mode); earlier layers get torch's default random
// initialisation from the statement's seed; p(ACT) starts at a = 0 (the plain ACT), prelu at 0.25.
#pragma once

#include "compiler/verify/step.h"

namespace mhr::verify {

std::optional<StepOutcome> rewriteDeepen(const StepInput& in, diag::DiagnosticEngine& diags);

} // namespace mhr::verify
