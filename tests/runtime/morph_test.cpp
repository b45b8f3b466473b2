// Morphs in weight space, checked numerically for every morph kind: every morph experiment of the prover's
// own golden cases (tests/golden/verify/*.mhr) is compiled, the parent gets random weights (batch-norm
// statistics too), the recipes are applied and each statement is re-checked in float64. A statement proved
// exact (or exact in eval mode) must agree to float32 rounding; a refuted one must show the error the prover
// predicted. Also: an exact claim that fails stops the run with both facts, and 3-channel weights adapt to a
// 1-channel stem.
#include "compiler/pipeline.h"
#include "runtime/morph.h"
#include "stdlib/catalog.h"
#include "support/error.h"
#include "support/files.h"
#include "tests/runtime/recording_sink.h"
#include "tests/runtime/test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

namespace mhr::runtime {
namespace {

// Random parameters and non-trivial batch-norm statistics, so that eval-mode proofs are really exercised.
StateDict randomWeights(const ir::Graph& graph, uint64_t seed) {
  torch::manual_seed(static_cast<int64_t>(seed));
  Network net(graph);
  net->resetParameters();
  torch::NoGradGuard noGrad;
  for (auto& m : net->modules(false))
    if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get())) {
      bn->running_mean.uniform_(-0.5, 0.5);
      bn->running_var.uniform_(0.5, 2.0);
      bn->weight.uniform_(0.5, 1.5);
      bn->bias.uniform_(-0.2, 0.2);
    }
  StateDict out;
  StateDict live = moduleStateDict(*net);
  for (const std::string& n : live.names()) out.add(n, live.at(n).clone());
  return out;
}

struct Case {
  std::string file;
  compiler::CompileResult result;
};

plan::NetworkPlan childPlan(const compiler::NetworkIr& net) {
  plan::NetworkPlan p;
  p.name = net.stmt->name.text;
  p.origin = plan::NetworkPlan::Origin::Morph;
  p.parent = net.stmt->parent.text;
  p.steps = net.morph->steps;
  p.graph = net.morph->graph;
  return p;
}

