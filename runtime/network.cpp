#include "runtime/network.h"

#include "support/assert.h"
#include "support/strings.h"

#include <algorithm>
#include <map>

namespace mhr::runtime {

namespace F = torch::nn::functional;

// ---- activations
// ------------------------------------------------------------------------------------------------

torch::Tensor applyActivation(const ir::Activation& act, const torch::Tensor& input, bool inPlace) {
  torch::Tensor x = input; // a handle: in-place functions take a mutable reference to it
  switch (act.kind) {
  case ir::ActKind::Identity:
    return x;
  case ir::ActKind::Relu:
    return inPlace ? x.relu_() : x.relu();
  case ir::ActKind::Relu6:
    return inPlace ? torch::hardtanh_(x, 0.0, 6.0) : torch::hardtanh(x, 0.0, 6.0);
  case ir::ActKind::LeakyRelu:
    return inPlace ? torch::leaky_relu_(x, act.slope) : torch::leaky_relu(x, act.slope);
  case ir::ActKind::Hardtanh:
    return inPlace ? torch::hardtanh_(x, act.minValue, act.maxValue)
                   : torch::hardtanh(x, act.minValue, act.maxValue);
  case ir::ActKind::Gelu:
    return torch::gelu(x, act.tanhApprox ? "tanh" : "none");
  case ir::ActKind::Silu:
    return torch::silu(x);
  case ir::ActKind::Sigmoid:
    return torch::sigmoid(x);
  case ir::ActKind::Tanh:
    return torch::tanh(x);
  }
  MHR_UNREACHABLE("activation kind");
}

// In-place is safe for these: their backward reads their own output, never the overwritten input.
static bool activationMayRunInPlace(const ir::Activation& act) {
  return act.kind == ir::ActKind::Relu || act.kind == ir::ActKind::Relu6 ||
         act.kind == ir::ActKind::LeakyRelu || act.kind == ir::ActKind::Hardtanh;
}

ParamActivationImpl::ParamActivationImpl(const ir::Activation& innerAct, int64_t channels) : inner(innerAct) {
  // At insertion a = 1: the identity, whatever ACT is (the morph recipe sets the value explicitly too).
  a = register_parameter("a", torch::ones({channels}));
}

torch::Tensor ParamActivationImpl::forward(const torch::Tensor& x) {
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[1] = a.size(0);
  torch::Tensor s = a.view(shape).to(x.scalar_type());
  // Written as the IR defines it, so a == 1 gives exactly x and a == 0 exactly ACT(x).
  return (1 - s) * applyActivation(inner, x) + s * x;
}

// ---- checkpointing
// ---------------------------------------------------------------------------------------------

namespace {

// Recomputes one segment in the backward pass instead of keeping its activations (PyTorch's reentrant
// torch.utils.checkpoint, in C++): forward runs without recording, backward re-runs the segment with the same
// random state and autocast setting, then backpropagates through it.
struct CheckpointFunction : public torch::autograd::Function<CheckpointFunction> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx,
                                                at::TensorList inputList, at::TensorList parameters,
                                                NetworkImpl* net, int64_t segment) {
    std::vector<torch::Tensor> inputs = inputList.vec();
    // `parameters` are the segment's own parameters, passed only so that the outputs require grad even when
    // no input does (the first segment reads the network input); backward accumulates their gradients itself.
    ctx->saved_data["parameters"] = static_cast<int64_t>(parameters.size());
    ctx->saved_data["net"] = reinterpret_cast<int64_t>(net);
    ctx->saved_data["segment"] = segment;
    ctx->saved_data["autocast"] = compat::cudaAutocastEnabled();
    ctx->saved_data["autocast_dtype"] = static_cast<int64_t>(compat::cudaAutocastDtype());
    torch::Device device = inputs.empty() ? torch::Device(torch::kCPU) : inputs[0].device();
    ctx->saved_data["rng"] = compat::defaultGenerator(device).get_state();
    ctx->save_for_backward(inputs);

    auto i = static_cast<size_t>(segment);
    std::vector<torch::Tensor> outputs =
        net->runSegment(net->checkpointSegments()[i], net->segmentInputs(i), inputs, net->segmentOutputs(i));
    // An output that aliases an input would be a view the autograd engine must not see as our own result.
    for (torch::Tensor& o : outputs)
      for (const torch::Tensor& i : inputs)
        if (o.defined() && i.defined() && o.storage().is_alias_of(i.storage())) o = o.clone();
    return outputs;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list gradOutputs) {
    auto* net = reinterpret_cast<NetworkImpl*>(ctx->saved_data["net"].toInt());
    int64_t segment = ctx->saved_data["segment"].toInt();
    auto i = static_cast<size_t>(segment);
    const CheckpointSegment& seg = net->checkpointSegments()[i];

    torch::autograd::variable_list saved = ctx->get_saved_variables();
    std::vector<torch::Tensor> detached;
    for (const torch::Tensor& s : saved) detached.push_back(s.detach().requires_grad_(s.requires_grad()));

    // Batch norm in the segment must not update its running statistics a second time.
    std::vector<std::pair<torch::Tensor, torch::Tensor>> stats;
    for (ir::NodeId id = seg.begin; id < seg.end; ++id)
      if (net->graph().node(id).op == ir::OpKind::BatchNorm2d)
        if (auto m = net->moduleOf(net->graph().node(id).name))
          for (auto& b : m->buffers(false)) stats.emplace_back(b, b.clone());

    torch::Device device = detached.empty() ? torch::Device(torch::kCPU) : detached[0].device();
    at::Generator gen = compat::defaultGenerator(device);
    torch::Tensor rngNow = gen.get_state();
    gen.set_state(ctx->saved_data["rng"].toTensor());
    std::vector<torch::Tensor> outputs;
    {
      torch::AutoGradMode enable(true);
      compat::CudaAutocastGuard autocast(
          ctx->saved_data["autocast"].toBool(),
          static_cast<at::ScalarType>(ctx->saved_data["autocast_dtype"].toInt()));
      outputs = net->runSegment(seg, net->segmentInputs(i), detached, net->segmentOutputs(i));
    }
    gen.set_state(rngNow);

    std::vector<torch::Tensor> outs, grads;
    for (size_t k = 0; k < outputs.size(); ++k)
      if (outputs[k].requires_grad() && gradOutputs[k].defined()) {
        outs.push_back(outputs[k]);
        grads.push_back(gradOutputs[k]);
      }
    if (!outs.empty()) torch::autograd::backward(outs, grads);
    {
      // After the backward call: batch norm's backward reads the running statistics it saved.
      torch::NoGradGuard noGrad;
      for (auto& [buffer, copy] : stats) buffer.copy_(copy);
    }

    torch::autograd::variable_list result;
    for (const torch::Tensor& d : detached) result.push_back(d.requires_grad() ? d.grad() : torch::Tensor());
    // Parameters: their gradients were accumulated by the backward call above.
    for (int64_t k = 0; k < ctx->saved_data["parameters"].toInt(); ++k) result.emplace_back();
    result.emplace_back(); // net
    result.emplace_back(); // segment
    return result;
  }
};

} // namespace

