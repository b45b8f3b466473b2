// runtime::execute end to end on the CPU, with the data layer's in-memory synthetic mammograms: networks are
// materialised in order (a morph child from its parent's trained weights, re-checked), stages run, everything
// reaches the sink. And the resume contract: a run SIGKILLed right after epoch 1 of 3 and resumed ends with
// weights and metrics bit-identical to an uninterrupted run.
#include "compiler/pipeline.h"
#include "runtime/execute.h"
#include "runtime/state_dict.h"
#include "runtime/trainer.h"
#include "stdlib/catalog.h"
#include "support/error.h"
#include "support/files.h"
#include "tests/runtime/recording_sink.h"
#include "tests/runtime/test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

namespace mhr::runtime {
namespace {

const char* kSpec = R"(experiment "runtime/execute"
seed 5
preservation eval
dataset d = synthetic_mammo(count: 40, size: 64x52, seed: 3)
network base = tiny_cnn(classes: 2, in_channels: 1, dropout: 0.2)
train base on d.train at 32x26 {
  epochs: 3
  batch: 8
  optimizer: sgd(lr: 0.05, momentum: 0.9, weight_decay: 1e-4)
  augment: [hflip]
}
network child = morph base {
  deepen after act1 with conv(3x3) + relu
  widen conv2 to 24
}
train child on d.train at 32x26 {
  epochs: 2
  batch: 8
  optimizer: adam(lr: 0.001)
}
evaluate child on d.test at 32x26 { metrics: [auc, accuracy, sensitivity, specificity] }
)";

plan::ExperimentPlan compileSpec(const std::string& path) {
  compiler::CompileOptions o;
  o.catalog = &stdlib::catalog();
  compiler::CompileResult r = compiler::compileFile(path, o);
  std::ostringstream diags;
  r.diags->renderText(diags);
  EXPECT_TRUE(r.ok() && r.plan) << "spec does not compile:\n" << diags.str();
  return r.plan ? *r.plan : plan::ExperimentPlan{};
}

TEST(Execute, RunsStagesInOrderAndReportsEverything) {
  test::TempDir dir;
  support::writeFileAtomic(dir.file("spec.mhr"), kSpec);
  plan::ExperimentPlan p = compileSpec(dir.file("spec.mhr"));
  ASSERT_EQ(p.stages.size(), 3u);
  test::RecordingSink sink;
  ExecuteOptions o;
  o.device = "cpu";
  o.checkpointDir = dir.file("ckpt");
  o.cacheDir = dir.file("cache");
  o.progress = false;
  std::ostringstream log;
  o.log = &log;
  ExecuteResult r = execute(p, o, sink);
  EXPECT_EQ(r.device, "cpu");
  ASSERT_EQ(r.stages.size(), 3u);
  ASSERT_TRUE(r.stages[2].evaluation.has_value());
  EXPECT_TRUE(r.stages[2].evaluation->auc.has_value());

  EXPECT_EQ(sink.environment["libtorch"], TORCH_VERSION);
  ASSERT_EQ(sink.verdicts.size(), 2u);
  EXPECT_EQ(sink.verdicts[0].verdict, "exact");
  EXPECT_LE(sink.verdicts[0].relError, 1e-5);
  EXPECT_LE(sink.verdicts[1].relError, 1e-5);
  ASSERT_EQ(sink.lineage.size(), 1u);
  EXPECT_EQ(sink.lineage[0].parentStage, "train.base"); // the child starts from the trained parent
  EXPECT_FALSE(std::isnan(sink.last("evaluate.child/auc")));
  EXPECT_FALSE(std::isnan(sink.last("train.base/epoch_loss")));
  EXPECT_FALSE(std::isnan(sink.last("train.child/memory_estimate_bytes")));
  EXPECT_EQ(sink.predictions.size(), 1u);
  // Run-wide steps: the child's steps follow the parent's, the evaluation comes one step after the last.
  int64_t lastBase = 0, firstChild = -1, lastChild = 0, evalStep = -1;
  for (const auto& m : sink.metrics) {
    if (m.key == "train.base/loss") lastBase = std::max(lastBase, m.step);
    if (m.key == "train.child/loss") {
      if (firstChild < 0) firstChild = m.step;
      lastChild = std::max(lastChild, m.step);
    }
    if (m.key == "evaluate.child/auc") evalStep = m.step;
  }
  EXPECT_GT(lastBase, 0);
  EXPECT_EQ(firstChild, lastBase + 1);
  EXPECT_EQ(evalStep, lastChild + 1);
  EXPECT_EQ(resumeStep(dir.file("ckpt")), evalStep);
  EXPECT_EQ(readCheckpointInfo(dir.file("ckpt/train.child.ckpt")).runStep, lastChild);
  int checkpoints = 0;
  for (const auto& a : sink.artifacts) checkpoints += a.kind == "checkpoint";
  EXPECT_EQ(checkpoints, 5); // one per epoch
  EXPECT_TRUE(std::filesystem::exists(dir.file("ckpt/train.child.ckpt")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("ckpt/evaluate.child.done")));

  // Bad requests are clear errors.
  ExecuteOptions cuda = o;
  cuda.device = torch::cuda::is_available() ? "cuda:99" : "cuda";
  EXPECT_THROW(execute(p, cuda, sink), UserError);
  ExecuteOptions resumeWithoutDir = o;
  resumeWithoutDir.checkpointDir = "";
  resumeWithoutDir.resume = true;
  EXPECT_THROW(execute(p, resumeWithoutDir, sink), UserError);
}

// checkpoint: best(val.loss) + early_stop through the whole run: the evaluation after the stage sees the
// selected epoch's weights — exactly what a run that trains only that many epochs evaluates (a constant
// schedule and per-epoch loader seeds make epochs 1..S the same in both) — and the run records the choice.
std::string selectionSpec(const std::string& trainExtra) {
  return "experiment \"runtime/selection\"\nseed 5\n"
         "dataset d = synthetic_mammo(count: 48, size: 64x52, seed: 3)\n"
         "network base = tiny_cnn(classes: 2, in_channels: 1)\n"
         "train base on d.train at 32x26 {\n  batch: 8\n  optimizer: sgd(lr: 0.2, momentum: 0.9)\n"
         "  val: d.val\n" +
         trainExtra +
         "}\n"
         "evaluate base on d.test at 32x26 { metrics: [auc, loss]; bootstrap: 0 }\n";
}

TEST(Execute, BestCheckpointIsWhatTheEvaluationSees) {
  test::TempDir dir;
  auto run = [&](const std::string& name, const std::string& extra, test::RecordingSink& sink) {
    support::writeFileAtomic(dir.file(name + ".mhr"), selectionSpec(extra));
    plan::ExperimentPlan p = compileSpec(dir.file(name + ".mhr"));
    ExecuteOptions o;
    o.device = "cpu";
    o.checkpointDir = dir.file(name + "-ckpt");
    o.cacheDir = dir.file("cache");
    o.progress = false;
    std::ostringstream log;
    o.log = &log;
    execute(p, o, sink);
    return log.str();
  };
  test::RecordingSink selected;
  const std::string log = run("a",
                              "  epochs: 8\n  checkpoint: best(val.loss)\n"
                              "  early_stop: patience(2, on: val.loss)\n",
                              selected);
  const double epoch = selected.last("train.base/selected_epoch");
  ASSERT_FALSE(std::isnan(epoch)) << log;
  const int64_t s = static_cast<int64_t>(epoch);
  ASSERT_GE(s, 1);
  EXPECT_NE(selected.tags.at("train.base/checkpoint")
                .find("best(val.loss): the weights of epoch " + std::to_string(s)),
            std::string::npos);
  EXPECT_NE(log.find("train.base: checkpoint best(val.loss)"), std::string::npos) << log;
  int64_t epochs = 0;
  for (const auto& m : selected.metrics) epochs += m.key == "train.base/epoch_loss";
  if (selected.tags.count("train.base/early_stop")) {
    EXPECT_EQ(epochs, s + 2);
  }

  test::RecordingSink shorter;
  run("b", "  epochs: " + std::to_string(s) + "\n", shorter);
  ASSERT_EQ(selected.predictions.size(), 1u);
  ASSERT_EQ(shorter.predictions.size(), 1u);
  EXPECT_EQ(selected.predictions[0].scores, shorter.predictions[0].scores);
  EXPECT_EQ(selected.last("evaluate.base/auc"), shorter.last("evaluate.base/auc"));
}

// A batch larger than the training split is said, never silently shrunk (issue 20: batch 100000 on 14
// images trained with batch 14 without a word).
TEST(Execute, BatchLargerThanTheSplitIsAWarning) {
  test::TempDir dir;
  support::writeFileAtomic(dir.file("spec.mhr"),
                           "experiment \"runtime/batch\"\n"
                           "dataset d = synthetic_mammo(count: 12, size: 64x52, seed: 3)\n"
                           "network base = tiny_cnn(classes: 2, in_channels: 1)\n"
                           "train base on d.train at 32x26 {\n  epochs: 1\n"
                           "  batch: 100000\n  optimizer: sgd(lr: 0.05)\n}\n");
  plan::ExperimentPlan p = compileSpec(dir.file("spec.mhr"));
  test::RecordingSink sink;
  ExecuteOptions o;
  o.device = "cpu";
  o.checkpointDir = dir.file("ckpt");
  o.cacheDir = dir.file("cache");
  o.progress = false;
  std::ostringstream log;
  o.log = &log;
  execute(p, o, sink);
  EXPECT_NE(log.str().find("warning: "), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("train.base: batch 100000 is larger than the "), std::string::npos) << log.str();
}

// An evaluation's warnings (here: ChestX-ray14 classes without a positive in a tiny test split, left out of
// the mean AUC) reach the console, each under its stage, and all of them reach the tracker's tag.
TEST(Execute, EvaluationWarningsArePrintedAndAllAreKept) {
  test::TempDir dir;
  support::writeFileAtomic(dir.file("spec.mhr"),
                           "experiment \"runtime/eval-warnings\"\n"
                           "dataset d = synthetic_cxr(count: 12, size: 64x64, seed: 3)\n"
                           "network base = tiny_cnn(classes: 14, in_channels: 1)\n"
                           "evaluate base on d.test at 32x32 { metrics: [auc, pr_auc, f1, brier] }\n");
  plan::ExperimentPlan p = compileSpec(dir.file("spec.mhr"));
  test::RecordingSink sink;
  ExecuteOptions o;
  o.device = "cpu";
  o.checkpointDir = dir.file("ckpt");
  o.cacheDir = dir.file("cache");
  o.progress = false;
  std::ostringstream log;
  o.log = &log;
  ExecuteResult r = execute(p, o, sink);
  ASSERT_EQ(r.stages.size(), 1u);
  ASSERT_TRUE(r.stages[0].evaluation.has_value());
  const std::vector<std::string>& warnings = r.stages[0].evaluation->warnings;
  ASSERT_GE(warnings.size(), 2u) << log.str();
  const std::string& key = p.stages[0].key;
  for (const std::string& w : warnings)
    EXPECT_NE(log.str().find("mhr: warning: " + key + ": " + w + "\n"), std::string::npos) << log.str();
  ASSERT_EQ(sink.tags.count(key + "/warning"), 1u);
  const std::string& tag = sink.tags[key + "/warning"];
  for (const std::string& w : warnings) EXPECT_NE(tag.find(w), std::string::npos) << tag;
  EXPECT_EQ(std::count(tag.begin(), tag.end(), '\n'), static_cast<long>(warnings.size()) - 1);
  // Multi-label: per label, the macro mean and the pooled (micro) value of each metric asked for.
  for (const char* k :
       {"/f1", "/f1/Effusion", "/f1_micro", "/brier", "/brier/Effusion", "/pr_auc_micro", "/auc_micro"})
    EXPECT_TRUE(std::any_of(sink.metrics.begin(), sink.metrics.end(),
                            [&](const auto& m) { return m.key == key + k; }))
        << key + k << " not logged";
}

// Under `drop_last: true` a batch larger than the split would train on nothing: an error at the stage, not a
// run of zero steps. A batch that fits drops only the last, smaller batch.
TEST(Execute, DropLastRefusesABatchLargerThanTheSplit) {
  test::TempDir dir;
  auto spec = [&](int batch) {
    return "experiment \"runtime/drop-last\"\n"
           "dataset d = synthetic_mammo(count: 12, size: 64x52, seed: 3)\n"
           "network base = tiny_cnn(classes: 2, in_channels: 1)\n"
           "train base on d.train at 32x26 {\n  epochs: 1\n  batch: " +
           std::to_string(batch) + "\n  optimizer: sgd(lr: 0.05)\n  drop_last: true\n}\n";
  };
  support::writeFileAtomic(dir.file("spec.mhr"), spec(100000));
  plan::ExperimentPlan p = compileSpec(dir.file("spec.mhr"));
  ASSERT_TRUE(p.stages.at(0).train.dropLast);
  test::RecordingSink sink;
  ExecuteOptions o;
  o.device = "cpu";
  o.checkpointDir = dir.file("ckpt");
  o.cacheDir = dir.file("cache");
  o.progress = false;
  std::ostringstream log;
  o.log = &log;
  try {
    execute(p, o, sink);
    FAIL() << "a drop_last stage with no full batch ran";
  } catch (const UserError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("spec.mhr:4:1: train.base: batch 100000 is larger than the "), std::string::npos) << m;
    EXPECT_NE(m.find("`drop_last: true`"), std::string::npos) << m;
  }
  // 12 images split into train/val/test leave a train split of a few images: batch 2 drops at most one image.
  support::writeFileAtomic(dir.file("spec.mhr"), spec(2));
  plan::ExperimentPlan ok = compileSpec(dir.file("spec.mhr"));
  test::RecordingSink sink2;
  std::ostringstream log2;
  o.log = &log2;
  o.checkpointDir = dir.file("ckpt2");
  execute(ok, o, sink2);
  EXPECT_EQ(log2.str().find("warning: "), std::string::npos) << log2.str();
}

