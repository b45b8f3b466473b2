// compiler/parse/parser.h — the parser facade: source text -> ast::File. The only entry into the generated
// ANTLR parser; no antlr4 type appears outside compiler/parse/. Syntax errors are reported to the
// DiagnosticEngine in human words (never ANTLR's token soup), at most one per statement: the file is split
// into statements first, so an error never cascades into the statements after it.
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostics.h"

#include <memory>
#include <optional>

namespace mhr::parse {

// Parses one file already registered in the SourceManager. Returns the statements that parsed cleanly and
// every comment; syntax errors go to `diags`.
std::unique_ptr<ast::File> parseFile(diag::FileId file, const diag::SourceManager& sources,
                                     diag::DiagnosticEngine& diags);

// Parses the file's text from byte `begin` to its end as one value (the VALUE of `--set KEY=VALUE`).
std::optional<ast::Value> parseValue(diag::FileId file, const diag::SourceManager& sources,
                                     diag::DiagnosticEngine& diags, uint32_t begin = 0);

// The statement keywords and morph keywords, for "did you mean" and for docs.
const std::vector<std::string>& statementKeywords();
const std::vector<std::string>& morphKeywords();

} // namespace mhr::parse
