// compiler/ir/graph.h — the network graph: an immutable, topologically ordered list of nodes with one output.
// In: nodes (from a stdlib builder or a morph rewrite). Out: a value (copyable, comparable) with name lookup,
// input and user indices. A rewrite never edits a graph: it builds a new one, either from a full node list or
// as `withChanges` of the graph before it. Structural invariants (unique names, inputs defined before use,
// one output) are our own bugs when broken and are asserted; attribute consistency is checked by verifier.h
// and reported as diagnostics.
//
// Why the representation is shared: a morph sequence builds one graph per statement, and 2,000 statements
// after one layer make graphs of thousands of nodes. Copying a Graph shares its state (it is immutable), and
// a graph made by `withChanges` shares every node it did not change with its parent, so a statement costs a
// few integer passes over the graph instead of copying, hashing and re-indexing every node name.
#pragma once

#include "compiler/ir/node.h"

#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mhr::ir {

using NodeId = int32_t;
constexpr NodeId kNoNode = -1;

// A read-only view of consecutive node ids (a node's inputs or users).
class IdSpan {
public:
  IdSpan() = default;
  IdSpan(const NodeId* b, const NodeId* e) : b_(b), e_(e) {}
  const NodeId* begin() const { return b_; }
  const NodeId* end() const { return e_; }
  size_t size() const { return static_cast<size_t>(e_ - b_); }
  bool empty() const { return b_ == e_; }
  NodeId operator[](size_t i) const { return b_[i]; }

private:
  const NodeId* b_ = nullptr;
  const NodeId* e_ = nullptr;
};

// What holds for a node's output at every resolution, by the rules of channels.h: its rank (4: NCHW; 2: NC
// after flatten or linear), its channel count (a linear's features; after a flatten still the channel count,
// each channel owning H*W features) and whether it came through a flatten.
struct OutputFacts {
  int64_t channels = 0;
  bool flattened = false;
  int rank = 4;
  bool operator==(const OutputFacts& o) const {
    return channels == o.channels && flattened == o.flattened && rank == o.rank;
  }
  bool operator!=(const OutputFacts& o) const { return !(*this == o); }
};

class Graph {
  struct Pool;
  using NodePtr = const Node*; // owned by a Pool that every graph holding the node keeps alive

public:
  // Iterates the nodes in order as `const Node&` (range-for, and the arithmetic std::vector's iterators
  // have).
  class NodeIterator {
  public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = Node;
    using difference_type = std::ptrdiff_t;
    using pointer = const Node*;
    using reference = const Node&;
    NodeIterator() = default;
    explicit NodeIterator(std::vector<NodePtr>::const_iterator it) : it_(it) {}
    const Node& operator*() const { return **it_; }
    const Node* operator->() const { return *it_; }
    NodeIterator& operator++() {
      ++it_;
      return *this;
    }
    NodeIterator operator+(difference_type d) const { return NodeIterator(it_ + d); }
    difference_type operator-(const NodeIterator& o) const { return it_ - o.it_; }
    bool operator==(const NodeIterator& o) const { return it_ == o.it_; }
    bool operator!=(const NodeIterator& o) const { return it_ != o.it_; }

  private:
    std::vector<NodePtr>::const_iterator it_;
  };
  struct NodeRange {
    NodeIterator b, e;
    NodeIterator begin() const { return b; }
    NodeIterator end() const { return e; }
    size_t size() const { return static_cast<size_t>(e - b); }
  };

  Graph() = default;
  // `nodes` in topological order (every input names an earlier node); `output` names the result node.
  Graph(std::vector<Node> nodes, std::string output);

  // This graph with node `replaced[i].first` replaced by `replaced[i].second` (same name), then `block`
  // inserted right after node `insertAfter` (kNoNode: nothing inserted), and `output` as the result node.
  // Node ids are those of this graph in `replaced`; every node not replaced is shared with this graph.
  Graph withChanges(NodeId insertAfter, std::vector<Node> block,
                    std::vector<std::pair<NodeId, Node>> replaced, const std::string& output) const;

  NodeRange nodes() const;
  std::vector<Node> nodeList() const; // a copy of the nodes, for a rewrite that edits many of them
  size_t size() const { return s_ ? s_->nodes.size() : 0; }
  bool empty() const { return size() == 0; }
  const Node& node(NodeId id) const;
  const Node& operator[](NodeId id) const { return node(id); }
  NodeId find(const std::string& name) const; // kNoNode when absent
  const Node* lookup(const std::string& name) const;
  bool hasNamePrefix(const std::string& prefix) const; // some node's name starts with `prefix`
  const OutputFacts& factsOf(NodeId id) const;
  IdSpan inputsOf(NodeId id) const;
  IdSpan usersOf(NodeId id) const;
  NodeId outputId() const { return s_ ? s_->output : kNoNode; }
  const std::string& outputName() const { return node(outputId()).name; }
  NodeId inputId() const { return s_ ? s_->input : kNoNode; } // the single Input node

  // When this graph was made by withChanges of `parent`: the ids (in this graph) of the nodes it does not
  // share with `parent`, and of the shared nodes whose OutputFacts differ from the parent's, each ascending.
  // Otherwise nullopt. Lets a verifier look only at what changed.
  struct Changes {
    std::vector<NodeId> nodes;
    std::vector<NodeId> facts;
  };
  std::optional<Changes> changedSince(const Graph& parent) const;

  bool operator==(const Graph& o) const;
  bool operator!=(const Graph& o) const { return !(*this == o); }

private:
  struct State {
    std::shared_ptr<Pool> pool;        // shared along a chain of withChanges: nodes are never moved or freed
    std::weak_ptr<const State> parent; // the graph withChanges made this one from
    std::vector<NodeId> changed;       // see changedSince
    std::vector<NodeId> factsChanged;
    std::vector<OutputFacts> facts; // per node
    std::vector<NodePtr> nodes;
    std::vector<NodeId> byName;    // every node id, sorted by name: find() is a binary search
    std::vector<uint32_t> inStart; // inputs of node i: inIds[inStart[i] .. inStart[i+1])
    std::vector<NodeId> inIds;
    std::vector<uint32_t> useStart; // users of node i: useIds[useStart[i] .. useStart[i+1])
    std::vector<NodeId> useIds;
    NodeId output = kNoNode;
    NodeId input = kNoNode;
  };
  static NodeId findIn(const State& s, const std::string& name);
  static size_t lowerBound(const State& s, const std::string& name);
  static OutputFacts computeFacts(const State& s, NodeId id); // from the node and its inputs' facts

  std::shared_ptr<const State> s_;
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
