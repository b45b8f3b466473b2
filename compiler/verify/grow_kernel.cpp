#include "compiler/verify/grow_kernel.h"

#include "compiler/ir/paths.h"

#include <fmt/format.h>

namespace mhr::verify {

std::optional<StepOutcome> rewriteGrowKernel(const StepInput& in, diag::DiagnosticEngine& diags) {
  const ast::MorphStmt& s = in.stmt;
  const ir::Graph& g = in.graph;
  if (s.targets.size() != 1) {
    diags.error("E0303", s.range, "grow kernel takes one layer");
    return std::nullopt;
  }
  const ast::Value& size = s.argument;
  bool ok = true;
  if (size.kind != ast::Value::Kind::Size || size.overflow || size.h < 1 || size.w < 1 || size.h > 63 ||
      size.w > 63) {
    diags.error("E0303", size.range, "the new kernel size must be KxK with K in 1..63, e.g. 5x5");
    ok = false;
  }
  std::optional<ir::LayerRef> ref = ir::resolveLayer(g, s.targets[0], in.ctx.parent, diags);
  if (!ref || !ok) return std::nullopt;
  const ir::Node* node = ref->kind == ir::LayerRef::Kind::Node ? &g.node(ref->node) : nullptr;
  if (!node || node->op != ir::OpKind::Conv2d) {
    diags.error("E0302", s.targets[0].range,
                "grow kernel needs a conv2d layer; '" + ref->path + "' is " +
                    (node ? std::string("a ") + ir::opName(node->op) : std::string("a module")));
    return std::nullopt;
  }
  const ir::Conv2dAttrs& c = node->conv;
  if (size.h < c.kernelH || size.w < c.kernelW) {
    diags.error("E0303", size.range,
                fmt::format("grow kernel cannot shrink '{}' from {} to {}", node->name,
                            sizeText(c.kernelH, c.kernelW), sizeText(size.h, size.w)));
    return std::nullopt;
  }
  plan::MorphRecipe recipe;
  recipe.kind = plan::MorphRecipe::Kind::GrowKernel;
  plan::GrowKernelRecipe& r = recipe.grow;
  r.conv = node->name;
  r.oldKH = c.kernelH;
  r.oldKW = c.kernelW;
  r.newKH = size.h;
  r.newKW = size.w;
  const int64_t dh = size.h - c.kernelH, dw = size.w - c.kernelW;
  r.top = dh / 2;
  r.left = dw / 2;

  StepOutcome o;
  o.recipe = recipe;
  o.verdict = plan::Verdict::Exact;
  if (dh == 0 && dw == 0) {
    o.graph = g;
    o.reason = fmt::format("'{}' already has a {} kernel", node->name, sizeText(c.kernelH, c.kernelW));
    o.noEffect = true;
    return o;
  }
  ir::Node grown = *node;
  grown.conv.kernelH = size.h;
  grown.conv.kernelW = size.w;
  grown.conv.padTop += c.dilationH * r.top;
  grown.conv.padBottom += c.dilationH * (dh - r.top);
  grown.conv.padLeft += c.dilationW * r.left;
  grown.conv.padRight += c.dilationW * (dw - r.left);
  grown.origin = s.range;
  o.graph = replaceNode(g, ref->node, grown);
  o.reason = fmt::format("new taps are zero and padding grows by {}: every old tap reads the same pixels{}",
                         (grown.conv.symmetricPadding() && c.symmetricPadding())
                             ? sizeText(grown.conv.padTop - c.padTop, grown.conv.padLeft - c.padLeft)
                             : fmt::format("[{}, {}, {}, {}]", grown.conv.padTop - c.padTop,
                                           grown.conv.padBottom - c.padBottom, grown.conv.padLeft - c.padLeft,
                                           grown.conv.padRight - c.padRight),
                         (dh % 2 || dw % 2) ? " (an odd growth pads the bottom/right side one more)" : "");
  return o;
}

} // namespace mhr::verify
