// compiler/pipeline.h — the compiler as one call: read a .mhr file (and its includes), apply --set overrides,
// parse, check, build the IR, prove preservation, lower to a Plan. The stages themselves are listed, in
// order, in pipeline.cpp. Diagnostics are collected in the result; later stages run only when earlier ones
// succeeded.
#pragma once

#include "compiler/diag/diagnostics.h"
#include "compiler/ir/catalog.h"
#include "compiler/plan/plan.h"
#include "compiler/sema/checker.h"
#include "compiler/sema/program.h"
#include "compiler/verify/morph.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mhr::compiler {

enum class Stage { Parse, Check, Verify, Lower };

struct CompileOptions {
  const ir::NetworkCatalog* catalog = nullptr; // the standard library: mhr::stdlib::catalog() (required)
  std::vector<std::string> overrides;          // "KEY=VALUE" from --set, applied in order
  Stage stopAfter = Stage::Lower;
  // The memory a stage may use when it sets no `memory_budget:` (the driver's device: host RAM for the
  // CPU); 0 = unknown, then only stages with a budget are checked. Stages that exceed it are E0211.
  int64_t memoryLimitBytes = 0;
  std::string memoryLimitSource; // e.g. "the host's RAM (--device cpu)"
  bool cuda = false;             // the runtime's precision rules: autocast only on CUDA
};

// One network after the IR stage: its graph, and for a morph child the proof of every statement.
struct NetworkIr {
  const ast::NetworkStmt* stmt = nullptr;
  ir::Graph graph;
  std::optional<ir::NetworkOptions> options; // stdlib networks
  std::optional<verify::MorphResult> morph;  // morph children
  size_t afterStages = 0;                    // stages that run before the network statement
};

struct CompileResult {
  std::unique_ptr<diag::SourceManager> sources;
  std::unique_ptr<diag::DiagnosticEngine> diags;
  std::unique_ptr<sema::Program> program;   // after Parse
  std::optional<sema::Symbols> symbols;     // after Check
  std::vector<NetworkIr> networks;          // after Verify, in definition order
  std::optional<plan::ExperimentPlan> plan; // after Lower, when there were no errors
  bool ok() const { return !diags->hasErrors(); }
};

// Never throws for bad input: unreadable files, syntax and semantic errors become diagnostics.
CompileResult compileFile(const std::string& path, const CompileOptions& options);
// The same for a main file held in memory (`path` names it in diagnostics; includes are read from disk).
CompileResult compileText(const std::string& path, const std::string& text, const CompileOptions& options);

} // namespace mhr::compiler
