#include "compiler/verify/branch.h"

#include "compiler/ir/activations.h"
#include "compiler/ir/paths.h"
#include "compiler/verify/block.h"
#include "support/assert.h"
#include "support/random.h"
#include "support/strings.h"

#include <fmt/format.h>

namespace mhr::verify {

namespace {

std::optional<std::vector<Term>> parseBranchBlock(const ast::Value& v, diag::DiagnosticEngine& diags) {
  std::vector<Term> terms;
  bool ok = true;
  for (const ast::Value* item : blockItems(v)) {
    std::optional<Term> t = parseTerm(*item, BlockKind::Branch, diags);
    if (!t)
      ok = false;
    else
      terms.push_back(std::move(*t));
  }
  if (!ok) return std::nullopt;
  return terms;
}

bool isPool(const Term& t) {
  return t.kind == Term::Kind::GlobalMax || t.kind == Term::Kind::GlobalAvg;
}

} // namespace

std::optional<StepOutcome> rewriteBranch(const StepInput& in, diag::DiagnosticEngine& diags) {
  const ast::MorphStmt& s = in.stmt;
  const ir::Graph& g = in.graph;
  MHR_ASSERT(s.targets.size() == 2, "the grammar gives a branch statement two paths");
  std::optional<std::vector<Term>> terms = parseBranchBlock(s.argument, diags);
  std::optional<ir::LayerRef> from = ir::resolveLayer(g, s.targets[0], in.ctx.parent, diags);
  std::optional<ir::LayerRef> to = ir::resolveLayer(g, s.targets[1], in.ctx.parent, diags);
  if (!terms || !from || !to) return std::nullopt;
  for (const auto& [ref, path] : {std::pair{&*from, &s.targets[0]}, std::pair{&*to, &s.targets[1]}})
    if (ref->node == ir::kNoNode) {
      diags.error("E0302", path->range,
                  "module '" + ref->path + "' has several outputs; name one of its layers instead");
      return std::nullopt;
    }
  const ir::NodeId source = from->node, target = to->node;
  const std::string sourceName = g.node(source).name, targetName = g.node(target).name;

  // Shapes: an NCHW source, a flat target downstream of it, and exactly one global pool in between.
  if (rankOf(g, source) != 4) {
    diags.error("E0303", s.targets[0].range,
                fmt::format("a branch starts from an NCHW tensor; '{}' is flat", sourceName));
    return std::nullopt;
  }
  if (rankOf(g, target) != 2) {
    diags.error("E0303", s.targets[1].range,
                fmt::format("a branch is added to a flat tensor such as the classifier's output (`head`); "
                            "'{}' is NCHW",
                            targetName));
    return std::nullopt;
  }
  if (source >= target) {
    diags.error("E0303", s.targets[0].range,
                fmt::format("the branch must start before '{}': '{}' comes after it in the network",
                            targetName, sourceName));
    return std::nullopt;
  }
  int pools = 0;
  bool ok = true;
  for (const Term& t : *terms) {
    if (isPool(t)) {
      if (++pools == 2) {
        diags.error("E0303", t.range, "a branch has one global pool");
        ok = false;
      }
      continue;
    }
    const bool flat = pools > 0;
    if ((t.kind == Term::Kind::Conv || t.kind == Term::Kind::Bn) && flat) {
      diags.error("E0303", t.range,
                  fmt::format("{} needs an NCHW tensor; after the global pool it is flat", t.text));
      ok = false;
    }
    if (t.kind == Term::Kind::Linear && !flat) {
      diags.error("E0303", t.range, "linear needs a flat tensor: put it after global_max or global_avg");
      ok = false;
    }
  }
  if (ok && pools == 0) {
    diags.error(
        "E0303", s.argument.range,
        "a branch block must pool its feature map to one vector: end it with global_max or global_avg");
    ok = false;
  }
  if (!ok) return std::nullopt;

  plan::MorphRecipe recipe;
  recipe.kind = plan::MorphRecipe::Kind::Branch;
  const std::string prefix = freshPrefix(g, from->path, "branch", in.names);
  std::vector<ir::Node> nodes;
  std::string prev = sourceName;
  int64_t c = channelsOf(g, source);
  support::SplitMix64 rng(in.seed);
  auto push = [&](ir::Node n) {
    n.origin = s.range;
    prev = n.name;
    recipe.newNodes.push_back(n.name);
    nodes.push_back(std::move(n));
  };
  std::vector<std::string> parts;
  for (size_t i = 0; i < terms->size(); ++i) {
    const Term& t = (*terms)[i];
    parts.push_back(t.text);
    ir::Node n;
    n.name = prefix + "." + std::to_string(i);
    n.inputs = {prev};
    switch (t.kind) {
    case Term::Kind::Conv: {
      const int64_t out = t.outChannels > 0 ? t.outChannels : c;
      if (c % t.groups != 0 || out % t.groups != 0) {
        diags.error(
            "E0303", t.range,
            fmt::format("groups {} must divide the {} input and {} output channels", t.groups, c, out));
        return std::nullopt;
      }
      n.op = ir::OpKind::Conv2d;
      ir::Conv2dAttrs& a = n.conv;
      a.inChannels = c;
      a.outChannels = out;
      a.kernelH = t.kh;
      a.kernelW = t.kw;
      a.strideH = a.strideW = t.stride;
      a.dilationH = a.dilationW = t.dilation;
      // Padding so that H divisible by the stride gives H / stride rows: total = d(k-1) + 1 - s (at least 0),
      // the odd one at the bottom/right.
      const int64_t padH = std::max<int64_t>(0, t.dilation * (t.kh - 1) + 1 - t.stride);
      const int64_t padW = std::max<int64_t>(0, t.dilation * (t.kw - 1) + 1 - t.stride);
      a.padTop = padH / 2;
      a.padBottom = padH - a.padTop;
      a.padLeft = padW / 2;
      a.padRight = padW - a.padLeft;
      a.padMode = t.padMode;
      a.groups = t.groups;
      const bool nextIsBn = i + 1 < terms->size() && (*terms)[i + 1].kind == Term::Kind::Bn;
      a.bias = t.bias.value_or(!nextIsBn);
      const int64_t fanIn = c / t.groups * t.kh * t.kw;
      recipe.created.push_back(
          defaultInit(n.name + ".weight", {out, c / t.groups, t.kh, t.kw}, fanIn, rng.next()));
      if (a.bias) recipe.created.push_back(defaultInit(n.name + ".bias", {out}, fanIn, rng.next()));
      c = out;
      if (t.outChannels > 0)
        parts.back() =
            fmt::format("conv({}, out_channels: {}, stride: {})", sizeText(t.kh, t.kw), out, t.stride);
      push(std::move(n));
      break;
    }
    case Term::Kind::Bn:
      n.op = ir::OpKind::BatchNorm2d;
      n.bn.numFeatures = c;
      n.bn.eps = t.eps;
      n.bn.momentum = t.momentum;
      appendBatchNormInit(recipe.created, n.name, c, 1.0);
      push(std::move(n));
      break;
    case Term::Kind::Linear:
      n.op = ir::OpKind::Linear;
      n.linear.inFeatures = n.linear.outFeatures = c;
      recipe.created.push_back(defaultInit(n.name + ".weight", {c, c}, c, rng.next()));
      recipe.created.push_back(defaultInit(n.name + ".bias", {c}, c, rng.next()));
      push(std::move(n));
      break;
    case Term::Kind::Act:
      n.op = ir::OpKind::Activation;
      n.act = t.act;
      push(std::move(n));
      break;
    case Term::Kind::PRelu:
      n.op = ir::OpKind::PRelu;
      n.prelu.numParameters = t.preluParams == 1 ? 1 : c;
      recipe.created.push_back(fillInit(n.name + ".weight", {n.prelu.numParameters}, 0.25));
      push(std::move(n));
      break;
    case Term::Kind::PAct:
      n.op = ir::OpKind::ParamActivation;
      n.pact.inner = t.act;
      n.pact.channels = c;
      recipe.created.push_back(fillInit(n.name + ".a", {c}, 0.0));
      push(std::move(n));
      break;
    case Term::Kind::GlobalMax:
    case Term::Kind::GlobalAvg: {
      n.op = t.kind == Term::Kind::GlobalMax ? ir::OpKind::AdaptiveMaxPool2d : ir::OpKind::AdaptiveAvgPool2d;
      n.adaptive.outH = n.adaptive.outW = 1;
      const std::string pooled = n.name;
      push(std::move(n));
      ir::Node f;
      f.name = pooled + "_flatten";
      f.op = ir::OpKind::Flatten;
      f.inputs = {pooled};
      push(std::move(f));
      break;
    }
    }
  }

  // The join: a zero linear to the target's width, added to the target.
  const int64_t features = channelsOf(g, target);
  ir::Node fc;
  fc.name = prefix + ".fc";
  fc.op = ir::OpKind::Linear;
  fc.inputs = {prev};
  fc.linear.inFeatures = c;
  fc.linear.outFeatures = features;
  recipe.created.push_back(zerosInit(fc.name + ".weight", {features, c}));
  recipe.created.push_back(zerosInit(fc.name + ".bias", {features}));
  push(std::move(fc));
  ir::Node add;
  add.name = prefix + ".add";
  add.op = ir::OpKind::Add;
  add.inputs = {targetName, prev};
  push(std::move(add));

  StepOutcome o;
  o.graph = insertAfter(g, target, std::move(nodes), prefix + ".add");
  o.recipe = recipe;
  o.verdict = plan::Verdict::Exact;
  o.mode = plan::ProofMode::Any;
  o.reason =
      fmt::format("{0} + B(x) with B = {1} + linear, whose linear '{2}.fc' is zero-initialised (weight "
                  "and bias): B(x) = 0 in train and eval mode",
                  targetName, support::join(parts, " + "), prefix);
  return o;
}

} // namespace mhr::verify
