#include "compiler/ir/verifier.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace mhr::ir {

namespace {

size_t expectedArity(OpKind op) {
  switch (op) {
  case OpKind::Input:
    return 0;
  case OpKind::Add:
  case OpKind::Mul:
    return 2;
  case OpKind::Concat:
    return SIZE_MAX; // one or more
  default:
    return 1;
  }
}

// The problems of node `id`: they depend on its own attributes and on its inputs' OutputFacts only (which is
// what lets verifyChanges look at changed nodes and their readers alone).
void checkNode(const Graph& g, NodeId id, std::vector<VerifyProblem>& out) {
  auto problem = [&](NodeId at, std::string msg) {
    out.push_back({at, g.node(at).name + ": " + std::move(msg)});
  };
  const Node& n = g.node(id);
  const size_t arity = expectedArity(n.op);
  if (arity == SIZE_MAX ? n.inputs.empty() : n.inputs.size() != arity) {
    problem(id, fmt::format("{} takes {} input(s), has {}", opName(n.op), arity == SIZE_MAX ? 1 : arity,
                            n.inputs.size()));
    return;
  }
  const NodeId in0 = n.inputs.empty() ? kNoNode : g.inputsOf(id)[0];
  const int64_t inChannels = in0 == kNoNode ? 0 : g.factsOf(in0).channels;
  const int inRank = in0 == kNoNode ? 4 : g.factsOf(in0).rank;
  switch (n.op) {
  case OpKind::Input:
    if (n.input.channels < 1) problem(id, "the input needs at least one channel");
    break;
  case OpKind::Conv2d: {
    const Conv2dAttrs& c = n.conv;
    if (c.inChannels < 1 || c.outChannels < 1)
      problem(id, "channel counts must be positive");
    else if (c.groups < 1 || c.inChannels % c.groups || c.outChannels % c.groups)
      problem(id, fmt::format("groups {} must divide the input ({}) and output ({}) channels", c.groups,
                              c.inChannels, c.outChannels));
    if (c.kernelH < 1 || c.kernelW < 1) problem(id, "kernel sizes must be positive");
    if (c.strideH < 1 || c.strideW < 1) problem(id, "strides must be positive");
    if (c.dilationH < 1 || c.dilationW < 1) problem(id, "dilations must be positive");
    if (c.padTop < 0 || c.padBottom < 0 || c.padLeft < 0 || c.padRight < 0)
      problem(id, "padding is negative");
    if (inRank != 4)
      problem(id, "conv2d needs an NCHW input, not a flattened one");
    else if (inChannels != c.inChannels)
      problem(id, fmt::format("expects {} input channels, its input has {}", c.inChannels, inChannels));
    break;
  }
  case OpKind::BatchNorm2d:
    if (n.bn.numFeatures < 1) problem(id, "needs at least one feature");
    if (!(n.bn.eps > 0)) problem(id, "eps must be positive");
    if (!(n.bn.momentum >= 0 && n.bn.momentum <= 1)) problem(id, "momentum must lie in [0, 1]");
    if (inRank != 4)
      problem(id, "batch_norm2d needs an NCHW input");
    else if (inChannels != n.bn.numFeatures)
      problem(id, fmt::format("normalises {} channels, its input has {}", n.bn.numFeatures, inChannels));
    break;
  case OpKind::Linear:
    if (n.linear.inFeatures < 1 || n.linear.outFeatures < 1) problem(id, "feature counts must be positive");
    if (inRank != 2)
      problem(id, "linear needs a flattened input");
    else if (!g.factsOf(in0).flattened && inChannels != n.linear.inFeatures)
      problem(id,
              fmt::format("expects {} input features, its input has {}", n.linear.inFeatures, inChannels));
    else if (g.factsOf(in0).flattened && n.linear.inFeatures % inChannels != 0)
      problem(id, fmt::format("{} input features are not a whole number of blocks of its {} input channels",
                              n.linear.inFeatures, inChannels));
    break;
  case OpKind::Activation:
    if (n.act.kind == ActKind::Hardtanh && !(n.act.minValue < n.act.maxValue))
      problem(id, "hardtanh needs min < max");
    break;
  case OpKind::PRelu:
    if (n.prelu.numParameters != 1 && n.prelu.numParameters != inChannels)
      problem(id, fmt::format("has {} slopes for {} channels (use 1 or {})", n.prelu.numParameters,
                              inChannels, inChannels));
    break;
  case OpKind::ParamActivation:
    if (n.pact.channels != inChannels)
      problem(id, fmt::format("has {} slopes for {} channels", n.pact.channels, inChannels));
    break;
  case OpKind::MaxPool2d:
  case OpKind::AvgPool2d: {
    const Pool2dAttrs& p = n.pool;
    if (p.kernelH < 1 || p.kernelW < 1 || p.strideH < 1 || p.strideW < 1 || p.dilationH < 1 ||
        p.dilationW < 1)
      problem(id, "kernel, stride and dilation must be positive");
    if (p.padH < 0 || p.padW < 0) problem(id, "padding is negative");
    if (inRank != 4) problem(id, "pooling needs an NCHW input");
    break;
  }
  case OpKind::AdaptiveAvgPool2d:
  case OpKind::AdaptiveMaxPool2d:
    if (n.adaptive.outH < 1 || n.adaptive.outW < 1) problem(id, "output size must be positive");
    if (inRank != 4) problem(id, "pooling needs an NCHW input");
    break;
  case OpKind::Add: {
    const int64_t other = g.factsOf(g.inputsOf(id)[1]).channels;
    if (other != inChannels) problem(id, fmt::format("adds {} channels to {} channels", inChannels, other));
    break;
  }
  case OpKind::Mul: {
    const int64_t other = g.factsOf(g.inputsOf(id)[1]).channels;
    if (other != inChannels && other != 1 && inChannels != 1)
      problem(id, fmt::format("multiplies {} channels by {} channels", inChannels, other));
    break;
  }
  case OpKind::Concat:
    for (NodeId in : g.inputsOf(id))
      if (g.factsOf(in).rank != inRank) problem(id, "concatenates tensors of different ranks");
    break;
  case OpKind::Flatten:
    if (inRank != 4) problem(id, "flattens an already flat tensor");
    break;
  case OpKind::Dropout:
    if (!(n.dropout.p >= 0 && n.dropout.p < 1)) problem(id, "dropout probability must lie in [0, 1)");
    break;
  case OpKind::StochasticDepth:
    if (!(n.sd.p >= 0 && n.sd.p < 1)) problem(id, "stochastic depth probability must lie in [0, 1)");
    break;
  }
}

} // namespace

