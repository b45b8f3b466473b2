#include "compiler/ir/graph.h"

#include "support/assert.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <set>
#include <utility>

namespace mhr::ir {

// Owns nodes for every graph of one withChanges chain. Nodes are only appended (std::deque keeps their
// addresses), so a graph can hold plain pointers and share nodes with its parent at no cost per node. The
// price: a pool lives as long as any graph of its chain, with the nodes of graphs already dropped (a refuted
// statement's, a replaced node's old version), which is bounded by the work done in that chain.
struct Graph::Pool {
  std::mutex mutex; // graphs of one chain may be edited from several threads
  std::deque<Node> nodes;
  const Node* add(Node n) {
    std::lock_guard<std::mutex> lock(mutex);
    nodes.push_back(std::move(n));
    return &nodes.back();
  }
};

namespace {

// Appends to a CSR index (start/ids) the lists of the nodes [o0, o1) of a parent's CSR, each id through
// `remap`.
template <class Remap>
void copyRun(const std::vector<uint32_t>& start, const std::vector<NodeId>& ids, NodeId o0, NodeId o1,
             std::vector<uint32_t>& outStart, std::vector<NodeId>& outIds, Remap remap) {
  const uint32_t b = start[static_cast<size_t>(o0)], e = start[static_cast<size_t>(o1)];
  const uint32_t off = static_cast<uint32_t>(outIds.size()) - b; // unsigned wrap-around adds it back
  // Written through plain pointers so that the compiler vectorises the loops: this copy is the one part of
  // an edit that touches every node.
  const size_t s0 = outStart.size(), i0 = outIds.size();
  outStart.resize(s0 + static_cast<size_t>(o1 - o0));
  outIds.resize(i0 + (e - b));
  const uint32_t* src = start.data() + o0 + 1;
  uint32_t* dst = outStart.data() + s0;
  for (size_t t = 0; t < static_cast<size_t>(o1 - o0); ++t) dst[t] = src[t] + off;
  const NodeId* isrc = ids.data() + b;
  NodeId* idst = outIds.data() + i0;
  for (size_t t = 0; t < e - b; ++t) idst[t] = remap(isrc[t]);
}

} // namespace

size_t Graph::lowerBound(const State& s, const std::string& name) {
  auto it = std::lower_bound(s.byName.begin(), s.byName.end(), name, [&](NodeId id, const std::string& key) {
    return s.nodes[static_cast<size_t>(id)]->name < key;
  });
  return static_cast<size_t>(it - s.byName.begin());
}

NodeId Graph::findIn(const State& s, const std::string& name) {
  const size_t k = lowerBound(s, name);
  if (k == s.byName.size() || s.nodes[static_cast<size_t>(s.byName[k])]->name != name) return kNoNode;
  return s.byName[k];
}

OutputFacts Graph::computeFacts(const State& s, NodeId id) {
  const Node& n = *s.nodes[static_cast<size_t>(id)];
  const uint32_t b = s.inStart[static_cast<size_t>(id)], e = s.inStart[static_cast<size_t>(id) + 1];
  auto in = [&](uint32_t k) {
    return b + k < e ? s.facts[static_cast<size_t>(s.inIds[b + k])] : OutputFacts{};
  };
  OutputFacts out = in(0);
  switch (n.op) {
  case OpKind::Input:
    return OutputFacts{n.input.channels, false, 4};
  case OpKind::Conv2d:
    if (!n.conv.depthwise()) out = OutputFacts{n.conv.outChannels, false, in(0).rank};
    break;
  case OpKind::Linear:
    return OutputFacts{n.linear.outFeatures, false, 2};
  case OpKind::Mul:
    // A one-channel operand of a mul broadcasts over the other.
    if (in(0).channels == 1 && in(1).channels != 1)
      out = OutputFacts{in(1).channels, in(1).flattened, in(0).rank};
    break;
  case OpKind::Concat:
    out.channels = 0;
    for (uint32_t k = 0; b + k < e; ++k) out.channels += in(k).channels;
    break;
  case OpKind::Flatten:
    out.flattened = true;
    out.rank = 2;
    break;
  default:
    break;
  }
  return out;
}

Graph::Graph(std::vector<Node> nodes, std::string output) {
  auto s = std::make_shared<State>();
  s->pool = std::make_shared<Pool>();
  const size_t n = nodes.size();
  s->nodes.reserve(n);
  for (Node& node : nodes) {
    MHR_ASSERT(!node.name.empty(), "IR node without a name");
    s->nodes.push_back(s->pool->add(std::move(node)));
  }
  s->byName.resize(n);
  for (size_t i = 0; i < n; ++i) s->byName[i] = static_cast<NodeId>(i);
  std::sort(s->byName.begin(), s->byName.end(), [&](NodeId a, NodeId b) {
    return s->nodes[static_cast<size_t>(a)]->name < s->nodes[static_cast<size_t>(b)]->name;
  });
  for (size_t k = 1; k < n; ++k) {
    const std::string& a = s->nodes[static_cast<size_t>(s->byName[k - 1])]->name;
    MHR_ASSERT(a != s->nodes[static_cast<size_t>(s->byName[k])]->name,
               ("duplicate IR node name " + a).c_str());
  }
  s->inStart.assign(1, 0);
  std::vector<uint32_t> userCount(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const Node& node = *s->nodes[i];
    if (node.op == OpKind::Input) {
      MHR_ASSERT(s->input == kNoNode, "IR graph with two inputs");
      MHR_ASSERT(node.inputs.empty(), "IR input node with inputs");
      s->input = static_cast<NodeId>(i);
    }
    for (const std::string& in : node.inputs) {
      const NodeId id = findIn(*s, in);
      MHR_ASSERT(id != kNoNode && id < static_cast<NodeId>(i),
                 ("IR node " + node.name + " reads " + in + ", which is not an earlier node").c_str());
      s->inIds.push_back(id);
      ++userCount[static_cast<size_t>(id)];
    }
    s->inStart.push_back(static_cast<uint32_t>(s->inIds.size()));
  }
  s->facts.resize(n);
  for (size_t i = 0; i < n; ++i) s->facts[i] = computeFacts(*s, static_cast<NodeId>(i));
  // Users by a counting pass over the inputs, so every node's users stay in graph order.
  s->useStart.assign(n + 1, 0);
  for (size_t i = 0; i < n; ++i) s->useStart[i + 1] = s->useStart[i] + userCount[i];
  s->useIds.assign(s->inIds.size(), kNoNode);
  std::vector<uint32_t> fill(s->useStart.begin(), s->useStart.end() - 1);
  for (size_t i = 0; i < n; ++i)
    for (uint32_t k = s->inStart[i]; k < s->inStart[i + 1]; ++k)
      s->useIds[fill[static_cast<size_t>(s->inIds[k])]++] = static_cast<NodeId>(i);
  MHR_ASSERT(s->input != kNoNode, "IR graph without an input node");
  s->output = findIn(*s, output);
  MHR_ASSERT(s->output != kNoNode, ("IR graph output " + output + " is not a node").c_str());
  s_ = std::move(s);
}

// Work proportional to the changed nodes (times log n for name lookups), plus copies of the parent's index
// arrays that shift ids past the insertion point: no per-node hashing, string work or allocation.
Graph Graph::withChanges(NodeId insertAfter, std::vector<Node> block,
                         std::vector<std::pair<NodeId, Node>> replaced, const std::string& output) const {
  MHR_ASSERT(s_ != nullptr, "withChanges on an empty graph");
  const State& base = *s_;
  const NodeId n0 = static_cast<NodeId>(base.nodes.size());
  const NodeId k = static_cast<NodeId>(block.size());
  MHR_ASSERT(insertAfter == kNoNode || (insertAfter >= 0 && insertAfter < n0),
             "withChanges: insertion point out of range");
  MHR_ASSERT(k == 0 || insertAfter != kNoNode, "withChanges: a block needs an insertion point");
  const NodeId at = insertAfter == kNoNode ? n0 : insertAfter + 1; // first id of the block
  auto newId = [&](NodeId old) { return old >= at ? old + k : old; };
  auto oldId = [&](NodeId id) { return id >= at + k ? id - k : id; }; // for ids outside the block

  auto s = std::make_shared<State>();
  s->pool = base.pool;
  s->parent = s_;
  std::sort(replaced.begin(), replaced.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

  // Nodes: the parent's, the block spliced in, replaced ones swapped.
  s->nodes.reserve(static_cast<size_t>(n0 + k));
  s->nodes.insert(s->nodes.end(), base.nodes.begin(), base.nodes.begin() + at);
  for (Node& b : block) {
    MHR_ASSERT(!b.name.empty(), "IR node without a name");
    MHR_ASSERT(b.op != OpKind::Input, "withChanges cannot insert an input node");
    s->nodes.push_back(base.pool->add(std::move(b)));
  }
  s->nodes.insert(s->nodes.end(), base.nodes.begin() + at, base.nodes.end());
  for (size_t r = 0; r < replaced.size(); ++r) {
    auto& [id, node] = replaced[r];
    MHR_ASSERT(id >= 0 && id < n0, "withChanges: replaced node out of range");
    MHR_ASSERT(r == 0 || replaced[r - 1].first != id, "withChanges: a node replaced twice");
    MHR_ASSERT(node.name == base.nodes[static_cast<size_t>(id)]->name, "a replaced node must keep its name");
    MHR_ASSERT((node.op == OpKind::Input) == (id == base.input), "withChanges: the input node must stay one");
    s->nodes[static_cast<size_t>(newId(id))] = base.pool->add(std::move(node));
  }
  // Changed: the block and the replaced nodes, ascending.
  for (const auto& r : replaced)
    if (r.first < at) s->changed.push_back(r.first);
  for (NodeId j = 0; j < k; ++j) s->changed.push_back(at + j);
  for (const auto& r : replaced)
    if (r.first >= at) s->changed.push_back(r.first + k);
  auto changedAt = [&](NodeId id) { return std::binary_search(s->changed.begin(), s->changed.end(), id); };

  // Name index: the parent's, renumbered, with the block's names merged in at their places.
  std::vector<NodeId> added;
  for (NodeId j = 0; j < k; ++j) added.push_back(at + j);
  auto nameOf = [&](NodeId id) -> const std::string& { return s->nodes[static_cast<size_t>(id)]->name; };
  std::sort(added.begin(), added.end(), [&](NodeId a, NodeId b) { return nameOf(a) < nameOf(b); });
  std::vector<size_t> place; // where each added name goes in the parent's name order
  for (NodeId a : added) place.push_back(lowerBound(base, nameOf(a)));
  s->byName.reserve(base.byName.size() + added.size());
  size_t from = 0;
  for (size_t q = 0; q <= added.size(); ++q) {
    const size_t to = q < added.size() ? place[q] : base.byName.size();
    for (size_t t = from; t < to; ++t) s->byName.push_back(newId(base.byName[t]));
    from = to;
    if (q == added.size()) break;
    const std::string& name = nameOf(added[q]);
    const bool clash =
        (to < base.byName.size() && base.nodes[static_cast<size_t>(base.byName[to])]->name == name) ||
        (q > 0 && nameOf(added[q - 1]) == name);
    MHR_ASSERT(!clash, ("duplicate IR node name " + name).c_str());
    s->byName.push_back(added[q]);
  }

  // Inputs: a shared node reads what it read, renumbered; changed nodes are looked up by name.
  const NodeId n = n0 + k;
  s->inStart.reserve(static_cast<size_t>(n) + 1);
  s->inIds.reserve(base.inIds.size() + static_cast<size_t>(k) * 2);
  s->inStart.push_back(0);
  NodeId j = 0;
  for (size_t c = 0; c <= s->changed.size(); ++c) {
    const NodeId stop = c < s->changed.size() ? s->changed[c] : n;
    if (stop > j) { // a run of shared nodes; none of them is in the block
      copyRun(base.inStart, base.inIds, oldId(j), oldId(j) + (stop - j), s->inStart, s->inIds, newId);
      j = stop;
    }
    if (c == s->changed.size()) break;
    const Node& node = *s->nodes[static_cast<size_t>(j)];
    for (const std::string& in : node.inputs) {
      const NodeId id = findIn(*s, in);
      MHR_ASSERT(id != kNoNode && id < j,
                 ("IR node " + node.name + " reads " + in + ", which is not an earlier node").c_str());
      s->inIds.push_back(id);
    }
    s->inStart.push_back(static_cast<uint32_t>(s->inIds.size()));
    ++j;
  }

  // Users: only nodes a changed node reads now, or read before, have different lists (and the block, whose
  // lists are new); the others keep the parent's, renumbered.
  std::vector<NodeId> touched(s->changed);
  for (NodeId c : s->changed) {
    for (uint32_t q = s->inStart[static_cast<size_t>(c)]; q < s->inStart[static_cast<size_t>(c) + 1]; ++q)
      touched.push_back(s->inIds[q]);
    if (c >= at && c < at + k) continue;
    const NodeId o = oldId(c);
    for (uint32_t q = base.inStart[static_cast<size_t>(o)]; q < base.inStart[static_cast<size_t>(o) + 1]; ++q)
      touched.push_back(newId(base.inIds[q]));
  }
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  s->useStart.reserve(static_cast<size_t>(n) + 1);
  s->useIds.reserve(s->inIds.size());
  s->useStart.push_back(0);
  j = 0;
  for (size_t t = 0; t <= touched.size(); ++t) {
    const NodeId stop = t < touched.size() ? touched[t] : n;
    if (stop > j) {
      copyRun(base.useStart, base.useIds, oldId(j), oldId(j) + (stop - j), s->useStart, s->useIds, newId);
      j = stop;
    }
    if (t == touched.size()) break;
    // Its users: the parent's that are not changed (renumbered), and every changed node that reads it.
    std::vector<NodeId> users;
    if (!(j >= at && j < at + k)) {
      const NodeId o = oldId(j);
      for (uint32_t q = base.useStart[static_cast<size_t>(o)]; q < base.useStart[static_cast<size_t>(o) + 1];
           ++q)
        if (!changedAt(newId(base.useIds[q]))) users.push_back(newId(base.useIds[q]));
    }
    for (NodeId c : s->changed)
      for (uint32_t q = s->inStart[static_cast<size_t>(c)]; q < s->inStart[static_cast<size_t>(c) + 1]; ++q)
        if (s->inIds[q] == j) users.push_back(c);
    std::sort(users.begin(), users.end());
    s->useIds.insert(s->useIds.end(), users.begin(), users.end());
    s->useStart.push_back(static_cast<uint32_t>(s->useIds.size()));
    ++j;
  }

  // Facts: the parent's, spliced like the nodes; changed nodes computed, and any node downstream whose facts
  // then differ from the parent's (in id order, so inputs are final first).
  s->facts.reserve(static_cast<size_t>(n));
  s->facts.insert(s->facts.end(), base.facts.begin(), base.facts.begin() + at);
  s->facts.resize(static_cast<size_t>(at + k));
  s->facts.insert(s->facts.end(), base.facts.begin() + at, base.facts.end());
  std::set<NodeId> pending(s->changed.begin(), s->changed.end());
  while (!pending.empty()) {
    const NodeId id = *pending.begin();
    pending.erase(pending.begin());
    const OutputFacts f = computeFacts(*s, id);
    const bool isChanged = changedAt(id);
    if (!isChanged && f == s->facts[static_cast<size_t>(id)]) continue;
    s->facts[static_cast<size_t>(id)] = f;
    if (!isChanged) s->factsChanged.push_back(id);
    for (uint32_t q = s->useStart[static_cast<size_t>(id)]; q < s->useStart[static_cast<size_t>(id) + 1]; ++q)
      pending.insert(s->useIds[q]);
  }

  s->input = newId(base.input);
  s->output = findIn(*s, output);
  MHR_ASSERT(s->output != kNoNode, ("IR graph output " + output + " is not a node").c_str());
  Graph g;
  g.s_ = std::move(s);
  return g;
}

std::optional<Graph::Changes> Graph::changedSince(const Graph& parent) const {
  if (!s_ || !parent.s_ || s_->parent.lock() != parent.s_) return std::nullopt;
  return Changes{s_->changed, s_->factsChanged};
}

const OutputFacts& Graph::factsOf(NodeId id) const {
  MHR_ASSERT(id >= 0 && static_cast<size_t>(id) < size(), "IR node id out of range");
  return s_->facts[static_cast<size_t>(id)];
}

Graph::NodeRange Graph::nodes() const {
  static const std::vector<NodePtr> none;
  const std::vector<NodePtr>& v = s_ ? s_->nodes : none;
  return NodeRange{NodeIterator(v.begin()), NodeIterator(v.end())};
}

std::vector<Node> Graph::nodeList() const {
  std::vector<Node> out;
  out.reserve(size());
  for (const Node& n : nodes()) out.push_back(n);
  return out;
}

const Node& Graph::node(NodeId id) const {
  MHR_ASSERT(id >= 0 && static_cast<size_t>(id) < size(), "IR node id out of range");
  return *s_->nodes[static_cast<size_t>(id)];
}

NodeId Graph::find(const std::string& name) const {
  return s_ ? findIn(*s_, name) : kNoNode;
}

const Node* Graph::lookup(const std::string& name) const {
  NodeId id = find(name);
  return id == kNoNode ? nullptr : &node(id);
}

bool Graph::hasNamePrefix(const std::string& prefix) const {
  if (!s_) return false;
  const State& s = *s_;
  auto it =
      std::lower_bound(s.byName.begin(), s.byName.end(), prefix, [&](NodeId id, const std::string& key) {
        return s.nodes[static_cast<size_t>(id)]->name < key;
      });
  return it != s.byName.end() &&
         s.nodes[static_cast<size_t>(*it)]->name.compare(0, prefix.size(), prefix) == 0;
}

IdSpan Graph::inputsOf(NodeId id) const {
  MHR_ASSERT(id >= 0 && static_cast<size_t>(id) < size(), "IR node id out of range");
  const NodeId* base = s_->inIds.data();
  return IdSpan(base + s_->inStart[static_cast<size_t>(id)], base + s_->inStart[static_cast<size_t>(id) + 1]);
}

IdSpan Graph::usersOf(NodeId id) const {
  MHR_ASSERT(id >= 0 && static_cast<size_t>(id) < size(), "IR node id out of range");
  const NodeId* base = s_->useIds.data();
  return IdSpan(base + s_->useStart[static_cast<size_t>(id)],
                base + s_->useStart[static_cast<size_t>(id) + 1]);
}

bool Graph::operator==(const Graph& o) const {
  if (s_ == o.s_) return true;
  if (size() != o.size()) return false;
  for (size_t i = 0; i < size(); ++i) {
    const NodePtr a = s_->nodes[i];
    const NodePtr b = o.s_->nodes[i];
    if (a != b && !(*a == *b)) return false; // a node shared by both graphs is equal without a look
  }
  return empty() || outputName() == o.outputName();
}

// ---- builder ----

namespace {
Node makeNode(const std::string& name, OpKind op, std::vector<std::string> inputs) {
  Node n;
  n.name = name;
  n.op = op;
  n.inputs = std::move(inputs);
  return n;
}
} // namespace

std::string GraphBuilder::push(Node node) {
  std::string name = node.name;
  nodes_.push_back(std::move(node));
  return name;
}

std::string GraphBuilder::input(const std::string& name, int64_t channels) {
  Node n = makeNode(name, OpKind::Input, {});
  n.input.channels = channels;
  return push(std::move(n));
}

std::string GraphBuilder::conv(const std::string& name, const std::string& in, int64_t inChannels,
                               int64_t outChannels, int64_t kernel, int64_t stride, int64_t padding,
                               int64_t groups, bool bias, int64_t dilation) {
  Conv2dAttrs c;
  c.inChannels = inChannels;
  c.outChannels = outChannels;
  c.kernelH = c.kernelW = kernel;
  c.strideH = c.strideW = stride;
  c.padTop = c.padBottom = c.padLeft = c.padRight = padding;
  c.dilationH = c.dilationW = dilation;
  c.groups = groups;
  c.bias = bias;
  return conv(name, in, c);
}

std::string GraphBuilder::conv(const std::string& name, const std::string& in, const Conv2dAttrs& attrs) {
  Node n = makeNode(name, OpKind::Conv2d, {in});
  n.conv = attrs;
  return push(std::move(n));
}

std::string GraphBuilder::bn(const std::string& name, const std::string& in, int64_t features, double eps,
                             double momentum) {
  Node n = makeNode(name, OpKind::BatchNorm2d, {in});
  n.bn.numFeatures = features;
  n.bn.eps = eps;
  n.bn.momentum = momentum;
  return push(std::move(n));
}

std::string GraphBuilder::linear(const std::string& name, const std::string& in, int64_t inFeatures,
                                 int64_t outFeatures, bool bias) {
  Node n = makeNode(name, OpKind::Linear, {in});
  n.linear.inFeatures = inFeatures;
  n.linear.outFeatures = outFeatures;
  n.linear.bias = bias;
  return push(std::move(n));
}

std::string GraphBuilder::act(const std::string& name, const std::string& in, const Activation& a) {
  Node n = makeNode(name, OpKind::Activation, {in});
  n.act = a;
  return push(std::move(n));
}

std::string GraphBuilder::act(const std::string& name, const std::string& in, ActKind kind) {
  Activation a;
  a.kind = kind;
  return act(name, in, a);
}

std::string GraphBuilder::prelu(const std::string& name, const std::string& in, int64_t numParameters) {
  Node n = makeNode(name, OpKind::PRelu, {in});
  n.prelu.numParameters = numParameters;
  return push(std::move(n));
}

std::string GraphBuilder::paramAct(const std::string& name, const std::string& in, const Activation& inner,
                                   int64_t channels) {
  Node n = makeNode(name, OpKind::ParamActivation, {in});
  n.pact.inner = inner;
  n.pact.channels = channels;
  return push(std::move(n));
}

std::string GraphBuilder::maxPool(const std::string& name, const std::string& in, int64_t kernel,
                                  int64_t stride, int64_t padding, bool ceilMode) {
  Node n = makeNode(name, OpKind::MaxPool2d, {in});
  n.pool.kernelH = n.pool.kernelW = kernel;
  n.pool.strideH = n.pool.strideW = stride;
  n.pool.padH = n.pool.padW = padding;
  n.pool.ceilMode = ceilMode;
  return push(std::move(n));
}

std::string GraphBuilder::avgPool(const std::string& name, const std::string& in, int64_t kernel,
                                  int64_t stride, int64_t padding, bool ceilMode, bool countIncludePad) {
  Node n = makeNode(name, OpKind::AvgPool2d, {in});
  n.pool.kernelH = n.pool.kernelW = kernel;
  n.pool.strideH = n.pool.strideW = stride;
  n.pool.padH = n.pool.padW = padding;
  n.pool.ceilMode = ceilMode;
  n.pool.countIncludePad = countIncludePad;
  return push(std::move(n));
}

std::string GraphBuilder::adaptiveAvgPool(const std::string& name, const std::string& in, int64_t outH,
                                          int64_t outW) {
  Node n = makeNode(name, OpKind::AdaptiveAvgPool2d, {in});
  n.adaptive.outH = outH;
  n.adaptive.outW = outW;
  return push(std::move(n));
}

std::string GraphBuilder::add(const std::string& name, const std::string& a, const std::string& b) {
  return push(makeNode(name, OpKind::Add, {a, b}));
}

std::string GraphBuilder::mul(const std::string& name, const std::string& a, const std::string& b) {
  return push(makeNode(name, OpKind::Mul, {a, b}));
}

std::string GraphBuilder::concat(const std::string& name, const std::vector<std::string>& inputs) {
  return push(makeNode(name, OpKind::Concat, inputs));
}

std::string GraphBuilder::flatten(const std::string& name, const std::string& in) {
  return push(makeNode(name, OpKind::Flatten, {in}));
}

std::string GraphBuilder::dropout(const std::string& name, const std::string& in, double p) {
  Node n = makeNode(name, OpKind::Dropout, {in});
  n.dropout.p = p;
  return push(std::move(n));
}

std::string GraphBuilder::stochasticDepth(const std::string& name, const std::string& in, double p,
                                          StochasticDepthMode mode) {
  Node n = makeNode(name, OpKind::StochasticDepth, {in});
  n.sd.p = p;
  n.sd.mode = mode;
  return push(std::move(n));
}

Graph GraphBuilder::finish(const std::string& output) && {
  return Graph(std::move(nodes_), output);
}

} // namespace mhr::ir
