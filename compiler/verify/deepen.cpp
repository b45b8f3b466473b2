#include "compiler/verify/deepen.h"

#include "compiler/ir/activations.h"
#include "compiler/ir/paths.h"
#include "compiler/verify/block.h"
#include "compiler/verify/value_range.h"
#include "support/assert.h"
#include "support/random.h"
#include "support/strings.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace mhr::verify {

namespace {

struct Block {
  bool residual = false;
  std::vector<Term> terms;
};

std::optional<Block> parseBlock(const ast::Value& v, diag::DiagnosticEngine& diags) {
  Block b;
  const ast::Value* body = &v;
  if (v.kind == ast::Value::Kind::Call && v.callee.text == "residual") {
    if (v.args.size() != 1 || v.args[0].name) {
      diags.error("E0303", v.range,
                  "residual takes one block, e.g. residual(conv(3x3) + bn + relu + conv(3x3) + bn)");
      return std::nullopt;
    }
    b.residual = true;
    body = &v.args[0].value;
  }
  bool ok = true;
  for (const ast::Value* item : blockItems(*body)) {
    if (item->kind == ast::Value::Kind::Call && item->callee.text == "residual") {
      diags.error("E0303", item->range, "residual(...) must be the whole block");
      ok = false;
      continue;
    }
    std::optional<Term> t = parseTerm(*item, BlockKind::Deepen, diags);
    if (!t)
      ok = false;
    else
      b.terms.push_back(std::move(*t));
  }
  if (!ok) return std::nullopt;
  return b;
}

std::string blockText(const Block& b) {
  std::vector<std::string> parts;
  for (const Term& t : b.terms) parts.push_back(t.text);
  const std::string body = support::join(parts, " + ");
  return b.residual ? "residual(" + body + ")" : body;
}

// The reader of `anchor` that is a relu, to suggest "deepen after <it>".
std::string reluAfter(const ir::Graph& g, ir::NodeId anchor) {
  for (ir::NodeId u : g.usersOf(anchor)) {
    const ir::Node& n = g.node(u);
    if (n.op == ir::OpKind::Activation && n.act.kind == ir::ActKind::Relu) return n.name;
    if (n.op == ir::OpKind::BatchNorm2d || n.op == ir::OpKind::Dropout) return reluAfter(g, u);
  }
  return "";
}

// Why a plain activation inserted after `anchor` (range `r`) is not the identity there.
std::string activationRefutation(const ir::Activation& a, const std::string& anchor, const Interval& r,
                                 const std::string& reluSuggestion) {
  const std::string name = ir::activationText(a);
  switch (a.kind) {
  case ir::ActKind::Gelu:
  case ir::ActKind::Silu:
  case ir::ActKind::Sigmoid:
  case ir::ActKind::Tanh:
    return fmt::format(
        "identity insertion before {0} is not exact: {0} is not idempotent ({0}({0}(x)) != {0}(x)) "
        "and is the identity on no range of values; use p({0}), which starts as the identity",
        name);
  case ir::ActKind::Relu:
    return fmt::format("identity insertion before relu is not exact: relu is not the identity on the values "
                       "reaching it ('{}' ranges over {}); {}or use prelu / p(relu)",
                       anchor, r.str(),
                       reluSuggestion.empty()
                           ? std::string("insert it after a relu ")
                           : "insert it after the relu ('deepen after " + reluSuggestion + "') ");
  case ir::ActKind::LeakyRelu:
    return fmt::format(
        "identity insertion before {0} is not exact: negative values reaching it ('{1}' ranges over "
        "{2}) would be scaled by {3} again; use prelu or p({0})",
        name, anchor, r.str(), support::formatNumber(a.slope));
  default:
    return fmt::format(
        "identity insertion before {} is not exact: it is the identity only on [{}, {}] and '{}' "
        "ranges over {}; use p({})",
        name, a.kind == ir::ActKind::Relu6 ? "0" : support::formatNumber(a.minValue),
        a.kind == ir::ActKind::Relu6 ? "6" : support::formatNumber(a.maxValue), anchor, r.str(), name);
  }
}

// An activation that clamps to [lo, hi] (relu, relu6, hardtanh); false for the others.
bool clampInterval(const ir::Activation& a, double& lo, double& hi) {
  switch (a.kind) {
  case ir::ActKind::Relu:
    lo = 0;
    hi = std::numeric_limits<double>::infinity();
    return true;
  case ir::ActKind::Relu6:
    lo = 0;
    hi = 6;
    return true;
  case ir::ActKind::Hardtanh:
    lo = a.minValue;
    hi = a.maxValue;
    return true;
  default:
    return false;
  }
}

// The block's output is read only by clamp activations psi whose interval lies inside phi's: then
// psi(phi(x)) = psi(x) and phi disappears (an identity conv + relu inserted between a conv and its relu).
// Returns the absorbing activation's name, or "".
std::string absorbingReader(const ir::Graph& g, ir::NodeId anchor, const ir::Activation& phi) {
  double phiLo, phiHi;
  if (!clampInterval(phi, phiLo, phiHi) || g.usersOf(anchor).empty() || anchor == g.outputId()) return "";
  for (ir::NodeId u : g.usersOf(anchor)) {
    const ir::Node& n = g.node(u);
    double lo, hi;
    if (n.op != ir::OpKind::Activation || !clampInterval(n.act, lo, hi) || lo < phiLo || hi > phiHi)
      return "";
  }
  return g.node(g.usersOf(anchor)[0]).name;
}

} // namespace

