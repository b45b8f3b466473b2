// compiler/ir/activations.h — activation functions as the .mhr language spells them. In: an AST value
// (`relu`, `leaky_relu(0.2)`, `leaky_relu(slope: 0.2)`, `hardtanh(min: 0, max: 6)`, `gelu(approximate:
// tanh)`). Out: an ir::Activation, or E0303 at the value (unknown names get "did you mean").
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/ir/node.h"

#include <optional>
#include <string>
#include <vector>

namespace mhr::ir {

// identity, relu, relu6, leaky_relu, hardtanh, gelu, silu, sigmoid, tanh
const std::vector<std::string>& activationNames();
std::optional<ActKind> activationKind(const std::string& name);

// `code` is the diagnostic code for a bad value (E0303 in morph statements, E0202 in network options).
std::optional<Activation> parseActivation(const ast::Value& value, diag::DiagnosticEngine& diags,
                                          const std::string& code = "E0303");

} // namespace mhr::ir