TEST(Morph, EveryGoldenMorphIsPreservedExactlyWhereProved) {
  std::set<std::string> kindsExact, kindsRefuted, kindsApproximate, refutedButPreserved;
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator("tests/golden/verify")) {
    const std::string path = entry.path().string();
    if (entry.path().extension() != ".mhr" || path.find("_err_") != std::string::npos) continue;
    compiler::CompileOptions options;
    options.catalog = &stdlib::catalog();
    options.stopAfter = compiler::Stage::Verify;
    compiler::CompileResult r = compiler::compileFile(path, options);
    std::map<std::string, const compiler::NetworkIr*> byName;
    for (const auto& n : r.networks) byName[n.stmt->name.text] = &n;
    for (const auto& n : r.networks) {
      if (!n.morph) continue;
      const compiler::NetworkIr* parent = byName[n.stmt->parent.text];
      ASSERT_NE(parent, nullptr) << path;
      SCOPED_TRACE(path);
      StateDict parentWeights = randomWeights(parent->graph, 5);
      test::RecordingSink sink;
      RecheckOptions o;
      o.seed = 11;
      StateDict childWeights;
      try {
        childWeights = morphWeights(childPlan(n), parent->graph, parentWeights, "", sink, o);
      } catch (const UserError& e) {
        FAIL() << path << ": " << e.what();
      }
      ASSERT_EQ(sink.verdicts.size(), n.morph->steps.size());
      ASSERT_EQ(sink.lineage.size(), 1u);
      for (size_t i = 0; i < sink.verdicts.size(); ++i) {
        const VerdictRecord& v = sink.verdicts[i];
        const plan::MorphStep& step = n.morph->steps[i];
        const std::string kind = plan::morphKindName(step.recipe.kind);
        SCOPED_TRACE(v.statement + " [" + v.verdict + "] " + v.reason);
        if (v.verdict == "declared" || !step.recipe.applied) {
          EXPECT_TRUE(std::isnan(v.maxAbsError));
          continue;
        }
        ++checked;
        if (v.verdict == "refuted" && v.reason.find("cannot run") != std::string::npos) {
          kindsRefuted.insert(kind); // applied, but the network no longer runs: nothing to compare
          continue;
        }
        ASSERT_FALSE(std::isnan(v.maxAbsError));
        if (v.verdict == "exact" || v.verdict == "eval") {
          EXPECT_LE(v.relError, 1e-5);
          EXPECT_EQ(v.mode, v.verdict == "exact" ? "both" : "eval");
          // (border errors relative to the feature map are checked by morphWeights itself: it throws)
          kindsExact.insert(kind);
        } else if (v.verdict == "approximate") {
          // Approximate promises no exactness (and may be conservative: an identity kernel never reads the
          // reflect padding an upscale changes); a noise split, though, must be measurably different.
          if (step.recipe.widen.noiseSigma > 0) {
            EXPECT_GT(v.maxAbsError, 1e-6);
          }
          kindsApproximate.insert(kind);
        } else if (v.verdict == "refuted") {
          // The numbers agree with the refutation: visible at the checked size, or (upscale) at a size the
          // factor does not divide.
          bool visible = v.relError > 1e-3 || v.reason.find("not divisible") != std::string::npos;
          if (!visible)
            refutedButPreserved.insert(entry.path().filename().string() + ": " + v.statement);
          else
            kindsRefuted.insert(kind);
        }
      }
      // The weights fit the child graph exactly (names and shapes asserted inside applyRecipe); they load.
      Network child(n.morph->graph);
      loadStateDict(*child, childWeights, "child");
    }
  }
  EXPECT_GT(checked, 30);
  // Refutations the numbers contradict. Known: an even-kernel identity conv gets asymmetric 'same' padding
  // (extra row/column at the bottom/right) with its 1 at [0, 0], which IS the identity; the prover refutes it
  // ("no centre tap"). Reported to the prover's owner; remove the entry when the two agree.
  std::set<std::string> known = {"deepen_refuted_even_kernel.mhr: deepen after act1 with conv(2x2)"};
  EXPECT_EQ(refutedButPreserved, known);
  for (const char* k : {"upscale", "deepen", "widen", "grow kernel", "activation", "branch"})
    EXPECT_TRUE(kindsExact.count(k)) << "no exact case checked for " << k;
  // The prover applies refuted deepen and upscale statements (so they can be measured); refuted widen and
  // activation statements are not applied, and grow kernel is never refuted.
  for (const char* k : {"upscale", "deepen"})
    EXPECT_TRUE(kindsRefuted.count(k)) << "no refuted case for " << k;
  for (const char* k : {"upscale", "widen"}) EXPECT_TRUE(kindsApproximate.count(k)) << "no approximate " << k;
}

// An upscale at a size the factor divides is exact; the note reports the error at one it does not divide.
TEST(Morph, UpscaleReportsNonDivisibleSizes) {
  compiler::CompileOptions options;
  options.catalog = &stdlib::catalog();
  compiler::CompileResult r = compiler::compileText("mem.mhr", R"(experiment "t"
seed 1
dataset d = synthetic_mammo(count: 8, size: 64x64, seed: 1)
network base = tiny_cnn(classes: 2)
network child = morph base {
  upscale conv1 by 2
}
evaluate child on d.test at 64x64
)",
                                                    options);
  ASSERT_TRUE(r.ok()) << "compile failed";
  const plan::NetworkPlan& base = *r.plan->network("base");
  const plan::NetworkPlan& child = *r.plan->network("child");
  test::RecordingSink sink;
  morphWeights(child, base.graph, randomWeights(base.graph, 3), "train.base", sink, {});
  ASSERT_EQ(sink.verdicts.size(), 1u);
  EXPECT_EQ(sink.verdicts[0].verdict, "exact");
  EXPECT_LE(sink.verdicts[0].relError, 1e-6);
  EXPECT_NE(sink.verdicts[0].reason.find("not divisible by 2"), std::string::npos) << sink.verdicts[0].reason;
  EXPECT_EQ(sink.lineage[0].parentStage, "train.base");
}

