// compiler/verify/morph.h — the prover's entry point: one `network X = morph P { ... }` statement. In: the
// parent's graph, the statement, the context (experiment seed, the file's preservation level, every
// resolution the child is trained or evaluated at, with the stage statements' ranges). Out: the child's graph
// and one plan::MorphStep per statement (recipe, verdict, reason, proof mode, graph after the step), plus
// diagnostics:
//   E0301..E0304  user mistakes in a statement (unknown path, wrong layer kind, bad argument, shapes)
//   E0401         a refuted statement, with the reason in the user's terms
//   E0402         a verdict weaker than the file's `preservation` level
//   E0403         a statement that could be neither proved nor refuted
//   W0003         a statement that changes nothing
// Each statement is rewritten and proved against the graph the previous statements produced; the composed
// verdict is the weakest non-declared one (replace head is `declared` and excluded), needing eval mode when
// any step does. A refuted statement that could still be applied is applied, so later statements get
// verdicts too.
//
// Seeds: statement i (0-based) of child X draws from support::deriveSeed(experiment seed, X, i)
// (support/random.h) unless it names its own (`split random(seed: S)` draws from S). The drawn values are
// stored in the recipes.
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/ir/graph.h"
#include "compiler/plan/network_plan.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mhr::verify {

enum class Preservation { Exact, Eval, Approximate };
std::optional<Preservation> parsePreservation(const std::string& level); // "exact" | "eval" | "approximate"
const char* preservationName(Preservation p);

// A resolution the child network is used at, and the statement that uses it.
struct StageUse {
  int64_t height = 0;
  int64_t width = 0;
  diag::SourceRange range; // the stage statement (or its `at HxW`)
  std::string label;       // "train hr on mammo.train", for notes
};

struct MorphContext {
  std::string network; // the child's name
  std::string parent;  // the parent's name
  uint64_t seed = 0;   // the experiment seed
  Preservation preservation = Preservation::Exact;
  diag::SourceRange preservationRange; // the `preservation` statement; invalid when defaulted
  std::vector<StageUse> uses;
};

struct MorphResult {
  ir::Graph graph;                    // after the last statement
  std::vector<plan::MorphStep> steps; // one per statement, in order
  plan::Verdict verdict = plan::Verdict::Exact;
  plan::ProofMode mode = plan::ProofMode::Any;
};

// Never throws and never asserts on user input. Returns nullopt only when the statement is not a morph.
std::optional<MorphResult> morphNetwork(const ir::Graph& parent, const ast::NetworkStmt& stmt,
                                        const MorphContext& ctx, diag::DiagnosticEngine& diags);

// Composition rule, exposed for tests: the weakest non-declared verdict; Declared when every step is
// declared.
plan::Verdict composeVerdicts(const std::vector<plan::MorphStep>& steps, plan::ProofMode* mode);
// Does `v` satisfy the preservation level?
bool satisfies(plan::Verdict v, Preservation level);

} // namespace mhr::verify
