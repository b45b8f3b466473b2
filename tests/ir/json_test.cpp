// IR <-> JSON (compiler/ir/json.h): every stdlib network and a morphed network round-trip to an equal graph,
// and a malformed document is a UserError naming the node and field, never an assert.
#include "compiler/ir/json.h"
#include "compiler/pipeline.h"
#include "stdlib/catalog.h"
#include "support/error.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace mhr::ir {
namespace {

TEST(GraphJson, EveryStdlibNetworkRoundTrips) {
  const NetworkCatalog& cat = stdlib::catalog();
  for (const std::string& name : cat.names()) {
    NetworkOptions o;
    o.classes = 3;
    o.inChannels = 1;
    Graph g = cat.build(name, o);
    Graph back = graphFromJson(graphToJson(g), name);
    EXPECT_TRUE(back == g) << name;
    EXPECT_EQ(graphToJson(back), graphToJson(g)) << name;
  }
}

TEST(GraphJson, AMorphedNetworkRoundTrips) {
  const std::string spec = R"(experiment "t"
seed 1
preservation eval
network base = resnet18(classes: 2, width: 0.25, in_channels: 1)
network hr = morph base {
  upscale conv1 by 4
  deepen after maxpool with conv(3x3) + bn + relu
  deepen after layer1 with residual(conv(3x3) + bn + gelu)
  widen layer1.0.conv1 to 32 split random(seed: 3)
  grow kernel layer2.0.conv1 to 5x5
  activation layer1.0.relu to p(relu)
  activation layer2.0.relu to prelu
  branch input to head with conv(6x6, out_channels: 4, stride: 2) + relu + global_max
}
)";
  compiler::CompileOptions o;
  o.catalog = &stdlib::catalog();
  o.stopAfter = compiler::Stage::Verify;
  compiler::CompileResult r = compiler::compileText("t.mhr", spec, o);
  ASSERT_TRUE(r.ok()) << "the spec above must compile";
  ASSERT_EQ(r.networks.size(), 2u);
  const Graph& g = r.networks[1].graph;
  EXPECT_TRUE(graphFromJson(graphToJson(g), "hr") == g);
  // Every op kind the morphs produced is in the document (a missing attribute would not round-trip).
  const std::string text = graphToJson(g);
  for (const char* op : {"\"p\"", "\"adaptive_max_pool2d\"", "\"batch_norm2d\"", "\"add\""})
    EXPECT_NE(text.find(op), std::string::npos) << op;
}

std::string errorOf(const std::string& text) {
  try {
    graphFromJson(text, "doc");
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no error)";
}

// A small valid graph as JSON, to break one field at a time.
nlohmann::json tiny() {
  GraphBuilder b;
  std::string x = b.input("input", 1);
  x = b.conv("conv1", x, 1, 4, 3, 1, 1);
  x = b.act("relu", x, ActKind::Relu);
  x = b.adaptiveAvgPool("pool", x, 1, 1);
  x = b.flatten("flatten", x);
  x = b.linear("fc", x, 4, 2);
  return nlohmann::json::parse(graphToJson(std::move(b).finish(x)));
}

TEST(GraphJson, MalformedDocumentsAreUserErrorsThatSayWhere) {
  EXPECT_NE(errorOf("{").find("doc: not valid JSON"), std::string::npos);
  EXPECT_NE(errorOf("[]").find("doc: missing field 'format'"), std::string::npos);
  auto broken = [](auto edit) {
    nlohmann::json j = tiny();
    edit(j);
    return errorOf(j.dump());
  };
  EXPECT_NE(broken([](auto& j) { j["format"] = 9; }).find("graph format 9"), std::string::npos);
  EXPECT_NE(broken([](auto& j) { j["nodes"][1]["op"] = "conv3d"; }).find("unknown op 'conv3d'"),
            std::string::npos);
  EXPECT_NE(broken([](auto& j) { j["nodes"][1].erase("kernel"); }).find("('conv1'): missing field 'kernel'"),
            std::string::npos);
  EXPECT_NE(broken([](auto& j) { j["nodes"][1]["groups"] = "one"; }).find("field 'groups' is not an integer"),
            std::string::npos);
  EXPECT_NE(broken([](auto& j) { j["nodes"][2]["name"] = "conv1"; }).find("node 'conv1' is defined twice"),
            std::string::npos);
  EXPECT_NE(
      broken([](auto& j) { j["nodes"][1]["inputs"] = {"fc"}; }).find("reads 'fc', which is not an earlier"),
      std::string::npos);
  EXPECT_NE(broken([](auto& j) {
              j["nodes"][2]["op"] = "input", j["nodes"][2]["channels"] = 4;
            }).find("the input node has inputs"),
            std::string::npos);
  EXPECT_NE(broken([](auto& j) { j["output"] = "head"; }).find("output 'head' is not a node"),
            std::string::npos);
  EXPECT_NE(broken([](auto& j) {
              j["nodes"][2]["activation"]["kind"] = "swish";
            }).find("unknown activation 'swish'"),
            std::string::npos);
  // Wiring the per-op verifier catches: the linear reads 4 features, give it 5.
  EXPECT_NE(broken([](auto& j) { j["nodes"][5]["in_features"] = 5; }).find("doc: fc"), std::string::npos);
}

} // namespace
} // namespace mhr::ir
