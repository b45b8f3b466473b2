#include "compiler/verify/widen.h"

#include "compiler/ir/channels.h"
#include "compiler/ir/params.h"
#include "compiler/ir/paths.h"
#include "support/random.h"
#include "support/strings.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace mhr::verify {

namespace {

struct Split {
  std::string kind = "uniform"; // uniform | random | noise
  std::optional<uint64_t> seed;
  double sigma = 0.0;
};

std::optional<Split> parseSplit(const std::optional<ast::Value>& value, diag::DiagnosticEngine& diags) {
  Split s;
  if (!value) return s;
  const ast::Value& v = *value;
  const std::string name = v.calleeName();
  const bool call = v.kind == ast::Value::Kind::Call;
  if (name == "uniform" && (!call || v.args.empty())) return s;
  if (name == "random") {
    s.kind = "random";
    for (const ast::Argument& a : v.args) {
      if (a.name && a.name->text == "seed" && a.value.kind == ast::Value::Kind::Int && !a.value.overflow &&
          a.value.intValue >= 0) {
        s.seed = static_cast<uint64_t>(a.value.intValue);
      } else {
        diags.error("E0303", a.range, "random takes only seed: N (a non-negative integer)");
        return std::nullopt;
      }
    }
    return s;
  }
  if (name == "noise") {
    s.kind = "noise";
    if (!call || v.args.size() != 1 || (v.args[0].name && v.args[0].name->text != "sigma") ||
        !v.args[0].value.isNumber() || !(v.args[0].value.number() > 0) || v.args[0].value.number() > 10) {
      diags.error("E0303", v.range, "noise takes one standard deviation in (0, 10], e.g. noise(0.01)");
      return std::nullopt;
    }
    s.sigma = v.args[0].value.number();
    return s;
  }
  auto d = diags.error("E0303", v.range,
                       "unknown split '" + (name.empty() ? std::string(ast::kindName(v.kind)) : name) + "'");
  std::string m = support::closestMatch(name, {"uniform", "random", "noise"});
  if (!m.empty())
    d.note("did you mean '" + m + "'?");
  else
    d.note("splits: uniform, random(seed: S), noise(SIGMA)");
  return std::nullopt;
}

std::string bracketed(const ir::Graph& g, const std::vector<ir::NodeId>& ids) {
  std::vector<std::string> names;
  for (ir::NodeId id : ids) names.push_back(g.node(id).name);
  return "[" + support::join(names, ", ") + "]";
}

// The module of a node: its name without the last segment ("layer1.0.add" -> "layer1.0").
std::string moduleOf(const std::string& name) {
  size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(0, dot);
}

bool layoutHas(const ir::ChannelLayout& l, int32_t seg) {
  for (const ir::Segment& s : l.segments)
    if (s.id == seg) return true;
  return false;
}

// The add/mul that ties `seg` to another segment of its class, for the message.
ir::NodeId tyingNode(const ir::Graph& g, const ir::ChannelClasses& cc, int32_t seg) {
  for (ir::NodeId id = 0; id < static_cast<ir::NodeId>(g.size()); ++id) {
    const ir::Node& n = g.node(id);
    if (n.op != ir::OpKind::Add && n.op != ir::OpKind::Mul) continue;
    const ir::ChannelLayout& a = cc.layout[static_cast<size_t>(g.inputsOf(id)[0])];
    const ir::ChannelLayout& b = cc.layout[static_cast<size_t>(g.inputsOf(id)[1])];
    if (layoutHas(a, seg) != layoutHas(b, seg)) return id;
  }
  return ir::kNoNode;
}

// Channel offsets (ascending) of the class's segments inside a layout.
std::vector<int64_t> offsetsIn(const ir::ChannelLayout& l, const ir::ChannelClasses& cc, int32_t cls) {
  std::vector<int64_t> out;
  int64_t at = 0;
  for (const ir::Segment& s : l.segments) {
    if (cc.segmentClass[static_cast<size_t>(s.id)] == cls) out.push_back(at);
    at += s.channels;
  }
  return out;
}

} // namespace

