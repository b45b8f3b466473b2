// compiler/ir/params.h — the tensors of a network: THE contract with the runtime and with torchvision state
// dicts. In: a Graph. Out: every parameter and buffer with its state_dict key, shape and dtype, in the order
// torch's state_dict() lists them for the stdlib networks (nodes in order; within a node parameters, then
// buffers), and the parameter count.
//
// Per op (C = channels; keys are `<node name>.<tensor>`):
//   conv2d          weight [out, in/groups, kH, kW]; bias [out] when bias
//   batch_norm2d    weight [C], bias [C] when affine; running_mean [C], running_var [C] (float) and
//                   num_batches_tracked [] (int64) when track_running_stats
//   linear          weight [out, in]; bias [out] when bias
//   prelu           weight [num_parameters]          (torch.nn.PReLU)
//   p(ACT)          a [C]                            (ours: (1 - a) * ACT(x) + a * x per channel)
//   everything else has no tensors.
#pragma once

#include "compiler/ir/graph.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mhr::ir {

enum class TensorRole { Parameter, Buffer };
enum class DType { Float32, Int64 };

struct TensorSpec {
  std::string name;           // state_dict key, e.g. "layer1.0.bn1.running_mean"
  std::string node;           // the node that owns it, e.g. "layer1.0.bn1"
  std::string field;          // "weight", "bias", "running_mean", "running_var", "num_batches_tracked", "a"
  std::vector<int64_t> shape; // [] for a scalar
  TensorRole role = TensorRole::Parameter;
  DType dtype = DType::Float32;
  int64_t numel() const;
  bool operator==(const TensorSpec& o) const;
};

std::vector<TensorSpec> tensorsOf(const Node& node);
std::vector<TensorSpec> stateDictSpec(const Graph& graph);
// Number of scalar parameters (what sum(p.numel() for p in model.parameters()) gives); buffers excluded.
int64_t parameterCount(const Graph& graph);
// "64,3,7,7" ("" for a scalar).
std::string shapeText(const std::vector<int64_t>& shape);

} // namespace mhr::ir
