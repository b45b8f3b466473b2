// The IR itself: builder, equality, shape inference (PyTorch's formulas), channel classes, path resolution,
// verifier and printer.
#include "compiler/ir/channels.h"
#include "compiler/ir/params.h"
#include "compiler/ir/paths.h"
#include "compiler/ir/printer.h"
#include "compiler/ir/shapes.h"
#include "compiler/ir/verifier.h"
#include "stdlib/catalog.h"

#include <gtest/gtest.h>

namespace mhr::ir {
namespace {

Graph resnet18Quarter() {
  NetworkOptions o;
  o.classes = 2;
  o.width = 0.25;
  return stdlib::catalog().build("resnet18", o);
}

std::vector<std::string> names(const Graph& g, const std::vector<NodeId>& ids) {
  std::vector<std::string> out;
  for (NodeId id : ids) out.push_back(g.node(id).name);
  return out;
}

TEST(IrShapes, ConvOutputSizeMatchesPyTorch) {
  // floor((H + pt + pb - d(k-1) - 1) / s) + 1
  EXPECT_EQ(convOutputSize(224, 7, 2, 3, 3, 1), 112);
  EXPECT_EQ(convOutputSize(7, 3, 2, 1, 1, 1), 4);
  EXPECT_EQ(convOutputSize(5, 3, 1, 0, 0, 2), 1);
  EXPECT_EQ(convOutputSize(4, 3, 1, 0, 0, 2), 0);   // 4 < 2*(3-1)+1: impossible
  EXPECT_EQ(convOutputSize(10, 4, 1, 2, 1, 1), 10); // asymmetric 'same' for an even kernel
}

TEST(IrShapes, PoolOutputSizeHonoursCeilModeAndLastWindowRule) {
  EXPECT_EQ(poolOutputSize(112, 3, 2, 1, 1, false), 56);
  EXPECT_EQ(poolOutputSize(5, 2, 2, 0, 1, false), 2);
  EXPECT_EQ(poolOutputSize(5, 2, 2, 0, 1, true), 3);
  // ceil_mode would start a last window at 6 >= 5 + 1 (outside input + left padding): PyTorch drops it.
  EXPECT_EQ(poolOutputSize(6, 2, 2, 1, 1, true), 4);
  EXPECT_EQ(poolOutputSize(5, 3, 2, 1, 1, true), 3);
}

TEST(IrShapes, ResNetAtMammoResolution) {
  Graph g = resnet18Quarter();
  ShapeResult r = inferShapes(g, 1, 512, 416);
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(r.shapes[static_cast<size_t>(g.find("conv1"))], (TensorShape{4, 1, 16, 256, 208}));
  EXPECT_EQ(r.shapes[static_cast<size_t>(g.find("maxpool"))], (TensorShape{4, 1, 16, 128, 104}));
  EXPECT_EQ(r.shapes[static_cast<size_t>(g.find("layer4.1.relu_1"))], (TensorShape{4, 1, 128, 16, 13}));
  EXPECT_EQ(r.shapes[static_cast<size_t>(g.outputId())], (TensorShape{2, 1, 2, 1, 1}));
}

TEST(IrShapes, TooSmallInputIsAnErrorNamingTheLayer) {
  // torchvision documents min_size 1x1 for ResNet: padding keeps every layer at least one pixel.
  EXPECT_TRUE(inferShapes(resnet18Quarter(), 1, 1, 1).ok());
  GraphBuilder b;
  std::string x = b.input("input", 1);
  x = b.conv("valid5x5", x, 1, 1, 5);
  Graph g = std::move(b).finish(x);
  ShapeResult r = inferShapes(g, 1, 4, 9);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->message,
            "valid5x5: input 4x9 is too small for kernel 5x5 (dilation 1x1, padding 0+0, 0+0)");
  // VGG's five 2x2 pools need at least 32 pixels.
  NetworkOptions o;
  o.width = 0.0625;
  Graph vgg = stdlib::catalog().build("vgg11_bn", o);
  EXPECT_TRUE(inferShapes(vgg, 1, 32, 32).ok());
  ShapeResult small = inferShapes(vgg, 1, 16, 32);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(vgg.node(small.error->node).name, "features.28"); // the fifth pool: 16 -> 8 -> 4 -> 2 -> 1 -> 0
}

TEST(IrShapes, ReflectPaddingMustBeSmallerThanTheInput) {
  GraphBuilder b;
  std::string x = b.input("input", 1);
  Conv2dAttrs c;
  c.inChannels = c.outChannels = 1;
  c.kernelH = c.kernelW = 5;
  c.padTop = c.padBottom = c.padLeft = c.padRight = 2;
  c.padMode = PadMode::Reflect;
  x = b.conv("conv", x, c);
  Graph g = std::move(b).finish(x);
  EXPECT_TRUE(inferShapes(g, 1, 3, 3).ok());
  EXPECT_FALSE(inferShapes(g, 1, 2, 3).ok());
}

TEST(IrChannels, ResidualClassesOfResNet18) {
  Graph g = resnet18Quarter();
  ChannelClasses cc = analyzeChannels(g);
  int32_t stem = cc.classOfProducer(g.find("conv1"));
  EXPECT_EQ(names(g, cc.classProducers[static_cast<size_t>(stem)]),
            (std::vector<std::string>{"conv1", "layer1.0.conv2", "layer1.1.conv2"}));
  int32_t l2 = cc.classOfProducer(g.find("layer2.0.conv2"));
  EXPECT_EQ(names(g, cc.classProducers[static_cast<size_t>(l2)]),
            (std::vector<std::string>{"layer2.0.conv2", "layer2.0.downsample.0", "layer2.1.conv2"}));
  int32_t inner = cc.classOfProducer(g.find("layer1.0.conv1"));
  EXPECT_EQ(names(g, cc.classProducers[static_cast<size_t>(inner)]),
            (std::vector<std::string>{"layer1.0.conv1"}));
  EXPECT_FALSE(cc.classMisaligned[static_cast<size_t>(stem)]);
  EXPECT_EQ(cc.classChannels[static_cast<size_t>(stem)], 16);
}

TEST(IrChannels, SqueezeExcitationTiesTheGateToTheExpandedTensor) {
  Graph g = stdlib::catalog().build("efficientnet_b0", NetworkOptions{});
  ChannelClasses cc = analyzeChannels(g);
  int32_t cls = cc.classOfProducer(g.find("features.2.0.block.0.0"));
  EXPECT_EQ(names(g, cc.classProducers[static_cast<size_t>(cls)]),
            (std::vector<std::string>{"features.2.0.block.0.0", "features.2.0.block.2.fc2"}));
  // The depthwise conv passes the expanded segment through: it is not a producer.
  EXPECT_EQ(cc.classOfProducer(g.find("features.2.0.block.1.0")), -1);
}

TEST(IrChannels, DenseNetConcatKeepsSegmentsApart) {
  NetworkOptions o;
  o.width = 0.25;
  Graph g = stdlib::catalog().build("densenet121", o);
  ChannelClasses cc = analyzeChannels(g);
  const ChannelLayout& cat = cc.layout[static_cast<size_t>(g.find("features.denseblock1.denselayer3.cat"))];
  ASSERT_EQ(cat.segments.size(), 3u);
  EXPECT_EQ(g.node(cc.segmentProducer[static_cast<size_t>(cat.segments[0].id)]).name, "features.conv0");
  EXPECT_EQ(g.node(cc.segmentProducer[static_cast<size_t>(cat.segments[2].id)]).name,
            "features.denseblock1.denselayer2.conv2");
  EXPECT_EQ(cat.total(), 16 + 2 * 8);
  for (size_t c = 0; c < cc.classCount(); ++c) EXPECT_EQ(cc.classProducers[c].size(), 1u);
}

TEST(IrChannels, MisalignedAddIsFlagged) {
  GraphBuilder b;
  std::string x = b.input("input", 4);
  std::string a = b.conv("a", x, 4, 2, 1);
  std::string c = b.conv("c", x, 4, 2, 1);
  std::string cat = b.concat("cat", {a, c});
  std::string d = b.conv("d", x, 4, 4, 1);
  std::string s = b.add("sum", cat, d);
  Graph g = std::move(b).finish(s);
  ChannelClasses cc = analyzeChannels(g);
  EXPECT_TRUE(cc.classMisaligned[static_cast<size_t>(cc.classOfProducer(g.find("d")))]);
}

TEST(IrPaths, NodesModulesHeadAndSuggestions) {
  Graph g = resnet18Quarter();
  auto conv = findLayer(g, "layer1.0.conv1");
  ASSERT_TRUE(conv);
  EXPECT_EQ(conv->kind, LayerRef::Kind::Node);
  auto block = findLayer(g, "layer1.0");
  ASSERT_TRUE(block);
  EXPECT_EQ(block->kind, LayerRef::Kind::Module);
  EXPECT_EQ(g.node(block->node).name, "layer1.0.relu_1");
  auto stage = findLayer(g, "layer2");
  ASSERT_TRUE(stage);
  EXPECT_EQ(g.node(stage->node).name, "layer2.1.relu_1");
  EXPECT_FALSE(findLayer(g, "layer1.0.conv"));
  EXPECT_EQ(g.node(findHead(g)).name, "fc");
  Graph eff = stdlib::catalog().build("efficientnet_b0", NetworkOptions{});
  EXPECT_EQ(eff.node(findHead(eff)).name, "classifier.1");
  Graph vgg = stdlib::catalog().build("vgg11_bn", NetworkOptions{});
  EXPECT_EQ(vgg.node(findHead(vgg)).name, "classifier.6");

  diag::SourceManager sm;
  diag::FileId f = sm.addFile("t.mhr", "layer1.0.convl\n");
  diag::DiagnosticEngine diags(sm);
  ast::Path p;
  p.segments = {"layer1", "0", "convl"};
  p.range = {f, 0, 14};
  EXPECT_FALSE(resolveLayer(g, p, "base", diags));
  ASSERT_EQ(diags.diagnostics().size(), 1u);
  EXPECT_EQ(diags.diagnostics()[0].code, "E0301");
  ASSERT_EQ(diags.diagnostics()[0].notes.size(), 1u);
  EXPECT_EQ(diags.diagnostics()[0].notes[0].message, "did you mean 'layer1.0.conv1'?");
}

TEST(IrPaths, BranchNodesAreRecognisedByTheirPrefix) {
  for (const char* name : {"input_branch.0", "input_branch.fc", "input_branch2.add",
                           "layer1.0_branch.3_flatten", "layer1_branch12.fc"})
    EXPECT_TRUE(inBranch(name)) << name;
  for (const char* name : {"fc", "branch.0", "_branch.0", "input_branchx.0", "Mixed_5b.branch_pool",
                           "input_deepen.0", "layer1.0_residual.add"})
    EXPECT_FALSE(inBranch(name)) << name;
}

TEST(IrGraph, EqualityAndValueSemantics) {
  Graph a = resnet18Quarter();
  Graph b = resnet18Quarter();
  EXPECT_EQ(a, b);
  std::vector<Node> nodes = a.nodeList();
  nodes[static_cast<size_t>(a.find("layer1.0.conv1"))].conv.padMode = PadMode::Reflect;
  Graph c(nodes, a.outputName());
  EXPECT_NE(a, c);
  EXPECT_EQ(a, b); // the original is untouched
  // The origin is not part of equality.
  nodes = a.nodeList();
  nodes[0].origin = diag::SourceRange{0, 1, 2};
  EXPECT_EQ(Graph(nodes, a.outputName()), a);
}

// Everything a graph made by withChanges answers equals what the same node list built from scratch answers.
void expectSameAsRebuilt(const Graph& g) {
  const Graph r(g.nodeList(), g.outputName());
  ASSERT_EQ(g, r);
  ASSERT_EQ(g.size(), r.size());
  EXPECT_EQ(g.inputId(), r.inputId());
  EXPECT_EQ(g.outputId(), r.outputId());
  for (NodeId id = 0; id < static_cast<NodeId>(g.size()); ++id) {
    const std::string& name = g.node(id).name;
    EXPECT_EQ(g.find(name), id) << name;
    const IdSpan gi = g.inputsOf(id), ri = r.inputsOf(id), gu = g.usersOf(id), ru = r.usersOf(id);
    EXPECT_EQ(std::vector<NodeId>(gi.begin(), gi.end()), std::vector<NodeId>(ri.begin(), ri.end())) << name;
    EXPECT_EQ(std::vector<NodeId>(gu.begin(), gu.end()), std::vector<NodeId>(ru.begin(), ru.end())) << name;
    EXPECT_EQ(g.factsOf(id), r.factsOf(id)) << name;
  }
  EXPECT_EQ(g.find("no.such.node"), kNoNode);
}

// OutputFacts restate what analyzeChannels' layouts say about channel counts and flattening (the verifier
// relies on the cheap one); the two must agree on networks with concats, gates, flattens and linears.
TEST(IrGraph, OutputFactsAgreeWithChannelLayouts) {
  NetworkOptions o;
  o.classes = 2;
  for (const char* net : {"resnet18", "densenet121", "efficientnet_b0", "vgg11_bn"}) {
    const Graph g = stdlib::catalog().build(net, o);
    const ChannelClasses cc = analyzeChannels(g);
    for (NodeId id = 0; id < static_cast<NodeId>(g.size()); ++id) {
      EXPECT_EQ(g.factsOf(id).channels, cc.layout[static_cast<size_t>(id)].total())
          << net << " " << g.node(id).name;
      EXPECT_EQ(g.factsOf(id).flattened, cc.layout[static_cast<size_t>(id)].flattened) << net;
    }
    EXPECT_EQ(g.factsOf(g.outputId()).rank, 2) << net;
    EXPECT_EQ(g.factsOf(g.inputId()).rank, 4) << net;
  }
}

TEST(IrGraph, WithChangesAnswersLikeARebuiltGraph) {
  Graph g = resnet18Quarter();
  const NodeId anchor = g.find("layer1.0.conv1");
  ASSERT_NE(anchor, kNoNode);
  const int64_t c = g.node(anchor).conv.outChannels;
  for (int round = 0; round < 3; ++round) {
    // A residual block after the anchor; every reader of the anchor now reads the block's add.
    const std::string p = "layer1.0.conv1_r" + std::to_string(round);
    std::vector<Node> block;
    GraphBuilder b;
    b.conv(p + ".conv", "layer1.0.conv1", c, c, 3, 1, 1);
    b.add(p + ".add", "layer1.0.conv1", p + ".conv");
    block = b.nodes();
    std::vector<std::pair<NodeId, Node>> readers;
    for (NodeId u : g.usersOf(anchor)) {
      Node n = g.node(u);
      for (std::string& in : n.inputs)
        if (in == "layer1.0.conv1") in = p + ".add";
      readers.emplace_back(u, std::move(n));
    }
    const Graph before = g;
    g = g.withChanges(anchor, std::move(block), std::move(readers), g.outputName());
    expectSameAsRebuilt(g);
    ASSERT_TRUE(g.changedSince(before).has_value());
    EXPECT_FALSE(g.changedSince(resnet18Quarter()).has_value());
    EXPECT_TRUE(verifyChanges(g, before).empty());
  }
  // A replaced node that changes channel counts downstream: its facts change, the verifier sees the readers.
  const NodeId fc = g.find("fc");
  Node wider = g.node(g.find("layer4.1.conv2"));
  wider.conv.outChannels += 1;
  const Graph before = g;
  g = g.withChanges(kNoNode, {}, {{g.find("layer4.1.conv2"), wider}}, g.outputName());
  expectSameAsRebuilt(g);
  ASSERT_TRUE(g.changedSince(before).has_value());
  EXPECT_FALSE(g.changedSince(before)->facts.empty()); // layer4.1.bn2 and what follows carry one more channel
  std::vector<std::string> full, changed;
  for (const VerifyProblem& p : verifyGraph(g)) full.push_back(p.message);
  for (const VerifyProblem& p : verifyChanges(g, before)) changed.push_back(p.message);
  EXPECT_FALSE(full.empty());
  EXPECT_EQ(changed, full);
  EXPECT_NE(fc, kNoNode);
}

TEST(IrVerifier, StdlibNetworksVerifyAndBrokenAttributesAreReported) {
  for (const std::string& name : stdlib::catalog().names()) {
    NetworkOptions o;
    o.width = 0.25;
    Graph g = stdlib::catalog().build(name, o);
    EXPECT_TRUE(verifyGraph(g).empty()) << name << ": " << verifyGraph(g)[0].message;
  }
  Graph g = resnet18Quarter();
  std::vector<Node> nodes = g.nodeList();
  nodes[static_cast<size_t>(g.find("layer1.0.conv2"))].conv.inChannels = 15;
  nodes[static_cast<size_t>(g.find("layer1.0.bn1"))].bn.eps = 0;
  std::vector<VerifyProblem> problems = verifyGraph(Graph(nodes, g.outputName()));
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].message, "layer1.0.bn1: eps must be positive");
  EXPECT_EQ(problems[1].message, "layer1.0.conv2: expects 15 input channels, its input has 16");
}