// ---- the network
// -------------------------------------------------------------------------------------------------

NetworkImpl::NetworkImpl(ir::Graph graph) : graph_(std::move(graph)) {
  const size_t n = graph_.size();
  modules_.assign(n, nullptr);
  conv_.assign(n, nullptr);
  bn_.assign(n, nullptr);
  linear_.assign(n, nullptr);
  prelu_.assign(n, nullptr);
  pact_.assign(n, nullptr);
  for (size_t i = 0; i < n; ++i) {
    const ir::Node& node = graph_.node(static_cast<ir::NodeId>(i));
    std::shared_ptr<torch::nn::Module> m;
    switch (node.op) {
    case ir::OpKind::Conv2d: {
      const ir::Conv2dAttrs& c = node.conv;
      auto o = torch::nn::Conv2dOptions(c.inChannels, c.outChannels, {c.kernelH, c.kernelW})
                   .stride({c.strideH, c.strideW})
                   .dilation({c.dilationH, c.dilationW})
                   .groups(c.groups)
                   .bias(c.bias);
      if (c.symmetricPadding()) o.padding(torch::ExpandingArray<2>({c.padTop, c.padLeft}));
      switch (c.padMode) {
      case ir::PadMode::Zeros:
        o.padding_mode(torch::kZeros);
        break;
      case ir::PadMode::Reflect:
        o.padding_mode(torch::kReflect);
        break;
      case ir::PadMode::Replicate:
        o.padding_mode(torch::kReplicate);
        break;
      case ir::PadMode::Circular:
        o.padding_mode(torch::kCircular);
        break;
      }
      conv_[i] = torch::nn::Conv2d(o).ptr();
      m = conv_[i];
      break;
    }
    case ir::OpKind::BatchNorm2d:
      m = bn_[i] = torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(node.bn.numFeatures)
                                              .eps(node.bn.eps)
                                              .momentum(node.bn.momentum)
                                              .affine(node.bn.affine)
                                              .track_running_stats(node.bn.trackRunningStats))
                       .ptr();
      break;
    case ir::OpKind::Linear:
      m = linear_[i] =
          torch::nn::Linear(torch::nn::LinearOptions(node.linear.inFeatures, node.linear.outFeatures)
                                .bias(node.linear.bias))
              .ptr();
      break;
    case ir::OpKind::PRelu:
      m = prelu_[i] =
          torch::nn::PReLU(torch::nn::PReLUOptions().num_parameters(node.prelu.numParameters)).ptr();
      break;
    case ir::OpKind::ParamActivation:
      m = pact_[i] = ParamActivation(node.pact.inner, node.pact.channels).ptr();
      break;
    default:
      break;
    }
    if (m) {
      registerNodeModule(node.name, m);
      modules_[i] = m;
    }
  }

  lastUse_.assign(n, ir::kNoNode);
  for (size_t i = 0; i < n; ++i)
    for (ir::NodeId j : graph_.inputsOf(static_cast<ir::NodeId>(i)))
      lastUse_[static_cast<size_t>(j)] = static_cast<ir::NodeId>(i);
  lastUse_[static_cast<size_t>(graph_.outputId())] = static_cast<ir::NodeId>(n); // never freed

  // A node may overwrite its first input when it is that tensor's only reader and the producer's backward
  // does not need its own output (convolution, batch norm, linear, add).
  inPlaceOk_.assign(n, false);
  for (size_t i = 0; i < n; ++i) {
    const ir::Node& node = graph_.node(static_cast<ir::NodeId>(i));
    bool kindOk = node.op == ir::OpKind::Add ||
                  (node.op == ir::OpKind::Activation && activationMayRunInPlace(node.act));
    if (!kindOk) continue;
    ir::NodeId src = graph_.inputsOf(static_cast<ir::NodeId>(i))[0];
    if (graph_.usersOf(src).size() != 1 || src == graph_.outputId()) continue;
    // An add reading the same tensor twice (x + x) must not overwrite it.
    if (node.op == ir::OpKind::Add && graph_.inputsOf(static_cast<ir::NodeId>(i))[1] == src) continue;
    ir::OpKind p = graph_.node(src).op;
    inPlaceOk_[i] = p == ir::OpKind::Conv2d || p == ir::OpKind::BatchNorm2d || p == ir::OpKind::Linear ||
                    p == ir::OpKind::Add;
  }
}

