// A stage's input hash (compiler/plan/stage_hash.h) is equal exactly when what the stage computes cannot
// differ: the same across plans that differ only in a later stage, different when anything the stage reads
// changes — its own settings, the weights it starts from (an earlier stage of its network or, for a morph
// child, of its parent), its data, the experiment seed.
#include "compiler/pipeline.h"
#include "stdlib/catalog.h"

#include <gtest/gtest.h>

namespace mhr {
namespace {

const char* kSpec = R"(experiment "hash"
seed 1
dataset d = synthetic_mammo(count: 20, size: 64x52)
dataset other = synthetic_mammo(count: 24, size: 64x52)
network base = tiny_cnn(classes: 2, in_channels: 1)
train base on d.train at 32x26 {
  epochs: 1
  batch: 4
  optimizer: sgd(lr: 0.01)
}
network child = morph base {
  deepen after act1 with conv(3x3) + relu
}
train child on d.train at 32x26 {
  epochs: 1
  batch: 4
  optimizer: sgd(lr: 0.01)
}
evaluate child on d.test at 32x26
evaluate base on other.test at 32x26
)";

// The input hashes of train.base, train.child, evaluate.child, evaluate.base under `overrides`.
std::vector<std::string> hashes(const std::vector<std::string>& overrides) {
  compiler::CompileOptions o;
  o.catalog = &stdlib::catalog();
  o.overrides = overrides;
  compiler::CompileResult r = compiler::compileText("hash.mhr", kSpec, o);
  std::vector<std::string> out;
  EXPECT_TRUE(r.ok() && r.plan) << (overrides.empty() ? "" : overrides[0]);
  if (r.plan)
    for (const auto& s : r.plan->stages) out.push_back(s.inputHash);
  return out;
}

TEST(StageHash, EqualExactlyWhenTheStagesInputsAre) {
  const std::vector<std::string> base = hashes({});
  ASSERT_EQ(base.size(), 4u);
  for (const std::string& h : base) EXPECT_EQ(h.size(), 64u);
  EXPECT_EQ(hashes({}), base) << "deterministic";

  // A later stage's setting: the earlier stages keep their hashes.
  std::vector<std::string> h = hashes({"train.child.optimizer.lr=0.003"});
  EXPECT_EQ(h[0], base[0]);
  EXPECT_NE(h[1], base[1]);
  EXPECT_NE(h[2], base[2]) << "the evaluation sees other weights";
  EXPECT_EQ(h[3], base[3]) << "evaluate.base runs after train.base only";

  // The base stage's setting: the child starts from other weights, so everything after changes.
  h = hashes({"train.base.epochs=2"});
  for (size_t i = 0; i < 4; ++i) EXPECT_NE(h[i], base[i]) << i;

  // Settings that only the written block holds are covered too.
  h = hashes({"train.base.sync_bn=true"});
  EXPECT_NE(h[0], base[0]);

  // Data: a stage reading the changed data set changes, one reading another does not.
  h = hashes({"dataset.other.count=30"});
  EXPECT_EQ(h[0], base[0]);
  EXPECT_EQ(h[1], base[1]);
  EXPECT_EQ(h[2], base[2]);
  EXPECT_NE(h[3], base[3]);
  h = hashes({"dataset.d.count=30"});
  EXPECT_NE(h[0], base[0]);

  // The experiment seed decides initialisation, shuffling and splits: every stage.
  h = hashes({"seed=2"});
  for (size_t i = 0; i < 4; ++i) EXPECT_NE(h[i], base[i]) << i;

  // The network's options decide its initial weights.
  h = hashes({"network.base.dropout=0.1"});
  EXPECT_NE(h[0], base[0]);
}

} // namespace
} // namespace mhr
