// The graph executor against torchvision: the stdlib networks, built from their IR with torchvision's weights
// loaded by name, reproduce torchvision's logits (eval mode, and train mode with batch statistics and the
// running-statistics update), CPU, float32, within 1e-5 relative. Plus the executor's own contracts: module
// tree names, activation checkpointing giving the same gradients, asymmetric padding.
#include "compiler/ir/params.h"
#include "compiler/pipeline.h"
#include "runtime/network.h"
#include "runtime/state_dict.h"
#include "stdlib/catalog.h"
#include "tests/runtime/test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

namespace mhr::runtime {
namespace {

ir::Graph stdlibGraph(const std::string& name, int64_t classes = 1000, double width = 1.0) {
  ir::NetworkOptions o;
  o.classes = classes;
  o.width = width;
  return stdlib::catalog().build(name, o);
}

// max |got - want| / max |want| (an all-zero `want` is compared absolutely).
double relativeError(const torch::Tensor& got, const torch::Tensor& want) {
  double scale = std::max(want.abs().max().item<double>(), 1.0e-30);
  double err = (got - want).abs().max().item<double>();
  return want.abs().max().item<double>() == 0.0 ? err : err / scale;
}

class TorchvisionEquivalence : public ::testing::TestWithParam<std::string> {};

TEST_P(TorchvisionEquivalence, ReproducesLogits) {
  const std::string arch = GetParam();
  std::string failure;
  const std::string dir = test::cachedPythonFolder("torchvision_reference.py", arch, &failure);
  ASSERT_FALSE(dir.empty()) << failure;
  auto file = [&](const std::string& name) { return dir + "/" + name; };
  // One intra-op thread, as the reference ran: on LibTorch 2.x a train-mode batch norm reduces in a
  // thread-count-dependent order (DenseNet-121's 120 batch norms drift to 1.7e-5 with 2 threads), and this
  // test compares the graph executor, not reduction orders.
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  struct RestoreThreads {
    int n;
    ~RestoreThreads() { torch::set_num_threads(n); }
  } restore{threads};
  torch::manual_seed(1);
  Network net(stdlibGraph(arch));
  StateDict weights = readStateDict(file(arch + ".pt"));
  loadStateDict(*net, weights, arch + ".pt");
  // The module tree carries exactly torchvision's names, in the IR's documented order.
  std::vector<std::string> expected;
  for (const ir::TensorSpec& t : ir::stateDictSpec(net->graph())) expected.push_back(t.name);
  EXPECT_EQ(moduleStateDict(*net).names(), expected);
  EXPECT_EQ(moduleStateDict(*net).names(), weights.names());

  StateDict io = readStateDict(file(arch + "_io.pt"));
  net->eval();
  {
    torch::NoGradGuard noGrad;
    torch::Tensor y = net->forward(io.at("input"));
    EXPECT_LE(relativeError(y, io.at("eval_logits")), 1e-5) << arch << " eval";
  }
  if (const torch::Tensor* train = io.find("train_logits")) {
    net->train();
    torch::NoGradGuard noGrad;
    torch::Tensor y = net->forward(io.at("input"));
    EXPECT_LE(relativeError(y, *train), 1e-5) << arch << " train";
    StateDict after = readStateDict(file(arch + "_after_train.pt"));
    StateDict mine = moduleStateDict(*net);
    for (const std::string& name : after.names()) {
      const torch::Tensor& want = after.at(name);
      if (want.is_floating_point())
        EXPECT_LE(relativeError(mine.at(name), want), 1e-5) << name;
      else
        EXPECT_TRUE(torch::equal(mine.at(name), want)) << name;
    }
  }
}

// The same weights written by the `safetensors` package (not by mhr's own writer) load to the same tensors.
TEST_P(TorchvisionEquivalence, ReadsSafetensorsWrittenByThePackage) {
  const std::string arch = GetParam();
  std::string failure;
  const std::string dir = test::cachedPythonFolder("torchvision_reference.py", arch, &failure);
  ASSERT_FALSE(dir.empty()) << failure;
  if (!std::filesystem::exists(dir + "/" + arch + ".safetensors"))
    GTEST_SKIP() << "no safetensors package in " << MHR_TEST_PYTHON;
  StateDict pt = readStateDict(dir + "/" + arch + ".pt");
  StateDict st = readStateDict(dir + "/" + arch + ".safetensors");
  ASSERT_EQ(std::set<std::string>(st.names().begin(), st.names().end()),
            std::set<std::string>(pt.names().begin(), pt.names().end()));
  for (const std::string& name : pt.names()) {
    EXPECT_EQ(st.at(name).scalar_type(), pt.at(name).scalar_type()) << name;
    EXPECT_TRUE(torch::equal(st.at(name), pt.at(name))) << name;
  }
  Network net(stdlibGraph(arch));
  loadStateDict(*net, st, arch + ".safetensors");
}

INSTANTIATE_TEST_SUITE_P(Stdlib, TorchvisionEquivalence,
                         ::testing::Values("resnet18", "resnet34", "resnet50", "resnet101", "densenet121",
                                           "efficientnet_b0", "vgg11_bn", "vgg16_bn"));

TEST(Network, ModuleTreeFollowsDottedNames) {
  Network net(stdlibGraph("resnet18", 2, 0.25));
  auto children = net->named_children();
  ASSERT_TRUE(children.contains("layer1"));
  auto block = children["layer1"]->named_children();
  ASSERT_TRUE(block.contains("0"));
  EXPECT_TRUE(block["0"]->named_children().contains("conv1"));
  EXPECT_NE(net->moduleOf("layer1.0.conv1"), nullptr);
  EXPECT_EQ(net->moduleOf("layer1.0.relu"), nullptr);
  EXPECT_EQ(net->named_parameters().size(), static_cast<size_t>(62));
}

// Activation checkpointing recomputes segments in backward: same loss, same gradients, same running
// statistics as storing everything (dropout/stochastic depth replay the same random draws).
void expectCheckpointingSame(const ir::Graph& graph, const std::string& what, int64_t inChannels) {
  torch::manual_seed(3);
  Network a(graph);
  a->resetParameters();
  Network b(graph);
  loadStateDict(*b, moduleStateDict(*a), "a");
  // Every node after the input in segments of 7 nodes (segments may cut anywhere: several live inputs).
  std::vector<CheckpointSegment> segs;
  const auto n = static_cast<ir::NodeId>(b->graph().size());
  for (ir::NodeId s = 1; s < n; s += 7) segs.push_back({s, std::min<ir::NodeId>(n, s + 7)});
  b->setCheckpointSegments(segs);
  a->train();
  b->train();
  torch::Tensor x = torch::randn({2, inChannels, 40, 36});
  torch::Tensor target = torch::tensor({0, 2});
  torch::manual_seed(9);
  torch::Tensor la = torch::nn::functional::cross_entropy(a->forward(x), target);
  la.backward();
  torch::manual_seed(9);
  torch::Tensor lb = torch::nn::functional::cross_entropy(b->forward(x), target);
  lb.backward();
  EXPECT_EQ(la.item<float>(), lb.item<float>()) << what;
  auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto& p : pa) {
    ASSERT_TRUE(pb[p.key()].grad().defined()) << what << " " << p.key();
    EXPECT_TRUE(torch::allclose(p.value().grad(), pb[p.key()].grad(), 1e-5, 1e-6)) << what << " " << p.key();
  }
  auto ba = a->named_buffers(), bb = b->named_buffers();
  for (const auto& t : ba) EXPECT_TRUE(torch::equal(t.value(), bb[t.key()])) << what << " " << t.key();
}

TEST(Network, CheckpointingGivesTheSameGradients) {
  for (const std::string arch : {"resnet18", "efficientnet_b0"})
    expectCheckpointingSame(stdlibGraph(arch, 3, 0.25), arch, 3);
  // Side branches (`branch input to head ...`, twice) reach from the input to the logits past every segment.
  compiler::CompileOptions options;
  options.catalog = &stdlib::catalog();
  options.stopAfter = compiler::Stage::Verify;
  compiler::CompileResult r =
      compiler::compileFile("tests/golden/verify/branch_exact_input_to_head.mhr", options);
  ASSERT_TRUE(r.ok());
  for (const auto& net : r.networks)
    if (net.morph) expectCheckpointingSame(net.morph->graph, "resnet18 with branches", 1);
}

TEST(Network, AsymmetricPaddingPadsExplicitly) {
  ir::GraphBuilder g;
  std::string x = g.input("input", 2);
  ir::Conv2dAttrs c;
  c.inChannels = 2;
  c.outChannels = 3;
  c.kernelH = 3;
  c.kernelW = 2;
  c.padTop = 1;
  c.padBottom = 2;
  c.padLeft = 0;
  c.padRight = 1;
  c.padMode = ir::PadMode::Reflect;
  x = g.conv("conv", x, c);
  Network net(std::move(g).finish(x));
  torch::Tensor in = torch::randn({1, 2, 6, 5});
  torch::Tensor y = net->forward(in);
  auto conv = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(net->moduleOf("conv"));
  torch::Tensor padded = torch::nn::functional::pad(
      in, torch::nn::functional::PadFuncOptions({0, 1, 1, 2}).mode(torch::kReflect));
  torch::Tensor want = torch::conv2d(padded, conv->weight, conv->bias);
  EXPECT_EQ(y.sizes(), want.sizes());
  EXPECT_TRUE(torch::equal(y, want));
}

} // namespace
} // namespace mhr::runtime