void NetworkImpl::registerNodeModule(const std::string& path, std::shared_ptr<torch::nn::Module> module) {
  std::vector<std::string> parts = support::split(path, '.');
  MHR_ASSERT(!parts.empty(), "empty node name");
  torch::nn::Module* parent = this;
  for (size_t k = 0; k + 1 < parts.size(); ++k) {
    std::shared_ptr<torch::nn::Module> child;
    for (const auto& c : parent->named_children())
      if (c.key() == parts[k]) child = c.value();
    if (!child) child = parent->register_module(parts[k], std::make_shared<torch::nn::Module>());
    MHR_ASSERT(child->parameters(false).empty(),
               "a node with parameters is also a container of another node");
    parent = child.get();
  }
  parent->register_module(parts.back(), std::move(module));
}

std::shared_ptr<torch::nn::Module> NetworkImpl::moduleOf(const std::string& nodeName) const {
  ir::NodeId id = graph_.find(nodeName);
  return id == ir::kNoNode ? nullptr : modules_[static_cast<size_t>(id)];
}

void NetworkImpl::setCheckpointSegments(std::vector<CheckpointSegment> segments) {
  segments_ = std::move(segments);
  segmentIo_.clear();
  ir::NodeId prevEnd = 0;
  for (const CheckpointSegment& s : segments_) {
    MHR_ASSERT(s.begin < s.end && s.begin >= prevEnd && s.end <= static_cast<ir::NodeId>(graph_.size()) &&
                   s.begin > graph_.inputId(),
               "checkpoint segments must be ordered, disjoint and after the input");
    prevEnd = s.end;
    SegmentIo io;
    for (ir::NodeId id = s.begin; id < s.end; ++id) {
      for (ir::NodeId j : graph_.inputsOf(id))
        if (j < s.begin && std::find(io.inputs.begin(), io.inputs.end(), j) == io.inputs.end())
          io.inputs.push_back(j);
      bool usedAfter = lastUse_[static_cast<size_t>(id)] >= s.end;
      if (usedAfter) io.outputs.push_back(id);
    }
    segmentIo_.push_back(std::move(io));
  }
}

