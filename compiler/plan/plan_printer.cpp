#include "compiler/plan/plan_printer.h"

#include "support/strings.h"

#include <sstream>

namespace mhr::plan {

namespace {

std::string num(double v) {
  return support::formatNumber(v);
}

std::string joinValues(const std::vector<Value>& values) {
  std::string s = "[";
  for (size_t i = 0; i < values.size(); ++i) s += (i ? ", " : "") + values[i].str();
  return s + "]";
}

std::string joinNumbers(const std::vector<double>& v) {
  std::vector<std::string> parts;
  for (double d : v) parts.push_back(num(d));
  return "[" + support::join(parts, ", ") + "]";
}

} // namespace

std::string describeRecipe(const MorphRecipe& r) {
  std::ostringstream o;
  o << morphKindName(r.kind);
  switch (r.kind) {
  case MorphRecipe::Kind::Upscale:
    o << " " << r.upscale.conv << " x" << r.upscale.factor;
    break;
  case MorphRecipe::Kind::GrowKernel:
    o << " " << r.grow.conv << " " << r.grow.oldKH << "x" << r.grow.oldKW << " -> " << r.grow.newKH << "x"
      << r.grow.newKW << " at (" << r.grow.top << ", " << r.grow.left << ")";
    break;
  case MorphRecipe::Kind::Widen:
    o << " [" << support::join(r.widen.producers, ", ") << "] " << r.widen.oldChannels << " -> "
      << r.widen.newChannels << " split " << r.widen.split;
    if (r.widen.noiseSigma > 0) o << " sigma " << num(r.widen.noiseSigma);
    o << ", " << r.widen.edits.size() << " tensors edited";
    break;
  case MorphRecipe::Kind::Deepen:
  case MorphRecipe::Kind::Branch:
    o << " new [" << support::join(r.newNodes, ", ") << "]";
    break;
  default:
    break;
  }
  if (!r.created.empty()) o << ", creates " << r.created.size() << " tensors";
  if (!r.removed.empty()) o << ", removes " << r.removed.size() << " tensors";
  if (!r.applied) o << " (not applied)";
  return o.str();
}

void printDataset(std::ostream& o, const DatasetConfig& d) {
  o << "dataset " << d.name << " = " << d.constructor.str() << "\n";
  for (const auto& [k, v] : d.options) o << "  " << k << ": " << v.str() << "\n";
}

void printNetwork(std::ostream& o, const NetworkPlan& n) {
  o << "network " << n.name;
  if (n.origin == NetworkPlan::Origin::Stdlib) {
    o << " = " << n.builder << "(";
    for (size_t i = 0; i < n.options.size(); ++i)
      o << (i ? ", " : "") << n.options[i].first << ": " << n.options[i].second.str();
    o << ")\n";
    if (!n.weights.empty())
      o << "  weights \"" << n.weights << "\" strict " << (n.strictWeights ? "true" : "false") << "\n";
    if (!n.import.sumInputChannels.empty())
      o << "  import: sum input channels of [" << support::join(n.import.sumInputChannels, ", ") << "]\n";
  } else {
    o << " = morph " << n.parent << "\n";
    o << "  verdict " << verdictName(n.verdict) << " (mode " << modeName(n.mode) << ")\n";
    for (size_t i = 0; i < n.steps.size(); ++i) {
      const auto& s = n.steps[i];
      o << "  step " << i << ": " << s.text << "\n";
      o << "    verdict " << verdictName(s.verdict) << " (mode " << modeName(s.mode) << "), seed " << s.seed
        << "\n";
      o << "    recipe " << describeRecipe(s.recipe) << "\n";
    }
  }
  o << "  nodes " << n.graph.size() << ", materialised before stage " << n.afterStages << "\n";
}

void printStage(std::ostream& o, size_t i, const Stage& s) {
  o << "stage " << i << " " << s.key << ": " << (s.kind == Stage::Kind::Train ? "train " : "evaluate ")
    << s.network << " on " << s.dataset << "." << s.split << " at " << s.resolution.h << "x" << s.resolution.w
    << "\n";
  if (s.kind == Stage::Kind::Train) {
    const auto& t = s.train;
    o << "  epochs " << t.epochs << ", batch " << t.batch << ", accumulate " << t.accumulate << "\n";
    o << "  optimizer " << name(t.optimizer.kind) << " lr " << num(t.optimizer.lr) << " weight_decay "
      << num(t.optimizer.weightDecay);
    if (t.optimizer.kind == OptimizerKind::Sgd)
      o << " momentum " << num(t.optimizer.momentum) << " nesterov "
        << (t.optimizer.nesterov ? "true" : "false");
    else
      o << " betas [" << num(t.optimizer.beta1) << ", " << num(t.optimizer.beta2) << "] eps "
        << num(t.optimizer.eps);
    o << "\n";
    const auto& sc = t.schedule;
    o << "  schedule " << name(sc.kind) << " warmup " << num(sc.warmupEpochs);
    if (sc.kind == ScheduleKind::Step) o << " every " << sc.stepEvery << " gamma " << num(sc.gamma);
    if (sc.kind == ScheduleKind::Cosine) o << " min_lr " << num(sc.minLr);
    if (sc.kind == ScheduleKind::OneCycle)
      o << " max_lr " << num(sc.maxLr) << " pct_start " << num(sc.pctStart);
    o << "\n";
    o << "  precision " << name(t.precision) << ", checkpointing " << name(t.checkpointing)
      << ", memory_budget " << t.memoryBudgetBytes << ", channels_last "
      << (t.channelsLast ? "true" : "false") << "\n";
    o << "  loss " << name(t.loss.kind);
    if (!t.loss.classWeights.empty()) o << " class_weights " << joinNumbers(t.loss.classWeights);
    if (!t.loss.posWeight.empty()) o << " pos_weight " << joinNumbers(t.loss.posWeight);
    if (t.loss.labelSmoothing > 0) o << " label_smoothing " << num(t.loss.labelSmoothing);
    o << ", clip_grad " << num(t.clipGrad) << "\n";
    o << "  augment " << joinValues(t.augment) << "\n";
    if (!t.freeze.empty()) o << "  freeze [" << support::join(t.freeze, ", ") << "]\n";
    for (const auto& g : t.lrGroups) o << "  lr_group " << g.path << " x" << num(g.multiplier) << "\n";
    o << "  val " << (t.valSplit.empty() ? "none" : t.valSplit) << ", workers " << t.workers
      << ", steps_per_epoch " << t.maxStepsPerEpoch << ", deterministic "
      << (t.deterministic ? "true" : "false") << (t.dropLast ? ", drop_last true" : "") << "\n";
    // Printed only when set, so that plans without model selection read as before.
    if (t.selectBest) o << "  checkpoint best(" << t.selectBest->text() << ")\n";
    if (t.patience > 0)
      o << "  early_stop patience(" << t.patience << ", on: " << t.stopOn.text() << ", min_delta "
        << num(t.minDelta) << ")\n";
  } else {
    const auto& e = s.eval;
    o << "  metrics [" << support::join(e.metrics, ", ") << "], threshold "
      << (e.thresholdAtEer ? std::string("eer") : num(e.threshold)) << ", bootstrap " << e.bootstrap
      << ", ci " << num(e.ciLevel) << ", cam " << e.camSamples;
    if (!e.camLayer.empty()) o << " at " << e.camLayer;
    o << ", batch " << e.batch << ", tta " << (e.tta ? "true" : "false") << "\n";
  }
}

std::string printPlan(const ExperimentPlan& p) {
  std::ostringstream o;
  o << "experiment \"" << p.name << "\"\n";
  o << "  seed " << p.seed << "\n";
  o << "  preservation " << p.preservation << "\n";
  o << "  spec_hash " << p.specHash << "\n";
  o << "  semantic_hash " << p.semanticHash << "\n";
  for (const auto& d : p.datasets) printDataset(o, d);
  for (const auto& n : p.networks) printNetwork(o, n);
  for (size_t i = 0; i < p.stages.size(); ++i) printStage(o, i, p.stages[i]);
  if (p.sweep.mode != SweepMode::None) {
    o << "sweep " << name(p.sweep.mode);
    if (p.sweep.mode == SweepMode::Random) o << " count " << p.sweep.count << " seed " << p.sweep.seed;
    o << "\n";
    for (const auto& [k, vs] : p.sweep.axes) o << "  " << k << ": " << joinValues(vs) << "\n";
  }
  return o.str();
}

} // namespace mhr::plan
