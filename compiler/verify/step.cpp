#include "compiler/verify/step.h"

#include "support/assert.h"

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

namespace {

// Whether number `i` of `stem` is taken: a node is named `stem<i>` or lies under it (`stem<i>.conv`); number
// 1 is `stem` itself (and a stray `stem1`).
bool prefixTaken(const ir::Graph& graph, const std::string& stem, long i) {
  auto under = [&](const std::string& name) {
    return graph.find(name) != ir::kNoNode || graph.hasNamePrefix(name + ".");
  };
  if (i == 1) return under(stem) || under(stem + "1");
  return under(stem + std::to_string(i));
}

} // namespace

std::string freshPrefix(const ir::Graph& graph, const std::string& base, const std::string& kind,
                        FreshNames* names) {
  // Each candidate is two binary searches of the name index. `names` remembers where the last search for a
  // stem ended: no rewrite removes a node, so every smaller number is still taken, and 2,000 deepen
  // statements after one layer probe once each instead of 1, 2, 3, ... every time.
  const std::string stem = base + "_" + kind;
  long i = 1;
  if (names) {
    auto it = names->next.find(stem);
    if (it != names->next.end()) i = it->second;
  }
  while (prefixTaken(graph, stem, i)) ++i;
  if (names) names->next[stem] = i;
  return stem + (i == 1 ? "" : std::to_string(i));
}

ir::Graph insertAfter(const ir::Graph& graph, ir::NodeId anchor, std::vector<ir::Node> block,
                      const std::string& blockOutput) {
  // Every reader of `anchor` comes after it (topological order), so all of them switch to the block.
  const std::string& anchorName = graph.node(anchor).name;
  std::vector<std::pair<ir::NodeId, ir::Node>> readers;
  for (ir::NodeId user : graph.usersOf(anchor)) {
    if (!readers.empty() && readers.back().first == user) continue; // reads the anchor twice
    ir::Node n = graph.node(user);
    for (std::string& in : n.inputs)
      if (in == anchorName) in = blockOutput;
    readers.emplace_back(user, std::move(n));
  }
  const std::string output = graph.outputId() == anchor ? blockOutput : graph.outputName();
  return graph.withChanges(anchor, std::move(block), std::move(readers), output);
}

ir::Graph replaceNode(const ir::Graph& graph, ir::NodeId id, ir::Node node) {
  MHR_ASSERT(node.name == graph.node(id).name, "replaceNode must keep the node's name");
  std::vector<std::pair<ir::NodeId, ir::Node>> one;
  one.emplace_back(id, std::move(node));
  return graph.withChanges(ir::kNoNode, {}, std::move(one), graph.outputName());
}

int64_t channelsOf(const ir::Graph& graph, ir::NodeId id) {
  return graph.factsOf(id).channels; // kept by the graph as it is built, so no walk back to the input
}

int rankOf(const ir::Graph& graph, ir::NodeId id) {
  return graph.factsOf(id).rank;
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