torch::Tensor NetworkImpl::evalNode(ir::NodeId id, std::vector<torch::Tensor>& values,
                                    bool mayOverwriteInput) {
  const ir::Node& node = graph_.node(id);
  const ir::IdSpan ins = graph_.inputsOf(id);
  auto in = [&](size_t k) -> torch::Tensor& {
    torch::Tensor& t = values[static_cast<size_t>(ins[k])];
    MHR_ASSERT(t.defined(), "graph executor read a freed or missing value");
    return t;
  };
  const auto i = static_cast<size_t>(id);
  switch (node.op) {
  case ir::OpKind::Conv2d: {
    torch::nn::Conv2dImpl* conv = conv_[i].get();
    const ir::Conv2dAttrs& c = node.conv;
    if (c.symmetricPadding()) return conv->forward(in(0));
    F::PadFuncOptions pad({c.padLeft, c.padRight, c.padTop, c.padBottom});
    switch (c.padMode) {
    case ir::PadMode::Zeros:
      pad.mode(torch::kConstant);
      break;
    case ir::PadMode::Reflect:
      pad.mode(torch::kReflect);
      break;
    case ir::PadMode::Replicate:
      pad.mode(torch::kReplicate);
      break;
    case ir::PadMode::Circular:
      pad.mode(torch::kCircular);
      break;
    }
    return conv->forward(F::pad(in(0), pad));
  }
  case ir::OpKind::BatchNorm2d:
    if (bnOverride_ && is_training()) return bnOverride_(*bn_[i], in(0));
    return bn_[i]->forward(in(0));
  case ir::OpKind::Linear:
    return linear_[i]->forward(in(0));
  case ir::OpKind::PRelu:
    return prelu_[i]->forward(in(0));
  case ir::OpKind::ParamActivation:
    return pact_[i]->forward(in(0));
  case ir::OpKind::Activation:
    return applyActivation(node.act, in(0), mayOverwriteInput);
  case ir::OpKind::MaxPool2d: {
    const ir::Pool2dAttrs& p = node.pool;
    return torch::max_pool2d(in(0), {p.kernelH, p.kernelW}, {p.strideH, p.strideW}, {p.padH, p.padW},
                             {p.dilationH, p.dilationW}, p.ceilMode);
  }
  case ir::OpKind::AvgPool2d: {
    const ir::Pool2dAttrs& p = node.pool;
    return torch::avg_pool2d(in(0), {p.kernelH, p.kernelW}, {p.strideH, p.strideW}, {p.padH, p.padW},
                             p.ceilMode, p.countIncludePad);
  }
  case ir::OpKind::AdaptiveAvgPool2d:
    return torch::adaptive_avg_pool2d(in(0), {node.adaptive.outH, node.adaptive.outW});
  case ir::OpKind::AdaptiveMaxPool2d:
    return std::get<0>(torch::adaptive_max_pool2d(in(0), {node.adaptive.outH, node.adaptive.outW}));
  case ir::OpKind::Add:
    if (mayOverwriteInput && in(0).scalar_type() == in(1).scalar_type() && in(0).sizes() == in(1).sizes())
      return in(0).add_(in(1));
    return in(0) + in(1);
  case ir::OpKind::Mul:
    return in(0) * in(1);
  case ir::OpKind::Concat: {
    std::vector<torch::Tensor> parts;
    for (size_t k = 0; k < ins.size(); ++k) parts.push_back(in(k));
    return torch::cat(parts, 1);
  }
  case ir::OpKind::Flatten:
    return torch::flatten(in(0), 1);
  case ir::OpKind::Dropout:
    return torch::dropout(in(0), node.dropout.p, is_training());
  case ir::OpKind::StochasticDepth: {
    // torchvision.ops.stochastic_depth: keep each sample (row) or the whole batch with probability 1 - p.
    const torch::Tensor& x = in(0);
    if (!is_training() || node.sd.p == 0.0) return x;
    double survival = 1.0 - node.sd.p;
    std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
    if (node.sd.mode == ir::StochasticDepthMode::Row) shape[0] = x.size(0);
    torch::Tensor noise = torch::empty(shape, x.options()).bernoulli_(survival);
    if (survival > 0.0) noise.div_(survival);
    return x * noise;
  }
  case ir::OpKind::Input:
    break;
  }
  MHR_UNREACHABLE("graph executor: unexpected op");
}

torch::Tensor NetworkImpl::forward(const torch::Tensor& input) {
  return run(input, ir::kNoNode, nullptr);
}

torch::Tensor NetworkImpl::forward(const torch::Tensor& input, ir::NodeId capture, torch::Tensor& captured) {
  return run(input, capture, &captured);
}

