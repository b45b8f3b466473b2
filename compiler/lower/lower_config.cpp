#include "compiler/lower/lower_config.h"

#include "compiler/lower/lower_dataset.h"
#include "compiler/sema/schema.h"
#include "support/assert.h"
#include "support/files.h"

#include <map>
#include <set>

namespace mhr::lower {

plan::Value toPlanValue(const ast::Value& v) {
  switch (v.kind) {
  case ast::Value::Kind::Int:
    return plan::Value::ofInt(v.intValue);
  case ast::Value::Kind::Float:
    return plan::Value::ofFloat(v.floatValue);
  case ast::Value::Kind::Quantity:
    return plan::Value::ofQuantity(v.floatValue, v.text);
  case ast::Value::Kind::String:
    return plan::Value::ofString(v.text);
  case ast::Value::Kind::Bool:
    return plan::Value::ofBool(v.boolValue);
  case ast::Value::Kind::Size:
    return plan::Value::ofSize(v.h, v.w);
  case ast::Value::Kind::Path:
    return plan::Value::ofSymbol(v.path.str());
  case ast::Value::Kind::List: {
    std::vector<plan::Value> items;
    for (const auto& i : v.items) items.push_back(toPlanValue(i));
    return plan::Value::ofList(std::move(items));
  }
  case ast::Value::Kind::Sequence: {
    std::vector<plan::Value> items;
    for (const auto& i : v.items) items.push_back(toPlanValue(i));
    return plan::Value::ofCall("sequence", std::move(items), {});
  }
  case ast::Value::Kind::Call: {
    std::vector<plan::Value> positional;
    std::vector<std::pair<std::string, plan::Value>> named;
    for (const auto& a : v.args) {
      if (a.name)
        named.emplace_back(a.name->text, toPlanValue(a.value));
      else
        positional.push_back(toPlanValue(a.value));
    }
    return plan::Value::ofCall(v.callee.text, std::move(positional), std::move(named));
  }
  }
  MHR_UNREACHABLE("unknown value kind");
}

std::string locationOf(const diag::SourceRange& range, const diag::SourceManager& sources) {
  if (!range.valid()) return "";
  const auto& f = sources.file(range.file);
  auto lc = f.lineColumn(range.begin);
  return f.path + ":" + std::to_string(lc.line) + ":" + std::to_string(lc.column);
}

plan::DatasetConfig lowerDataset(const ast::DatasetStmt& stmt, const diag::SourceManager& sources) {
  plan::DatasetConfig d;
  d.name = stmt.name.text;
  d.constructor = toPlanValue(stmt.constructor);
  if (stmt.block)
    for (const auto& a : stmt.block->attrs) d.options.emplace_back(a.key.str(), toPlanValue(a.value));
  d.location = locationOf(stmt.range, sources);
  // Relative data paths resolve against the file the constructor call is written in, as includes do (a
  // `--set` override of the constructor: against the working directory).
  // The file of the path itself where one is written (a `--set dataset.NAME.root=...` comes from the command
  // line even though the constructor is in the spec), else of the constructor call.
  diag::SourceRange at = stmt.constructor.range.valid() ? stmt.constructor.range : stmt.range;
  const auto& args = stmt.constructor.args;
  if (!args.empty() && !args[0].name && args[0].value.range.valid()) at = args[0].value.range; // positional
  for (const char* key : {"csv", "root"})
    if (const ast::Argument* a = stmt.constructor.namedArg(key); a && a->value.range.valid())
      at = a->value.range;
  if (at.valid()) d.baseDir = support::sourceFolder(sources.file(at.file).path);
  return d;
}

namespace {

// A closed choice the schema has checked (`what` names it): an unknown spelling here is our bug.
template <typename E> E known(std::optional<E> e, const char* what) {
  MHR_ASSERT(e.has_value(), what);
  return *e;
}

const ast::Value* attr(const ast::StageStmt& s, const char* name) {
  if (!s.block) return nullptr;
  const ast::Attribute* a = s.block->find(name);
  return a ? &a->value : nullptr;
}

double number(const ast::Value& call, const char* arg, double fallback) {
  const ast::Argument* a = call.namedArg(arg);
  return a ? a->value.number() : fallback;
}

std::vector<double> numbers(const ast::Value& list) {
  std::vector<double> out;
  for (const auto& i : list.items) out.push_back(i.number());
  return out;
}

int64_t bytesOf(const ast::Value& q) {
  static const std::map<std::string, double> unit = {
      {"GiB", 1073741824.0}, {"MiB", 1048576.0}, {"GB", 1e9}, {"MB", 1e6}};
  auto it = unit.find(q.text);
  return it == unit.end() ? 0 : static_cast<int64_t>(q.floatValue * it->second);
}

plan::TrainConfig lowerTrain(const ast::StageStmt& s) {
  plan::TrainConfig t;
  if (auto* v = attr(s, "epochs")) t.epochs = v->intValue;
  if (auto* v = attr(s, "batch")) t.batch = v->intValue;
  if (auto* v = attr(s, "optimizer")) {
    auto& o = t.optimizer;
    o.kind = known(plan::parseOptimizerKind(v->calleeName()), "optimizer");
    o.lr = number(*v, "lr", o.lr);
    o.momentum = number(*v, "momentum", 0.0);
    if (auto* n = v->namedArg("nesterov")) o.nesterov = n->value.boolValue;
    o.weightDecay = number(*v, "weight_decay", o.kind == plan::OptimizerKind::AdamW ? 0.01 : 0.0);
    if (auto* b = v->namedArg("betas")) {
      o.beta1 = b->value.items.at(0).number();
      o.beta2 = b->value.items.at(1).number();
    }
    o.eps = number(*v, "eps", o.eps);
  }
  if (auto* v = attr(s, "schedule")) {
    auto& sc = t.schedule;
    sc.kind = known(plan::parseScheduleKind(v->calleeName()), "schedule");
    if (v->kind == ast::Value::Kind::Call) {
      sc.warmupEpochs = number(*v, "warmup", 0.0);
      sc.stepEvery = static_cast<int64_t>(number(*v, "every", 1.0));
      sc.gamma = number(*v, "gamma", 0.1);
      sc.minLr = number(*v, "min_lr", 0.0);
      sc.maxLr = number(*v, "max_lr", 0.0);
      sc.pctStart = number(*v, "pct_start", 0.3);
    }
  }
  if (auto* v = attr(s, "precision")) t.precision = known(plan::parsePrecision(v->calleeName()), "precision");
  if (auto* v = attr(s, "checkpointing"))
    t.checkpointing = known(plan::parseCheckpointing(v->calleeName()), "checkpointing");
  if (auto* v = attr(s, "memory_budget")) t.memoryBudgetBytes = bytesOf(*v);
  if (auto* v = attr(s, "augment")) {
    // Augmentations reach the data layer in one canonical shape: positional arguments as written.
    for (const auto& item : v->items) {
      plan::Value p = toPlanValue(item);
      if (p.kind == plan::Value::Kind::Symbol) p = plan::Value::ofCall(p.text, {}, {});
      t.augment.push_back(p);
    }
    t.augmentOps = lowerAugment(t.augment);
  }
  if (auto* v = attr(s, "accumulate")) t.accumulate = v->intValue;
  if (auto* v = attr(s, "clip_grad")) t.clipGrad = v->number();
  if (auto* v = attr(s, "loss")) {
    t.loss.kind = known(plan::parseLossKind(v->calleeName()), "loss");
    if (v->kind == ast::Value::Kind::Call) {
      if (auto* w = v->namedArg("class_weights")) t.loss.classWeights = numbers(w->value);
      if (auto* w = v->namedArg("pos_weight")) t.loss.posWeight = numbers(w->value);
      t.loss.labelSmoothing = number(*v, "label_smoothing", 0.0);
    }
  }
  if (auto* v = attr(s, "freeze"))
    for (const auto& p : v->items) t.freeze.push_back(p.path.str());
  if (auto* v = attr(s, "lr_groups"))
    for (const auto& g : v->items) {
      const ast::Value* path = g.argument(0, "path");
      const ast::Value* mult = g.argument(1, "mult");
      if (path && mult) t.lrGroups.push_back(plan::LrGroup{path->path.str(), mult->number()});
    }
  if (auto* v = attr(s, "channels_last")) t.channelsLast = v->boolValue;
  if (auto* v = attr(s, "deterministic")) t.deterministic = v->boolValue;
  if (auto* v = attr(s, "cudnn_benchmark")) t.cudnnBenchmark = v->boolValue;
  if (auto* v = attr(s, "sync_bn")) t.syncBatchNorm = v->boolValue;
  if (auto* v = attr(s, "val")) t.valSplit = v->path.str();
  if (auto* v = attr(s, "workers")) t.workers = v->intValue;
  if (auto* v = attr(s, "steps_per_epoch")) t.maxStepsPerEpoch = v->intValue;
  if (auto* v = attr(s, "drop_last")) t.dropLast = v->boolValue;
  // The checker has made sure the metric is `val.M` with M one of sema::selectionMetrics().
  auto valMetric = [](const ast::Value& path) {
    const std::string m = path.path.segments.size() == 2 ? path.path.segments[1] : "loss";
    return plan::ValMetric{m, sema::higherIsBetter(m)};
  };
  if (auto* v = attr(s, "checkpoint"); v && v->calleeName() == "best")
    if (const ast::Value* on = v->argument(0, "on")) t.selectBest = valMetric(*on);
  if (auto* v = attr(s, "early_stop"); v && v->calleeName() == "patience") {
    if (const ast::Value* n = v->argument(0, "epochs")) t.patience = n->intValue;
    if (const ast::Value* on = v->argument(1, "on")) t.stopOn = valMetric(*on);
    t.minDelta = number(*v, "min_delta", 0.0);
  }
  return t;
}

plan::EvalConfig lowerEval(const ast::StageStmt& s) {
  plan::EvalConfig e;
  if (auto* v = attr(s, "metrics")) {
    e.metrics.clear();
    for (const auto& m : v->items) e.metrics.push_back(m.path.str());
  }
  if (auto* v = attr(s, "threshold")) {
    if (v->kind == ast::Value::Kind::Path)
      e.thresholdAtEer = true;
    else
      e.threshold = v->number();
  }
  if (auto* v = attr(s, "bootstrap")) e.bootstrap = v->intValue;
  if (auto* v = attr(s, "ci")) e.ciLevel = v->number();
  if (auto* v = attr(s, "cam")) e.camSamples = v->intValue;
  if (auto* v = attr(s, "cam_layer")) e.camLayer = v->path.str();
  if (auto* v = attr(s, "batch")) e.batch = v->intValue;
  if (auto* v = attr(s, "tta")) e.tta = v->boolValue;
  return e;
}

} // namespace

plan::Stage lowerStage(const ast::StageStmt& stmt, const std::string& key,
                       const diag::SourceManager& sources) {
  plan::Stage st;
  st.kind = stmt.kind == ast::Stmt::Kind::Train ? plan::Stage::Kind::Train : plan::Stage::Kind::Evaluate;
  st.key = key;
  st.network = stmt.network.text;
  st.dataset = stmt.split.segments.at(0);
  st.split = stmt.split.segments.at(1);
  st.resolution = plan::Size{stmt.resolution.h, stmt.resolution.w};
  if (st.kind == plan::Stage::Kind::Train)
    st.train = lowerTrain(stmt);
  else
    st.eval = lowerEval(stmt);
  st.location = locationOf(stmt.range, sources);
  if (stmt.block)
    for (const auto& a : stmt.block->attrs) st.written.emplace_back(a.key.str(), toPlanValue(a.value));
  return st;
}

plan::SweepConfig lowerSweep(const ast::SweepStmt& stmt, int64_t experimentSeed) {
  plan::SweepConfig s;
  s.mode = plan::SweepMode::Grid;
  s.seed = experimentSeed;
  for (const auto& a : stmt.block.attrs) {
    if (a.key.str() == "mode") {
      s.mode = known(plan::parseSweepMode(a.value.calleeName()), "sweep mode");
      if (a.value.kind == ast::Value::Kind::Call) {
        s.count = static_cast<int64_t>(number(a.value, "count", 0));
        s.seed = static_cast<int64_t>(number(a.value, "seed", static_cast<double>(experimentSeed)));
      }
      continue;
    }
    std::vector<plan::Value> values;
    for (const auto& v : a.value.items) values.push_back(toPlanValue(v));
    s.axes.emplace_back(a.key.str(), std::move(values));
  }
  return s;
}

std::vector<std::string> stageKeys(const sema::Symbols& symbols) {
  std::map<std::string, int> total, seen;
  auto base = [](const ast::StageStmt* s) {
    return std::string(s->kind == ast::Stmt::Kind::Train ? "train." : "evaluate.") + s->network.text;
  };
  for (const auto* s : symbols.stages) ++total[base(s)];
  std::vector<std::string> keys;
  for (const auto* s : symbols.stages) {
    std::string b = base(s);
    int n = ++seen[b];
    keys.push_back(total[b] > 1 ? b + "." + std::to_string(n) : b);
  }
  return keys;
}

plan::Attrs flattenParams(const plan::ExperimentPlan& p) {
  plan::Attrs out;
  std::set<std::string> keys;
  // The first value given for a key wins: the resolved, typed ones come first, then what was written.
  auto add = [&](std::string key, plan::Value v) {
    if (keys.insert(key).second) out.emplace_back(std::move(key), std::move(v));
  };
  // A written value, and for a call each of its named arguments (`optimizer: adam(betas: ...)` gives
  // `optimizer.betas`), so that a change to one argument shows as that argument.
  auto addWritten = [&](const std::string& key, const plan::Value& v) {
    add(key, v);
    if (v.kind == plan::Value::Kind::Call)
      for (const auto& [arg, value] : v.named) add(key + "." + arg, value);
  };
  add("seed", plan::Value::ofInt(p.seed));
  add("preservation", plan::Value::ofSymbol(p.preservation));
  for (const auto& d : p.datasets) {
    add("dataset." + d.name + ".constructor", plan::Value::ofSymbol(d.constructor.text));
    if (!d.constructor.items.empty()) // positional arguments, e.g. cbis_ddsm("data/CBIS-DDSM")
      add("dataset." + d.name + ".args", plan::Value::ofList(d.constructor.items));
    for (const auto& [k, v] : d.constructor.named) add("dataset." + d.name + "." + k, v);
    for (const auto& [k, v] : d.options) add("dataset." + d.name + "." + k, v);
  }
  for (const auto& st : p.stages) {
    const std::string k = st.key + ".";
    add(k + "at", plan::Value::ofSize(st.resolution.h, st.resolution.w));
    add(k + "on", plan::Value::ofSymbol(st.dataset + "." + st.split));
    if (st.kind == plan::Stage::Kind::Train) {
      const auto& t = st.train;
      add(k + "epochs", plan::Value::ofInt(t.epochs));
      add(k + "batch", plan::Value::ofInt(t.batch));
      add(k + "optimizer", plan::Value::ofSymbol(plan::name(t.optimizer.kind)));
      add(k + "optimizer.lr", plan::Value::ofFloat(t.optimizer.lr));
      add(k + "optimizer.weight_decay", plan::Value::ofFloat(t.optimizer.weightDecay));
      if (t.optimizer.kind == plan::OptimizerKind::Sgd)
        add(k + "optimizer.momentum", plan::Value::ofFloat(t.optimizer.momentum));
      add(k + "schedule", plan::Value::ofSymbol(plan::name(t.schedule.kind)));
      add(k + "precision", plan::Value::ofSymbol(plan::name(t.precision)));
      add(k + "checkpointing", plan::Value::ofSymbol(plan::name(t.checkpointing)));
      add(k + "accumulate", plan::Value::ofInt(t.accumulate));
      add(k + "drop_last", plan::Value::ofBool(t.dropLast));
      std::vector<plan::Value> aug = t.augment;
      add(k + "augment", plan::Value::ofList(aug));
    } else {
      std::vector<plan::Value> metrics;
      for (const auto& m : st.eval.metrics) metrics.push_back(plan::Value::ofSymbol(m));
      add(k + "metrics", plan::Value::ofList(metrics));
      add(k + "threshold",
          st.eval.thresholdAtEer ? plan::Value::ofSymbol("eer") : plan::Value::ofFloat(st.eval.threshold));
    }
    for (const auto& [key, v] : st.written) addWritten(k + key, v);
  }
  // Networks: the builder and its options (defaults filled), or the parent and the morph statements; the
  // network block's settings. The morph text is the statement as written, single-spaced.
  for (const auto& n : p.networks) {
    const std::string k = "network." + n.name + ".";
    if (n.origin == plan::NetworkPlan::Origin::Stdlib) {
      add(k + "builder", plan::Value::ofSymbol(n.builder));
      for (const auto& [key, v] : n.options) addWritten(k + key, v);
    } else {
      add(k + "parent", plan::Value::ofSymbol(n.parent));
      std::vector<plan::Value> steps;
      for (const auto& s : n.steps) steps.push_back(plan::Value::ofString(s.text));
      add(k + "morph", plan::Value::ofList(steps));
    }
    add(k + "strict", plan::Value::ofBool(n.strictWeights));
    if (n.initSeed >= 0) add(k + "init_seed", plan::Value::ofInt(n.initSeed));
  }
  return out;
}

} // namespace mhr::lower
