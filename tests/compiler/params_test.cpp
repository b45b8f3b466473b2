// tests/compiler/params_test.cpp — every setting a user can change is a param the tracker records (issue 19,
// point 3): the test walks the schema (train, evaluate, dataset and network blocks, and the stdlib network's
// options), changes each setting of one spec in turn through `--set`, and checks that the flattened params
// (what `mhr run` logs and `mhr runs compare` diffs) change under that setting's key. A schema entry without
// an example value here fails the test, so a new setting cannot be added without being recorded.
#include "compiler/lower/lower_config.h"
#include "compiler/pipeline.h"
#include "compiler/sema/schema.h"
#include "stdlib/catalog.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace mhr {
namespace {

const char* kSpec = R"(experiment "params"
seed 1
preservation eval
dataset mammo = synthetic_mammo(count: 20, size: 64x52)
network base = resnet18(classes: 2, width: 0.25, in_channels: 1)
network hr = morph base {
  deepen after maxpool with conv(3x3) + bn + relu
}
train hr on mammo.train at 64x52 {
  epochs: 1
  batch: 4
  optimizer: sgd(lr: 0.01)
  val: mammo.val
}
evaluate hr on mammo.test at 64x52 { metrics: [auc] }
)";

std::map<std::string, std::string> params(const std::vector<std::string>& overrides) {
  compiler::CompileOptions o;
  o.catalog = &stdlib::catalog();
  o.overrides = overrides;
  compiler::CompileResult r = compiler::compileText("params.mhr", kSpec, o);
  std::string diags;
  for (const auto& d : r.diags->diagnostics()) diags += d.message + "\n";
  EXPECT_TRUE(r.ok() && r.plan) << (overrides.empty() ? "" : overrides[0]) << ": " << diags;
  std::map<std::string, std::string> out;
  if (r.plan)
    for (const auto& [k, v] : r.plan->params) out[k] = v.str();
  return out;
}

// One changed value per setting: KEY=VALUE for --set, relative to the stage, data set or network.
const std::map<std::string, std::string> kTrain = {
    {"epochs", "2"},
    {"batch", "8"},
    {"optimizer", "adam(lr: 0.001, betas: [0.8, 0.99])"},
    {"schedule", "cosine(min_lr: 0.0001)"},
    {"precision", "bf16"},
    {"checkpointing", "auto"},
    {"memory_budget", "4GiB"},
    {"augment", "[hflip, rotate(10deg)]"},
    {"accumulate", "2"},
    {"clip_grad", "1.0"},
    {"loss", "cross_entropy(label_smoothing: 0.1)"},
    {"freeze", "[conv1]"},
    {"lr_groups", "[group(layer4, 10)]"},
    {"channels_last", "true"},
    {"deterministic", "false"},
    {"cudnn_benchmark", "false"},
    {"sync_bn", "true"},
    {"val", "mammo.test"},
    {"workers", "0"},
    {"steps_per_epoch", "2"},
    {"drop_last", "true"},
    {"checkpoint", "best(val.auc)"},
    {"early_stop", "patience(1, on: val.auc)"},
};
const std::map<std::string, std::string> kEvaluate = {
    {"metrics", "[auc, f1]"},  {"threshold", "eer"}, {"bootstrap", "10"}, {"ci", "0.9"}, {"cam", "2"},
    {"cam_layer", "layer3.1"}, {"batch", "8"},       {"tta", "true"},
};
const std::map<std::string, std::string> kDataset = {
    {"preprocess", "[normalize(mean: 0.3, std: 0.2)]"},
    {"resize", "crop"},
    {"on_error", "skip"},
    {"cache", "\"elsewhere\""},
};
const std::map<std::string, std::string> kNetworkBlock = {{"strict", "false"}, {"init_seed", "9"}};
const std::map<std::string, std::string> kResnetOptions = {
    {"classes", "3"},
    {"width", "0.5"},
    {"in_channels", "3"},
    {"weights", "\"w.safetensors\""},
};

// Runs one override and expects a param under `prefix` (the setting's key, or a key below it) to change or
// appear; returns the keys that did.
void expectRecorded(const std::map<std::string, std::string>& base, const std::string& prefix,
                    const std::string& value) {
  std::map<std::string, std::string> changed = params({prefix + "=" + value});
  std::vector<std::string> differ;
  for (const auto& [k, v] : changed) {
    auto it = base.find(k);
    if ((it == base.end() || it->second != v) && (k == prefix || k.rfind(prefix + ".", 0) == 0))
      differ.push_back(k);
  }
  EXPECT_FALSE(differ.empty()) << "--set " << prefix << "=" << value << " changes no param under " << prefix;
}

TEST(Params, EverySettingOfEveryBlockIsRecorded) {
  const std::map<std::string, std::string> base = params({});
  ASSERT_FALSE(base.empty());
  struct Block {
    const sema::BlockSchema& schema;
    const std::map<std::string, std::string>& examples;
    std::string prefix;
  };
  const Block blocks[] = {{sema::trainBlock(), kTrain, "train.hr"},
                          {sema::evaluateBlock(), kEvaluate, "evaluate.hr"},
                          {sema::datasetOptions(), kDataset, "dataset.mammo"},
                          {sema::networkBlock(), kNetworkBlock, "network.base"}};
  for (const Block& b : blocks) {
    for (const sema::Param& p : b.schema.attrs) {
      auto it = b.examples.find(p.name);
      ASSERT_NE(it, b.examples.end()) << b.schema.what << " setting '" << p.name
                                      << "' has no example value in params_test.cpp: add one, and record it";
      expectRecorded(base, b.prefix + "." + p.name, it->second);
    }
  }
  const ir::NetworkInfo* info = stdlib::catalog().info("resnet18");
  ASSERT_NE(info, nullptr);
  for (const ir::OptionInfo& o : info->options) {
    auto it = kResnetOptions.find(o.name);
    if (it == kResnetOptions.end() && o.name == "dropout") continue; // resnet18 has no dropout layer
    ASSERT_NE(it, kResnetOptions.end()) << "resnet18 option '" << o.name << "' has no example value";
    expectRecorded(base, "network.base." + o.name, it->second);
  }
}

TEST(Params, MorphStatementsAndLrGroupsAreParams) {
  const std::map<std::string, std::string> base = params({});
  ASSERT_EQ(base.count("network.hr.morph"), 1u);
  EXPECT_NE(base.at("network.hr.morph").find("deepen after maxpool with conv(3x3) + bn + relu"),
            std::string::npos)
      << base.at("network.hr.morph");
  EXPECT_EQ(base.at("network.hr.parent"), "base");
  EXPECT_EQ(base.count("train.hr.lr_groups"), 0u); // not written, so not recorded: compare shows "(unset)"
  std::map<std::string, std::string> grouped = params({"train.hr.lr_groups=[group(layer4, 10)]"});
  ASSERT_EQ(grouped.count("train.hr.lr_groups"), 1u);
  EXPECT_EQ(grouped.at("train.hr.lr_groups"), "[group(layer4, 10)]");
  // A changed argument of a call shows as that argument, beside the call.
  std::map<std::string, std::string> adam = params({"train.hr.optimizer=adam(lr: 0.01, eps: 1e-6)"});
  EXPECT_EQ(adam.at("train.hr.optimizer"), "adam");
  EXPECT_EQ(adam.count("train.hr.optimizer.eps"), 1u);
}

} // namespace
} // namespace mhr
