// Soundness sweep: every morph statement of a fixed, exhaustive family (each kind on every layer it can name,
// with several blocks and arguments) is run through the prover on small networks; whenever the verdict is
// `exact` the child must equal the parent numerically in train and eval mode, and whenever it is `eval`, in
// eval mode (float64 reference executor, random weights and inputs with negative values). Statements the
// prover rejects must leave diagnostics, never a crash; accepted ones must verify and keep the network
// runnable.
#include "compiler/ir/paths.h"
#include "compiler/ir/shapes.h"
#include "compiler/ir/verifier.h"
#include "compiler/parse/parser.h"
#include "compiler/verify/morph.h"
#include "stdlib/catalog.h"
#include "tests/ir/reference.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>

namespace mhr::verify {
namespace {

struct Tally {
  int exact = 0, eval = 0, approximate = 0, refuted = 0, errors = 0;
  ~Tally() {
    std::printf(
        "  statements: %d exact, %d eval (checked numerically), %d approximate, %d refuted, %d errors\n",
        exact, eval, approximate, refuted, errors);
  }
};

// Parses `network child = morph base { <statement> }` and proves it against `parent`.
void check(const ir::Graph& parent, const std::string& statement, int64_t h, int64_t w, Tally& tally) {
  diag::SourceManager sources;
  const std::string text = "network child = morph base {\n  " + statement + "\n}\n";
  diag::FileId f = sources.addFile("sweep.mhr", text);
  diag::DiagnosticEngine diags(sources);
  std::unique_ptr<ast::File> file = parse::parseFile(f, sources, diags);
  ASSERT_FALSE(diags.hasErrors()) << statement;
  MorphContext ctx;
  ctx.network = "child";
  ctx.parent = "base";
  ctx.seed = 3;
  ctx.preservation = Preservation::Approximate;
  ctx.uses = {StageUse{h, w, {}, "sweep"}};
  std::optional<MorphResult> r =
      morphNetwork(parent, ast::as<ast::NetworkStmt>(*file->statements[0]), ctx, diags);
  ASSERT_TRUE(r) << statement;
  const plan::MorphStep& step = r->steps.at(0);
  if (step.verdict == plan::Verdict::Unproved) {
    ++tally.errors;
    EXPECT_TRUE(diags.hasErrors()) << statement;
    return;
  }
  if (step.verdict == plan::Verdict::Refuted) {
    ++tally.refuted;
    return;
  }
  std::ostringstream d;
  diags.renderText(d);
  EXPECT_TRUE(ir::verifyGraph(r->graph).empty()) << statement;
  if (step.verdict == plan::Verdict::Approximate) {
    ++tally.approximate;
    return;
  }
  if (diags.hasErrors()) return; // e.g. a shape error at this resolution: reported, nothing to compare
  const bool eval = step.verdict == plan::Verdict::Eval;
  (eval ? tally.eval : tally.exact)++;
  testref::StateDict before = testref::randomStateDict(parent, 17);
  testref::StateDict after = testref::applyRecipe(before, step.recipe, 23);
  testref::Tensor x = testref::randomInput(2, parent.node(parent.inputId()).input.channels, h, w, 29);
  // upscale by R proves child(x) == parent(boxR(x)).
  const int64_t box = step.recipe.kind == plan::MorphRecipe::Kind::Upscale ? step.recipe.upscale.factor : 1;
  for (bool train : {false, true}) {
    if (train && eval) continue;
    testref::Tensor a = testref::run(parent, before, box > 1 ? testref::boxDownsample(x, box) : x, train);
    testref::Tensor b = testref::run(r->graph, after, x, train);
    EXPECT_LE(testref::maxAbsDiff(a, b), 1e-9 * std::max(1.0, testref::maxAbs(a)))
        << statement << " (" << plan::verdictName(step.verdict) << ", " << (train ? "train" : "eval")
        << " mode): " << step.reason << "\n"
        << d.str();
  }
}

std::vector<std::string> statementsFor(const ir::Graph& g) {
  std::vector<std::string> out;
  const char* blocks[] = {"conv(3x3) + relu",
                          "conv(3x3) + bn + prelu",
                          "conv(1x1) + gelu",
                          "p(gelu)",
                          "conv(3x3) + relu6",
                          "linear + relu",
                          "bn",
                          "prelu",
                          "residual(conv(3x3) + bn + relu + conv(1x1))",
                          "residual(linear + tanh)",
                          "conv(3x3, groups: 2, dilation: 2, padding_mode: replicate) + p(silu)"};
  for (const ir::Node& n : g.nodes()) {
    for (const char* b : blocks) out.push_back("deepen after " + n.name + " with " + b);
    if (n.op == ir::OpKind::Conv2d) {
      out.push_back("upscale " + n.name + " by 2");
      out.push_back("grow kernel " + n.name + " to " + std::to_string(n.conv.kernelH + 2) + "x" +
                    std::to_string(n.conv.kernelW + 1));
      out.push_back("widen " + n.name + " to " + std::to_string(n.conv.outChannels + 3));
      out.push_back("widen " + n.name + " to " + std::to_string(n.conv.outChannels * 2) +
                    " split random(seed: 1)");
    }
    if (n.op == ir::OpKind::Linear)
      out.push_back("widen " + n.name + " to " + std::to_string(n.linear.outFeatures + 3));
    // Side branches from every tensor to the logits (flat sources and ones after the head are errors).
    out.push_back("branch " + n.name +
                  " to head with conv(3x3, out_channels: 4, stride: 2) + bn + relu + global_max");
    out.push_back("branch " + n.name + " to head with p(gelu) + global_avg + linear + tanh");
    if (n.op == ir::OpKind::Activation || n.op == ir::OpKind::PRelu)
      for (const char* a : {"prelu", "p(relu)", "p(gelu)", "prelu(num_parameters: 1)"})
        out.push_back("activation " + n.name + " to " + a);
  }
  return out;
}

void sweep(const std::string& name, const ir::NetworkOptions& o, int64_t h, int64_t w, Tally& tally) {
  const ir::Graph g = stdlib::catalog().build(name, o);
  for (const std::string& s : statementsFor(g)) check(g, s, h, w, tally);
}

TEST(Soundness, TinyCnnEveryStatement) {
  Tally t;
  ir::NetworkOptions o;
  o.classes = 3;
  sweep("tiny_cnn", o, 12, 10, t);
  o.activation = ir::Activation{ir::ActKind::LeakyRelu, 0.1};
  o.dropout = 0.2;
  sweep("tiny_cnn", o, 12, 10, t);
  // The sweep must exercise every verdict, not only rejections.
  EXPECT_GT(t.exact, 60);
  EXPECT_GT(t.eval, 10);
  EXPECT_GT(t.refuted, 20);
  EXPECT_GT(t.errors, 20);
}

TEST(Soundness, ResNet18EveryStatement) {
  Tally t;
  ir::NetworkOptions o;
  o.classes = 3;
  o.width = 0.125;
  sweep("resnet18", o, 16, 16, t);
  EXPECT_GT(t.exact, 200);
  EXPECT_GT(t.refuted, 50);
}

TEST(Soundness, EfficientNetEveryStatementOfTheFirstStages) {
  // The whole network is too slow for a float64 reference; its stem and first two stages cover depthwise
  // convs, squeeze-excitation and stochastic depth.
  Tally t;
  ir::NetworkOptions o;
  o.classes = 3;
  o.width = 0.125;
  const ir::Graph g = stdlib::catalog().build("efficientnet_b0", o);
  for (const std::string& s : statementsFor(g))
    if (s.find("features.0") != std::string::npos || s.find("features.1.") != std::string::npos ||
        s.find("features.2.0.") != std::string::npos)
      check(g, s, 16, 16, t);
  EXPECT_GT(t.exact, 100);
}

} // namespace
} // namespace mhr::verify
