// The standard library against torchvision 0.14: parameter counts of every network, and every state_dict key,
// shape and order for resnet18, resnet50, densenet121, efficientnet_b0 and vgg11_bn. The reference files in
// tests/ir/data/ were generated once by tests/ir/data/gen_torchvision_reference.py with Debian's
// python3-torchvision 0.14.1 (torchvision.models.<name>(weights=None)).
#include "compiler/ir/params.h"
#include "compiler/ir/shapes.h"
#include "stdlib/catalog.h"
#include "stdlib/networks.h"
#include "support/files.h"
#include "support/strings.h"

#include <gtest/gtest.h>

namespace mhr::stdlib {
namespace {

ir::Graph build(const std::string& name, int64_t classes = 1000) {
  ir::NetworkOptions o;
  o.classes = classes;
  return catalog().build(name, o);
}

// Parameter counts: sum(p.numel() for p in model.parameters()) with torchvision 0.14.1 (tests/ir/data/
// param_counts.txt); the same numbers are torchvision's documented `num_params` (e.g. pytorch.org/vision
// resnet50: 25557032).
TEST(Stdlib, ParameterCountsEqualTorchvision) {
  const std::pair<const char*, int64_t> expected[] = {
      {"resnet18", 11689512},  {"resnet34", 21797672},   {"resnet50", 25557032},
      {"resnet101", 44549160}, {"densenet121", 7978856}, {"efficientnet_b0", 5288548},
      {"vgg11_bn", 132868840}, {"vgg16_bn", 138365992},
  };
  for (const auto& [name, count] : expected) EXPECT_EQ(ir::parameterCount(build(name)), count) << name;
  // And the checked-in reference file agrees with the numbers above.
  std::optional<std::string> text = support::readFile("tests/ir/data/param_counts.txt");
  ASSERT_TRUE(text);
  size_t lines = 0;
  for (const std::string& line : support::split(*text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = support::split(line, ' ');
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(ir::parameterCount(build(f[0])), std::stoll(f[1])) << f[0];
    ++lines;
  }
  EXPECT_EQ(lines, 8u);
}

void expectStateDictMatches(const std::string& name) {
  std::optional<std::string> text = support::readFile("tests/ir/data/" + name + ".keys");
  ASSERT_TRUE(text) << "missing reference for " << name;
  std::vector<ir::TensorSpec> ours = ir::stateDictSpec(build(name));
  size_t i = 0;
  for (const std::string& line : support::split(*text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = support::split(line, ' ');
    ASSERT_GE(f.size(), 2u) << line;
    ASSERT_LT(i, ours.size()) << name << ": torchvision has more tensors, next is " << f[1];
    const ir::TensorSpec& t = ours[i++];
    EXPECT_EQ(t.name, f[1]) << name << " tensor " << i - 1;
    EXPECT_EQ(ir::shapeText(t.shape), f.size() > 2 ? f[2] : "") << t.name;
    EXPECT_EQ(t.role == ir::TensorRole::Parameter ? "param" : "buffer", f[0]) << t.name;
    EXPECT_EQ(t.dtype == ir::DType::Int64, support::endsWith(t.name, "num_batches_tracked")) << t.name;
  }
  EXPECT_EQ(i, ours.size()) << name << ": we have more tensors than torchvision";
}

TEST(Stdlib, ResNet18StateDictMatchesTorchvision) {
  expectStateDictMatches("resnet18");
}
TEST(Stdlib, ResNet50StateDictMatchesTorchvision) {
  expectStateDictMatches("resnet50");
}
TEST(Stdlib, DenseNet121StateDictMatchesTorchvision) {
  expectStateDictMatches("densenet121");
}
TEST(Stdlib, EfficientNetB0StateDictMatchesTorchvision) {
  expectStateDictMatches("efficientnet_b0");
}
TEST(Stdlib, Vgg11BnStateDictMatchesTorchvision) {
  expectStateDictMatches("vgg11_bn");
}

TEST(Stdlib, EveryNetworkRunsAt224AndGivesOneLogitPerClass) {
  for (const std::string& name : catalog().names()) {
    ir::NetworkOptions o;
    o.classes = 14;
    ir::ShapeResult r = ir::inferShapes(catalog().build(name, o), 2, 224, 224);
    ASSERT_TRUE(r.ok()) << name << ": " << r.error->message;
    EXPECT_EQ(r.shapes.back(), (ir::TensorShape{2, 2, 14, 1, 1})) << name;
  }
}

TEST(Stdlib, WidthRuleAndGrayscaleStem) {
  EXPECT_EQ(scaleChannels(64, 0.25), 16);
  EXPECT_EQ(scaleChannels(32, 0.1), 3);   // 3.2 -> 3
  EXPECT_EQ(scaleChannels(40, 0.1), 4);   // 4.0
  EXPECT_EQ(scaleChannels(24, 0.1), 2);   // 2.4 -> 2
  EXPECT_EQ(scaleChannels(8, 0.0625), 1); // 0.5 rounds half up
  EXPECT_EQ(scaleChannels(8, 0.01), 1);   // never 0
  ir::NetworkOptions o;
  o.width = 0.25;
  o.inChannels = 1;
  ir::Graph g = catalog().build("resnet50", o);
  EXPECT_EQ(g.lookup("conv1")->conv.inChannels, 1);
  EXPECT_EQ(g.lookup("conv1")->conv.outChannels, 16);
  EXPECT_EQ(g.lookup("layer1.0.conv3")->conv.outChannels, 64);
  EXPECT_EQ(g.lookup("fc")->linear.inFeatures, 512);
  for (const std::string& name : catalog().names()) {
    ir::NetworkOptions w;
    w.width = 0.3;
    EXPECT_TRUE(ir::inferShapes(catalog().build(name, w), 1, 64, 64).ok()) << name;
  }
}

TEST(Stdlib, OptionsAreCheckedWithLocations) {
  diag::SourceManager sm;
  diag::FileId f = sm.addFile("t.mhr", "resnet18(clases: 2, width: -1, dropout: 0.1)");
  diag::DiagnosticEngine diags(sm);
  auto arg = [&](const char* key, uint32_t begin, uint32_t end, ast::Value v) {
    ast::Argument a;
    a.name = ast::Name{key, {f, begin, begin + static_cast<uint32_t>(std::string(key).size())}};
    a.value = std::move(v);
    a.value.range = {f, end - 2, end};
    a.range = {f, begin, end};
    return a;
  };
  ast::Value two;
  two.kind = ast::Value::Kind::Int;
  two.intValue = 2;
  ast::Value minus;
  minus.kind = ast::Value::Kind::Int;
  minus.intValue = -1;
  ast::Value p;
  p.kind = ast::Value::Kind::Float;
  p.floatValue = 0.1;
  std::vector<ast::Argument> args = {arg("clases", 9, 18, two), arg("width", 20, 29, minus),
                                     arg("dropout", 31, 43, p)};
  EXPECT_FALSE(catalog().parseOptions("resnet18", args, diags, {f, 0, 44}));
  ASSERT_EQ(diags.diagnostics().size(), 3u);
  EXPECT_EQ(diags.diagnostics()[0].code, "E0201");
  EXPECT_EQ(diags.diagnostics()[0].notes[0].message, "did you mean 'classes'?");
  EXPECT_EQ(diags.diagnostics()[1].code, "E0204");
  EXPECT_EQ(diags.diagnostics()[2].code, "E0201"); // resnet18 has no dropout
  diag::DiagnosticEngine more(sm);
  EXPECT_FALSE(catalog().parseOptions("resnet81", {}, more, {f, 0, 8}));
  EXPECT_EQ(more.diagnostics()[0].code, "E0111");
  EXPECT_EQ(more.diagnostics()[0].notes[0].message, "did you mean 'resnet18'?");
}

} // namespace
} // namespace mhr::stdlib
