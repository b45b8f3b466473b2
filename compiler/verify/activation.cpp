#include "compiler/verify/activation.h"

#include "compiler/ir/activations.h"
#include "compiler/ir/paths.h"
#include "support/strings.h"

#include <fmt/format.h>

namespace mhr::verify {

namespace {

std::string current(const ir::Node& n) {
  if (n.op == ir::OpKind::PRelu) return "prelu";
  if (n.op == ir::OpKind::ParamActivation) return "p(" + ir::activationText(n.pact.inner) + ")";
  return ir::activationText(n.act);
}

} // namespace

std::optional<StepOutcome> rewriteActivation(const StepInput& in, diag::DiagnosticEngine& diags) {
  const ast::MorphStmt& s = in.stmt;
  const ir::Graph& g = in.graph;
  if (s.targets.size() != 1) {
    diags.error("E0303", s.range, "activation takes one layer");
    return std::nullopt;
  }
  // The target form.
  const ast::Value& v = s.argument;
  const std::string name = v.calleeName();
  bool toPrelu = false;
  int64_t preluParams = 0; // 0: one per channel
  std::optional<ir::Activation> inner;
  bool ok = true;
  if (name == "prelu") {
    toPrelu = true;
    for (const ast::Argument& a : v.args) {
      if (a.name && a.name->text == "num_parameters" && a.value.kind == ast::Value::Kind::Int &&
          a.value.intValue == 1)
        preluParams = 1;
      else {
        diags.error("E0303", a.range,
                    "prelu takes only num_parameters: 1 (the default is one slope per channel)");
        ok = false;
      }
    }
  } else if (name == "p" && v.kind == ast::Value::Kind::Call && v.args.size() == 1 && !v.args[0].name) {
    inner = ir::parseActivation(v.args[0].value, diags);
    ok = inner.has_value();
  } else {
    auto d = diags.error("E0303", v.range, "activation ... to needs prelu or p(ACT), e.g. p(gelu)");
    if (ir::activationKind(name))
      d.note("a plain " + name + " would change the function; use p(" + name + ")");
    ok = false;
  }
  std::optional<ir::LayerRef> ref = ir::resolveLayer(g, s.targets[0], in.ctx.parent, diags);
  if (!ref || !ok) return std::nullopt;
  const ir::Node* node = ref->kind == ir::LayerRef::Kind::Node ? &g.node(ref->node) : nullptr;
  if (!node || (node->op != ir::OpKind::Activation && node->op != ir::OpKind::PRelu &&
                node->op != ir::OpKind::ParamActivation)) {
    diags.error("E0302", s.targets[0].range,
                "activation needs an activation layer; '" + ref->path + "' is " +
                    (node ? std::string("a ") + ir::opName(node->op) : std::string("a module")));
    return std::nullopt;
  }
  const int64_t c = channelsOf(g, ref->node);
  const std::string target = toPrelu ? "prelu" : "p(" + ir::activationText(*inner) + ")";
  const std::string was = current(*node);

  plan::MorphRecipe recipe;
  recipe.kind = plan::MorphRecipe::Kind::Activation;
  ir::Node changed = *node;
  changed.origin = s.range;
  std::string why;
  bool possible = false, same = false;
  if (toPrelu) {
    changed.op = ir::OpKind::PRelu;
    changed.prelu.numParameters = preluParams == 1 ? 1 : c;
    const std::vector<int64_t> shape = {changed.prelu.numParameters};
    const std::string wname = node->name + ".weight";
    if (node->op == ir::OpKind::PRelu) {
      same = node->prelu.numParameters == changed.prelu.numParameters;
      possible =
          node->prelu.numParameters == 1 || same; // a shared slope may become per-channel; not the reverse
      if (possible && !same) {
        plan::TensorInit t = fillInit(wname, shape, 0);
        t.kind = plan::TensorInit::Kind::Copy;
        t.source = wname;
        recipe.removed.push_back(wname);
        recipe.created.push_back(t);
        why = "the shared slope is copied to every channel";
      }
    } else if (node->op == ir::OpKind::ParamActivation && node->pact.inner.kind == ir::ActKind::Relu &&
               preluParams != 1) {
      possible = true;
      plan::TensorInit t = fillInit(wname, shape, 0);
      t.kind = plan::TensorInit::Kind::Copy;
      t.source = node->name + ".a";
      recipe.removed.push_back(node->name + ".a");
      recipe.created.push_back(t);
      why = "p(relu) with a per-channel a is prelu with slope a";
    } else if (node->op == ir::OpKind::Activation) {
      const ir::Activation& a = node->act;
      double slope = 0;
      if (a.kind == ir::ActKind::Relu) {
        possible = true;
        why = "relu is prelu with slope 0";
      } else if (a.kind == ir::ActKind::LeakyRelu) {
        possible = true;
        slope = a.slope;
        why = fmt::format("leaky_relu({0}) is prelu with slope {0}", support::formatNumber(a.slope));
      } else if (a.kind == ir::ActKind::Identity) {
        possible = true;
        slope = 1;
        why = "identity is prelu with slope 1";
      }
      if (possible) recipe.created.push_back(fillInit(wname, shape, slope));
    }
  } else {
    changed.op = ir::OpKind::ParamActivation;
    changed.pact.inner = *inner;
    changed.pact.channels = c;
    const std::string aname = node->name + ".a";
    if (node->op == ir::OpKind::ParamActivation) {
      same = node->pact.inner == *inner;
      possible = same;
    } else if (node->op == ir::OpKind::PRelu && inner->kind == ir::ActKind::Relu) {
      possible = true;
      plan::TensorInit t = fillInit(aname, {c}, 0);
      t.kind = plan::TensorInit::Kind::Copy;
      t.source = node->name + ".weight";
      recipe.removed.push_back(node->name + ".weight");
      recipe.created.push_back(t);
      why = "prelu with slope s is p(relu) with a = s";
    } else if (node->op == ir::OpKind::Activation) {
      const ir::Activation& a = node->act;
      double init = 0;
      if (a == *inner) {
        possible = true;
        why = fmt::format("p({0}) with a = 0 is {0}", was);
      } else if (a.kind == ir::ActKind::Identity) {
        possible = true;
        init = 1;
        why = "p(ACT) with a = 1 is the identity";
      } else if (a.kind == ir::ActKind::LeakyRelu && inner->kind == ir::ActKind::Relu) {
        possible = true;
        init = a.slope;
        why = fmt::format("leaky_relu({0}) = (1 - {0}) relu(x) + {0} x is p(relu) with a = {0}",
                          support::formatNumber(a.slope));
      }
      if (possible) recipe.created.push_back(fillInit(aname, {c}, init));
    }
  }

  if (same) {
    StepOutcome o;
    o.graph = g;
    o.recipe = recipe;
    o.verdict = plan::Verdict::Exact;
    o.reason = fmt::format("'{}' already is {}", node->name, target);
    o.noEffect = true;
    return o;
  }
  if (!possible) {
    std::string hint;
    if (node->op == ir::OpKind::Activation)
      hint = fmt::format("; use p({})", was);
    else if (node->op == ir::OpKind::PRelu)
      hint = "; use p(relu)";
    StepOutcome o = refuted(
        g, recipe,
        fmt::format("{} cannot represent {} at any initial value ('{}'){}", target, was, node->name, hint),
        false);
    o.where = v.range;
    return o;
  }
  StepOutcome o;
  o.graph = replaceNode(g, ref->node, changed);
  o.recipe = recipe;
  o.verdict = plan::Verdict::Exact;
  o.reason = why;
  return o;
}

} // namespace mhr::verify
