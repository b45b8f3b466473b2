#include "compiler/ir/params.h"

namespace mhr::ir {

int64_t TensorSpec::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

bool TensorSpec::operator==(const TensorSpec& o) const {
  return name == o.name && node == o.node && field == o.field && shape == o.shape && role == o.role &&
         dtype == o.dtype;
}

namespace {
TensorSpec spec(const Node& n, const char* field, std::vector<int64_t> shape,
                TensorRole role = TensorRole::Parameter, DType dtype = DType::Float32) {
  TensorSpec t;
  t.node = n.name;
  t.field = field;
  t.name = n.name + "." + field;
  t.shape = std::move(shape);
  t.role = role;
  t.dtype = dtype;
  return t;
}
} // namespace

std::vector<TensorSpec> tensorsOf(const Node& n) {
  std::vector<TensorSpec> out;
  switch (n.op) {
  case OpKind::Conv2d: {
    const Conv2dAttrs& c = n.conv;
    const int64_t inPerGroup = c.groups > 0 ? c.inChannels / c.groups : c.inChannels;
    out.push_back(spec(n, "weight", {c.outChannels, inPerGroup, c.kernelH, c.kernelW}));
    if (c.bias) out.push_back(spec(n, "bias", {c.outChannels}));
    break;
  }
  case OpKind::BatchNorm2d:
    if (n.bn.affine) {
      out.push_back(spec(n, "weight", {n.bn.numFeatures}));
      out.push_back(spec(n, "bias", {n.bn.numFeatures}));
    }
    if (n.bn.trackRunningStats) {
      out.push_back(spec(n, "running_mean", {n.bn.numFeatures}, TensorRole::Buffer));
      out.push_back(spec(n, "running_var", {n.bn.numFeatures}, TensorRole::Buffer));
      out.push_back(spec(n, "num_batches_tracked", {}, TensorRole::Buffer, DType::Int64));
    }
    break;
  case OpKind::Linear:
    out.push_back(spec(n, "weight", {n.linear.outFeatures, n.linear.inFeatures}));
    if (n.linear.bias) out.push_back(spec(n, "bias", {n.linear.outFeatures}));
    break;
  case OpKind::PRelu:
    out.push_back(spec(n, "weight", {n.prelu.numParameters}));
    break;
  case OpKind::ParamActivation:
    out.push_back(spec(n, "a", {n.pact.channels}));
    break;
  default:
    break;
  }
  return out;
}

std::vector<TensorSpec> stateDictSpec(const Graph& graph) {
  std::vector<TensorSpec> out;
  for (const Node& n : graph.nodes())
    for (TensorSpec& t : tensorsOf(n)) out.push_back(std::move(t));
  return out;
}

int64_t parameterCount(const Graph& graph) {
  int64_t total = 0;
  for (const Node& n : graph.nodes())
    for (const TensorSpec& t : tensorsOf(n))
      if (t.role == TensorRole::Parameter) total += t.numel();
  return total;
}

std::string shapeText(const std::vector<int64_t>& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s;
}

} // namespace mhr::ir
