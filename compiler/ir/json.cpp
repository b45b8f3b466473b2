#include "compiler/ir/json.h"

#include "compiler/ir/verifier.h"
#include "support/error.h"

#include <nlohmann/json.hpp>

#include <set>
#include <unordered_set>

namespace mhr::ir {
namespace {

using nlohmann::json;

json pair(int64_t a, int64_t b) {
  return json::array({a, b});
}

json activationJson(const Activation& a) {
  json j = {{"kind", actName(a.kind)}};
  if (a.kind == ActKind::LeakyRelu) j["slope"] = a.slope;
  if (a.kind == ActKind::Hardtanh) {
    j["min"] = a.minValue;
    j["max"] = a.maxValue;
  }
  if (a.kind == ActKind::Gelu) j["tanh_approx"] = a.tanhApprox;
  return j;
}

json nodeJson(const Node& n) {
  json j = {{"name", n.name}, {"op", opName(n.op)}, {"inputs", n.inputs}};
  switch (n.op) {
  case OpKind::Input:
    j["channels"] = n.input.channels;
    break;
  case OpKind::Conv2d: {
    const Conv2dAttrs& c = n.conv;
    j["in_channels"] = c.inChannels;
    j["out_channels"] = c.outChannels;
    j["kernel"] = pair(c.kernelH, c.kernelW);
    j["stride"] = pair(c.strideH, c.strideW);
    j["dilation"] = pair(c.dilationH, c.dilationW);
    j["padding"] = json::array({c.padTop, c.padBottom, c.padLeft, c.padRight}); // top, bottom, left, right
    j["pad_mode"] = padModeName(c.padMode);
    j["groups"] = c.groups;
    j["bias"] = c.bias;
    break;
  }
  case OpKind::BatchNorm2d:
    j["num_features"] = n.bn.numFeatures;
    j["eps"] = n.bn.eps;
    j["momentum"] = n.bn.momentum;
    j["affine"] = n.bn.affine;
    j["track_running_stats"] = n.bn.trackRunningStats;
    break;
  case OpKind::Linear:
    j["in_features"] = n.linear.inFeatures;
    j["out_features"] = n.linear.outFeatures;
    j["bias"] = n.linear.bias;
    break;
  case OpKind::Activation:
    j["activation"] = activationJson(n.act);
    break;
  case OpKind::PRelu:
    j["num_parameters"] = n.prelu.numParameters;
    break;
  case OpKind::ParamActivation:
    j["activation"] = activationJson(n.pact.inner);
    j["channels"] = n.pact.channels;
    break;
  case OpKind::MaxPool2d:
  case OpKind::AvgPool2d:
    j["kernel"] = pair(n.pool.kernelH, n.pool.kernelW);
    j["stride"] = pair(n.pool.strideH, n.pool.strideW);
    j["padding"] = pair(n.pool.padH, n.pool.padW);
    if (n.op == OpKind::MaxPool2d) j["dilation"] = pair(n.pool.dilationH, n.pool.dilationW);
    j["ceil_mode"] = n.pool.ceilMode;
    if (n.op == OpKind::AvgPool2d) j["count_include_pad"] = n.pool.countIncludePad;
    break;
  case OpKind::AdaptiveAvgPool2d:
  case OpKind::AdaptiveMaxPool2d:
    j["output"] = pair(n.adaptive.outH, n.adaptive.outW);
    break;
  case OpKind::Dropout:
    j["p"] = n.dropout.p;
    break;
  case OpKind::StochasticDepth:
    j["p"] = n.sd.p;
    j["mode"] = n.sd.mode == StochasticDepthMode::Row ? "row" : "batch";
    break;
  case OpKind::Add:
  case OpKind::Mul:
  case OpKind::Concat:
  case OpKind::Flatten:
    break;
  }
  return j;
}

// Field access with messages that name the node and the field.
class Reader {
public:
  Reader(const json& j, std::string where) : j_(j), where_(std::move(where)) {}

