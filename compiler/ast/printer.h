// compiler/ast/printer.h — stable text dumps of the AST. `printAst` is what `mhr emit ast` shows and golden
// tests compare: one node per line, indented, each with its source range @LINE:COL-LINE:COL.
// `canonicalText` is the AST with formatting and comments stripped and numbers normalised (1e-3 == 0.001):
// its SHA-256 is the spec's *semantic* hash.
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/diag/source.h"

#include <string>
#include <vector>

namespace mhr::ast {

std::string printAst(const File& file, const diag::SourceManager& sources);
std::string
printValue(const Value& value); // canonical one-line form: `sgd(lr: 0.05)`, `[hflip, rotate(15deg)]`
std::string canonicalText(const std::vector<const Stmt*>& statements);

} // namespace mhr::ast
