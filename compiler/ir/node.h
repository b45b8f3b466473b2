// compiler/ir/node.h — one operation of the network IR: its kind, every numerically relevant attribute, its
// inputs (by node name) and the .mhr statement that created it. In: nothing (plain data). Out: Node values
// that ir::Graph owns; the runtime builds one torch module (or functional call) per node from these fields
// alone.
//
// Conventions the runtime relies on:
//  * `name` is the node's dotted path. For nodes with parameters it is exactly torchvision's module path, so
//    the node's tensors are `<name>.weight`, `<name>.bias`, ... (see params.h). A module that torchvision
//    applies several times (ResNet's shared `relu`) becomes one node per application: `layer1.0.relu`,
//    `layer1.0.relu_1`, `layer1.0.relu_2` (torch.fx's naming); such nodes never have parameters.
//  * Tensors are NCHW (rank 4) or NC (rank 2, after flatten). Channels are dimension 1.
//  * Only the attribute struct that matches `op` is meaningful; the others keep their defaults.
#pragma once

#include "compiler/diag/source.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mhr::ir {

enum class OpKind {
  Input,             // the network input, NCHW; no inputs
  Conv2d,            // torch.nn.Conv2d (+ per-side padding, see Conv2dAttrs)
  BatchNorm2d,       // torch.nn.BatchNorm2d
  Linear,            // torch.nn.Linear on an NC tensor
  Activation,        // parameter-free element-wise function (ActKind)
  PRelu,             // torch.nn.PReLU(num_parameters)
  ParamActivation,   // p(ACT)(x) = (1 - a_c) * ACT(x) + a_c * x, one a per channel (parameter `<name>.a`)
  MaxPool2d,         // torch.nn.MaxPool2d
  AvgPool2d,         // torch.nn.AvgPool2d
  AdaptiveAvgPool2d, // torch.nn.AdaptiveAvgPool2d
  AdaptiveMaxPool2d, // torch.nn.AdaptiveMaxPool2d (a `branch` block's `global_max`)
  Add,               // element-wise sum of two tensors of equal shape (residual joins)
  Mul,               // element-wise product with broadcasting (squeeze-excitation: [N,C,1,1] * [N,C,H,W])
  Concat,            // torch.cat along channels (dimension 1), inputs in order
  Flatten,           // torch.flatten(x, 1): NCHW -> N x (C*H*W), channel-major
  Dropout,           // torch.nn.Dropout(p); the identity in eval mode
  StochasticDepth,   // torchvision.ops.StochasticDepth(p, mode); the identity in eval mode
};

enum class ActKind { Identity, Relu, Relu6, LeakyRelu, Hardtanh, Gelu, Silu, Sigmoid, Tanh };

// A parameter-free activation function (also the ACT inside p(ACT)).
struct Activation {
  ActKind kind = ActKind::Relu;
  double slope = 0.01;     // LeakyRelu: negative_slope
  double minValue = -1.0;  // Hardtanh: min_val
  double maxValue = 1.0;   // Hardtanh: max_val
  bool tanhApprox = false; // Gelu: approximate='tanh' (false: the exact erf form)
  bool operator==(const Activation& o) const;
  bool operator!=(const Activation& o) const { return !(*this == o); }
};

enum class PadMode { Zeros, Reflect, Replicate, Circular };

// Padding is per side. When top == bottom and left == right the runtime can use Conv2d's own padding;
// otherwise it pads explicitly (F.pad with the same mode, order left, right, top, bottom) and convolves with
// padding 0.
struct Conv2dAttrs {
  int64_t inChannels = 0;
  int64_t outChannels = 0;
  int64_t kernelH = 1, kernelW = 1;
  int64_t strideH = 1, strideW = 1;
  int64_t dilationH = 1, dilationW = 1;
  int64_t padTop = 0, padBottom = 0, padLeft = 0, padRight = 0;
  PadMode padMode = PadMode::Zeros;
  int64_t groups = 1;
  bool bias = true;
  bool operator==(const Conv2dAttrs& o) const;
  bool symmetricPadding() const { return padTop == padBottom && padLeft == padRight; }
  // groups == inChannels == outChannels: every output channel reads exactly its own input channel.
  bool depthwise() const { return groups > 1 && groups == inChannels && groups == outChannels; }
};