std::vector<VerifyProblem> verifyGraph(const Graph& g) {
  std::vector<VerifyProblem> out;
  for (NodeId id = 0; id < static_cast<NodeId>(g.size()); ++id) checkNode(g, id, out);
  return out;
}

std::vector<VerifyProblem> verifyChanges(const Graph& after, const Graph& before) {
  const std::optional<Graph::Changes> changes = after.changedSince(before);
  if (!changes) return verifyGraph(after);
  // A node's problems depend on it and its inputs' facts: so the changed nodes, and every reader of a changed
  // node or of a node whose facts changed, are all that can differ from `before`.
  std::vector<NodeId> look(changes->nodes);
  for (const std::vector<NodeId>* from : {&changes->nodes, &changes->facts})
    for (NodeId id : *from)
      for (NodeId user : after.usersOf(id)) look.push_back(user);
  std::sort(look.begin(), look.end());
  look.erase(std::unique(look.begin(), look.end()), look.end());
  std::vector<VerifyProblem> out;
  for (NodeId id : look) checkNode(after, id, out);
  return out;
}

bool verifyGraph(const Graph& graph, diag::DiagnosticEngine& diags) {
  const std::vector<VerifyProblem> problems = verifyGraph(graph);
  for (const VerifyProblem& p : problems) diags.error("E0305", graph.node(p.node).origin, p.message);
  return problems.empty();
}

} // namespace mhr::ir
