#include "compiler/verify/step.h"

#include <set>

#include "compiler/ir/channels.h"
#include "support/assert.h"
#include "support/strings.h"

#include <cmath>

namespace mhr::verify {

StepOutcome refuted(const ir::Graph& graph, plan::MorphRecipe recipe, std::string reason, bool applied) {
  StepOutcome o;
  o.graph = graph;
  recipe.applied = applied;
  o.recipe = std::move(recipe);
  o.verdict = plan::Verdict::Refuted;
  o.reason = std::move(reason);
  return o;
}

std::string freshPrefix(const ir::Graph& graph, const std::string& base, const std::string& kind) {
  // One pass over the graph collects the numbers already taken (`base_kind` is 1, `base_kindN` is N);
  // trying 1, 2, 3, ... with a scan each made 2,000 deepen statements after one layer cubic.
  const std::string stem = base + "_" + kind;
  std::set<long> taken;
  for (const ir::Node& n : graph.nodes()) {
    if (!support::startsWith(n.name, stem)) continue;
    size_t end = n.name.find('.', stem.size());
    std::string suffix =
        n.name.substr(stem.size(), end == std::string::npos ? std::string::npos : end - stem.size());
    if (suffix.empty()) {
      taken.insert(1);
    } else if (suffix.size() < 10 && suffix[0] != '0' &&
               suffix.find_first_not_of("0123456789") == std::string::npos) {
      taken.insert(std::stol(suffix));
    }
  }
  long i = 1;
  while (taken.count(i)) ++i;
  return stem + (i == 1 ? "" : std::to_string(i));
}

ir::Graph insertAfter(const ir::Graph& graph, ir::NodeId anchor, std::vector<ir::Node> block,
                      const std::string& blockOutput) {
  const std::string anchorName = graph.node(anchor).name;
  std::vector<ir::Node> nodes;
  nodes.reserve(graph.size() + block.size());
  for (ir::NodeId id = 0; id < static_cast<ir::NodeId>(graph.size()); ++id) {
    ir::Node n = graph.node(id);
    for (std::string& in : n.inputs)
      if (in == anchorName && id > anchor) in = blockOutput;
    nodes.push_back(std::move(n));
    if (id == anchor)
      for (ir::Node& b : block) nodes.push_back(std::move(b));
  }
  const std::string output = graph.outputId() == anchor ? blockOutput : graph.outputName();
  return ir::Graph(std::move(nodes), output);
}

ir::Graph replaceNode(const ir::Graph& graph, ir::NodeId id, ir::Node node) {
  MHR_ASSERT(node.name == graph.node(id).name, "replaceNode must keep the node's name");
  std::vector<ir::Node> nodes = graph.nodes();
  nodes[static_cast<size_t>(id)] = std::move(node);
  return ir::Graph(std::move(nodes), graph.outputName());
}

int64_t channelsOf(const ir::Graph& graph, ir::NodeId id) {
  // Structural: follow the op kinds without a resolution.
  const ir::Node& n = graph.node(id);
  switch (n.op) {
  case ir::OpKind::Input:
    return n.input.channels;
  case ir::OpKind::Conv2d:
    return n.conv.outChannels;
  case ir::OpKind::Linear:
    return n.linear.outFeatures;
  case ir::OpKind::Concat: {
    int64_t c = 0;
    for (ir::NodeId in : graph.inputsOf(id)) c += channelsOf(graph, in);
    return c;
  }
  case ir::OpKind::Mul: {
    const int64_t a = channelsOf(graph, graph.inputsOf(id)[0]);
    return a == 1 ? channelsOf(graph, graph.inputsOf(id)[1]) : a;
  }
  default:
    return channelsOf(graph, graph.inputsOf(id)[0]);
  }
}

int rankOf(const ir::Graph& graph, ir::NodeId id) {
  const ir::Node& n = graph.node(id);
  if (n.op == ir::OpKind::Input) return 4;
  if (n.op == ir::OpKind::Flatten || n.op == ir::OpKind::Linear) return 2;
  return rankOf(graph, graph.inputsOf(id)[0]);
}

plan::TensorInit defaultInit(const std::string& name, std::vector<int64_t> shape, int64_t fanIn,
                             uint64_t seed) {
  plan::TensorInit t;
  t.name = name;
  t.shape = std::move(shape);
  t.kind = plan::TensorInit::Kind::Uniform;
  const double bound = 1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(1, fanIn)));
  t.low = -bound;
  t.high = bound;
  t.seed = seed;
  return t;
}

plan::TensorInit fillInit(const std::string& name, std::vector<int64_t> shape, double value) {
  plan::TensorInit t;
  t.name = name;
  t.shape = std::move(shape);
  t.kind = plan::TensorInit::Kind::Fill;
  t.value = value;
  return t;
}

plan::TensorInit zerosInit(const std::string& name, std::vector<int64_t> shape, bool int64) {
  plan::TensorInit t;
  t.name = name;
  t.shape = std::move(shape);
  t.kind = plan::TensorInit::Kind::Zeros;
  t.int64 = int64;
  return t;
}

void appendBatchNormInit(std::vector<plan::TensorInit>& out, const std::string& name, int64_t c,
                         double weight) {
  out.push_back(fillInit(name + ".weight", {c}, weight));
  out.push_back(zerosInit(name + ".bias", {c}));
  out.push_back(zerosInit(name + ".running_mean", {c}));
  out.push_back(fillInit(name + ".running_var", {c}, 1.0));
  out.push_back(zerosInit(name + ".num_batches_tracked", {}, true));
}

std::string sizeText(int64_t h, int64_t w) {
  return std::to_string(h) + "x" + std::to_string(w);
}

} // namespace mhr::verify
