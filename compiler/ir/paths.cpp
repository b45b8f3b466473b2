#include "compiler/ir/paths.h"

#include "support/strings.h"

#include <set>

namespace mhr::ir {

std::optional<LayerRef> findLayer(const Graph& g, const std::string& path) {
  if (NodeId id = g.find(path); id != kNoNode) {
    LayerRef r;
    r.kind = LayerRef::Kind::Node;
    r.path = path;
    r.node = id;
    r.members = {id};
    return r;
  }
  const std::string prefix = path + ".";
  LayerRef r;
  r.kind = LayerRef::Kind::Module;
  r.path = path;
  std::vector<bool> member(g.size(), false);
  for (NodeId id = 0; id < static_cast<NodeId>(g.size()); ++id)
    if (support::startsWith(g.node(id).name, prefix)) {
      r.members.push_back(id);
      member[static_cast<size_t>(id)] = true;
    }
  if (r.members.empty()) return std::nullopt;
  // The module's output: the members read from outside the module (or the graph's output).
  std::vector<NodeId> outputs;
  for (NodeId id : r.members) {
    bool leaves = id == g.outputId();
    for (NodeId u : g.usersOf(id)) leaves = leaves || !member[static_cast<size_t>(u)];
    if (leaves) outputs.push_back(id);
  }
  r.node = outputs.size() == 1 ? outputs[0] : kNoNode;
  return r;
}

std::vector<std::string> layerCandidates(const Graph& g) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const Node& n : g.nodes()) {
    std::vector<std::string> parts = support::split(n.name, '.');
    std::string prefix;
    for (size_t i = 0; i < parts.size(); ++i) {
      prefix += (i ? "." : "") + parts[i];
      if (seen.insert(prefix).second) out.push_back(prefix);
    }
  }
  return out;
}

bool inBranch(const std::string& nodeName) {
  for (const std::string& part : support::split(nodeName, '.')) {
    const size_t at = part.rfind("_branch");
    if (at == std::string::npos || at == 0) continue;
    const std::string rest = part.substr(at + 7);
    if (rest.find_first_not_of("0123456789") == std::string::npos) return true;
  }
  return false;
}

NodeId findHead(const Graph& g) {
  NodeId id = g.outputId();
  while (id != kNoNode) {
    const Node& n = g.node(id);
    if (n.op == OpKind::Linear || n.op == OpKind::Conv2d) return id;
    switch (n.op) {
    case OpKind::Flatten:
    case OpKind::Dropout:
    case OpKind::StochasticDepth:
    case OpKind::Activation:
    case OpKind::AdaptiveAvgPool2d:
    case OpKind::AdaptiveMaxPool2d:
    case OpKind::AvgPool2d:
    case OpKind::MaxPool2d:
      id = g.inputsOf(id)[0];
      break;
    case OpKind::Add:
      // A branch's join: the trunk is the first input.
      if (!inBranch(n.name)) return kNoNode;
      id = g.inputsOf(id)[0];
      break;
    default:
      return kNoNode;
    }
  }
  return kNoNode;
}

std::optional<LayerRef> resolveLayer(const Graph& g, const ast::Path& path, const std::string& network,
                                     diag::DiagnosticEngine& diags) {
  const std::string text = path.str();
  if (text == "head") {
    NodeId head = findHead(g);
    if (head != kNoNode) {
      LayerRef r;
      r.path = g.node(head).name;
      r.node = head;
      r.members = {head};
      return r;
    }
    diags.error("E0301", path.range,
                "network '" + network + "' has no classifier layer that `head` could name");
    return std::nullopt;
  }
  if (auto r = findLayer(g, text)) return r;
  // Point at the first segment that does not exist, so `layer1.9.conv1` underlines `9`.
  std::vector<std::string> candidates = layerCandidates(g);
  std::set<std::string> known(candidates.begin(), candidates.end());
  size_t bad = 0;
  std::string prefix;
  for (size_t i = 0; i < path.segments.size(); ++i) {
    prefix += (i ? "." : "") + path.segments[i];
    if (!known.count(prefix)) {
      bad = i;
      break;
    }
  }
  auto d = diags.error("E0301", path.range, "network '" + network + "' has no layer '" + text + "'");
  std::string suggestion = support::closestMatch(text, candidates);
  if (!suggestion.empty())
    d.note("did you mean '" + suggestion + "'?");
  else if (bad > 0) {
    // Suggest among the children of the longest existing prefix.
    std::string parent;
    for (size_t i = 0; i < bad; ++i) parent += (i ? "." : "") + path.segments[i];
    std::vector<std::string> children;
    for (const std::string& c : candidates)
      if (support::startsWith(c, parent + ".") && c.find('.', parent.size() + 1) == std::string::npos)
        children.push_back(c);
    if (!children.empty() && children.size() <= 12)
      d.note("'" + parent + "' contains " + support::join(children, ", "));
  }
  return std::nullopt;
}

} // namespace mhr::ir