std::optional<StepOutcome> rewriteDeepen(const StepInput& in, diag::DiagnosticEngine& diags) {
  const ast::MorphStmt& s = in.stmt;
  const ir::Graph& g = in.graph;
  if (s.targets.size() != 1) {
    diags.error("E0303", s.range, "deepen takes one layer: deepen after PATH with BLOCK");
    return std::nullopt;
  }
  std::optional<Block> block = parseBlock(s.argument, diags);
  std::optional<ir::LayerRef> ref = ir::resolveLayer(g, s.targets[0], in.ctx.parent, diags);
  if (!ref || !block) return std::nullopt;
  if (ref->node == ir::kNoNode) {
    diags.error("E0302", s.targets[0].range,
                "module '" + ref->path + "' has several outputs; deepen after one of its layers instead");
    return std::nullopt;
  }
  const ir::NodeId anchor = ref->node;
  const std::string anchorName = g.node(anchor).name;
  const int64_t c = channelsOf(g, anchor);
  const int rank = rankOf(g, anchor);

  // Shape checks on the terms (user errors: the block cannot be built at all).
  bool ok = true;
  for (const Term& t : block->terms) {
    if ((t.kind == Term::Kind::Conv || t.kind == Term::Kind::Bn) && rank != 4) {
      diags.error("E0303", t.range,
                  fmt::format("{} needs an NCHW tensor; '{}' is flat{}", t.text, anchorName,
                              t.kind == Term::Kind::Conv ? " (use linear)" : ""));
      ok = false;
    }
    if (t.kind == Term::Kind::Linear && rank != 2) {
      diags.error("E0303", t.range,
                  fmt::format("linear needs a flat tensor; '{}' is NCHW (use conv(1x1))", anchorName));
      ok = false;
    }
    if (t.kind == Term::Kind::Conv && c % t.groups != 0) {
      diags.error("E0303", t.range,
                  fmt::format("groups {} does not divide the {} channels of '{}'", t.groups, c, anchorName));
      ok = false;
    }
  }
  if (!ok) return std::nullopt;

  plan::MorphRecipe recipe;
  recipe.kind = plan::MorphRecipe::Kind::Deepen;
  const std::string prefix = freshPrefix(g, ref->path, block->residual ? "residual" : "deepen", in.names);

  // The last conv/linear/bn of a residual branch is zero-initialised.
  int lastAffine = -1;
  for (size_t i = 0; i < block->terms.size(); ++i) {
    const Term::Kind k = block->terms[i].kind;
    if (k == Term::Kind::Conv || k == Term::Kind::Linear || k == Term::Kind::Bn)
      lastAffine = static_cast<int>(i);
  }
  if (block->residual && lastAffine < 0) {
    diags.error("E0303", s.argument.range, "residual(...) needs a conv, linear or bn layer to start at zero");
    return std::nullopt;
  }

  std::vector<ir::Node> nodes;
  std::string prev = anchorName;
  support::SplitMix64 rng(in.seed);
  for (size_t i = 0; i < block->terms.size(); ++i) {
    const Term& t = block->terms[i];
    const bool zero = block->residual && static_cast<int>(i) == lastAffine;
    ir::Node n;
    n.name = prefix + "." + std::to_string(i);
    n.inputs = {prev};
    n.origin = s.range;
    switch (t.kind) {
    case Term::Kind::Conv: {
      n.op = ir::OpKind::Conv2d;
      ir::Conv2dAttrs& a = n.conv;
      a.inChannels = a.outChannels = c;
      a.kernelH = t.kh;
      a.kernelW = t.kw;
      a.strideH = a.strideW = t.stride;
      a.dilationH = a.dilationW = t.dilation;
      // 'same' padding; an even kernel puts the extra row/column at the bottom/right.
      a.padTop = t.dilation * (t.kh - 1) / 2;
      a.padBottom = t.dilation * (t.kh - 1) - a.padTop;
      a.padLeft = t.dilation * (t.kw - 1) / 2;
      a.padRight = t.dilation * (t.kw - 1) - a.padLeft;
      a.padMode = t.padMode;
      a.groups = t.groups;
      const bool nextIsBn = i + 1 < block->terms.size() && block->terms[i + 1].kind == Term::Kind::Bn;
      a.bias = t.bias.value_or(!nextIsBn);
      const std::vector<int64_t> shape = {c, c / t.groups, t.kh, t.kw};
      const int64_t fanIn = c / t.groups * t.kh * t.kw;
      if (zero)
        recipe.created.push_back(zerosInit(n.name + ".weight", shape));
      else if (block->residual)
        recipe.created.push_back(defaultInit(n.name + ".weight", shape, fanIn, rng.next()));
      else {
        plan::TensorInit w = zerosInit(n.name + ".weight", shape);
        w.kind = plan::TensorInit::Kind::IdentityConv;
        recipe.created.push_back(w);
      }
      if (a.bias) {
        if (block->residual && !zero)
          recipe.created.push_back(defaultInit(n.name + ".bias", {c}, fanIn, rng.next()));
        else
          recipe.created.push_back(zerosInit(n.name + ".bias", {c}));
      }
      break;
    }
    case Term::Kind::Bn: {
      n.op = ir::OpKind::BatchNorm2d;
      n.bn.numFeatures = c;
      n.bn.eps = t.eps;
      n.bn.momentum = t.momentum;
      const double weight = zero ? 0.0 : block->residual ? 1.0 : std::sqrt(1.0 + t.eps);
      appendBatchNormInit(recipe.created, n.name, c, weight);
      break;
    }
    case Term::Kind::Linear: {
      n.op = ir::OpKind::Linear;
      n.linear.inFeatures = n.linear.outFeatures = c;
      n.linear.bias = true;
      if (zero)
        recipe.created.push_back(zerosInit(n.name + ".weight", {c, c}));
      else if (block->residual)
        recipe.created.push_back(defaultInit(n.name + ".weight", {c, c}, c, rng.next()));
      else {
        plan::TensorInit w = zerosInit(n.name + ".weight", {c, c});
        w.kind = plan::TensorInit::Kind::Identity;
        recipe.created.push_back(w);
      }
      if (block->residual && !zero)
        recipe.created.push_back(defaultInit(n.name + ".bias", {c}, c, rng.next()));
      else
        recipe.created.push_back(zerosInit(n.name + ".bias", {c}));
      break;
    }
    case Term::Kind::Act:
      n.op = ir::OpKind::Activation;
      n.act = t.act;
      break;
    case Term::Kind::PRelu: {
      n.op = ir::OpKind::PRelu;
      n.prelu.numParameters = t.preluParams == 1 ? 1 : c;
      recipe.created.push_back(
          fillInit(n.name + ".weight", {n.prelu.numParameters}, block->residual ? 0.25 : 1.0));
      break;
    }
    case Term::Kind::PAct:
      n.op = ir::OpKind::ParamActivation;
      n.pact.inner = t.act;
      n.pact.channels = c;
      recipe.created.push_back(fillInit(n.name + ".a", {c}, block->residual ? 0.0 : 1.0));
      break;
    case Term::Kind::GlobalMax:
    case Term::Kind::GlobalAvg:
      MHR_UNREACHABLE("global pools are parsed only in branch blocks");
    }
    prev = n.name;
    recipe.newNodes.push_back(n.name);
    nodes.push_back(std::move(n));
  }
  std::string output = prev;
  if (block->residual) {
    ir::Node add;
    add.name = prefix + ".add";
    add.op = ir::OpKind::Add;
    add.inputs = {anchorName, prev};
    add.origin = s.range;
    output = add.name;
    recipe.newNodes.push_back(add.name);
    nodes.push_back(std::move(add));
  }

  // Terms that change the shape cannot be inserted without breaking the network downstream.
  for (const Term& t : block->terms)
    if (t.kind == Term::Kind::Conv && t.stride != 1) {
      StepOutcome o =
          refuted(g, recipe,
                  fmt::format("{} with stride {} changes the resolution of '{}'; an inserted layer needs "
                              "stride 1",
                              t.text, t.stride, anchorName),
                  false);
      o.where = t.range;
      return o;
    }

  StepOutcome o;
  o.graph = insertAfter(g, anchor, std::move(nodes), output);
  o.recipe = recipe;
  const std::string text = blockText(*block);

  if (block->residual) {
    for (size_t i = static_cast<size_t>(lastAffine) + 1; i < block->terms.size(); ++i) {
      const Term& t = block->terms[i];
      const bool fixes =
          t.kind == Term::Kind::PRelu || (t.kind == Term::Kind::Act && ir::ActKind::Identity == t.act.kind) ||
          ((t.kind == Term::Kind::Act || t.kind == Term::Kind::PAct) && activationFixesZero(t.act));
      if (!fixes) {
        StepOutcome r =
            refuted(o.graph, recipe,
                    fmt::format("{} is not exact: {} maps 0 to {}, so the branch adds a constant instead "
                                "of 0 after its zeroed {}; end the branch with the zeroed layer or use an "
                                "activation with act(0) = 0",
                                text, t.text, t.act.kind == ir::ActKind::Sigmoid ? "0.5" : "a non-zero value",
                                block->terms[static_cast<size_t>(lastAffine)].text),
                    true);
        r.where = t.range;
        return r;
      }
    }
    o.verdict = plan::Verdict::Exact;
    o.reason = fmt::format("x + R(x) with R's last {} zero-initialised: R(x) = 0 in train and eval mode",
                           block->terms[static_cast<size_t>(lastAffine)].text);
    return o;
  }

  // Identity block: each term must be the identity on the values reaching it (the range of the anchor, since
  // every earlier term is the identity too).
  Interval range = valueRanges(g)[static_cast<size_t>(anchor)];
  bool needsEval = false;
  std::vector<std::string> why;
  for (const Term& t : block->terms) {
    switch (t.kind) {
    case Term::Kind::Conv:
      if (t.kh % 2 == 0 || t.kw % 2 == 0) {
        StepOutcome r =
            refuted(o.graph, recipe,
                    fmt::format("{} has no centre tap: an even kernel cannot be initialised to the "
                                "identity; use an odd size such as {}",
                                t.text, sizeText(t.kh | 1, t.kw | 1)),
                    true);
        r.where = t.range;
        return r;
      }
      why.push_back(t.text + " = its centre tap");
      break;
    case Term::Kind::Bn:
      needsEval = true;
      why.push_back("bn (mean 0, var 1, weight sqrt(1+eps)) is the identity in eval mode only");
      break;
    case Term::Kind::Linear:
      why.push_back("linear = I");
      break;
    case Term::Kind::PRelu:
      why.push_back("prelu with slope 1");
      break;
    case Term::Kind::PAct:
      why.push_back(t.text + " with a = 1");
      break;
    case Term::Kind::GlobalMax:
    case Term::Kind::GlobalAvg:
      MHR_UNREACHABLE("global pools are parsed only in branch blocks");
    case Term::Kind::Act:
      if (activationIsIdentityOn(t.act, range)) {
        why.push_back(t.act.kind == ir::ActKind::Identity
                          ? "identity"
                          : fmt::format("{} is the identity on {} ('{}')", t.text, range.str(), anchorName));
        break;
      }
      if (std::string reader = absorbingReader(g, anchor, t.act); !reader.empty()) {
        const std::string psi = ir::activationText(g.lookup(reader)->act);
        why.push_back(
            fmt::format("{0} is absorbed by the {1} '{2}' right after the block ({1}({0}(x)) = {1}(x))",
                        t.text, psi, reader));
        range = activationRange(t.act, range);
        break;
      }
      {
        StepOutcome r = refuted(o.graph, recipe,
                                activationRefutation(t.act, anchorName, range, reluAfter(g, anchor)), true);
        r.where = t.range;
        return r;
      }
    }
  }
  o.verdict = needsEval ? plan::Verdict::Eval : plan::Verdict::Exact;
  o.mode = needsEval ? plan::ProofMode::Eval : plan::ProofMode::Any;
  o.reason = "identity block: " + support::join(why, "; ");
  return o;
}

} // namespace mhr::verify
