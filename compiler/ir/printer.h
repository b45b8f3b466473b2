// compiler/ir/printer.h — the deterministic text form of a Graph (`mhr emit ir`, golden tests). In: a Graph
// and optional extras (shapes at one resolution, the source manager to show where morph-made nodes came from,
// the channel classes). Out: text with no pointers or addresses; nodes in graph order, one per line:
//   %layer1.0.conv1 = conv2d(%maxpool) {in: 16, out: 16, kernel: 3x3, stride: 1x1, padding: 1x1, bias: false}
// Default-valued attributes that rarely change (dilation 1, groups 1, zeros padding) are left out.
#pragma once

#include "compiler/diag/source.h"
#include "compiler/ir/graph.h"
#include "compiler/ir/shapes.h"

#include <string>
#include <vector>

namespace mhr::ir {

struct PrintOptions {
  const std::vector<TensorShape>* shapes = nullptr; // appended as `: [N, C, H, W]`
  const diag::SourceManager* sources = nullptr;     // nodes with an origin get `  @ line:col`
  bool channelClasses = false;                      // footer listing classes with more than one producer
  std::string indent = "  ";
};

std::string printGraph(const Graph& graph, const PrintOptions& options = {});
// One node's right-hand side, e.g. `conv2d(%x) {in: 3, ...}` (used in diagnostics and the verdict table).
std::string printNode(const Node& node);

} // namespace mhr::ir
