#include "compiler/ir/node.h"

#include "support/strings.h"

namespace mhr::ir {

bool Activation::operator==(const Activation& o) const {
  if (kind != o.kind) return false;
  switch (kind) {
  case ActKind::LeakyRelu:
    return slope == o.slope;
  case ActKind::Hardtanh:
    return minValue == o.minValue && maxValue == o.maxValue;
  case ActKind::Gelu:
    return tanhApprox == o.tanhApprox;
  default:
    return true;
  }
}

bool Conv2dAttrs::operator==(const Conv2dAttrs& o) const {
  return inChannels == o.inChannels && outChannels == o.outChannels && kernelH == o.kernelH &&
         kernelW == o.kernelW && strideH == o.strideH && strideW == o.strideW && dilationH == o.dilationH &&
         dilationW == o.dilationW && padTop == o.padTop && padBottom == o.padBottom && padLeft == o.padLeft &&
         padRight == o.padRight && padMode == o.padMode && groups == o.groups && bias == o.bias;
}

bool BatchNormAttrs::operator==(const BatchNormAttrs& o) const {
  return numFeatures == o.numFeatures && eps == o.eps && momentum == o.momentum && affine == o.affine &&
         trackRunningStats == o.trackRunningStats;
}

bool LinearAttrs::operator==(const LinearAttrs& o) const {
  return inFeatures == o.inFeatures && outFeatures == o.outFeatures && bias == o.bias;
}

bool Pool2dAttrs::operator==(const Pool2dAttrs& o) const {
  return kernelH == o.kernelH && kernelW == o.kernelW && strideH == o.strideH && strideW == o.strideW &&
         padH == o.padH && padW == o.padW && dilationH == o.dilationH && dilationW == o.dilationW &&
         ceilMode == o.ceilMode && countIncludePad == o.countIncludePad;
}

bool Node::operator==(const Node& o) const {
  if (name != o.name || op != o.op || inputs != o.inputs) return false;
  switch (op) {
  case OpKind::Input:
    return input == o.input;
  case OpKind::Conv2d:
    return conv == o.conv;
  case OpKind::BatchNorm2d:
    return bn == o.bn;
  case OpKind::Linear:
    return linear == o.linear;
  case OpKind::Activation:
    return act == o.act;
  case OpKind::PRelu:
    return prelu == o.prelu;
  case OpKind::ParamActivation:
    return pact == o.pact;
  case OpKind::MaxPool2d:
  case OpKind::AvgPool2d:
    return pool == o.pool;
  case OpKind::AdaptiveAvgPool2d:
  case OpKind::AdaptiveMaxPool2d:
    return adaptive == o.adaptive;
  case OpKind::Dropout:
    return dropout == o.dropout;
  case OpKind::StochasticDepth:
    return sd == o.sd;
  case OpKind::Add:
  case OpKind::Mul:
  case OpKind::Concat:
  case OpKind::Flatten:
    return true;
  }
  return false;
}

bool Node::hasParameters() const {
  switch (op) {
  case OpKind::Conv2d:
  case OpKind::Linear:
  case OpKind::PRelu:
  case OpKind::ParamActivation:
    return true;
  case OpKind::BatchNorm2d:
    return bn.affine || bn.trackRunningStats;
  default:
    return false;
  }
}

const char* opName(OpKind op) {
  switch (op) {
  case OpKind::Input:
    return "input";
  case OpKind::Conv2d:
    return "conv2d";
  case OpKind::BatchNorm2d:
    return "batch_norm2d";
  case OpKind::Linear:
    return "linear";
  case OpKind::Activation:
    return "activation";
  case OpKind::PRelu:
    return "prelu";
  case OpKind::ParamActivation:
    return "p";
  case OpKind::MaxPool2d:
    return "max_pool2d";
  case OpKind::AvgPool2d:
    return "avg_pool2d";
  case OpKind::AdaptiveAvgPool2d:
    return "adaptive_avg_pool2d";
  case OpKind::AdaptiveMaxPool2d:
    return "adaptive_max_pool2d";
  case OpKind::Add:
    return "add";
  case OpKind::Mul:
    return "mul";
  case OpKind::Concat:
    return "concat";
  case OpKind::Flatten:
    return "flatten";
  case OpKind::Dropout:
    return "dropout";
  case OpKind::StochasticDepth:
    return "stochastic_depth";
  }
  return "?";
}

const char* actName(ActKind kind) {
  switch (kind) {
  case ActKind::Identity:
    return "identity";
  case ActKind::Relu:
    return "relu";
  case ActKind::Relu6:
    return "relu6";
  case ActKind::LeakyRelu:
    return "leaky_relu";
  case ActKind::Hardtanh:
    return "hardtanh";
  case ActKind::Gelu:
    return "gelu";
  case ActKind::Silu:
    return "silu";
  case ActKind::Sigmoid:
    return "sigmoid";
  case ActKind::Tanh:
    return "tanh";
  }
  return "?";
}

const char* padModeName(PadMode mode) {
  switch (mode) {
  case PadMode::Zeros:
    return "zeros";
  case PadMode::Reflect:
    return "reflect";
  case PadMode::Replicate:
    return "replicate";
  case PadMode::Circular:
    return "circular";
  }
  return "?";
}

std::string activationText(const Activation& a) {
  switch (a.kind) {
  case ActKind::LeakyRelu:
    return "leaky_relu(" + support::formatNumber(a.slope) + ")";
  case ActKind::Hardtanh:
    return "hardtanh(" + support::formatNumber(a.minValue) + ", " + support::formatNumber(a.maxValue) + ")";
  case ActKind::Gelu:
    return a.tanhApprox ? "gelu(approximate: tanh)" : "gelu";
  default:
    return actName(a.kind);
  }
}

} // namespace mhr::ir
