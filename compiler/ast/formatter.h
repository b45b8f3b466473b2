// compiler/ast/formatter.h — `mhr fmt`: the canonical layout of a .mhr file, from its AST and comments.
// Idempotent (format(format(x)) == format(x)), keeps every comment (own-line comments stay before the item
// they precede, end-of-line comments stay on their line), keeps one blank line where the source had one or
// more, keeps number spellings (`1e-4` stays `1e-4`). Blocks written on one line stay on one line when short.
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/diag/source.h"

#include <string>

namespace mhr::ast {

std::string formatFile(const File& file, const diag::SourceManager& sources);

} // namespace mhr::ast
