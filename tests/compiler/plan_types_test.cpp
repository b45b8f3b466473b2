// The typed seam of the Plan: lower_dataset fills every data set field with its default (the seeds with the
// experiment's), and the plan's enums spell exactly the language's words both ways.
#include "compiler/pipeline.h"
#include "compiler/plan/enums.h"
#include "stdlib/catalog.h"

#include <gtest/gtest.h>

#include <variant>

namespace mhr {

namespace {
plan::ExperimentPlan compiled(const std::string& text) {
  compiler::CompileOptions o;
  o.catalog = &stdlib::catalog();
  compiler::CompileResult r = compiler::compileText("/tmp/plan_types_test.mhr", text, o);
  std::string diagnostics;
  if (!r.ok()) {
    std::ostringstream s;
    r.diags->renderText(s);
    diagnostics = s.str();
  }
  EXPECT_TRUE(r.ok() && r.plan) << diagnostics;
  return r.plan ? *r.plan : plan::ExperimentPlan{};
}
} // namespace

TEST(PlanTypes, LowerDatasetFillsEveryDefault) {
  plan::ExperimentPlan p = compiled(R"(experiment "t"
seed 9
dataset m = synthetic_mammo(count: 40, size: 64x52) {
  preprocess: [breast_crop, clahe(clip: 3.0), normalize(mean: 0.3, std: 0.2)]
  resize: stretch
  on_error: skip
}
dataset c = synthetic_cxr(seed: 4, split: [0.6, 0.2, 0.2])
dataset b = cbis_ddsm(root: "cbis")
dataset n = chestxray14(root: "nih", labels: [Mass, Effusion])
dataset f = manifest(csv: "x.csv", classes: [benign, malignant], separator: ";")
)");
  ASSERT_EQ(p.datasets.size(), 5u);
  const auto& m = std::get<plan::SyntheticMammoSource>(p.datasets[0].spec.source);
  EXPECT_EQ(m.count, 40);
  EXPECT_EQ(m.height, 64);
  EXPECT_EQ(m.width, 52);
  EXPECT_EQ(m.lesion, "mixed");
  EXPECT_EQ(m.malignant, 0.5);
  EXPECT_EQ(m.seed, 9u); // the experiment seed
  const plan::DatasetSpec& ms = p.datasets[0].spec;
  ASSERT_TRUE(ms.preprocess.breastCrop && ms.preprocess.clahe && ms.preprocess.normalize);
  EXPECT_FALSE(ms.preprocess.breastCrop->threshold.has_value()); // Otsu
  EXPECT_TRUE(ms.preprocess.breastCrop->flip);
  EXPECT_EQ(ms.preprocess.clahe->clip, 3.0);
  EXPECT_EQ(ms.preprocess.clahe->tiles, 8);
  EXPECT_EQ(ms.preprocess.normalize->std, 0.2);
  EXPECT_FALSE(ms.preprocess.voi || ms.preprocess.window);
  EXPECT_EQ(ms.resize, plan::ResizeMode::Stretch);
  EXPECT_EQ(ms.onError, plan::OnError::Skip);
  EXPECT_EQ(ms.cacheDir, ".mhr-cache");

  const auto& c = std::get<plan::SyntheticCxrSource>(p.datasets[1].spec.source);
  EXPECT_EQ(c.seed, 4u);
  EXPECT_EQ(c.height, 1024);
  EXPECT_EQ(c.split[0], 0.6);
  const auto& b = std::get<plan::CbisDdsmSource>(p.datasets[2].spec.source);
  EXPECT_EQ(b.root, "cbis");
  EXPECT_EQ(b.abnormality, (std::vector<std::string>{"mass", "calc"}));
  EXPECT_EQ(b.valFraction, 0.1);
  const auto& n = std::get<plan::ChestXray14Source>(p.datasets[3].spec.source);
  EXPECT_EQ(n.labels, (std::vector<std::string>{"Mass", "Effusion"}));
  const auto& f = std::get<plan::ManifestSource>(p.datasets[4].spec.source);
  EXPECT_EQ(f.image, "image");
  EXPECT_EQ(f.classes, (std::vector<std::string>{"benign", "malignant"}));
  EXPECT_EQ(f.separator, ';');
  EXPECT_EQ(f.testFraction, 0.2);
  EXPECT_STREQ(plan::constructorName(p.datasets[4].spec.source), "manifest");
}

TEST(PlanTypes, TrainSettingsAreEnums) {
  plan::ExperimentPlan p = compiled(R"(experiment "t"
dataset m = synthetic_mammo(count: 40, size: 64x52)
network n = tiny_cnn(classes: 2, in_channels: 1)
train n on m.train at 64x52 {
  epochs: 1
  batch: 4
  optimizer: adamw(lr: 0.001)
  schedule: onecycle(max_lr: 0.01)
  precision: bf16
  checkpointing: auto
  loss: bce
}
sweep { train.n.epochs: [1, 2] }
)");
  ASSERT_FALSE(p.stages.empty());
  const plan::TrainConfig& t = p.stages[0].train;
  EXPECT_EQ(t.optimizer.kind, plan::OptimizerKind::AdamW);
  EXPECT_EQ(t.optimizer.weightDecay, 0.01); // adamw's default
  EXPECT_EQ(t.schedule.kind, plan::ScheduleKind::OneCycle);
  EXPECT_EQ(t.precision, plan::Precision::Bf16);
  EXPECT_EQ(t.checkpointing, plan::Checkpointing::Auto);
  EXPECT_EQ(t.loss.kind, plan::LossKind::Bce);
  EXPECT_EQ(p.sweep.mode, plan::SweepMode::Grid);
}

TEST(PlanTypes, EnumSpellingsRoundTrip) {
  for (const char* w : {"sgd", "adam", "adamw"}) EXPECT_STREQ(plan::name(*plan::parseOptimizerKind(w)), w);
  for (const char* w : {"constant", "step", "cosine", "onecycle"})
    EXPECT_STREQ(plan::name(*plan::parseScheduleKind(w)), w);
  for (const char* w : {"fp32", "bf16", "fp16"}) EXPECT_STREQ(plan::name(*plan::parsePrecision(w)), w);
  for (const char* w : {"off", "auto", "all"}) EXPECT_STREQ(plan::name(*plan::parseCheckpointing(w)), w);
  for (const char* w : {"auto", "cross_entropy", "bce"}) EXPECT_STREQ(plan::name(*plan::parseLossKind(w)), w);
  for (const char* w : {"none", "grid", "random"}) EXPECT_STREQ(plan::name(*plan::parseSweepMode(w)), w);
  EXPECT_FALSE(plan::parseOptimizerKind("sdg"));
  EXPECT_FALSE(plan::parsePrecision("FP32"));
}

} // namespace mhr
