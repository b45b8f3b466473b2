// compiler/sema/overrides.h — `--set KEY=VALUE` and sweep keys: addressing any setting of a spec from the
// command line. Keys:
//   seed | preservation | experiment
//   dataset.NAME              (the whole constructor call)   dataset.NAME.ARG (a constructor argument or
//   option) network.NAME.ARG          (a constructor argument or network block attribute)
//   train.NET[.N].ATTR[.ARG]  (N: 1-based among NET's train stages when there are several; ATTR may be
//   evaluate.NET[.N].ATTR     `at` for the resolution or `on` for the split; ARG a named argument of a call)
// In: the Program (mutated in place). Out: diagnostics (E0209) with a caret under the bad part of the key;
// the new values carry ranges in a "<--set N>" source so later errors point at the command line.
#pragma once

#include "compiler/ir/catalog.h"
#include "compiler/sema/program.h"

#include <string>
#include <vector>

namespace mhr::sema {

void applyOverrides(Program& program, const std::vector<std::string>& overrides,
                    const ir::NetworkCatalog& catalog, diag::SourceManager& sources,
                    diag::DiagnosticEngine& diags);

// Checks that `key` (e.g. from a sweep block) names a setting; reports at `range` otherwise.
bool checkOverrideKey(const Program& program, const ir::NetworkCatalog& catalog, const std::string& key,
                      diag::SourceRange range, diag::DiagnosticEngine& diags);

} // namespace mhr::sema
