#include "compiler/cost/cost_model.h"

#include "compiler/ir/params.h"
#include "support/assert.h"

#include <algorithm>
#include <set>

namespace mhr::cost {

int64_t activationElementBytes(Precision p) {
  return p == Precision::Fp32 ? 4 : 2;
}

namespace {

// What autograd saves for a node (see the header's memory model).
void savedTensors(const ir::Graph& g, ir::NodeId id, const std::vector<ir::TensorShape>& shapes,
                  NodeCost& c) {
  const ir::Node& n = g.node(id);
  const ir::IdSpan ins = g.inputsOf(id);
  auto input = [&]() { c.savedOutputs.push_back(ins[0]); };
  switch (n.op) {
  case ir::OpKind::Input:
  case ir::OpKind::Add:
  case ir::OpKind::Concat:
  case ir::OpKind::Flatten:
    break;
  case ir::OpKind::Conv2d:
  case ir::OpKind::Linear:
  case ir::OpKind::BatchNorm2d:
  case ir::OpKind::PRelu:
  case ir::OpKind::ParamActivation:
  case ir::OpKind::AvgPool2d:
  case ir::OpKind::AdaptiveAvgPool2d:
  case ir::OpKind::StochasticDepth:
    input();
    break; // stochastic depth is input * noise
  case ir::OpKind::Activation:
    switch (n.act.kind) {
    case ir::ActKind::Identity:
      break;
    case ir::ActKind::Relu:
    case ir::ActKind::Sigmoid:
    case ir::ActKind::Tanh:
      c.savedOutputs.push_back(id);
      break;
    default:
      input();
      break;
    }
    break;
  case ir::OpKind::MaxPool2d:
  case ir::OpKind::AdaptiveMaxPool2d:
    input();
    c.extraBytesPerImage += 8 * shapes[static_cast<size_t>(id)].numel(); // int64 indices
    break;
  case ir::OpKind::Mul:
    c.savedOutputs.push_back(ins[0]);
    c.savedOutputs.push_back(ins[1]);
    break;
  case ir::OpKind::Dropout:
    c.extraBytesPerImage += shapes[static_cast<size_t>(id)].numel();
    break; // bool mask
  }
}

} // namespace

std::optional<NetworkCost> analyze(const ir::Graph& g, int64_t height, int64_t width, std::string* error) {
  ir::ShapeResult r = ir::inferShapes(g, 1, height, width);
  if (!r.ok()) {
    if (error) *error = r.error->message;
    return std::nullopt;
  }
  NetworkCost cost;
  cost.height = height;
  cost.width = width;
  cost.parameters = ir::parameterCount(g);
  cost.shapes = std::move(r.shapes);
  cost.nodes.resize(g.size());
  for (ir::NodeId id = 0; id < static_cast<ir::NodeId>(g.size()); ++id) {
    const ir::Node& n = g.node(id);
    NodeCost& c = cost.nodes[static_cast<size_t>(id)];
    const ir::TensorShape& out = cost.shapes[static_cast<size_t>(id)];
    c.outputElements = out.numel();
    if (n.op == ir::OpKind::Conv2d)
      c.macs = out.numel() * (n.conv.inChannels / n.conv.groups) * n.conv.kernelH * n.conv.kernelW;
    else if (n.op == ir::OpKind::Linear)
      c.macs = n.linear.inFeatures * n.linear.outFeatures;
    savedTensors(g, id, cost.shapes, c);
    cost.macs += c.macs;
  }
  return cost;
}

MemoryEstimate trainingMemory(const ir::Graph& g, const NetworkCost& cost, const TrainingSetup& s) {
  MemoryEstimate m;
  const int64_t eb = activationElementBytes(s.precision);
  const size_t n = g.size();
  m.parameterBytes = 4 * cost.parameters;
  m.gradientBytes = 4 * cost.parameters;
  const int64_t states = s.optimizer == plan::OptimizerKind::Sgd ? (s.momentum ? 1 : 0) : 2;
  m.optimizerBytes = states * 4 * cost.parameters;
  const int64_t inputElements = cost.shapes[static_cast<size_t>(g.inputId())].numel();
  m.inputBytes = 4 * s.batch * inputElements;

  std::vector<int> segmentOf(n, -1);
  for (size_t k = 0; k < s.segments.size(); ++k) {
    MHR_ASSERT(s.segments[k].first <= s.segments[k].last, "empty checkpoint segment");
    for (ir::NodeId id = s.segments[k].first; id <= s.segments[k].last; ++id)
      segmentOf[static_cast<size_t>(id)] = static_cast<int>(k);
  }
  // Bytes per image of a kept tensor; the fp32 input itself is already counted (its autocast copy is not).
  auto tensorBytes = [&](ir::NodeId t) {
    if (g.node(t).op == ir::OpKind::Input)
      return s.precision == Precision::Fp32 ? int64_t{0} : eb * inputElements;
    return eb * cost.shapes[static_cast<size_t>(t)].numel();
  };

  // For every kept tensor the first node (in graph order) that saved it: it is freed once that node's
  // backward ran. Recomputed tensors (saved inside a checkpointed segment) are tracked per segment.
  const ir::NodeId none = static_cast<ir::NodeId>(n);
  std::vector<ir::NodeId> storedBy(n, none), recomputedBy(n, none);
  std::vector<int64_t> storedExtra(n, 0), recomputedExtra(n, 0); // fixed-width bytes per saving node
  for (ir::NodeId id = 0; id < static_cast<ir::NodeId>(n); ++id) {
    const NodeCost& c = cost.nodes[static_cast<size_t>(id)];
    const int seg = segmentOf[static_cast<size_t>(id)];
    if (seg < 0) {
      for (ir::NodeId t : c.savedOutputs)
        storedBy[static_cast<size_t>(t)] = std::min(storedBy[static_cast<size_t>(t)], id);
      storedExtra[static_cast<size_t>(id)] = c.extraBytesPerImage;
      continue;
    }
    for (ir::NodeId in : g.inputsOf(id)) // a segment's inputs are kept through the forward pass
      if (segmentOf[static_cast<size_t>(in)] != seg)
        storedBy[static_cast<size_t>(in)] = std::min(storedBy[static_cast<size_t>(in)], id);
    for (ir::NodeId t : c.savedOutputs)
      if (segmentOf[static_cast<size_t>(t)] == seg)
        recomputedBy[static_cast<size_t>(t)] = std::min(recomputedBy[static_cast<size_t>(t)], id);
    recomputedExtra[static_cast<size_t>(id)] = c.extraBytesPerImage;
  }
  std::vector<ir::NodeId> lastUse(n);
  for (ir::NodeId id = 0; id < static_cast<ir::NodeId>(n); ++id) {
    lastUse[static_cast<size_t>(id)] = id;
    for (ir::NodeId u : g.usersOf(id))
      lastUse[static_cast<size_t>(id)] = std::max(lastUse[static_cast<size_t>(id)], u);
  }

  // Walk the backward pass from the last node to the first. Sweep sums are kept incrementally: a stored
  // tensor stays alive while its first saver is pending (first saver <= i); an activation gradient for tensor
  // t is alive for t <= i <= lastUse(t).
  int64_t storedAlive = 0;
  for (ir::NodeId t = 0; t < static_cast<ir::NodeId>(n); ++t) {
    if (storedBy[static_cast<size_t>(t)] != none) storedAlive += tensorBytes(t);
    storedAlive += storedExtra[static_cast<size_t>(t)];
  }
  m.savedBytes = s.batch * storedAlive;
  std::vector<std::vector<ir::NodeId>> freedAfter(n), gradStarts(n);
  for (ir::NodeId t = 0; t < static_cast<ir::NodeId>(n); ++t) {
    if (storedBy[static_cast<size_t>(t)] != none)
      freedAfter[static_cast<size_t>(storedBy[static_cast<size_t>(t)])].push_back(t);
    if (g.node(t).op != ir::OpKind::Input)
      gradStarts[static_cast<size_t>(lastUse[static_cast<size_t>(t)])].push_back(t);
  }
  int64_t grads = 0;
  int64_t peak = -1;
  for (ir::NodeId i = static_cast<ir::NodeId>(n) - 1; i >= 0; --i) {
    for (ir::NodeId t : gradStarts[static_cast<size_t>(i)])
      grads += eb * cost.shapes[static_cast<size_t>(t)].numel();
    int64_t recompute = 0;
    if (const int seg = segmentOf[static_cast<size_t>(i)]; seg >= 0) {
      // The segment's forward was rerun when its backward started; its tensors die with their first saver.
      for (ir::NodeId t = s.segments[static_cast<size_t>(seg)].first;
           t <= s.segments[static_cast<size_t>(seg)].last; ++t) {
        if (recomputedBy[static_cast<size_t>(t)] <= i) recompute += tensorBytes(t);
        if (t <= i) recompute += recomputedExtra[static_cast<size_t>(t)];
      }
    }
    const int64_t total = storedAlive + recompute + grads;
    if (total > peak) {
      peak = total;
      m.activationBytes = s.batch * storedAlive;
      m.recomputeBytes = s.batch * recompute;
      m.activationGradBytes = s.batch * grads;
      m.peakNode = i;
    }
    // Node i's backward is done: its gradient dies, and what it was the first to save is freed.
    if (g.node(i).op != ir::OpKind::Input) grads -= eb * cost.shapes[static_cast<size_t>(i)].numel();
    for (ir::NodeId t : freedAfter[static_cast<size_t>(i)]) storedAlive -= tensorBytes(t);
    storedAlive -= storedExtra[static_cast<size_t>(i)];
  }
  return m;
}

} // namespace mhr::cost
