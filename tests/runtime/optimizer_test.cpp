// The optimizers and schedules against torch.optim: the same parameter and gradient sequence gives the same
// trajectory (SGD with momentum, Nesterov and weight decay; Adam; AdamW), OneCycleLR and cosine annealing
// give the same learning rates; freezing and lr groups; optimizer state round-trips for resume.
#include "runtime/optimizer.h"
#include "support/error.h"
#include "tests/runtime/test_support.h"

#include <gtest/gtest.h>

namespace mhr::runtime {
namespace {

class OptimizerVsTorch : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    std::string failure;
    std::string dir = test::cachedPythonFolder("optimizer_reference.py", "", &failure);
    ASSERT_FALSE(dir.empty()) << failure;
    ref_ = new StateDict(readStateDict(dir + "/ref.pt"));
  }
  static void TearDownTestSuite() { delete ref_; }
  static StateDict* ref_;
};
StateDict* OptimizerVsTorch::ref_ = nullptr;

TEST_F(OptimizerVsTorch, TrajectoriesMatch) {
  struct Case {
    std::string name;
    plan::OptimizerConfig cfg;
  };
  std::vector<Case> cases;
  {
    plan::OptimizerConfig c;
    c.kind = plan::OptimizerKind::Sgd;
    c.lr = 0.1;
    cases.push_back({"sgd", c});
    c.momentum = 0.9;
    c.weightDecay = 1e-2;
    cases.push_back({"sgd_momentum_wd", c});
    c.lr = 0.05;
    c.momentum = 0.8;
    c.nesterov = true;
    c.weightDecay = 1e-3;
    cases.push_back({"sgd_nesterov", c});
  }
  {
    plan::OptimizerConfig c;
    c.kind = plan::OptimizerKind::Adam;
    c.lr = 1e-2;
    c.beta1 = 0.9;
    c.beta2 = 0.99;
    c.eps = 1e-8;
    c.weightDecay = 1e-2;
    cases.push_back({"adam", c});
    c.kind = plan::OptimizerKind::AdamW;
    c.beta1 = 0.85;
    c.beta2 = 0.995;
    c.eps = 1e-6;
    c.weightDecay = 0.05;
    cases.push_back({"adamw", c});
  }
  for (const Case& k : cases)
    for (bool foreach : {false, true}) {
      SCOPED_TRACE(foreach ? "multi-tensor" : "single-tensor");
      torch::Tensor p = ref_->at("p0").clone().requires_grad_(true);
      // A second parameter with another lr multiplier: the multi-tensor path groups by it.
      torch::Tensor q = ref_->at("p0").clone().requires_grad_(true);
      Optimizer opt(k.cfg, {{"w", p}, {"fc.w", q}}, {}, {{"fc", 0.5}});
      opt.setForeach(foreach);
      for (int i = 0; i < 6; ++i) {
        opt.zeroGrad();
        p.mutable_grad() = ref_->at("grad." + std::to_string(i)).clone();
        q.mutable_grad() = ref_->at("grad." + std::to_string(i)).clone();
        opt.step(k.cfg.lr);
        const torch::Tensor& want = ref_->at(k.name + ".step" + std::to_string(i));
        EXPECT_TRUE(torch::allclose(p.detach(), want, 1e-6, 1e-7))
            << k.name << " step " << i << ": max diff " << (p.detach() - want).abs().max().item<double>();
      }
      EXPECT_FALSE(torch::equal(p, q)); // q moved at half the rate
    }
}

TEST_F(OptimizerVsTorch, SchedulesMatch) {
  plan::ScheduleConfig oc;
  oc.kind = plan::ScheduleKind::OneCycle;
  oc.maxLr = 0.4;
  oc.pctStart = 0.3;
  torch::Tensor want = ref_->at("onecycle");
  for (int64_t s = 0; s < 20; ++s)
    EXPECT_NEAR(scheduledLr(oc, 0.1, s, 5, 20), want[s].item<double>(), 1e-12) << "onecycle step " << s;
  plan::ScheduleConfig cos;
  cos.kind = plan::ScheduleKind::Cosine;
  cos.minLr = 0.001;
  want = ref_->at("cosine");
  for (int64_t s = 0; s < 12; ++s)
    EXPECT_NEAR(scheduledLr(cos, 0.1, s, 4, 12), want[s].item<double>(), 1e-10) << "cosine step " << s;
}