TEST(IrPrinter, DeterministicTextWithShapesAndClasses) {
  NetworkOptions o;
  o.classes = 2;
  Graph g = stdlib::catalog().build("tiny_cnn", o);
  ShapeResult r = inferShapes(g, 1, 16, 16);
  ASSERT_TRUE(r.ok());
  PrintOptions po;
  po.shapes = &r.shapes;
  const std::string expected =
      "  %input = input {channels: 3} : [1, 3, 16, 16]\n"
      "  %conv1 = conv2d(%input) {in: 3, out: 8, kernel: 3x3, stride: 1x1, padding: 1x1, bias: false} : [1, "
      "8, 16, "
      "16]\n"
      "  %bn1 = batch_norm2d(%conv1) {features: 8, eps: 1e-5, momentum: 0.1} : [1, 8, 16, 16]\n"
      "  %act1 = relu(%bn1) : [1, 8, 16, 16]\n"
      "  %maxpool = max_pool2d(%act1) {kernel: 2x2, stride: 2x2, padding: 0x0} : [1, 8, 8, 8]\n"
      "  %conv2 = conv2d(%maxpool) {in: 8, out: 16, kernel: 3x3, stride: 1x1, padding: 1x1, bias: false} : "
      "[1, 16, "
      "8, 8]\n"
      "  %bn2 = batch_norm2d(%conv2) {features: 16, eps: 1e-5, momentum: 0.1} : [1, 16, 8, 8]\n"
      "  %act2 = relu(%bn2) : [1, 16, 8, 8]\n"
      "  %avgpool = adaptive_avg_pool2d(%act2) {output: 1x1} : [1, 16, 1, 1]\n"
      "  %flatten = flatten(%avgpool) : [1, 16]\n"
      "  %fc = linear(%flatten) {in: 16, out: 2, bias: true} : [1, 2]\n"
      "  return %fc\n";
  EXPECT_EQ(printGraph(g, po), expected);
  PrintOptions classes;
  classes.channelClasses = true;
  const std::string text = printGraph(resnet18Quarter(), classes);
  EXPECT_NE(text.find("#   [conv1, layer1.0.conv2, layer1.1.conv2]: 16 channels\n"), std::string::npos);
  EXPECT_EQ(text, printGraph(resnet18Quarter(), classes));
}

TEST(IrParams, TensorsOfEachOp) {
  GraphBuilder b;
  std::string x = b.input("input", 4);
  x = b.conv("dw", x, 4, 4, 3, 1, 1, 4, true);
  x = b.prelu("pr", x, 4);
  x = b.paramAct("pa", x, Activation{ActKind::Gelu}, 4);
  Graph g = std::move(b).finish(x);
  std::vector<TensorSpec> t = stateDictSpec(g);
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].name, "dw.weight");
  EXPECT_EQ(t[0].shape, (std::vector<int64_t>{4, 1, 3, 3}));
  EXPECT_EQ(t[1].name, "dw.bias");
  EXPECT_EQ(t[2].name, "pr.weight");
  EXPECT_EQ(t[3].name, "pa.a");
  EXPECT_EQ(parameterCount(g), 36 + 4 + 4 + 4);
}

} // namespace
} // namespace mhr::ir
