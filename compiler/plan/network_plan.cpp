#include "compiler/plan/network_plan.h"

#include "support/assert.h"

#include <optional>

namespace mhr::plan {

const char* verdictName(Verdict v) {
  switch (v) {
  case Verdict::Exact:
    return "exact";
  case Verdict::Eval:
    return "eval";
  case Verdict::Approximate:
    return "approximate";
  case Verdict::Refuted:
    return "refuted";
  case Verdict::Unproved:
    return "unproved";
  case Verdict::Declared:
    return "declared";
  }
  return "?";
}

const char* modeName(ProofMode m) {
  return m == ProofMode::Any ? "any" : "eval";
}

const char* morphKindName(MorphRecipe::Kind k) {
  switch (k) {
  case MorphRecipe::Kind::Upscale:
    return "upscale";
  case MorphRecipe::Kind::Deepen:
    return "deepen";
  case MorphRecipe::Kind::Widen:
    return "widen";
  case MorphRecipe::Kind::GrowKernel:
    return "grow kernel";
  case MorphRecipe::Kind::Activation:
    return "activation";
  case MorphRecipe::Kind::ReplaceHead:
    return "replace head";
  case MorphRecipe::Kind::Branch:
    return "branch";
  }
  return "?";
}

ImportRecipe importRecipeFor(const ir::Graph& graph) {
  ImportRecipe r;
  const ir::NodeId input = graph.inputId();
  if (graph.node(input).input.channels != 1) return r;
  for (ir::NodeId user : graph.usersOf(input)) {
    const ir::Node& n = graph.node(user);
    if (n.op == ir::OpKind::Conv2d) r.sumInputChannels.push_back(n.name + ".weight");
  }
  return r;
}

namespace {

bool sameNode(const ir::Node& a, const ir::Node& b) {
  return a == b && a.origin == b.origin; // a kept node keeps the statement that made it
}

} // namespace

GraphEdit GraphEdit::between(const ir::Graph& before, const ir::Graph& after) {
  GraphEdit e;
  e.output = after.outputName();
  e.beforeSize = before.size();
  Piece* open = nullptr; // the piece whose run or node list grows
  // `count` nodes of `before` from `from`, in order.
  auto keepRun = [&](ir::NodeId from, int32_t count) {
    if (open && open->nodes.empty() && open->from + open->count == from) {
      open->count += count; // the run goes on
      return;
    }
    e.pieces.push_back(Piece{from, count, {}});
    open = &e.pieces.back();
  };
  // A node of `after`: kept when `before` has it, unchanged; otherwise new in this piece.
  auto addNode = [&](const ir::Node& n) {
    const ir::NodeId i = before.find(n.name);
    if (i != ir::kNoNode && sameNode(before.node(i), n)) return keepRun(i, 1);
    if (open) {
      open->nodes.push_back(n);
      return;
    }
    e.pieces.push_back(Piece{0, 0, {n}});
    open = &e.pieces.back();
  };
  const std::optional<ir::Graph::Changes> changes = after.changedSince(before);
  if (!changes) {
    for (const ir::Node& n : after.nodes()) addNode(n);
    return e;
  }
  // `after` shares every node but the changed ones with `before`, and the nodes between two changed ones
  // are consecutive there: one lookup per run instead of one per node.
  ir::NodeId j = 0;
  const ir::NodeId n = static_cast<ir::NodeId>(after.size());
  for (size_t c = 0; c <= changes->nodes.size(); ++c) {
    const ir::NodeId stop = c < changes->nodes.size() ? changes->nodes[c] : n;
    if (stop > j) keepRun(before.find(after.node(j).name), stop - j);
    if (c == changes->nodes.size()) break;
    addNode(after.node(stop));
    j = stop + 1;
  }
  return e;
}

ir::Graph GraphEdit::apply(const ir::Graph& before) const {
  MHR_ASSERT(before.size() == beforeSize, "a morph step's graph edit applied to another graph");
  std::vector<ir::Node> nodes;
  for (const Piece& p : pieces) {
    MHR_ASSERT(p.from >= 0 && p.count >= 0 && static_cast<size_t>(p.from) + p.count <= before.size(),
               "a morph step's graph edit reads past the graph before it");
    for (ir::NodeId id = p.from; id < p.from + p.count; ++id) nodes.push_back(before.node(id));
    nodes.insert(nodes.end(), p.nodes.begin(), p.nodes.end());
  }
  return ir::Graph(std::move(nodes), output);
}

size_t GraphEdit::addedNodes() const {
  size_t n = 0;
  for (const Piece& p : pieces) n += p.nodes.size();
  return n;
}

} // namespace mhr::plan
