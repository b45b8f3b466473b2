#include "compiler/verify/morph.h"

#include "compiler/ir/shapes.h"
#include "compiler/ir/verifier.h"
#include "compiler/verify/activation.h"
#include "compiler/verify/branch.h"
#include "compiler/verify/deepen.h"
#include "compiler/verify/grow_kernel.h"
#include "compiler/verify/replace_head.h"
#include "compiler/verify/upscale.h"
#include "compiler/verify/widen.h"
#include "support/random.h"

#include <fmt/format.h>

namespace mhr::verify {

std::optional<Preservation> parsePreservation(const std::string& level) {
  if (level == "exact") return Preservation::Exact;
  if (level == "eval") return Preservation::Eval;
  if (level == "approximate") return Preservation::Approximate;
  return std::nullopt;
}

const char* preservationName(Preservation p) {
  switch (p) {
  case Preservation::Exact:
    return "exact";
  case Preservation::Eval:
    return "eval";
  case Preservation::Approximate:
    return "approximate";
  }
  return "?";
}

bool satisfies(plan::Verdict v, Preservation level) {
  switch (v) {
  case plan::Verdict::Exact:
  case plan::Verdict::Declared:
    return true;
  case plan::Verdict::Eval:
    return level != Preservation::Exact;
  case plan::Verdict::Approximate:
    return level == Preservation::Approximate;
  case plan::Verdict::Refuted:
  case plan::Verdict::Unproved:
    return false;
  }
  return false;
}

plan::Verdict composeVerdicts(const std::vector<plan::MorphStep>& steps, plan::ProofMode* mode) {
  plan::Verdict worst = plan::Verdict::Declared;
  plan::ProofMode m = plan::ProofMode::Any;
  for (const plan::MorphStep& s : steps) {
    if (s.verdict == plan::Verdict::Declared) continue;
    // The enum lists verdicts strongest first, so the weakest is the largest.
    if (worst == plan::Verdict::Declared || static_cast<int>(s.verdict) > static_cast<int>(worst))
      worst = s.verdict;
    if (s.mode == plan::ProofMode::Eval) m = plan::ProofMode::Eval;
  }
  if (mode) *mode = m;
  return worst;
}

namespace {

plan::MorphRecipe::Kind recipeKind(ast::MorphStmt::Kind k) {
  switch (k) {
  case ast::MorphStmt::Kind::Upscale:
    return plan::MorphRecipe::Kind::Upscale;
  case ast::MorphStmt::Kind::Deepen:
    return plan::MorphRecipe::Kind::Deepen;
  case ast::MorphStmt::Kind::Widen:
    return plan::MorphRecipe::Kind::Widen;
  case ast::MorphStmt::Kind::GrowKernel:
    return plan::MorphRecipe::Kind::GrowKernel;
  case ast::MorphStmt::Kind::Activation:
    return plan::MorphRecipe::Kind::Activation;
  case ast::MorphStmt::Kind::ReplaceHead:
    return plan::MorphRecipe::Kind::ReplaceHead;
  case ast::MorphStmt::Kind::Branch:
    return plan::MorphRecipe::Kind::Branch;
  }
  return plan::MorphRecipe::Kind::Upscale;
}

std::optional<StepOutcome> dispatch(const StepInput& in, diag::DiagnosticEngine& diags) {
  switch (in.stmt.kind) {
  case ast::MorphStmt::Kind::Upscale:
    return rewriteUpscale(in, diags);
  case ast::MorphStmt::Kind::Deepen:
    return rewriteDeepen(in, diags);
  case ast::MorphStmt::Kind::Widen:
    return rewriteWiden(in, diags);
  case ast::MorphStmt::Kind::GrowKernel:
    return rewriteGrowKernel(in, diags);
  case ast::MorphStmt::Kind::Activation:
    return rewriteActivation(in, diags);
  case ast::MorphStmt::Kind::ReplaceHead:
    return rewriteReplaceHead(in, diags);
  case ast::MorphStmt::Kind::Branch:
    return rewriteBranch(in, diags);
  }
  return std::nullopt;
}

std::string locationOf(const diag::DiagnosticEngine& diags, diag::SourceRange r) {
  if (!r.valid() || static_cast<size_t>(r.file) >= diags.sources().fileCount()) return "";
  const diag::SourceFile& f = diags.sources().file(r.file);
  diag::LineColumn lc = f.lineColumn(r.begin);
  return fmt::format("{}:{}:{}", f.path, lc.line, lc.column);
}

std::string statementText(const ast::MorphStmt& s) {
  return s.text.empty() ? ast::kindName(s.kind) : s.text;
}

} // namespace

std::optional<MorphResult> morphNetwork(const ir::Graph& parent, const ast::NetworkStmt& stmt,
                                        const MorphContext& ctx, diag::DiagnosticEngine& diags) {
  if (!stmt.isMorph) return std::nullopt;
  MorphResult result;
  result.graph = parent;
  const size_t count = stmt.morphs.size();

  // Upscale statement i must divide the input by the product of its own and every later factor.
  std::vector<int64_t> divisor(count + 1, 1);
  for (size_t i = count; i-- > 0;) {
    int64_t f = 1;
    if (stmt.morphs[i]->kind == ast::MorphStmt::Kind::Upscale)
      f = std::max<int64_t>(1, upscaleFactor(*stmt.morphs[i]));
    divisor[i] = divisor[i + 1] * f;
  }

  int64_t before = 1;
  FreshNames names;
  for (size_t i = 0; i < count; ++i) {
    const ast::MorphStmt& m = *stmt.morphs[i];
    StepInput in{result.graph, m,      ctx,   support::deriveSeed(ctx.seed, ctx.network, i),
                 divisor[i],   before, &names};
    if (m.kind == ast::MorphStmt::Kind::Upscale) before *= std::max<int64_t>(1, upscaleFactor(m));
    std::optional<StepOutcome> out = dispatch(in, diags);

    plan::MorphStep step;
    step.text = statementText(m);
    step.range = m.range;
    step.location = locationOf(diags, m.range);
    step.seed = in.seed;
    if (!out) {
      step.recipe.kind = recipeKind(m.kind);
      step.recipe.applied = false;
      step.verdict = plan::Verdict::Unproved;
      step.reason = "not checked: the statement has errors";
      step.edit = plan::GraphEdit::between(result.graph, result.graph);
      result.steps.push_back(std::move(step));
      continue;
    }
    // The rewrite built a graph from checked parts; a verifier problem here is reported at the statement.
    if (out->recipe.applied && out->graph != result.graph) {
      std::vector<ir::VerifyProblem> problems = ir::verifyChanges(out->graph, result.graph);
      for (const ir::VerifyProblem& p : problems) diags.error("E0305", m.range, p.message);
      if (!problems.empty()) {
        out->graph = result.graph;
        out->recipe.applied = false;
      }
    }
    const diag::SourceRange where = out->where.valid() ? out->where : m.range;
    if (out->noEffect) diags.warning("W0003", m.range, step.text + " has no effect: " + out->reason);
    if (out->verdict == plan::Verdict::Refuted) {
      auto d = diags.error("E0401", where, out->reason);
      for (const diag::Note& n : out->notes) d.note(n.range, n.message);
    } else if (out->verdict == plan::Verdict::Unproved) {
      auto d = diags.error("E0403", where,
                           "cannot prove that " + step.text + " preserves the function: " + out->reason);
      for (const diag::Note& n : out->notes) d.note(n.range, n.message);
    } else if (!satisfies(out->verdict, ctx.preservation)) {
      auto d = diags.error(
          "E0402", m.range,
          fmt::format("{} is {}, weaker than the file's `preservation {}`: {}", step.text,
                      out->verdict == plan::Verdict::Eval ? "exact only in eval mode" : "only approximate",
                      preservationName(ctx.preservation), out->reason));
      if (ctx.preservationRange.valid())
        d.note(ctx.preservationRange, "the preservation level is set here");
      else
        d.note("the default level is exact; write `preservation eval` or `preservation approximate` to "
               "accept it");
      for (const diag::Note& n : out->notes) d.note(n.range, n.message);
    }
    step.recipe = std::move(out->recipe);
    step.verdict = out->verdict;
    step.mode = out->mode;
    step.reason = std::move(out->reason);
    step.edit = plan::GraphEdit::between(result.graph, out->graph);
    result.graph = std::move(out->graph);
    result.steps.push_back(std::move(step));
  }
  result.verdict = composeVerdicts(result.steps, &result.mode);

  // The child must run at every resolution it is used at.
  for (const StageUse& use : ctx.uses)
    ir::checkShapes(result.graph, use.height, use.width, diags, use.range,
                    fmt::format("network '{}' at {}", ctx.network, sizeText(use.height, use.width)));
  return result;
}

} // namespace mhr::verify
