// compiler/pipeline.h — the compiler as one call: read a .mhr file (and its includes), apply --set overrides,
// parse, check, build the IR, prove preservation, lower to a Plan. The stages themselves are listed, in order,
// in pipeline.cpp. Diagnostics are collected in the result; later stages run only when earlier ones succeeded.
#pragma once

#include "compiler/diag/diagnostics.h"
#include "compiler/plan/plan.h"
#include "compiler/sema/checker.h"
#include "compiler/sema/program.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mhr::compiler {

enum class Stage { Parse, Check, Verify, Lower };

struct CompileOptions {
  std::vector<std::string> overrides; // "KEY=VALUE" from --set, applied in order
  Stage stopAfter = Stage::Lower;
};

struct CompileResult {
  std::unique_ptr<diag::SourceManager> sources;
  std::unique_ptr<diag::DiagnosticEngine> diags;
  std::unique_ptr<sema::Program> program;   // after Parse
  std::optional<sema::Symbols> symbols;     // after Check
  std::optional<plan::ExperimentPlan> plan; // after Lower, when there were no errors
  bool ok() const { return !diags->hasErrors(); }
};

// Never throws for bad input: unreadable files, syntax and semantic errors become diagnostics.
CompileResult compileFile(const std::string& path, const CompileOptions& options = {});

} // namespace mhr::compiler
