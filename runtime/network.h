// runtime/network.h — an ir::Graph as a torch::nn module. In: the graph of a NetworkPlan. Out: a module whose
// submodules sit in a tree under the IR's dotted node names (LibTorch forbids dots in register_module, so
// `layer1.0.conv1` is module `layer1` > `0` > `conv1`), so named_parameters() and state dicts carry exactly
// torchvision's keys; and a graph executor that runs the nodes in order, frees each intermediate after its
// last use, and can recompute chosen segments in the backward pass instead of storing them (activation
// checkpointing).
#pragma once

#include "compiler/ir/graph.h"
#include "runtime/torch_compat.h"

#include <functional>
#include <string>
#include <vector>

namespace mhr::runtime {

// p(ACT)(x) = (1 - a_c) * ACT(x) + a_c * x, one `a` per channel (ours; ir::OpKind::ParamActivation).
struct ParamActivationImpl : torch::nn::Module {
  ParamActivationImpl(const ir::Activation& inner, int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);
  ir::Activation inner;
  torch::Tensor a;
};
TORCH_MODULE(ParamActivation);

// A node range [begin, end) of the graph (in topological order) recomputed during backward.
struct CheckpointSegment {
  ir::NodeId begin = 0;
  ir::NodeId end = 0;
};

class NetworkImpl : public torch::nn::Module {
public:
  explicit NetworkImpl(ir::Graph graph);

  torch::Tensor forward(const torch::Tensor& input);
  // Also returns the output of node `capture` (kept in the autograd graph, for Grad-CAM).
  torch::Tensor forward(const torch::Tensor& input, ir::NodeId capture, torch::Tensor& captured);

  const ir::Graph& graph() const { return graph_; }
  // The module of a node with parameters (nullptr for parameter-free nodes).
  std::shared_ptr<torch::nn::Module> moduleOf(const std::string& nodeName) const;

  // Segments to recompute in training (grad mode on, training mode); empty = store every activation.
  void setCheckpointSegments(std::vector<CheckpointSegment> segments);
  const std::vector<CheckpointSegment>& checkpointSegments() const { return segments_; }
  // Values segment i reads from before it, and values it produces that later nodes (or the output) read.
  const std::vector<ir::NodeId>& segmentInputs(size_t i) const { return segmentIo_.at(i).inputs; }
  const std::vector<ir::NodeId>& segmentOutputs(size_t i) const { return segmentIo_.at(i).outputs; }

  // Replaces batch norm in training mode (runtime/distributed.h: SyncBatchNormScope); empty = the module's
  // own forward.
  using BatchNormOverride = std::function<torch::Tensor(torch::nn::BatchNorm2dImpl&, const torch::Tensor&)>;
  void setBatchNormOverride(BatchNormOverride f) { bnOverride_ = std::move(f); }

  // torchvision's initialisation: conv weights kaiming_normal(fan_out, relu), batch norm weight 1 and bias 0,
  // linear layers torch's default; biases of convs zero. Draws from the default generator (seed it first).
  void resetParameters();

  // Runs nodes [begin, end) given the values of the nodes they read from outside the range; returns the
  // values (in `outputs` order) that later nodes need. Used by the executor and by checkpointed backward.
  std::vector<torch::Tensor> runSegment(const CheckpointSegment& segment,
                                        const std::vector<ir::NodeId>& inputs,
                                        const std::vector<torch::Tensor>& inputValues,
                                        const std::vector<ir::NodeId>& outputs);

private:
  torch::Tensor run(const torch::Tensor& input, ir::NodeId capture, torch::Tensor* captured);
  torch::Tensor evalNode(ir::NodeId id, std::vector<torch::Tensor>& values, bool mayOverwriteInput);
  void registerNodeModule(const std::string& path, std::shared_ptr<torch::nn::Module> module);

  struct SegmentIo {
    std::vector<ir::NodeId> inputs;  // produced before the segment, read inside
    std::vector<ir::NodeId> outputs; // produced inside, read after (or the graph output)
  };

  ir::Graph graph_;
  std::vector<std::shared_ptr<torch::nn::Module>> modules_; // per NodeId (nullptr: functional)
  // The same modules, typed (Module is a virtual base: no static downcasts on the hot path).
  std::vector<std::shared_ptr<torch::nn::Conv2dImpl>> conv_;
  std::vector<std::shared_ptr<torch::nn::BatchNorm2dImpl>> bn_;
  std::vector<std::shared_ptr<torch::nn::LinearImpl>> linear_;
  std::vector<std::shared_ptr<torch::nn::PReLUImpl>> prelu_;
  std::vector<std::shared_ptr<ParamActivationImpl>> pact_;
  std::vector<ir::NodeId> lastUse_; // per NodeId: the last node reading it
  std::vector<bool> inPlaceOk_;     // per NodeId: may overwrite its first input
  std::vector<CheckpointSegment> segments_;
  std::vector<SegmentIo> segmentIo_;
  BatchNormOverride bnOverride_;
};
TORCH_MODULE(Network);

// Applies an ir::Activation to a tensor (in place when `inPlace` and the function allows it).
torch::Tensor applyActivation(const ir::Activation& act, const torch::Tensor& x, bool inPlace = false);

} // namespace mhr::runtime