TEST(Schedule, WarmupStepAndConstant) {
  plan::ScheduleConfig c;
  c.kind = plan::ScheduleKind::Cosine;
  c.warmupEpochs = 1;
  EXPECT_DOUBLE_EQ(scheduledLr(c, 1.0, 0, 10, 50), 0.01);              // warm-up starts at lr/100
  EXPECT_DOUBLE_EQ(scheduledLr(c, 1.0, 5, 10, 50), 0.01 + 0.99 * 0.5); // half way up
  EXPECT_DOUBLE_EQ(scheduledLr(c, 1.0, 10, 10, 50), 1.0);              // cosine starts at the top
  EXPECT_LT(scheduledLr(c, 1.0, 49, 10, 50), 0.01);
  c.kind = plan::ScheduleKind::Step;
  c.warmupEpochs = 0;
  c.stepEvery = 2;
  c.gamma = 0.5;
  EXPECT_DOUBLE_EQ(scheduledLr(c, 1.0, 19, 10, 60), 1.0);
  EXPECT_DOUBLE_EQ(scheduledLr(c, 1.0, 20, 10, 60), 0.5);
  EXPECT_DOUBLE_EQ(scheduledLr(c, 1.0, 45, 10, 60), 0.25);
  c.kind = plan::ScheduleKind::Constant;
  EXPECT_DOUBLE_EQ(scheduledLr(c, 0.3, 7, 10, 60), 0.3);
  // An unknown schedule cannot reach here: the plan holds an enum the compiler chose
  // (plan::parseScheduleKind).
}

TEST(Optimizer, FreezeGroupsAndStateRoundTrip) {
  torch::Tensor a = torch::ones({2}), b = torch::ones({2}), c = torch::ones({2});
  plan::OptimizerConfig cfg;
  cfg.kind = plan::OptimizerKind::Adam;
  Optimizer opt(cfg, {{"layer1.0.conv1.weight", a}, {"layer4.0.conv1.weight", b}, {"fc.weight", c}},
                {"layer1"}, {{"layer4", 0.1}, {"layer4.0", 0.5}});
  ASSERT_EQ(opt.params().size(), 2u);
  EXPECT_EQ(opt.frozenCount(), 1);
  EXPECT_FALSE(a.requires_grad());
  EXPECT_DOUBLE_EQ(opt.params()[0].lrMultiplier, 0.5); // the longest matching path wins
  EXPECT_DOUBLE_EQ(opt.params()[1].lrMultiplier, 1.0);
  EXPECT_FALSE(underPath("layer10.conv", "layer1"));

  for (auto& e : opt.params()) e.param.mutable_grad() = torch::full({2}, 0.5);
  opt.step(0.1);
  StateDict s = opt.state();
  EXPECT_EQ(s.at("fc.weight.step").item<int64_t>(), 1);
  torch::Tensor b2 = b.detach().clone().requires_grad_(true), c2 = c.detach().clone().requires_grad_(true);
  Optimizer again(cfg, {{"layer4.0.conv1.weight", b2}, {"fc.weight", c2}}, {}, {{"layer4.0", 0.5}});
  again.loadState(s, "ckpt");
  for (Optimizer* o : {&opt, &again}) {
    for (auto& e : o->params()) e.param.mutable_grad() = torch::full({2}, -0.25);
    o->step(0.1);
  }
  EXPECT_TRUE(torch::equal(b, b2));
  EXPECT_TRUE(torch::equal(c, c2));

  StateDict bad;
  bad.add("nope.exp_avg", torch::zeros({2}));
  EXPECT_THROW(again.loadState(bad, "ckpt"), UserError);
}

} // namespace
} // namespace mhr::runtime