// If the prover's claim and the numbers disagree, the run stops and the message holds both facts. Simulated
// by corrupting a recipe (an identity conv whose centre tap is misplaced, the classic Net2Net off-by-one).
TEST(Morph, ExactClaimThatFailsStopsTheRun) {
  compiler::CompileOptions options;
  options.catalog = &stdlib::catalog();
  compiler::CompileResult r = compiler::compileText("mem.mhr", R"(experiment "t"
seed 1
dataset d = synthetic_mammo(count: 8, size: 64x64, seed: 1)
network base = tiny_cnn(classes: 2)
network child = morph base {
  deepen after act1 with conv(3x3) + relu
}
evaluate child on d.test at 64x64
)",
                                                    options);
  ASSERT_TRUE(r.ok());
  plan::NetworkPlan child = *r.plan->network("child");
  const plan::NetworkPlan& base = *r.plan->network("base");
  ASSERT_EQ(child.steps[0].verdict, plan::Verdict::Exact);
  bool corrupted = false;
  for (plan::TensorInit& init : child.steps[0].recipe.created)
    if (init.kind == plan::TensorInit::Kind::IdentityConv) {
      init.kind = plan::TensorInit::Kind::Uniform; // no longer the identity
      init.low = -0.1;
      init.high = 0.1;
      corrupted = true;
    }
  ASSERT_TRUE(corrupted);
  test::RecordingSink sink;
  try {
    morphWeights(child, base.graph, randomWeights(base.graph, 3), "", sink, {});
    FAIL() << "expected the run to stop";
  } catch (const UserError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("the prover called 'deepen after act1 with conv(3x3) + relu' exact"), std::string::npos)
        << m;
    EXPECT_NE(m.find("numeric re-check"), std::string::npos) << m;
  }
  ASSERT_EQ(sink.verdicts.size(), 1u); // recorded before stopping
  EXPECT_GT(sink.verdicts[0].relError, 1e-3);
}

// ImageNet weights (3 input channels) into a grayscale network: the stem weight is summed over its input
// channels, so the 1-channel network on x equals the 3-channel one on (x, x, x).
TEST(Morph, ImportsThreeChannelWeightsIntoGrayStem) {
  ir::NetworkOptions o3;
  o3.classes = 4;
  o3.width = 0.25;
  ir::NetworkOptions o1 = o3;
  o1.inChannels = 1;
  ir::Graph g3 = stdlib::catalog().build("resnet18", o3);
  ir::Graph g1 = stdlib::catalog().build("resnet18", o1);
  StateDict w3 = randomWeights(g3, 9);
  test::TempDir dir;
  writeStateDict(dir.file("rgb.safetensors"), w3);

  plan::NetworkPlan p;
  p.name = "gray";
  p.graph = g1;
  p.weights = dir.file("rgb.safetensors");
  p.import = plan::importRecipeFor(g1);
  ASSERT_EQ(p.import.sumInputChannels, std::vector<std::string>{"conv1.weight"});
  Network gray(g1);
  importWeights(p, *gray);
  Network rgb(g3);
  loadStateDict(*rgb, w3, "rgb");
  gray->eval();
  rgb->eval();
  torch::NoGradGuard noGrad;
  torch::Tensor x = torch::randn({2, 1, 48, 40});
  torch::Tensor a = gray->forward(x), b = rgb->forward(x.expand({2, 3, 48, 40}).contiguous());
  EXPECT_TRUE(torch::allclose(a, b, 1e-4, 1e-5));

  // Without the recipe the same file is a clear shape error naming the stem.
  p.import.sumInputChannels.clear();
  Network again(g1);
  try {
    importWeights(p, *again);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("'conv1.weight' has shape [16, 3, 7, 7] in the file"),
              std::string::npos)
        << e.what();
  }
}

} // namespace
} // namespace mhr::runtime
