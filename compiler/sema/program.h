// compiler/sema/program.h — a whole experiment as the checker sees it: the main file and every file it
// includes, parsed, with include statements expanded in place ("textual composition"). In: a path. Out: the
// Program, and diagnostics for unreadable files, missing includes and include cycles — reported at the
// include statement, while errors inside an included file are reported in that file.
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostics.h"

#include <memory>
#include <string>
#include <vector>

namespace mhr::sema {

struct Program {
  diag::FileId mainFile = diag::kNoFile;
  std::vector<std::unique_ptr<ast::File>> files;       // main first, then includes in reading order
  std::vector<ast::Stmt*> statements;                  // flattened in execution order (includes expanded)
  std::vector<std::unique_ptr<ast::Stmt>> synthesized; // statements added by --set (e.g. a missing seed)
};

// Reads and parses `path` and, recursively, every file it includes (paths relative to the including file).
// With `mainText`, the main file's text is taken from there instead of the disk (fuzzing, editors).
Program loadProgram(const std::string& path, diag::SourceManager& sources, diag::DiagnosticEngine& diags,
                    const std::string* mainText = nullptr);

} // namespace mhr::sema
