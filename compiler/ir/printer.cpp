#include "compiler/ir/printer.h"

#include "compiler/ir/channels.h"
#include "support/strings.h"

#include <fmt/format.h>

namespace mhr::ir {

namespace {

std::string num(double v) {
  return support::formatNumber(v);
}
std::string pair(int64_t a, int64_t b) {
  return fmt::format("{}x{}", a, b);
}

std::string attrs(const Node& n) {
  std::vector<std::string> a;
  switch (n.op) {
  case OpKind::Input:
    a.push_back(fmt::format("channels: {}", n.input.channels));
    break;
  case OpKind::Conv2d: {
    const Conv2dAttrs& c = n.conv;
    a.push_back(fmt::format("in: {}", c.inChannels));
    a.push_back(fmt::format("out: {}", c.outChannels));
    a.push_back("kernel: " + pair(c.kernelH, c.kernelW));
    a.push_back("stride: " + pair(c.strideH, c.strideW));
    if (c.symmetricPadding())
      a.push_back("padding: " + pair(c.padTop, c.padLeft));
    else
      a.push_back(fmt::format("padding: [{}, {}, {}, {}]", c.padTop, c.padBottom, c.padLeft, c.padRight));
    if (c.dilationH != 1 || c.dilationW != 1) a.push_back("dilation: " + pair(c.dilationH, c.dilationW));
    if (c.groups != 1) a.push_back(fmt::format("groups: {}", c.groups));
    a.push_back(c.bias ? "bias: true" : "bias: false");
    if (c.padMode != PadMode::Zeros) a.push_back(std::string("padding_mode: ") + padModeName(c.padMode));
    break;
  }
  case OpKind::BatchNorm2d:
    a.push_back(fmt::format("features: {}", n.bn.numFeatures));
    a.push_back("eps: " + num(n.bn.eps));
    a.push_back("momentum: " + num(n.bn.momentum));
    if (!n.bn.affine) a.push_back("affine: false");
    if (!n.bn.trackRunningStats) a.push_back("track_running_stats: false");
    break;
  case OpKind::Linear:
    a.push_back(fmt::format("in: {}", n.linear.inFeatures));
    a.push_back(fmt::format("out: {}", n.linear.outFeatures));
    a.push_back(n.linear.bias ? "bias: true" : "bias: false");
    break;
  case OpKind::Activation:
  case OpKind::ParamActivation: {
    const Activation& act = n.op == OpKind::Activation ? n.act : n.pact.inner;
    if (act.kind == ActKind::LeakyRelu) a.push_back("slope: " + num(act.slope));
    if (act.kind == ActKind::Hardtanh) {
      a.push_back("min: " + num(act.minValue));
      a.push_back("max: " + num(act.maxValue));
    }
    if (act.kind == ActKind::Gelu && act.tanhApprox) a.push_back("approximate: tanh");
    if (n.op == OpKind::ParamActivation) a.push_back(fmt::format("channels: {}", n.pact.channels));
    break;
  }
  case OpKind::PRelu:
    a.push_back(fmt::format("num_parameters: {}", n.prelu.numParameters));
    break;
  case OpKind::MaxPool2d:
  case OpKind::AvgPool2d: {
    const Pool2dAttrs& p = n.pool;
    a.push_back("kernel: " + pair(p.kernelH, p.kernelW));
    a.push_back("stride: " + pair(p.strideH, p.strideW));
    a.push_back("padding: " + pair(p.padH, p.padW));
    if (n.op == OpKind::MaxPool2d && (p.dilationH != 1 || p.dilationW != 1))
      a.push_back("dilation: " + pair(p.dilationH, p.dilationW));
    if (p.ceilMode) a.push_back("ceil_mode: true");
    if (n.op == OpKind::AvgPool2d && !p.countIncludePad) a.push_back("count_include_pad: false");
    break;
  }
  case OpKind::AdaptiveAvgPool2d:
  case OpKind::AdaptiveMaxPool2d:
    a.push_back("output: " + pair(n.adaptive.outH, n.adaptive.outW));
    break;
  case OpKind::Dropout:
    a.push_back("p: " + num(n.dropout.p));
    break;
  case OpKind::StochasticDepth:
    a.push_back("p: " + num(n.sd.p));
    a.push_back(n.sd.mode == StochasticDepthMode::Row ? "mode: row" : "mode: batch");
    break;
  case OpKind::Add:
  case OpKind::Mul:
  case OpKind::Concat:
  case OpKind::Flatten:
    break;
  }
  if (a.empty()) return "";
  return " {" + support::join(a, ", ") + "}";
}

std::string head(const Node& n) {
  if (n.op == OpKind::Activation) return actName(n.act.kind);
  if (n.op == OpKind::ParamActivation) return std::string("p(") + actName(n.pact.inner.kind) + ")";
  return opName(n.op);
}

} // namespace

std::string printNode(const Node& n) {
  std::vector<std::string> ins;
  for (const std::string& in : n.inputs) ins.push_back("%" + in);
  std::string s = head(n);
  if (n.op != OpKind::Input) s += "(" + support::join(ins, ", ") + ")";
  return s + attrs(n);
}

std::string printGraph(const Graph& graph, const PrintOptions& o) {
  std::string out;
  for (NodeId id = 0; id < static_cast<NodeId>(graph.size()); ++id) {
    const Node& n = graph.node(id);
    out += o.indent + "%" + n.name + " = " + printNode(n);
    if (o.shapes && static_cast<size_t>(id) < o.shapes->size())
      out += " : " + (*o.shapes)[static_cast<size_t>(id)].str();
    if (o.sources && n.origin.valid() && n.origin.file >= 0 &&
        static_cast<size_t>(n.origin.file) < o.sources->fileCount()) {
      diag::LineColumn lc = o.sources->file(n.origin.file).lineColumn(n.origin.begin);
      out += fmt::format("  @ {}:{}", lc.line, lc.column);
    }
    out += "\n";
  }
  out += o.indent + "return %" + graph.outputName() + "\n";
  if (o.channelClasses) {
    ChannelClasses cc = analyzeChannels(graph);
    bool any = false;
    for (size_t c = 0; c < cc.classCount(); ++c) {
      if (cc.classProducers[c].size() < 2) continue;
      if (!any) out += o.indent + "# tied channel classes (widen them together):\n";
      any = true;
      std::vector<std::string> names;
      for (NodeId p : cc.classProducers[c]) names.push_back(graph.node(p).name);
      out += o.indent + "#   [" + support::join(names, ", ") +
             fmt::format("]: {} channels", cc.classChannels[c]);
      if (cc.classMisaligned[c]) out += " (misaligned)";
      out += "\n";
    }
  }
  return out;
}

} // namespace mhr::ir
