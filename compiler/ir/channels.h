// compiler/ir/channels.h — channel classes: which tensors must keep the same channel layout. In: a Graph.
// Out: for every node's output the list of channel *segments* it is made of, and the classes those segments
// fall into.
//
// A segment is a run of channels created by one producer (input, conv2d that is not depthwise, linear).
// Channel-wise ops (batch norm, activations, pools, dropout, depthwise conv, ...) pass segments through;
// concat lists its inputs' segments one after the other (so a segment can sit at different channel offsets in
// different tensors); flatten keeps them with each channel owning a block of H*W features. An add, or a mul
// whose operands both have more than one channel, TIES the segments at equal positions of its operands: they
// must be widened together with the same replication map. A class is a set of tied segments; its producers
// are the layers a widen statement must name together (`widen [conv1, layer1.0.conv2, layer1.1.conv2] to C`).
// A class is `misaligned` when an add/mul joins tensors whose segment boundaries differ; it cannot be
// widened.
#pragma once

#include "compiler/ir/graph.h"

#include <cstdint>
#include <vector>

namespace mhr::ir {

struct Segment {
  int32_t id = 0; // index into ChannelClasses::segmentProducer / segmentClass
  int64_t channels = 0;
};

struct ChannelLayout {
  std::vector<Segment> segments; // in channel order
  bool flattened = false;        // after flatten: channel c owns features [c*block, (c+1)*block)
  int64_t total() const;
};

struct ChannelClasses {
  std::vector<ChannelLayout> layout;   // per NodeId
  std::vector<NodeId> segmentProducer; // per segment id
  std::vector<int32_t> segmentClass;   // per segment id: class id, numbered in order of first producer
  std::vector<std::vector<NodeId>> classProducers; // per class, in graph order
  std::vector<bool> classMisaligned;               // per class
  std::vector<int64_t> classChannels;              // per class (the common channel count of its segments)

  // The class of the segment `producer` creates; -1 when the node creates none (channel-wise ops).
  int32_t classOfProducer(NodeId producer) const;
  size_t classCount() const { return classProducers.size(); }
};

ChannelClasses analyzeChannels(const Graph& graph);

// True for nodes that create a new channel segment.
bool isChannelProducer(const Node& node);

} // namespace mhr::ir