torch::Tensor NetworkImpl::run(const torch::Tensor& input, ir::NodeId capture, torch::Tensor* captured) {
  const size_t n = graph_.size();
  std::vector<torch::Tensor> values(n);
  values[static_cast<size_t>(graph_.inputId())] = input;
  const bool checkpoint = !segments_.empty() && is_training() && torch::GradMode::is_enabled();
  size_t nextSegment = 0;
  auto release = [&](ir::NodeId reader, ir::NodeId limit) {
    // Frees every value whose last reader lies in [reader, limit).
    for (ir::NodeId j : graph_.inputsOf(reader))
      if (lastUse_[static_cast<size_t>(j)] < limit && j != capture)
        values[static_cast<size_t>(j)] = torch::Tensor();
  };
  for (ir::NodeId id = 0; id < static_cast<ir::NodeId>(n); ++id) {
    if (id == graph_.inputId()) continue;
    if (checkpoint && nextSegment < segments_.size() && segments_[nextSegment].begin == id) {
      const CheckpointSegment& seg = segments_[nextSegment];
      const SegmentIo& io = segmentIo_[nextSegment];
      std::vector<torch::Tensor> ins;
      for (ir::NodeId j : io.inputs) ins.push_back(values[static_cast<size_t>(j)]);
      std::vector<torch::Tensor> params; // read now: freezing may have changed since the segments were set
      for (ir::NodeId r = seg.begin; r < seg.end; ++r)
        if (const auto& m = modules_[static_cast<size_t>(r)])
          for (const torch::Tensor& p : m->parameters(true))
            if (p.requires_grad()) params.push_back(p);
      std::vector<torch::Tensor> outs =
          // As TensorLists: autograd tracks tensors only in Tensor and TensorList arguments.
          CheckpointFunction::apply(at::TensorList(ins), at::TensorList(params), this,
                                    static_cast<int64_t>(nextSegment));
      for (size_t k = 0; k < io.outputs.size(); ++k) values[static_cast<size_t>(io.outputs[k])] = outs[k];
      for (ir::NodeId r = seg.begin; r < seg.end; ++r) release(r, seg.end);
      id = seg.end - 1;
      ++nextSegment;
      continue;
    }
    const ir::IdSpan ins = graph_.inputsOf(id);
    bool overwrite = inPlaceOk_[static_cast<size_t>(id)] && ins[0] != capture;
    values[static_cast<size_t>(id)] = evalNode(id, values, overwrite);
    if (id == capture && captured) *captured = values[static_cast<size_t>(id)];
    release(id, id + 1);
  }
  return values[static_cast<size_t>(graph_.outputId())];
}

std::vector<torch::Tensor> NetworkImpl::runSegment(const CheckpointSegment& segment,
                                                   const std::vector<ir::NodeId>& inputs,
                                                   const std::vector<torch::Tensor>& inputValues,
                                                   const std::vector<ir::NodeId>& outputs) {
  MHR_ASSERT(inputs.size() == inputValues.size(), "segment inputs");
  std::vector<torch::Tensor> values(graph_.size());
  for (size_t k = 0; k < inputs.size(); ++k) values[static_cast<size_t>(inputs[k])] = inputValues[k];
  for (ir::NodeId id = segment.begin; id < segment.end; ++id) {
    const ir::IdSpan ins = graph_.inputsOf(id);
    // Never overwrite a segment input: checkpointing saved it for the backward pass.
    bool overwrite = inPlaceOk_[static_cast<size_t>(id)] && ins[0] >= segment.begin;
    values[static_cast<size_t>(id)] = evalNode(id, values, overwrite);
    for (ir::NodeId j : ins)
      if (j >= segment.begin && lastUse_[static_cast<size_t>(j)] == id)
        values[static_cast<size_t>(j)] = torch::Tensor();
  }
  std::vector<torch::Tensor> out;
  for (ir::NodeId o : outputs) out.push_back(values[static_cast<size_t>(o)]);
  return out;
}

void NetworkImpl::resetParameters() {
  torch::NoGradGuard noGrad;
  for (size_t i = 0; i < graph_.size(); ++i) {
    if (conv_[i]) {
      torch::nn::init::kaiming_normal_(conv_[i]->weight, 0.0, torch::kFanOut, torch::kReLU);
      if (conv_[i]->bias.defined()) conv_[i]->bias.zero_();
    }
    if (bn_[i]) bn_[i]->reset_parameters();
    if (linear_[i]) linear_[i]->reset_parameters();
    if (prelu_[i]) prelu_[i]->weight.fill_(0.25);
    if (pact_[i]) pact_[i]->a.fill_(1.0);
  }
}

} // namespace mhr::runtime
