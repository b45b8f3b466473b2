#include "compiler/verify/upscale.h"

#include "compiler/ir/paths.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace mhr::verify {

int64_t upscaleFactor(const ast::MorphStmt& stmt) {
  const ast::Value& v = stmt.argument;
  if (v.kind != ast::Value::Kind::Int || v.overflow || v.intValue < 1 || v.intValue > 64) return 0;
  return v.intValue;
}

namespace {

// Layers that commute with a box filter applied before them, and the mode they need for it.
bool commutesWithBox(const ir::Node& n, bool& needsEval) {
  switch (n.op) {
  case ir::OpKind::BatchNorm2d:
  case ir::OpKind::Dropout:
    needsEval = true;
    return true; // batch statistics / masks differ in train mode
  case ir::OpKind::Add:
    return true;
  case ir::OpKind::Activation:
    return n.act.kind == ir::ActKind::Identity;
  case ir::OpKind::Conv2d:
    return n.conv.kernelH == 1 && n.conv.kernelW == 1 && n.conv.strideH == 1 && n.conv.strideW == 1 &&
           n.conv.padTop == 0 && n.conv.padBottom == 0 && n.conv.padLeft == 0 && n.conv.padRight == 0;
  default:
    return false;
  }
}

} // namespace

std::optional<StepOutcome> rewriteUpscale(const StepInput& in, diag::DiagnosticEngine& diags) {
  const ast::MorphStmt& s = in.stmt;
  const ir::Graph& g = in.graph;
  if (s.targets.size() != 1) {
    diags.error("E0303", s.range, "upscale takes one layer");
    return std::nullopt;
  }
  const int64_t r = upscaleFactor(s);
  if (r == 0) {
    diags.error("E0303", s.argument.range, "the upscale factor must be an integer in 1..64");
    return std::nullopt;
  }
  std::optional<ir::LayerRef> ref = ir::resolveLayer(g, s.targets[0], in.ctx.parent, diags);
  if (!ref) return std::nullopt;
  const ir::Node* node = ref->kind == ir::LayerRef::Kind::Node ? &g.node(ref->node) : nullptr;
  if (!node || node->op != ir::OpKind::Conv2d) {
    diags.error("E0302", s.targets[0].range,
                "upscale needs a conv2d layer; '" + ref->path + "' is " +
                    (node ? std::string("a ") + ir::opName(node->op) : std::string("a module")));
    return std::nullopt;
  }
  const ir::Conv2dAttrs& c = node->conv;
  if (c.dilationH != 1 || c.dilationW != 1) {
    diags.error("E0302", s.targets[0].range,
                fmt::format("upscale needs a conv with dilation 1; '{}' has dilation {}", node->name,
                            sizeText(c.dilationH, c.dilationW)));
    return std::nullopt;
  }

  plan::MorphRecipe recipe;
  recipe.kind = plan::MorphRecipe::Kind::Upscale;
  recipe.upscale.conv = node->name;
  recipe.upscale.factor = r;
  if (r == 1) {
    StepOutcome o;
    o.graph = g;
    o.recipe = recipe;
    o.verdict = plan::Verdict::Exact;
    o.reason = "upscale by 1 changes nothing";
    o.noEffect = true;
    return o;
  }

  ir::Node fused = *node;
  fused.conv.kernelH *= r;
  fused.conv.kernelW *= r;
  fused.conv.strideH *= r;
  fused.conv.strideW *= r;
  fused.conv.padTop *= r;
  fused.conv.padBottom *= r;
  fused.conv.padLeft *= r;
  fused.conv.padRight *= r;
  fused.origin = s.range;
  const ir::NodeId target = ref->node;
  ir::Graph child = replaceNode(g, target, fused);

  // (b) The layers in front of the conv: ancestors of the target; nothing else may read them.
  std::set<ir::NodeId> ancestors;
  std::vector<ir::NodeId> stack(g.inputsOf(target).begin(), g.inputsOf(target).end());
  while (!stack.empty()) {
    ir::NodeId id = stack.back();
    stack.pop_back();
    if (!ancestors.insert(id).second) continue;
    for (ir::NodeId p : g.inputsOf(id)) stack.push_back(p);
  }
  bool needsEval = false;
  std::vector<std::string> blockers;
  for (ir::NodeId id : ancestors) {
    const ir::Node& a = g.node(id);
    if (a.op != ir::OpKind::Input && !commutesWithBox(a, needsEval)) blockers.push_back(a.name);
    for (ir::NodeId u : g.usersOf(id))
      if (u != target && !ancestors.count(u)) blockers.push_back(g.node(u).name + " (reads " + a.name + ")");
  }
  if (!blockers.empty()) {
    std::string list;
    for (size_t i = 0; i < blockers.size() && i < 4; ++i) list += (i ? ", " : "") + blockers[i];
    if (blockers.size() > 4) list += ", ...";
    return refuted(
        child, recipe,
        fmt::format("upscale {} by {} is not exact: the layers before it ({}) would see the "
                    "full-resolution input; a box downsampler commutes only with per-pixel linear layers, "
                    "so only a network's first conv can absorb it",
                    node->name, r, list),
        true);
  }

  // (c) Divisibility at every resolution the child is used at.
  const int64_t d = in.upscaleDivisor;
  const std::string factorText =
      d == r ? std::to_string(r) : fmt::format("{} (x{} with the later upscale statements)", r, d);
  for (const StageUse& use : in.ctx.uses) {
    if (use.height % d == 0 && use.width % d == 0) continue;
    StepOutcome o = refuted(child, recipe,
                            fmt::format("upscale by {}: input {} is not divisible by {}", factorText,
                                        sizeText(use.height, use.width), d),
                            true);
    if (use.range.valid())
      o.notes.push_back({use.range, use.label + " uses " + sizeText(use.height, use.width)});
    o.notes.push_back({{},
                       fmt::format("the box downsampler needs H and W divisible by {}, e.g. {}", d,
                                   sizeText(std::max<int64_t>(d, use.height / d * d),
                                            std::max<int64_t>(d, use.width / d * d)))});
    return o;
  }

  StepOutcome o;
  o.graph = std::move(child);
  o.recipe = recipe;
  std::string where;
  for (const StageUse& use : in.ctx.uses) {
    const std::string hw = sizeText(use.height, use.width);
    if (where.find(hw) == std::string::npos) where += (where.empty() ? "" : ", ") + hw;
  }
  const std::string cond = where.empty() ? fmt::format("for H, W divisible by {}", d)
                                         : fmt::format("H, W divisible by {} at {}", d, where);
  // With earlier upscale statements the composed relation to the parent uses the product of the factors.
  const int64_t total = r * in.upscaleBefore;
  std::string relation = fmt::format("child(x) = {}(box{}(x))", in.ctx.parent, total);
  if (in.upscaleBefore > 1) relation += fmt::format(" (x{} here, x{} before)", r, in.upscaleBefore);
  const int64_t border = std::max({c.padTop, c.padBottom, c.padLeft, c.padRight});
  if (c.padMode != ir::PadMode::Zeros && border > 0) {
    o.verdict = plan::Verdict::Approximate;
    o.reason = fmt::format("{} padding of the downsampled image is not the downsampled {} padding: outputs "
                           "within {} pixel{} of the border differ; in the interior {} ({})",
                           ir::padModeName(c.padMode), ir::padModeName(c.padMode), border,
                           border == 1 ? "" : "s", relation, cond);
  } else {
    o.verdict = needsEval ? plan::Verdict::Eval : plan::Verdict::Exact;
    o.reason = relation + ", " + cond;
    if (needsEval) o.reason += "; the layers in front of it commute with the box filter in eval mode only";
  }
  o.mode = needsEval ? plan::ProofMode::Eval : plan::ProofMode::Any;
  return o;
}

} // namespace mhr::verify