// The "metric KEY VALUE" lines of the helper's output (its log lines differ between a fresh and a resumed
// run).
std::string metricLines(const std::string& output) {
  std::istringstream in(output);
  std::string line, out;
  while (std::getline(in, line))
    if (line.rfind("metric ", 0) == 0) out += line + "\n";
  return out;
}

StateDict modelOf(const std::string& checkpoint) {
  StateDict all = readStateDict(checkpoint), out;
  for (const std::string& n : all.names())
    if (n.rfind("model.", 0) == 0 || n.rfind("optimizer.", 0) == 0) out.add(n, all.at(n));
  return out;
}

// Kill with SIGKILL after epoch 1 of 3 (the parent's stage), or after epoch 1 of the morphed child's stage;
// resume; the final weights, optimizer state and metrics equal those of a run that was never interrupted.
TEST(Execute, KilledRunResumesBitExactly) {
  test::TempDir dir;
  support::writeFileAtomic(dir.file("spec.mhr"), kSpec);
  const std::string helper = MHR_RUN_HELPER;
  const std::string spec = dir.file("spec.mhr"), cache = dir.file("cache");
  auto run = [&](const std::string& ckpt, const std::string& extra) {
    return test::runCommand(helper + " " + spec + " " + dir.file(ckpt) + " " + cache + " " + extra);
  };
  test::CommandResult full = run("full", "");
  ASSERT_EQ(full.exitCode, 0) << full.output;
  ASSERT_NE(full.output.find("metric evaluate.child/auc "), std::string::npos) << full.output;

  for (const std::string killAt : {"train.base:1", "train.child:1"}) {
    const std::string ckpt = "killed-" + killAt.substr(0, killAt.find(':'));
    test::CommandResult killed = run(ckpt, "--kill-after " + killAt);
    // Killed by SIGKILL: the shell that popen runs reports 128 + 9.
    EXPECT_TRUE(killed.exitCode == 137 || killed.exitCode == -1) << "no SIGKILL: " << killed.output;
    const std::string stage = killAt.substr(0, killAt.find(':'));
    CheckpointInfo info = readCheckpointInfo(dir.file(ckpt + "/" + stage + ".ckpt"));
    EXPECT_EQ(info.epochsDone, 1);
    // What the tracker keeps on resume: everything up to the killed stage's last checkpoint.
    EXPECT_EQ(resumeStep(dir.file(ckpt)), info.runStep);
    EXPECT_GT(info.runStep, 0);
    EXPECT_FALSE(std::filesystem::exists(dir.file(ckpt + "/evaluate.child.done")));

    // A writer killed inside an atomic write leaves NAME.tmp.PID; a pid that cannot exist stands for it.
    support::writeFileAtomic(dir.file(ckpt + "/evaluate.child.done.tmp.999999999"), "done");
    test::CommandResult resumed = run(ckpt, "--resume");
    ASSERT_EQ(resumed.exitCode, 0) << resumed.output;
    for (const auto& e : std::filesystem::directory_iterator(dir.file(ckpt)))
      EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos)
          << "stale temporary after a successful resume: " << e.path();
    EXPECT_NE(resumed.output.find("resuming after epoch 1"), std::string::npos) << resumed.output;
    EXPECT_EQ(metricLines(resumed.output), metricLines(full.output))
        << "metrics after resume differ (" << killAt << ")";
    for (const char* s : {"train.base.ckpt", "train.child.ckpt"}) {
      StateDict a = modelOf(dir.file(std::string("full/") + s)), b = modelOf(dir.file(ckpt + "/" + s));
      ASSERT_EQ(a.names(), b.names()) << s;
      for (const std::string& n : a.names())
        EXPECT_TRUE(torch::equal(a.at(n), b.at(n))) << killAt << " " << s << " " << n;
    }
  }
}

} // namespace
} // namespace mhr::runtime
