#include "compiler/ir/graph.h"

#include "support/assert.h"

#include <utility>

namespace mhr::ir {

Graph::Graph(std::vector<Node> nodes, std::string output) : nodes_(std::move(nodes)) {
  inputIds_.resize(nodes_.size());
  userIds_.resize(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    MHR_ASSERT(!n.name.empty(), "IR node without a name");
    const bool fresh = index_.emplace(n.name, static_cast<NodeId>(i)).second;
    MHR_ASSERT(fresh, ("duplicate IR node name " + n.name).c_str());
    if (n.op == OpKind::Input) {
      MHR_ASSERT(input_ == kNoNode, "IR graph with two inputs");
      MHR_ASSERT(n.inputs.empty(), "IR input node with inputs");
      input_ = static_cast<NodeId>(i);
    }
    for (const std::string& in : n.inputs) {
      auto it = index_.find(in);
      MHR_ASSERT(it != index_.end() && it->second < static_cast<NodeId>(i),
                 ("IR node " + n.name + " reads " + in + ", which is not an earlier node").c_str());
      inputIds_[i].push_back(it->second);
      userIds_[static_cast<size_t>(it->second)].push_back(static_cast<NodeId>(i));
    }
  }
  MHR_ASSERT(input_ != kNoNode, "IR graph without an input node");
  auto it = index_.find(output);
  MHR_ASSERT(it != index_.end(), ("IR graph output " + output + " is not a node").c_str());
  output_ = it->second;
}

const Node& Graph::node(NodeId id) const {
  MHR_ASSERT(id >= 0 && static_cast<size_t>(id) < nodes_.size(), "IR node id out of range");
  return nodes_[static_cast<size_t>(id)];
}

NodeId Graph::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? kNoNode : it->second;
}

const Node* Graph::lookup(const std::string& name) const {
  NodeId id = find(name);
  return id == kNoNode ? nullptr : &nodes_[static_cast<size_t>(id)];
}

bool Graph::operator==(const Graph& o) const {
  return nodes_ == o.nodes_ && (nodes_.empty() || outputName() == o.outputName());
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
