// compiler/ir/paths.h — layer paths (`layer1.0.conv1`, `features.denseblock1`, `head`) resolved to IR nodes.
// In: a Graph and a path as written. Out: the node, or for a module path (a prefix of node names) the
// module's members and its single output node. The diagnostic form reports E0301 with a "did you mean" built
// from every node name and module prefix of the graph.
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/ir/graph.h"

#include <optional>
#include <string>
#include <vector>

namespace mhr::ir {

struct LayerRef {
  enum class Kind { Node, Module };
  Kind kind = Kind::Node;
  std::string path;
  NodeId node = kNoNode;       // Node: the node; Module: its output node (kNoNode when it has several)
  std::vector<NodeId> members; // Module: every node under the prefix, in graph order; Node: just the node
};

// nullopt when the path names neither a node nor a module prefix.
std::optional<LayerRef> findLayer(const Graph& graph, const std::string& path);
// Every node name and every module prefix, in graph order, without duplicates (for "did you mean").
std::vector<std::string> layerCandidates(const Graph& graph);
// The classifier: the last linear (or conv) on the way back from the output through parameter-free ops
// (flatten, dropout, pools, activations) and the joins of `branch` statements (their trunk side); kNoNode
// when there is none.
NodeId findHead(const Graph& graph);

// True for a node a `branch` statement created: one of its name's components is `<source>_branch` or
// `<source>_branchN` (compiler/verify/branch.h). findHead and Grad-CAM look past such side branches.
bool inBranch(const std::string& nodeName);

// Resolves `path` (a real path, or `head`) and reports E0301 with a suggestion when it names nothing.
// `network` is the parent network's name, used in the message.
std::optional<LayerRef> resolveLayer(const Graph& graph, const ast::Path& path, const std::string& network,
                                     diag::DiagnosticEngine& diags);

} // namespace mhr::ir