std::optional<StepOutcome> rewriteWiden(const StepInput& in, diag::DiagnosticEngine& diags) {
  const ast::MorphStmt& s = in.stmt;
  const ir::Graph& g = in.graph;
  std::optional<Split> split = parseSplit(s.split, diags);
  const ast::Value& width = s.argument;
  bool ok = split.has_value();
  if (width.kind != ast::Value::Kind::Int || width.overflow || width.intValue < 1 ||
      width.intValue > (1 << 20)) {
    diags.error("E0303", width.range, "the new width must be an integer in 1..1048576");
    ok = false;
  }
  std::vector<ir::NodeId> targets;
  for (const ast::Path& p : s.targets) {
    std::optional<ir::LayerRef> ref = ir::resolveLayer(g, p, in.ctx.parent, diags);
    if (!ref) {
      ok = false;
      continue;
    }
    const ir::Node* n = ref->kind == ir::LayerRef::Kind::Node ? &g.node(ref->node) : nullptr;
    const bool convOk = n && n->op == ir::OpKind::Conv2d && n->conv.groups == 1;
    if (!n || (!convOk && n->op != ir::OpKind::Linear)) {
      std::string what = !n ? "a module" : std::string("a ") + ir::opName(n->op);
      if (n && n->op == ir::OpKind::Conv2d)
        what = fmt::format("a grouped conv2d (groups {})", n->conv.groups);
      diags.error("E0302", p.range,
                  "widen needs a conv2d (groups 1) or linear layer; '" + ref->path + "' is " + what);
      ok = false;
      continue;
    }
    if (std::find(targets.begin(), targets.end(), ref->node) == targets.end()) targets.push_back(ref->node);
  }
  if (!ok || targets.empty()) return std::nullopt;

  const ir::ChannelClasses cc = ir::analyzeChannels(g);
  const int32_t cls = cc.classOfProducer(targets[0]);
  for (size_t i = 1; i < targets.size(); ++i)
    if (cc.classOfProducer(targets[i]) != cls) {
      diags.error(
          "E0303", s.targets[i].range,
          fmt::format("'{}' is not tied to '{}' (no add or mul joins their outputs): widen them in separate "
                      "statements",
                      g.node(targets[i]).name, g.node(targets[0]).name));
      return std::nullopt;
    }
  const int64_t oldC = cc.classChannels[static_cast<size_t>(cls)];
  const int64_t newC = width.intValue;
  const std::vector<ir::NodeId>& producers = cc.classProducers[static_cast<size_t>(cls)];
  const std::string targetText = s.bracketed ? bracketed(g, targets) : g.node(targets[0]).name;
  if (newC < oldC) {
    diags.error("E0303", width.range,
                fmt::format("widen cannot narrow {} from {} to {} channels", targetText, oldC, newC));
    return std::nullopt;
  }

  plan::MorphRecipe recipe;
  recipe.kind = plan::MorphRecipe::Kind::Widen;
  plan::WidenRecipe& w = recipe.widen;
  w.oldChannels = oldC;
  w.newChannels = newC;
  w.split = split->kind;
  for (ir::NodeId p : producers) w.producers.push_back(g.node(p).name);

  if (cc.classMisaligned[static_cast<size_t>(cls)])
    return refuted(
        g, recipe,
        fmt::format("{} feeds an add or mul that joins tensors with different channel boundaries; the "
                    "replication cannot be kept consistent on both sides",
                    targetText),
        false);
  for (ir::NodeId p : producers)
    if (g.node(p).op == ir::OpKind::Input)
      return refuted(
          g, recipe,
          fmt::format("{} is tied to the network input by an add: the input's {} channels are fixed",
                      targetText, oldC),
          false);
  std::vector<ir::NodeId> missing;
  for (ir::NodeId p : producers)
    if (std::find(targets.begin(), targets.end(), p) == targets.end()) missing.push_back(p);
  if (!missing.empty()) {
    // Name the add/mul that ties a named layer to a missing one.
    int32_t seg = -1;
    for (size_t sgi = 0; sgi < cc.segmentProducer.size(); ++sgi)
      if (cc.segmentProducer[sgi] == targets[0]) seg = static_cast<int32_t>(sgi);
    const ir::NodeId tie = tyingNode(g, cc, seg);
    std::string how = "a tensor tied to other layers";
    if (tie != ir::kNoNode) {
      const ir::Node& t = g.node(tie);
      how = t.op == ir::OpKind::Add ? fmt::format("a tensor added to the skip path of {}", moduleOf(t.name))
                                    : fmt::format("a tensor multiplied element-wise in {}", moduleOf(t.name));
    }
    const std::string all = bracketed(g, producers);
    StepOutcome o =
        refuted(g, recipe,
                fmt::format("widening {} changes {}: widen the whole class {}", targetText, how, all), false);
    o.where = s.targets[0].range;
    if (tie != ir::kNoNode && g.node(tie).origin.valid())
      o.notes.push_back(
          {g.node(tie).origin, "the tying " + std::string(ir::opName(g.node(tie).op)) + " was made here"});
    o.notes.push_back({{}, fmt::format("write: widen {} to {}", all, newC)});
    return o;
  }
  if (newC == oldC) {
    StepOutcome o;
    o.graph = g;
    o.recipe = recipe;
    o.verdict = plan::Verdict::Exact;
    o.reason = fmt::format("{} already has {} channels", targetText, oldC);
    o.noEffect = true;
    return o;
  }

  // Walk every reader of a tensor that carries the class.
  const int64_t delta = newC - oldC;
  std::vector<ir::Node> nodes = g.nodeList();
  std::vector<std::string> dropouts;
  std::set<ir::NodeId> producerSet(producers.begin(), producers.end());
  auto editTensors = [&](const ir::Node& n, const std::vector<int64_t>& offs, int64_t axis, int64_t block,
                         bool scaled, plan::TensorEdit::Role role, bool onlyWeight) {
    for (const ir::TensorSpec& t : ir::tensorsOf(n)) {
      if (t.field == "num_batches_tracked") continue;
      if (onlyWeight && t.field != "weight") continue;
      plan::TensorEdit e;
      e.tensor = t.name;
      e.axis = axis;
      e.offsets = offs;
      e.block = block;
      e.scaled = scaled;
      e.role = role;
      w.edits.push_back(std::move(e));
    }
  };
  for (ir::NodeId id = 0; id < static_cast<ir::NodeId>(g.size()); ++id) {
    const ir::Node& n = g.node(id);
    ir::Node& changed = nodes[static_cast<size_t>(id)];
    if (producerSet.count(id)) {
      editTensors(n, {0}, 0, 1, false, plan::TensorEdit::Role::Producer, false);
      if (n.op == ir::OpKind::Conv2d)
        changed.conv.outChannels = newC;
      else
        changed.linear.outFeatures = newC;
    }
    if (n.op == ir::OpKind::Input) continue;
    const ir::ChannelLayout& inLayout = cc.layout[static_cast<size_t>(g.inputsOf(id)[0])];
    const std::vector<int64_t> offs = offsetsIn(inLayout, cc, cls);
    if (offs.empty()) continue;
    const int64_t grow = delta * static_cast<int64_t>(offs.size());
    switch (n.op) {
    case ir::OpKind::Conv2d:
      if (n.conv.depthwise()) {
        editTensors(n, offs, 0, 1, false, plan::TensorEdit::Role::Channelwise, false);
        changed.conv.inChannels += grow;
        changed.conv.outChannels += grow;
        changed.conv.groups += grow;
      } else if (n.conv.groups == 1) {
        editTensors(n, offs, 1, 1, true, plan::TensorEdit::Role::Consumer, true);
        changed.conv.inChannels += grow;
      } else {
        return refuted(
            g, recipe,
            fmt::format("the grouped conv '{}' (groups {}) reads the widened channels of {}; its groups "
                        "cannot be widened consistently",
                        n.name, n.conv.groups, targetText),
            false);
      }
      break;
    case ir::OpKind::Linear: {
      const int64_t block =
          inLayout.flattened ? n.linear.inFeatures / std::max<int64_t>(1, inLayout.total()) : 1;
      editTensors(n, offs, 1, block, true, plan::TensorEdit::Role::Consumer, true);
      changed.linear.inFeatures += grow * block;
      break;
    }
    case ir::OpKind::BatchNorm2d:
      editTensors(n, offs, 0, 1, false, plan::TensorEdit::Role::Channelwise, false);
      changed.bn.numFeatures += grow;
      break;
    case ir::OpKind::PRelu:
      if (n.prelu.numParameters > 1) {
        editTensors(n, offs, 0, 1, false, plan::TensorEdit::Role::Channelwise, false);
        changed.prelu.numParameters += grow;
      }
      break;
    case ir::OpKind::ParamActivation:
      editTensors(n, offs, 0, 1, false, plan::TensorEdit::Role::Channelwise, false);
      changed.pact.channels += grow;
      break;
    case ir::OpKind::Dropout:
      dropouts.push_back(n.name);
      break;
    default:
      break; // activations, pools, flatten, add, mul, concat, stochastic depth: channel-wise, no tensors
    }
  }
  if (!offsetsIn(cc.layout[static_cast<size_t>(g.outputId())], cc, cls).empty()) {
    const bool isOutput = std::find(producers.begin(), producers.end(), g.outputId()) != producers.end();
    const std::string what =
        isOutput ? fmt::format("'{}' is the network's output", g.outputName())
                 : fmt::format("{} feeds the network output '{}'", targetText, g.outputName());
    return refuted(
        g, recipe,
        what + ": widening it changes the number of outputs (use `replace head with linear(classes: N)`)",
        false);
  }

  // The replication map and the splits.
  const uint64_t seed = split->seed.value_or(in.seed);
  support::SplitMix64 rng(seed);
  w.mapping.resize(static_cast<size_t>(newC));
  for (int64_t j = 0; j < newC; ++j) w.mapping[static_cast<size_t>(j)] = j < oldC ? j : rng.below(oldC);
  std::vector<std::vector<int64_t>> copies(static_cast<size_t>(oldC));
  for (int64_t j = 0; j < newC; ++j)
    copies[static_cast<size_t>(w.mapping[static_cast<size_t>(j)])].push_back(j);
  w.scale.assign(static_cast<size_t>(newC), 1.0);
  for (const std::vector<int64_t>& js : copies) {
    if (split->kind == "random" && js.size() > 1) {
      std::vector<double> u;
      double sum = 0;
      for (size_t k = 0; k < js.size(); ++k) {
        u.push_back(rng.uniform(0.5, 1.5));
        sum += u.back();
      }
      double used = 0;
      for (size_t k = 0; k + 1 < js.size(); ++k) {
        w.scale[static_cast<size_t>(js[k])] = u[k] / sum;
        used += u[k] / sum;
      }
      w.scale[static_cast<size_t>(js.back())] = 1.0 - used; // the parts sum to exactly 1 in double
    } else {
      for (int64_t j : js) w.scale[static_cast<size_t>(j)] = 1.0 / static_cast<double>(js.size());
    }
  }
  if (split->kind == "noise") {
    w.noiseSigma = split->sigma;
    w.noiseSeed = support::deriveSeed(seed, "noise", 0);
  }

  StepOutcome o;
  o.graph = ir::Graph(std::move(nodes), g.outputName());
  o.recipe = recipe;
  int64_t consumers = 0;
  for (const plan::TensorEdit& e : w.edits) consumers += e.role == plan::TensorEdit::Role::Consumer;
  const std::string splitText = split->kind == "random"
                                    ? fmt::format("random unequal splits (seed {}) summing to 1", seed)
                                    : std::string("1/n splits");
  o.reason = fmt::format("Net2WiderNet: {} {}->{} channels, copies drawn with seed {}, {} consumer weight(s) "
                         "scaled by {}; only channel-wise layers in between",
                         targetText, oldC, newC, seed, consumers, splitText);
  if (split->kind == "noise") {
    o.verdict = plan::Verdict::Approximate;
    o.reason = fmt::format(
        "noise({}) perturbs the outgoing weights of the {} new channels by N(0, ({} * std(W))^2): "
        "the outputs move by about that fraction of their scale; without noise: {}",
        support::formatNumber(split->sigma), delta, support::formatNumber(split->sigma), o.reason);
  } else if (!dropouts.empty()) {
    o.verdict = plan::Verdict::Eval;
    o.reason += fmt::format(
        "; dropout '{}' lies in between and draws different masks for the copies in train mode", dropouts[0]);
  } else {
    o.verdict = plan::Verdict::Exact;
  }
  o.mode = dropouts.empty() ? plan::ProofMode::Any : plan::ProofMode::Eval;
  return o;
}

} // namespace mhr::verify
