// compiler/sema/checker.h — semantic checks that need no network IR: statement order and multiplicity, names
// defined before use and not redefined, every block and call against its schema (sema/schema.h), splits,
// resolutions, sweep keys. In: the Program (includes expanded, overrides applied) and the standard library's
// network names. Out: diagnostics, and the symbol table later stages use.
#pragma once

#include "compiler/ir/catalog.h"
#include "compiler/sema/program.h"

#include <string>
#include <vector>

namespace mhr::sema {

struct Symbols {
  const ast::ExperimentStmt* experiment = nullptr;
  const ast::SeedStmt* seed = nullptr;
  const ast::PreservationStmt* preservation = nullptr;
  const ast::SweepStmt* sweep = nullptr;
  std::vector<const ast::DatasetStmt*> datasets; // in definition order
  std::vector<const ast::NetworkStmt*> networks; // in definition order
  std::vector<const ast::StageStmt*> stages;     // in execution order
  const ast::DatasetStmt* dataset(const std::string& name) const;
  const ast::NetworkStmt* network(const std::string& name) const;
  int64_t seedValue() const { return seed ? seed->seed.intValue : 0; }
  std::string preservationLevel() const { return preservation ? preservation->level.text : "exact"; }
};

Symbols check(const Program& program, const ir::NetworkCatalog& catalog, diag::DiagnosticEngine& diags);

} // namespace mhr::sema
