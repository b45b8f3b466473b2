// compiler/cost/cost_model.h — compile-time cost of a network at one input resolution. In: a Graph, H x W,
// and for memory a training setup (batch, precision, optimizer, which nodes are checkpointed). Out: parameter
// count, forward multiply-accumulates per image (conv and linear, the quantity torchvision's docs list as
// "GFLOPS"), and the memory of one training step.
//
// Memory model: PyTorch eager, peak of one training step.
//   parameters (fp32) + parameter gradients (fp32) + optimizer state (sgd 0, sgd with momentum 1x, adam/adamw
//   2x the parameters) + the input batch (fp32; under autocast also its bf16/fp16 copy that the stem saves)
//   + the backward pass's peak over its nodes (walked from the last node to the first) of
//       saved tensors still needed (each distinct tensor once, freed after the last node that saved it ran
//       backward) + recomputed tensors of the checkpointed segment being run (checkpoint.h)
//       + activation gradients alive there (the gradient of every tensor produced at or before the node and
//         read at or after it).
//   Activations are 4 bytes (fp32) or 2 bytes (bf16/fp16 autocast). Saved for backward:
//   conv/linear/batch norm/prelu/p(ACT)/gelu/silu/leaky_relu/relu6/hardtanh/avg and adaptive pools/
//   stochastic depth save their input; relu, sigmoid, tanh their output; max pool its input plus int64
//   indices of its output's size; mul both operands; dropout a one-byte mask; add, concat, flatten, identity
//   nothing.
// Not modelled: cuDNN convolution workspaces and allocator fragmentation. Against PyTorch eager on an H100
// (../research/pytorch-eager-h100.json: ResNet-18/50, DenseNet-121, EfficientNet-B0 at 224..2048 px, bf16
// with channels_last) the estimate is within 2% of the measured peak; fp32 peaks there are 1.1-5.5x higher,
// growing with the resolution, because cudnn.benchmark picks workspace-hungry fp32 algorithms
// (tests/ir/cost_test.cpp pins the bf16 agreement).
#pragma once

#include "compiler/ir/graph.h"
#include "compiler/ir/shapes.h"
#include "compiler/plan/enums.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mhr::cost {

using Precision = plan::Precision; // the plan's enum: one spelling, one parser (compiler/plan/enums.h)

struct NodeCost {
  int64_t macs = 0;           // per image
  int64_t outputElements = 0; // per image
  // Tensors autograd keeps for this node's backward, as node ids whose output is kept (each counted once
  // globally), plus extra bytes per image at fixed width (max-pool indices, dropout masks).
  std::vector<ir::NodeId> savedOutputs;
  int64_t extraBytesPerImage = 0;
};

struct NetworkCost {
  int64_t height = 0, width = 0;
  int64_t parameters = 0;
  int64_t macs = 0;                    // per image
  std::vector<ir::TensorShape> shapes; // per node, batch 1
  std::vector<NodeCost> nodes;         // per node
};

// nullopt with `error` set when the network cannot run at H x W.
std::optional<NetworkCost> analyze(const ir::Graph& graph, int64_t height, int64_t width,
                                   std::string* error = nullptr);

// A checkpointed run of nodes [first, last] in graph order: its forward keeps nothing but its inputs, and it
// is recomputed during backward.
struct Segment {
  ir::NodeId first = 0;
  ir::NodeId last = 0;
};

struct TrainingSetup {
  int64_t batch = 1;
  Precision precision = Precision::Fp32;
  plan::OptimizerKind optimizer = plan::OptimizerKind::Sgd;
  bool momentum = true;          // sgd with momentum keeps one buffer per parameter
  std::vector<Segment> segments; // checkpointed, disjoint, in order
};

struct MemoryEstimate {
  int64_t parameterBytes = 0;
  int64_t gradientBytes = 0; // parameter gradients
  int64_t optimizerBytes = 0;
  int64_t inputBytes = 0; // the input batch (fp32)
  int64_t savedBytes = 0; // every tensor kept for backward, at the start of the backward pass
  // At the backward pass's peak:
  int64_t activationBytes = 0;       // saved tensors still alive (incl. the autocast copy of the input)
  int64_t recomputeBytes = 0;        // tensors of the checkpointed segment being recomputed
  int64_t activationGradBytes = 0;   // gradients of activations
  ir::NodeId peakNode = ir::kNoNode; // the node whose backward hits the peak
  int64_t totalBytes() const {
    return parameterBytes + gradientBytes + optimizerBytes + inputBytes + activationBytes + recomputeBytes +
           activationGradBytes;
  }
};

// Bytes of one activation element at a precision.
int64_t activationElementBytes(Precision p);
MemoryEstimate trainingMemory(const ir::Graph& graph, const NetworkCost& cost, const TrainingSetup& setup);

} // namespace mhr::cost