  const json& field(const std::string& key) const {
    if (!j_.is_object() || !j_.contains(key)) throw UserError(where_ + ": missing field '" + key + "'");
    return j_.at(key);
  }
  int64_t integer(const std::string& key) const {
    const json& v = field(key);
    if (!v.is_number_integer()) throw UserError(where_ + ": field '" + key + "' is not an integer");
    return v.get<int64_t>();
  }
  double number(const std::string& key) const {
    const json& v = field(key);
    if (!v.is_number()) throw UserError(where_ + ": field '" + key + "' is not a number");
    return v.get<double>();
  }
  bool boolean(const std::string& key) const {
    const json& v = field(key);
    if (!v.is_boolean()) throw UserError(where_ + ": field '" + key + "' is not true or false");
    return v.get<bool>();
  }
  std::string text(const std::string& key) const {
    const json& v = field(key);
    if (!v.is_string()) throw UserError(where_ + ": field '" + key + "' is not a string");
    return v.get<std::string>();
  }
  std::vector<int64_t> integers(const std::string& key, size_t count) const {
    const json& v = field(key);
    if (!v.is_array() || v.size() != count)
      throw UserError(where_ + ": field '" + key + "' is not a list of " + std::to_string(count) +
                      " integers");
    std::vector<int64_t> out;
    for (const json& e : v) {
      if (!e.is_number_integer())
        throw UserError(where_ + ": field '" + key + "' is not a list of " + std::to_string(count) +
                        " integers");
      out.push_back(e.get<int64_t>());
    }
    return out;
  }
  const std::string& where() const { return where_; }

private:
  const json& j_;
  std::string where_;
};

OpKind parseOp(const std::string& name, const std::string& where) {
  static const OpKind all[] = {OpKind::Input,
                               OpKind::Conv2d,
                               OpKind::BatchNorm2d,
                               OpKind::Linear,
                               OpKind::Activation,
                               OpKind::PRelu,
                               OpKind::ParamActivation,
                               OpKind::MaxPool2d,
                               OpKind::AvgPool2d,
                               OpKind::AdaptiveAvgPool2d,
                               OpKind::AdaptiveMaxPool2d,
                               OpKind::Add,
                               OpKind::Mul,
                               OpKind::Concat,
                               OpKind::Flatten,
                               OpKind::Dropout,
                               OpKind::StochasticDepth};
  for (OpKind k : all)
    if (name == opName(k)) return k;
  throw UserError(where + ": unknown op '" + name + "'");
}

Activation parseActivation(const json& j, const std::string& where) {
  Reader r(j, where + ": activation");
  const std::string kind = r.text("kind");
  static const ActKind all[] = {ActKind::Identity,  ActKind::Relu,     ActKind::Relu6,
                                ActKind::LeakyRelu, ActKind::Hardtanh, ActKind::Gelu,
                                ActKind::Silu,      ActKind::Sigmoid,  ActKind::Tanh};
  Activation a;
  bool known = false;
  for (ActKind k : all)
    if (kind == actName(k)) {
      a.kind = k;
      known = true;
    }
  if (!known) throw UserError(r.where() + ": unknown activation '" + kind + "'");
  if (a.kind == ActKind::LeakyRelu) a.slope = r.number("slope");
  if (a.kind == ActKind::Hardtanh) {
    a.minValue = r.number("min");
    a.maxValue = r.number("max");
  }
  if (a.kind == ActKind::Gelu) a.tanhApprox = r.boolean("tanh_approx");
  return a;
}

PadMode parsePadMode(const std::string& name, const std::string& where) {
  for (PadMode m : {PadMode::Zeros, PadMode::Reflect, PadMode::Replicate, PadMode::Circular})
    if (name == padModeName(m)) return m;
  throw UserError(where + ": unknown pad_mode '" + name + "'");
}

Node parseNode(const json& j, const std::string& where) {
  if (!j.is_object()) throw UserError(where + " is not an object");
  Node n;
  {
    Reader head(j, where);
    n.name = head.text("name");
    if (n.name.empty()) throw UserError(where + ": empty node name");
  }
  Reader r(j, where + " ('" + n.name + "')");
  n.op = parseOp(r.text("op"), r.where());
  const json& inputs = r.field("inputs");
  if (!inputs.is_array()) throw UserError(r.where() + ": field 'inputs' is not a list of node names");
  for (const json& in : inputs) {
    if (!in.is_string()) throw UserError(r.where() + ": field 'inputs' is not a list of node names");
    n.inputs.push_back(in.get<std::string>());
  }
  switch (n.op) {
  case OpKind::Input:
    n.input.channels = r.integer("channels");
    break;
  case OpKind::Conv2d: {
    Conv2dAttrs& c = n.conv;
    c.inChannels = r.integer("in_channels");
    c.outChannels = r.integer("out_channels");
    auto k = r.integers("kernel", 2), s = r.integers("stride", 2), d = r.integers("dilation", 2);
    auto p = r.integers("padding", 4);
    c.kernelH = k[0], c.kernelW = k[1], c.strideH = s[0], c.strideW = s[1];
    c.dilationH = d[0], c.dilationW = d[1];
    c.padTop = p[0], c.padBottom = p[1], c.padLeft = p[2], c.padRight = p[3];
    c.padMode = parsePadMode(r.text("pad_mode"), r.where());
    c.groups = r.integer("groups");
    c.bias = r.boolean("bias");
    break;
  }
  case OpKind::BatchNorm2d:
    n.bn.numFeatures = r.integer("num_features");
    n.bn.eps = r.number("eps");
    n.bn.momentum = r.number("momentum");
    n.bn.affine = r.boolean("affine");
    n.bn.trackRunningStats = r.boolean("track_running_stats");
    break;
  case OpKind::Linear:
    n.linear.inFeatures = r.integer("in_features");
    n.linear.outFeatures = r.integer("out_features");
    n.linear.bias = r.boolean("bias");
    break;
  case OpKind::Activation:
    n.act = parseActivation(r.field("activation"), r.where());
    break;
  case OpKind::PRelu:
    n.prelu.numParameters = r.integer("num_parameters");
    break;
  case OpKind::ParamActivation:
    n.pact.inner = parseActivation(r.field("activation"), r.where());
    n.pact.channels = r.integer("channels");
    break;
  case OpKind::MaxPool2d:
  case OpKind::AvgPool2d: {
    auto k = r.integers("kernel", 2), s = r.integers("stride", 2), p = r.integers("padding", 2);
    n.pool.kernelH = k[0], n.pool.kernelW = k[1], n.pool.strideH = s[0], n.pool.strideW = s[1];
    n.pool.padH = p[0], n.pool.padW = p[1];
    if (n.op == OpKind::MaxPool2d) {
      auto d = r.integers("dilation", 2);
      n.pool.dilationH = d[0], n.pool.dilationW = d[1];
    }
    n.pool.ceilMode = r.boolean("ceil_mode");
    if (n.op == OpKind::AvgPool2d) n.pool.countIncludePad = r.boolean("count_include_pad");
    break;
  }
  case OpKind::AdaptiveAvgPool2d:
  case OpKind::AdaptiveMaxPool2d: {
    auto o = r.integers("output", 2);
    n.adaptive.outH = o[0], n.adaptive.outW = o[1];
    break;
  }
  case OpKind::Dropout:
    n.dropout.p = r.number("p");
    break;
  case OpKind::StochasticDepth: {
    n.sd.p = r.number("p");
    const std::string mode = r.text("mode");
    if (mode != "row" && mode != "batch") throw UserError(r.where() + ": mode is not 'row' or 'batch'");
    n.sd.mode = mode == "row" ? StochasticDepthMode::Row : StochasticDepthMode::Batch;
    break;
  }
  case OpKind::Add:
  case OpKind::Mul:
  case OpKind::Concat:
  case OpKind::Flatten:
    break;
  }
  return n;
}

} // namespace

std::string graphToJson(const Graph& graph) {
  json nodes = json::array();
  for (const Node& n : graph.nodes()) nodes.push_back(nodeJson(n));
  json j = {{"format", kGraphJsonFormat}, {"output", graph.outputName()}, {"nodes", std::move(nodes)}};
  return j.dump(1);
}

Graph graphFromJson(const std::string& text, const std::string& where) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw UserError(where + ": not valid JSON: " + e.what());
  }
  Reader top(j, where);
  const int64_t format = top.integer("format");
  if (format != kGraphJsonFormat)
    throw UserError(where + ": graph format " + std::to_string(format) + " (this mhr reads format " +
                    std::to_string(kGraphJsonFormat) + ")");
  const std::string output = top.text("output");
  const json& nodes = top.field("nodes");
  if (!nodes.is_array() || nodes.empty()) throw UserError(where + ": field 'nodes' is not a list of nodes");

  // What Graph's constructor asserts, checked here as errors in the document.
  std::vector<Node> list;
  std::unordered_set<std::string> seen;
  int inputs = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    Node n = parseNode(nodes[i], where + ": node " + std::to_string(i));
    const std::string at = where + ": node '" + n.name + "'";
    if (!seen.insert(n.name).second) throw UserError(at + " is defined twice");
    for (const std::string& in : n.inputs)
      if (!seen.count(in) || in == n.name)
        throw UserError(at + " reads '" + in + "', which is not an earlier node");
    if (n.op == OpKind::Input) {
      if (!n.inputs.empty()) throw UserError(at + ": the input node has inputs");
      ++inputs;
    }
    list.push_back(std::move(n));
  }
  if (inputs != 1)
    throw UserError(where + ": " + std::to_string(inputs) + " input nodes (a network has one)");
  if (!seen.count(output)) throw UserError(where + ": output '" + output + "' is not a node");
  Graph g(std::move(list), output);
  std::vector<VerifyProblem> problems = verifyGraph(g);
  if (!problems.empty()) throw UserError(where + ": " + problems.front().message);
  return g;
}

} // namespace mhr::ir
