#include "compiler/ir/channels.h"

#include "support/assert.h"

#include <numeric>

namespace mhr::ir {

int64_t ChannelLayout::total() const {
  int64_t t = 0;
  for (const Segment& s : segments) t += s.channels;
  return t;
}

bool isChannelProducer(const Node& n) {
  switch (n.op) {
  case OpKind::Input:
  case OpKind::Linear:
    return true;
  case OpKind::Conv2d:
    return !n.conv.depthwise();
  default:
    return false;
  }
}

namespace {

struct UnionFind {
  std::vector<int32_t> parent;
  int32_t make() {
    parent.push_back(static_cast<int32_t>(parent.size()));
    return parent.back();
  }
  int32_t find(int32_t x) {
    while (parent[static_cast<size_t>(x)] != x) {
      parent[static_cast<size_t>(x)] = parent[static_cast<size_t>(parent[static_cast<size_t>(x)])];
      x = parent[static_cast<size_t>(x)];
    }
    return x;
  }
  void unite(int32_t a, int32_t b) {
    a = find(a);
    b = find(b);
    if (a != b) parent[static_cast<size_t>(std::max(a, b))] = std::min(a, b);
  }
};

} // namespace

ChannelClasses analyzeChannels(const Graph& graph) {
  ChannelClasses cc;
  cc.layout.resize(graph.size());
  UnionFind uf;
  std::vector<int64_t> segChannels;
  std::vector<bool> rootMisaligned; // indexed by segment id, meaningful at roots after the pass

  auto newSegment = [&](NodeId producer, int64_t channels) {
    int32_t id = uf.make();
    cc.segmentProducer.push_back(producer);
    segChannels.push_back(channels);
    rootMisaligned.push_back(false);
    return Segment{id, channels};
  };
  // Ties the segments of two operand layouts position by position; marks everything misaligned when the
  // boundaries differ (the classes then cannot be widened consistently).
  auto tie = [&](const ChannelLayout& a, const ChannelLayout& b) {
    bool aligned = a.segments.size() == b.segments.size();
    for (size_t i = 0; aligned && i < a.segments.size(); ++i)
      aligned = a.segments[i].channels == b.segments[i].channels;
    if (aligned) {
      for (size_t i = 0; i < a.segments.size(); ++i) uf.unite(a.segments[i].id, b.segments[i].id);
      return;
    }
    std::vector<int32_t> all;
    for (const Segment& s : a.segments) all.push_back(s.id);
    for (const Segment& s : b.segments) all.push_back(s.id);
    for (size_t i = 1; i < all.size(); ++i) uf.unite(all[0], all[i]);
    rootMisaligned[static_cast<size_t>(all.empty() ? 0 : all[0])] = true;
    for (int32_t s : all) rootMisaligned[static_cast<size_t>(s)] = true;
  };

  for (NodeId id = 0; id < static_cast<NodeId>(graph.size()); ++id) {
    const Node& n = graph.node(id);
    const ir::IdSpan ins = graph.inputsOf(id);
    ChannelLayout out;
    switch (n.op) {
    case OpKind::Input:
      out.segments.push_back(newSegment(id, n.input.channels));
      break;
    case OpKind::Conv2d:
      if (n.conv.depthwise())
        out = cc.layout[static_cast<size_t>(ins[0])];
      else
        out.segments.push_back(newSegment(id, n.conv.outChannels));
      break;
    case OpKind::Linear:
      out.segments.push_back(newSegment(id, n.linear.outFeatures));
      break;
    case OpKind::Add:
    case OpKind::Mul: {
      const ChannelLayout& a = cc.layout[static_cast<size_t>(ins[0])];
      const ChannelLayout& b = cc.layout[static_cast<size_t>(ins[1])];
      // A one-channel operand of a mul broadcasts over all channels (a spatial gate): nothing to tie.
      if (n.op == OpKind::Mul && b.total() == 1 && a.total() != 1)
        out = a;
      else if (n.op == OpKind::Mul && a.total() == 1 && b.total() != 1)
        out = b;
      else {
        tie(a, b);
        out = a;
      }
      break;
    }
    case OpKind::Concat:
      for (NodeId in : ins)
        for (const Segment& s : cc.layout[static_cast<size_t>(in)].segments) out.segments.push_back(s);
      out.flattened = cc.layout[static_cast<size_t>(ins[0])].flattened;
      break;
    case OpKind::Flatten:
      out = cc.layout[static_cast<size_t>(ins[0])];
      out.flattened = true;
      break;
    default:
      out = cc.layout[static_cast<size_t>(ins[0])];
      break;
    }
    cc.layout[static_cast<size_t>(id)] = std::move(out);
  }

  // Number the classes in order of their first segment (= first producer in graph order).
  std::vector<int32_t> classOfRoot(uf.parent.size(), -1);
  cc.segmentClass.resize(uf.parent.size());
  for (size_t s = 0; s < uf.parent.size(); ++s) {
    int32_t root = uf.find(static_cast<int32_t>(s));
    if (classOfRoot[static_cast<size_t>(root)] < 0) {
      classOfRoot[static_cast<size_t>(root)] = static_cast<int32_t>(cc.classProducers.size());
      cc.classProducers.emplace_back();
      cc.classMisaligned.push_back(false);
      cc.classChannels.push_back(segChannels[s]);
    }
    const int32_t cls = classOfRoot[static_cast<size_t>(root)];
    cc.segmentClass[s] = cls;
    cc.classProducers[static_cast<size_t>(cls)].push_back(cc.segmentProducer[s]);
    if (rootMisaligned[s]) cc.classMisaligned[static_cast<size_t>(cls)] = true;
  }
  return cc;
}

int32_t ChannelClasses::classOfProducer(NodeId producer) const {
  for (size_t s = 0; s < segmentProducer.size(); ++s)
    if (segmentProducer[s] == producer) return segmentClass[s];
  return -1;
}

} // namespace mhr::ir