struct BatchNormAttrs {
  int64_t numFeatures = 0;
  double eps = 1e-5;
  double momentum = 0.1;
  bool affine = true;
  bool trackRunningStats = true;
  bool operator==(const BatchNormAttrs& o) const;
};

struct LinearAttrs {
  int64_t inFeatures = 0;
  int64_t outFeatures = 0;
  bool bias = true;
  bool operator==(const LinearAttrs& o) const;
};

struct PReluAttrs {
  int64_t numParameters = 1; // 1 (shared) or the channel count
  bool operator==(const PReluAttrs& o) const { return numParameters == o.numParameters; }
};

struct ParamActivationAttrs {
  Activation inner;     // ACT
  int64_t channels = 0; // number of a's (one per channel)
  bool operator==(const ParamActivationAttrs& o) const { return inner == o.inner && channels == o.channels; }
};

// MaxPool2d and AvgPool2d (torch pools pad symmetrically). dilation: max pool only; countIncludePad: avg
// only.
struct Pool2dAttrs {
  int64_t kernelH = 1, kernelW = 1;
  int64_t strideH = 1, strideW = 1;
  int64_t padH = 0, padW = 0;
  int64_t dilationH = 1, dilationW = 1;
  bool ceilMode = false;
  bool countIncludePad = true;
  bool operator==(const Pool2dAttrs& o) const;
};

struct AdaptivePoolAttrs {
  int64_t outH = 1, outW = 1;
  bool operator==(const AdaptivePoolAttrs& o) const { return outH == o.outH && outW == o.outW; }
};

struct InputAttrs {
  int64_t channels = 3;
  bool operator==(const InputAttrs& o) const { return channels == o.channels; }
};

struct DropoutAttrs {
  double p = 0.5;
  bool operator==(const DropoutAttrs& o) const { return p == o.p; }
};

enum class StochasticDepthMode { Row, Batch }; // torchvision's "row" (per sample) and "batch"

struct StochasticDepthAttrs {
  double p = 0.0;
  StochasticDepthMode mode = StochasticDepthMode::Row;
  bool operator==(const StochasticDepthAttrs& o) const { return p == o.p && mode == o.mode; }
};

struct Node {
  std::string name;
  OpKind op = OpKind::Input;
  std::vector<std::string> inputs; // names of earlier nodes, in argument order
  diag::SourceRange origin;        // the .mhr statement that created the node; invalid for stdlib nodes

  InputAttrs input;
  Conv2dAttrs conv;
  BatchNormAttrs bn;
  LinearAttrs linear;
  Activation act; // Activation
  PReluAttrs prelu;
  ParamActivationAttrs pact;
  Pool2dAttrs pool;           // MaxPool2d, AvgPool2d
  AdaptivePoolAttrs adaptive; // AdaptiveAvgPool2d, AdaptiveMaxPool2d
  DropoutAttrs dropout;
  StochasticDepthAttrs sd;

  // Equality of everything numerically relevant: name, op, inputs and the attributes of `op`. The origin is
  // not compared (the same network built from two files is the same network).
  bool operator==(const Node& o) const;
  bool operator!=(const Node& o) const { return !(*this == o); }
  bool hasParameters() const;
};

const char* opName(OpKind op);         // "conv2d", "batch_norm2d", ... (the printer's spelling)
const char* actName(ActKind kind);     // "relu", "gelu", ...
const char* padModeName(PadMode mode); // "zeros", "reflect", "replicate", "circular"
// The activation in .mhr spelling with its parameters: "relu", "leaky_relu(0.1)", "hardtanh(-1, 1)".
std::string activationText(const Activation& a);

} // namespace mhr::ir
