// compiler/ir/graph.h — the network graph: an immutable, topologically ordered list of nodes with one output.
// In: nodes (from a stdlib builder or a morph rewrite). Out: a value (copyable, comparable) with name lookup,
// input and user indices. A rewrite never edits a graph: it copies `nodes()`, changes the copy and builds a
// new Graph. Structural invariants (unique names, inputs defined before use, one output) are our own bugs
// when broken and are asserted; attribute consistency is checked by verifier.h and reported as diagnostics.
#pragma once

#include "compiler/ir/node.h"

#include <string>
#include <unordered_map>
#include <vector>

namespace mhr::ir {

using NodeId = int32_t;
constexpr NodeId kNoNode = -1;

class Graph {
public:
  Graph() = default;
  // `nodes` in topological order (every input names an earlier node); `output` names the result node.
  Graph(std::vector<Node> nodes, std::string output);

  const std::vector<Node>& nodes() const { return nodes_; }
  size_t size() const { return nodes_.size(); }
  bool empty() const { return nodes_.empty(); }
  const Node& node(NodeId id) const;
  const Node& operator[](NodeId id) const { return node(id); }
  NodeId find(const std::string& name) const; // kNoNode when absent
  const Node* lookup(const std::string& name) const;
  const std::vector<NodeId>& inputsOf(NodeId id) const { return inputIds_.at(static_cast<size_t>(id)); }
  const std::vector<NodeId>& usersOf(NodeId id) const { return userIds_.at(static_cast<size_t>(id)); }
  NodeId outputId() const { return output_; }
  const std::string& outputName() const { return nodes_.at(static_cast<size_t>(output_)).name; }
  NodeId inputId() const { return input_; } // the single Input node

  bool operator==(const Graph& o) const;
  bool operator!=(const Graph& o) const { return !(*this == o); }

private:
  std::vector<Node> nodes_;
  std::unordered_map<std::string, NodeId> index_;
  std::vector<std::vector<NodeId>> inputIds_;
  std::vector<std::vector<NodeId>> userIds_;
  NodeId output_ = kNoNode;
  NodeId input_ = kNoNode;
};

// Appends nodes with unique names; what stdlib builders and rewrites use to assemble a node list.
// Every add* returns the new node's name so calls chain: x = b.relu("relu", b.bn("bn1", b.conv(...))).
class GraphBuilder {
public:
  std::string input(const std::string& name, int64_t channels);
  std::string conv(const std::string& name, const std::string& in, int64_t inChannels, int64_t outChannels,
                   int64_t kernel, int64_t stride = 1, int64_t padding = 0, int64_t groups = 1,
                   bool bias = false, int64_t dilation = 1);
  std::string conv(const std::string& name, const std::string& in, const Conv2dAttrs& attrs);
  std::string bn(const std::string& name, const std::string& in, int64_t features, double eps = 1e-5,
                 double momentum = 0.1);
  std::string linear(const std::string& name, const std::string& in, int64_t inFeatures, int64_t outFeatures,
                     bool bias = true);
  std::string act(const std::string& name, const std::string& in, const Activation& a);
  std::string act(const std::string& name, const std::string& in, ActKind kind);
  std::string prelu(const std::string& name, const std::string& in, int64_t numParameters);
  std::string paramAct(const std::string& name, const std::string& in, const Activation& inner,
                       int64_t channels);
  std::string maxPool(const std::string& name, const std::string& in, int64_t kernel, int64_t stride,
                      int64_t padding = 0, bool ceilMode = false);
  std::string avgPool(const std::string& name, const std::string& in, int64_t kernel, int64_t stride,
                      int64_t padding = 0, bool ceilMode = false, bool countIncludePad = true);
  std::string adaptiveAvgPool(const std::string& name, const std::string& in, int64_t outH, int64_t outW);
  std::string add(const std::string& name, const std::string& a, const std::string& b);
  std::string mul(const std::string& name, const std::string& a, const std::string& b);
  std::string concat(const std::string& name, const std::vector<std::string>& inputs);
  std::string flatten(const std::string& name, const std::string& in);
  std::string dropout(const std::string& name, const std::string& in, double p);
  std::string stochasticDepth(const std::string& name, const std::string& in, double p,
                              StochasticDepthMode mode = StochasticDepthMode::Row);
  std::string push(Node node); // any prepared node (its name must be new)

  Graph finish(const std::string& output) &&;
  const std::vector<Node>& nodes() const { return nodes_; }

private:
  std::vector<Node> nodes_;
};

} // namespace mhr::ir
