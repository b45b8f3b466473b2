#include "compiler/verify/replace_head.h"

#include "compiler/ir/paths.h"
#include "support/random.h"
#include "support/strings.h"

#include <fmt/format.h>

namespace mhr::verify {

std::optional<StepOutcome> rewriteReplaceHead(const StepInput& in, diag::DiagnosticEngine& diags) {
  const ast::MorphStmt& s = in.stmt;
  const ir::Graph& g = in.graph;
  const ast::Value& v = s.argument;
  if (v.kind != ast::Value::Kind::Call || v.callee.text != "linear") {
    auto d = diags.error("E0303", v.range, "replace head needs linear(classes: N)");
    if (!v.calleeName().empty() && v.calleeName() != "linear") {
      std::string m = support::closestMatch(v.calleeName(), {"linear"});
      if (!m.empty()) d.note("did you mean 'linear'?");
    }
    return std::nullopt;
  }
  int64_t classes = 0;
  std::optional<bool> bias;
  bool ok = true;
  for (const ast::Argument& a : v.args) {
    const std::string key = a.name ? a.name->text : "";
    if (key == "classes" && a.value.kind == ast::Value::Kind::Int && !a.value.overflow &&
        a.value.intValue >= 1 && a.value.intValue <= 1000000) {
      classes = a.value.intValue;
    } else if (key == "classes") {
      diags.error("E0303", a.value.range, "classes must be an integer in 1..1000000");
      ok = false;
    } else if (key == "bias" && a.value.kind == ast::Value::Kind::Bool) {
      bias = a.value.boolValue;
    } else {
      auto d = diags.error("E0303", a.range,
                           key.empty() ? std::string("linear takes named arguments: linear(classes: N)")
                                       : "linear has no argument '" + key + "'");
      std::string m = support::closestMatch(key, {"classes", "bias"});
      if (!m.empty()) d.note("did you mean '" + m + "'?");
      ok = false;
    }
  }
  if (ok && classes == 0) {
    diags.error("E0303", v.range, "replace head needs the number of classes: linear(classes: N)");
    ok = false;
  }
  if (!ok) return std::nullopt;
  const ir::NodeId head = ir::findHead(g);
  if (head == ir::kNoNode || g.node(head).op != ir::OpKind::Linear) {
    diags.error("E0302", s.keywordRange.valid() ? s.keywordRange : s.range,
                "network '" + in.ctx.parent + "' does not end in a linear classifier that could be replaced");
    return std::nullopt;
  }
  // A branch joined to the head was sized to its classes: the sum would no longer type-check.
  for (ir::NodeId user : g.usersOf(head))
    if (g.node(user).op == ir::OpKind::Add && ir::inBranch(g.node(user).name)) {
      diags.error(
          "E0303", s.keywordRange.valid() ? s.keywordRange : s.range,
          fmt::format("the classifier '{}' has a branch joined to it ('{}'), sized to its {} classes; "
                      "replace the head before the branch statement",
                      g.node(head).name, g.node(user).name, g.node(head).linear.outFeatures));
      return std::nullopt;
    }
  const ir::Node& old = g.node(head);
  ir::Node fresh = old;
  fresh.origin = s.range;
  fresh.linear.outFeatures = classes;
  fresh.linear.bias = bias.value_or(old.linear.bias);

  plan::MorphRecipe recipe;
  recipe.kind = plan::MorphRecipe::Kind::ReplaceHead;
  recipe.removed.push_back(old.name + ".weight");
  if (old.linear.bias) recipe.removed.push_back(old.name + ".bias");
  support::SplitMix64 rng(in.seed);
  const int64_t fanIn = old.linear.inFeatures;
  recipe.created.push_back(defaultInit(old.name + ".weight", {classes, fanIn}, fanIn, rng.next()));
  if (fresh.linear.bias)
    recipe.created.push_back(defaultInit(old.name + ".bias", {classes}, fanIn, rng.next()));

  StepOutcome o;
  o.graph = replaceNode(g, head, fresh);
  o.recipe = recipe;
  o.verdict = plan::Verdict::Declared;
  o.reason = fmt::format("new classifier '{}' ({} -> {}), randomly initialised (seed {}): declared, not "
                         "function-preserving",
                         old.name, fanIn, classes, in.seed);
  return o;
}

} // namespace mhr::verify
