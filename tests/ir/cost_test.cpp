// The cost model: MACs against torchvision's documented GFLOPS and our own hook count, the memory model
// against hand-counted tensors and against PyTorch eager peaks measured on an H100, checkpoint planning.
#include "compiler/cost/cost_report.h"
#include "stdlib/catalog.h"
#include "support/files.h"
#include "support/strings.h"

#include <gtest/gtest.h>

#include <cmath>

namespace mhr::cost {
namespace {

ir::Graph build(const std::string& name, double width = 1.0) {
  ir::NetworkOptions o;
  o.width = width;
  return stdlib::catalog().build(name, o);
}

NetworkCost costOf(const std::string& name, int64_t h, int64_t w) {
  std::optional<NetworkCost> c = analyze(build(name), h, w);
  EXPECT_TRUE(c);
  return *c;
}

TEST(CostMacs, ResNet50At224IsThePublished4GMacs) {
  // He et al. and torchvision: ResNet-50 is "4.1 GMACs" at 224x224 (torchvision docs: 4.09 GFLOPS).
  const double macs = static_cast<double>(costOf("resnet50", 224, 224).macs);
  EXPECT_LT(std::abs(macs - 4.1e9) / 4.1e9, 0.01) << macs;
}

TEST(CostMacs, EveryNetworkMatchesTorchvisionDocs) {
  // GFLOPS column of pytorch.org/vision/stable/models (torchvision's own count of conv + linear MACs).
  const std::pair<const char*, double> docs[] = {
      {"resnet18", 1.81},    {"resnet34", 3.66},        {"resnet50", 4.09}, {"resnet101", 7.80},
      {"densenet121", 2.83}, {"efficientnet_b0", 0.39}, {"vgg11_bn", 7.61}, {"vgg16_bn", 15.47},
  };
  for (const auto& [name, g] : docs) {
    // The docs round to two decimals: ours must round to the same value.
    const double macs = static_cast<double>(costOf(name, 224, 224).macs) / 1e9;
    EXPECT_EQ(std::round(macs * 100) / 100, g) << name << ": " << macs << " G vs " << g << " G";
  }
  // And exactly the forward-hook count with torchvision 0.14 (tests/ir/data/macs_224.txt).
  std::optional<std::string> text = support::readFile("tests/ir/data/macs_224.txt");
  ASSERT_TRUE(text);
  size_t rows = 0;
  for (const std::string& line : support::split(*text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = support::split(line, ' ');
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(costOf(f[0], 224, 224).macs, std::stoll(f[1])) << f[0];
    ++rows;
  }
  EXPECT_EQ(rows, 8u);
}

TEST(CostMacs, ScaleWithResolution) {
  // Every layer of ResNet-50 at 448x448 sees 4x the pixels except the classifier.
  const NetworkCost a = costOf("resnet50", 224, 224), b = costOf("resnet50", 448, 448);
  const int64_t fc = 2048 * 1000;
  EXPECT_EQ(b.macs - fc, 4 * (a.macs - fc));
}

TEST(CostMemory, HandCountedTinyCnn) {
  ir::NetworkOptions o;
  o.classes = 3;
  ir::Graph g = stdlib::catalog().build("tiny_cnn", o);
  std::optional<NetworkCost> c = analyze(g, 8, 8);
  ASSERT_TRUE(c);
  TrainingSetup s;
  s.batch = 2;
  s.optimizer = plan::OptimizerKind::Adam;
  MemoryEstimate m = trainingMemory(g, *c, s);
  // Saved: conv1 out (bn1, 8*8*8) + act1 out (relu, maxpool) + maxpool out (conv2, 8*4*4) + conv2 out (bn2,
  // 16*4*4) + act2 out (relu, avgpool) + flatten out (fc, 16) = 512+512+128+256+256+16 = 1680 floats, plus
  // the max pool's int64 indices (128 elements); the input itself is counted separately.
  EXPECT_EQ(m.savedBytes, 2 * (1680 * 4 + 128 * 8));
  EXPECT_EQ(m.parameterBytes, 4 * c->parameters);
  EXPECT_EQ(m.optimizerBytes, 2 * 4 * c->parameters);
  EXPECT_EQ(m.inputBytes, 2 * 3 * 8 * 8 * 4);
  // The peak is in act2's backward: everything saved except fc's input (freed after fc's backward), plus the
  // gradients of act2's output and of its input bn2 (2 x 256 floats per image).
  EXPECT_EQ(g.node(m.peakNode).name, "act2");
  EXPECT_EQ(m.activationBytes, m.savedBytes - 2 * 16 * 4);
  EXPECT_EQ(m.activationGradBytes, 2 * 2 * 256 * 4);
  // bf16 halves the activations but keeps the indices, and adds the input's autocast copy.
  s.precision = Precision::Bf16;
  EXPECT_EQ(trainingMemory(g, *c, s).savedBytes, 2 * (1680 * 2 + 128 * 8 + 3 * 64 * 2));
}

TEST(CostMemory, AgreesWithPyTorchEagerPeaksOnAnH100) {
  // Peak memory of one training step measured with PyTorch eager on an H100, bf16 autocast + channels_last
  // (../research/pytorch-eager-h100.json, from the project's research notes).
  struct Row {
    const char* arch;
    int64_t res, batch;
    double peakGiB;
  };
  const Row rows[] = {
      {"resnet50", 224, 64, 2.97}, {"resnet50", 512, 16, 3.77},        {"resnet50", 1024, 8, 7.32},
      {"resnet50", 2048, 2, 7.32}, {"densenet121", 1024, 8, 10.57},    {"resnet18", 1024, 16, 4.12},
      {"resnet18", 2048, 4, 4.12}, {"efficientnet_b0", 1024, 8, 7.16},
  };
  for (const Row& r : rows) {
    ir::Graph g = build(r.arch);
    std::optional<NetworkCost> c = analyze(g, r.res, r.res);
    ASSERT_TRUE(c);
    TrainingSetup s;
    s.batch = r.batch;
    s.precision = Precision::Bf16;
    const double est = static_cast<double>(trainingMemory(g, *c, s).totalBytes()) / (1024.0 * 1024 * 1024);
    EXPECT_LT(std::abs(est - r.peakGiB) / r.peakGiB, 0.05) << r.arch << " " << r.res << ": " << est << " GiB";
  }
}

TEST(CostCheckpoint, CutPointsAreBlockBoundaries) {
  ir::Graph g = build("resnet18", 0.25);
  std::vector<std::string> names;
  for (ir::NodeId id : cutPoints(g)) names.push_back(g.node(id).name);
  const std::string joined = support::join(names, " ");
  EXPECT_NE(joined.find("maxpool layer1.0.add layer1.0.relu_1 layer1.1.add layer1.1.relu_1 layer2.0.add"),
            std::string::npos)
      << joined;
  EXPECT_EQ(joined.find("layer1.0.bn1"), std::string::npos); // inside a block the skip tensor is also live
  ir::Graph dense = build("densenet121", 0.25);
  for (ir::NodeId id : cutPoints(dense))
    EXPECT_EQ(dense.node(id).name.find("denselayer"), std::string::npos) << dense.node(id).name;
}

TEST(CostCheckpoint, AutoFitsTheBudgetWithLittleRecompute) {
  ir::Graph g = build("resnet50");
  std::optional<NetworkCost> c = analyze(g, 1024, 832);
  ASSERT_TRUE(c);
  TrainingSetup s;
  s.batch = 8;
  s.precision = Precision::Bf16;
  const CheckpointPlan off = planCheckpoints(g, *c, s, CheckpointPolicy::Off, 0);
  const CheckpointPlan all = planCheckpoints(g, *c, s, CheckpointPolicy::All, 0);
  EXPECT_TRUE(off.segments.empty());
  EXPECT_FALSE(all.segments.empty());
  EXPECT_LT(all.memory.totalBytes(), off.memory.totalBytes() / 2);
  EXPECT_GT(all.recomputeMacs, c->macs / 2);
  // A generous budget: nothing to do. A budget between the two: it fits, recomputing less than `all`.
  EXPECT_TRUE(planCheckpoints(g, *c, s, CheckpointPolicy::Auto, off.memory.totalBytes()).segments.empty());
  const int64_t budget = (off.memory.totalBytes() + all.memory.totalBytes()) / 2;
  const CheckpointPlan mid = planCheckpoints(g, *c, s, CheckpointPolicy::Auto, budget);
  EXPECT_TRUE(mid.fits);
  EXPECT_LE(mid.memory.totalBytes(), budget);
  EXPECT_FALSE(mid.segments.empty());
  EXPECT_LT(mid.recomputeMacs, all.recomputeMacs);
  // An impossible budget: the least memory found, flagged.
  const CheckpointPlan tight = planCheckpoints(g, *c, s, CheckpointPolicy::Auto, 1 << 20);
  EXPECT_FALSE(tight.fits);
  EXPECT_LE(tight.memory.totalBytes(), all.memory.totalBytes());
}

TEST(CostCheckpoint, FullFieldMammogramInEightGiB) {
  // TARGETS.md: ResNet-50 bf16 at 4096x3328, batch 1, within an 8 GiB peak thanks to checkpointing.
  ir::Graph g = build("resnet50");
  std::optional<NetworkCost> c = analyze(g, 4096, 3328);
  ASSERT_TRUE(c);
  TrainingSetup s;
  s.precision = Precision::Bf16;
  const int64_t budget = int64_t{8} << 30;
  EXPECT_GT(planCheckpoints(g, *c, s, CheckpointPolicy::Off, 0).memory.totalBytes(), budget);
  const CheckpointPlan p = planCheckpoints(g, *c, s, CheckpointPolicy::Auto, budget);
  EXPECT_TRUE(p.fits) << humanBytes(p.memory.totalBytes());
}

TEST(CostReport, TextAndJson) {
  TrainingSetup s;
  s.batch = 8;
  s.precision = Precision::Bf16;
  std::optional<CostReport> r =
      costReport("base", build("resnet18", 0.25), 512, 416, s, CheckpointPolicy::Auto, int64_t{1} << 30);
  ASSERT_TRUE(r);
  const std::string text = costText(*r);
  EXPECT_NE(text.find("network base at 512x416\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  MACs/image   "), std::string::npos) << text;
  EXPECT_NE(costJson(*r).find("\"precision\": \"bf16\""), std::string::npos);
  std::string error;
  EXPECT_FALSE(costReport("vgg", build("vgg11_bn", 0.25), 16, 16, s, CheckpointPolicy::Off, 0, &error));
  EXPECT_NE(error.find("too small"), std::string::npos) << error;
  EXPECT_EQ(humanBytes(int64_t{3} << 30), "3.00 GiB");
  EXPECT_EQ(humanCount(4089184256), "4.09 G");
}

} // namespace
} // namespace mhr::cost
