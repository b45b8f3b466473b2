#include "runtime/morph.h"

#include "compiler/ir/params.h"
#include "compiler/ir/shapes.h"
#include "support/assert.h"
#include "support/error.h"
#include "support/strings.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstdio>
#include <set>

namespace mhr::runtime {
namespace {

at::Generator seededGenerator(uint64_t seed) {
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

torch::Tensor asDouble(const torch::Tensor& t) {
  return t.detach().to(torch::kCPU, torch::kDouble);
}

// R4: random values drawn on a float32 CPU tensor from a generator seeded with the recipe's seed.
torch::Tensor makeInit(const plan::TensorInit& init, const StateDict& parent) {
  const std::vector<int64_t>& shape = init.shape;
  torch::Tensor t;
  switch (init.kind) {
  case plan::TensorInit::Kind::Zeros:
    return torch::zeros(shape, init.int64 ? torch::kLong : torch::kFloat);
  case plan::TensorInit::Kind::Fill:
    if (init.int64) return torch::full(shape, static_cast<int64_t>(init.value), torch::kLong);
    return torch::full(shape, init.value, torch::kDouble).to(torch::kFloat);
  case plan::TensorInit::Kind::IdentityConv: {
    MHR_ASSERT(shape.size() == 4, "IdentityConv needs a conv weight shape");
    t = torch::zeros(shape, torch::kFloat);
    const int64_t perGroup = shape[1];
    for (int64_t o = 0; o < shape[0]; ++o) t[o][o % perGroup][(shape[2] - 1) / 2][(shape[3] - 1) / 2] = 1.0;
    return t;
  }
  case plan::TensorInit::Kind::Identity:
    MHR_ASSERT(shape.size() == 2 && shape[0] == shape[1], "Identity needs a square shape");
    return torch::eye(shape[0], torch::kFloat);
  case plan::TensorInit::Kind::Uniform: {
    at::Generator gen = seededGenerator(init.seed);
    return torch::empty(shape, torch::kFloat).uniform_(init.low, init.high, gen);
  }
  case plan::TensorInit::Kind::Copy: {
    const torch::Tensor* src = parent.find(init.source);
    MHR_ASSERT(src != nullptr, "a Copy init names a tensor the parent does not have");
    torch::Tensor s = asDouble(*src);
    torch::Tensor out = s.numel() == 1 ? torch::full(shape, s.reshape({}).item<double>(), torch::kDouble)
                                       : s.expand(shape).clone();
    return out.to(src->scalar_type());
  }
  }
  MHR_UNREACHABLE("TensorInit kind");
}

// One widen edit: the parent tensor with each run of `oldChannels` channels (at each offset, along `axis`,
// each channel `block` elements) replaced by `newChannels` runs taken from the parent's run mapping[j],
// scaled by scale[j] for consumers. `isNew` receives, per element along the axis, whether it belongs to a new
// channel.
torch::Tensor widenTensor(const torch::Tensor& parentTensor, const plan::TensorEdit& edit,
                          const plan::WidenRecipe& w, std::vector<bool>& isNew) {
  torch::Tensor p = asDouble(parentTensor);
  MHR_ASSERT(edit.axis >= 0 && edit.axis < p.dim(), "widen edit axis out of range");
  const int64_t length = p.size(edit.axis);
  MHR_ASSERT(edit.block > 0 && length % edit.block == 0, "widen edit block does not divide the axis");
  const int64_t channels = length / edit.block;
  std::vector<int64_t> index;
  std::vector<double> scale;
  isNew.clear();
  auto take = [&](int64_t channel, double s, bool fresh) {
    MHR_ASSERT(channel >= 0 && channel < channels, "widen edit reads outside the tensor");
    for (int64_t e = 0; e < edit.block; ++e) {
      index.push_back(channel * edit.block + e);
      scale.push_back(s);
      isNew.push_back(fresh);
    }
  };
  int64_t c = 0;
  for (int64_t offset : edit.offsets) {
    MHR_ASSERT(offset >= c, "widen edit offsets must ascend without overlap");
    for (; c < offset; ++c) take(c, 1.0, false);
    for (int64_t j = 0; j < w.newChannels; ++j)
      take(offset + w.mapping[static_cast<size_t>(j)], edit.scaled ? w.scale[static_cast<size_t>(j)] : 1.0,
           j >= w.oldChannels);
    c = offset + w.oldChannels;
  }
  for (; c < channels; ++c) take(c, 1.0, false);
  torch::Tensor out = p.index_select(edit.axis, torch::tensor(index, torch::kLong));
  std::vector<int64_t> bshape(static_cast<size_t>(p.dim()), 1);
  bshape[static_cast<size_t>(edit.axis)] = static_cast<int64_t>(scale.size());
  out = out * torch::tensor(scale, torch::kDouble).view(bshape);
  return out.to(parentTensor.scalar_type());
}

} // namespace

StateDict applyRecipe(const plan::MorphRecipe& recipe, const StateDict& parent, const ir::Graph& childGraph) {
  std::set<std::string> handled(recipe.removed.begin(), recipe.removed.end());
  std::map<std::string, torch::Tensor> out;
  if (recipe.applied) {
    for (const plan::TensorInit& init : recipe.created) handled.insert(init.name);
    switch (recipe.kind) {
    case plan::MorphRecipe::Kind::Upscale: {
      const std::string name = recipe.upscale.conv + ".weight";
      const int64_t r = recipe.upscale.factor;
      torch::Tensor w = asDouble(parent.at(name));
      out[name] = (w.repeat_interleave(r, 2).repeat_interleave(r, 3) / static_cast<double>(r * r))
                      .to(parent.at(name).scalar_type());
      handled.insert(name);
      break;
    }
    case plan::MorphRecipe::Kind::GrowKernel: {
      const plan::GrowKernelRecipe& g = recipe.grow;
      const std::string name = g.conv + ".weight";
      torch::Tensor w = asDouble(parent.at(name));
      MHR_ASSERT(w.size(2) == g.oldKH && w.size(3) == g.oldKW, "grow kernel: parent kernel size differs");
      torch::Tensor grown = torch::zeros({w.size(0), w.size(1), g.newKH, g.newKW}, torch::kDouble);
      grown.narrow(2, g.top, g.oldKH).narrow(3, g.left, g.oldKW).copy_(w);
      out[name] = grown.to(parent.at(name).scalar_type());
      handled.insert(name);
      break;
    }
    case plan::MorphRecipe::Kind::Widen: {
      const plan::WidenRecipe& w = recipe.widen;
      // A widen to the current width edits nothing (and carries no mapping).
      MHR_ASSERT(w.edits.empty() || (w.mapping.size() == static_cast<size_t>(w.newChannels) &&
                                     w.scale.size() == w.mapping.size()),
                 "widen recipe: mapping and scale need one entry per new channel");
      for (size_t e = 0; e < w.edits.size(); ++e) {
        const plan::TensorEdit& edit = w.edits[e];
        std::vector<bool> isNew;
        torch::Tensor t = widenTensor(parent.at(edit.tensor), edit, w, isNew);
        if (w.noiseSigma > 0 && edit.role == plan::TensorEdit::Role::Consumer) {
          // Approximate split: noise on the new columns only, scaled by the parent tensor's spread.
          double spread = asDouble(parent.at(edit.tensor)).std().item<double>();
          at::Generator gen = seededGenerator(w.noiseSeed + e);
          torch::Tensor noise =
              torch::empty(t.sizes(), torch::kFloat).normal_(0.0, w.noiseSigma * spread, gen);
          std::vector<int64_t> bshape(static_cast<size_t>(t.dim()), 1);
          bshape[static_cast<size_t>(edit.axis)] = static_cast<int64_t>(isNew.size());
          std::vector<double> mask(isNew.begin(), isNew.end());
          t = (asDouble(t) + noise.to(torch::kDouble) * torch::tensor(mask, torch::kDouble).view(bshape))
                  .to(t.scalar_type());
        }
        out[edit.tensor] = t;
        handled.insert(edit.tensor);
      }
      break;
    }
    case plan::MorphRecipe::Kind::Deepen:
    case plan::MorphRecipe::Kind::Activation:
    case plan::MorphRecipe::Kind::ReplaceHead:
    case plan::MorphRecipe::Kind::Branch:
      break; // created/removed tensors only
    }
    for (const plan::TensorInit& init : recipe.created) out[init.name] = makeInit(init, parent);
  } else {
    handled.clear(); // refuted before it changed anything: the parent's tensors, unchanged
  }
  for (const std::string& name : parent.names())
    if (!handled.count(name)) out[name] = parent.at(name);

  // R1: exactly the tensors of the child graph, in its order.
  StateDict result;
  for (const ir::TensorSpec& spec : ir::stateDictSpec(childGraph)) {
    auto it = out.find(spec.name);
    MHR_ASSERT(it != out.end(),
               ("morph recipe leaves tensor '" + spec.name + "' of the child undefined").c_str());
    MHR_ASSERT(it->second.sizes().vec() == spec.shape,
               ("morph recipe gives tensor '" + spec.name + "' the wrong shape").c_str());
    result.add(spec.name, it->second);
    out.erase(it);
  }
  MHR_ASSERT(out.empty(), ("morph recipe leaves tensor '" + (out.empty() ? "" : out.begin()->first) +
                           "' that the child graph does not have")
                              .c_str());
  return result;
}

// ---- numeric re-check
// --------------------------------------------------------------------------------------------

namespace {

// The network's total downsampling: a probe size over the smallest spatial size any node produces.
int64_t totalStride(const ir::Graph& g) {
  const int64_t probe = 1024;
  ir::ShapeResult s = ir::inferShapes(g, 1, probe, probe);
  if (!s.ok()) return 1;
  int64_t smallest = probe;
  for (const ir::TensorShape& t : s.shapes)
    if (t.rank == 4 && t.h > 1) smallest = std::min(smallest, t.h);
  return std::max<int64_t>(1, probe / smallest);
}

// A parent-side size (h, w), not a multiple of the total stride, at which the parent runs on (h, w) and the
// child on (h * factor, w * factor).
std::pair<int64_t, int64_t> checkSize(const ir::Graph& parent, const ir::Graph& child, int64_t factor,
                                      int64_t batch) {
  int64_t s = std::max(totalStride(parent), totalStride(child) / factor);
  int64_t h = s == 1 ? 13 : 2 * s + 3, w = s == 1 ? 11 : 2 * s + 5;
  for (int i = 0; i < 12; ++i) {
    if (ir::inferShapes(parent, batch, h, w).ok() &&
        ir::inferShapes(child, batch, h * factor, w * factor).ok())
      return {h, w};
    h += 2 * std::max<int64_t>(s, 4);
    w += 2 * std::max<int64_t>(s, 4);
  }
  return {0, 0};
}

Network buildDouble(const ir::Graph& graph, const StateDict& weights, const std::string& what) {
  Network net(graph);
  loadStateDict(*net, weights, what);
  net->to(torch::kDouble);
  return net;
}

// The last node (in the child's order) that both graphs have with the same spatial output shape and at least
// 3x3 pixels: its feature map shows border errors that global pooling would average away.
std::string borderNode(const ir::Graph& parent, const ir::ShapeResult& ps, const ir::Graph& child,
                       const ir::ShapeResult& cs) {
  for (ir::NodeId id = static_cast<ir::NodeId>(child.size()) - 1; id >= 0; --id) {
    const ir::Node& n = child.node(id);
    ir::NodeId pid = parent.find(n.name);
    if (pid == ir::kNoNode || n.op == ir::OpKind::Input) continue;
    const ir::TensorShape& a = cs.shapes[static_cast<size_t>(id)];
    const ir::TensorShape& b = ps.shapes[static_cast<size_t>(pid)];
    if (a == b && a.rank == 4 && a.h >= 3 && a.w >= 3) return n.name;
  }
  return "";
}

struct Comparison {
  double maxAbs = 0, scale = 0, border = NAN, borderScale = NAN;
};

Comparison compareOnce(NetworkImpl& parent, NetworkImpl& child, const torch::Tensor& parentInput,
                       const torch::Tensor& childInput, const std::string& node, uint64_t seed) {
  torch::NoGradGuard noGrad;
  torch::Tensor pf, cf;
  ir::NodeId pid = node.empty() ? ir::kNoNode : parent.graph().find(node);
  ir::NodeId cid = node.empty() ? ir::kNoNode : child.graph().find(node);
  torch::manual_seed(seed); // the same random draws (dropout, stochastic depth) in both networks
  torch::Tensor yp = parent.forward(parentInput, pid, pf);
  torch::manual_seed(seed);
  torch::Tensor yc = child.forward(childInput, cid, cf);
  Comparison c;
  c.maxAbs = (yc - yp).abs().max().item<double>();
  c.scale = yp.abs().max().item<double>();
  if (pf.defined() && cf.defined() && pf.sizes() == cf.sizes()) {
    torch::Tensor d = (cf - pf).abs();
    const int64_t h = d.size(2), w = d.size(3);
    torch::Tensor ring = torch::cat({d.select(2, 0).flatten(), d.select(2, h - 1).flatten(),
                                     d.select(3, 0).flatten(), d.select(3, w - 1).flatten()});
    c.border = ring.max().item<double>();
    c.borderScale = pf.abs().max().item<double>();
  }
  return c;
}

std::string formatDouble(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

} // namespace

RecheckResult recheckStep(const ir::Graph& parentGraph, const StateDict& parentWeights,
                          const plan::MorphStep& step, const ir::Graph& childGraph,
                          const StateDict& childWeights, const RecheckOptions& options) {
  RecheckResult r;
  Network parent = buildDouble(parentGraph, parentWeights, "parent weights");
  Network child = buildDouble(childGraph, childWeights, "child weights");
  const bool upscale = step.recipe.kind == plan::MorphRecipe::Kind::Upscale;
  const int64_t factor = upscale ? step.recipe.upscale.factor : 1;
  auto [ph, pw] = checkSize(parentGraph, childGraph, factor, options.batch);
  if (ph == 0) {
    // A refuted statement may still be applied and leave a network that cannot run (an add of tensors whose
    // sizes no longer match): the clearest possible "not preserved".
    int64_t s = std::max<int64_t>(totalStride(parentGraph), 1);
    ir::ShapeResult bad =
        ir::inferShapes(childGraph, options.batch, (2 * s + 3) * factor, (2 * s + 5) * factor);
    r.note = "the network after this statement cannot run at any size the parent runs at" +
             (bad.ok() ? std::string() : ": " + bad.error->message);
    return r;
  }
  const int64_t ch = ph * factor, cw = pw * factor;
  r.height = ch;
  r.width = cw;
  const int64_t channels = parentGraph.node(parentGraph.inputId()).input.channels;

  ir::ShapeResult ps = ir::inferShapes(parentGraph, options.batch, ph, pw);
  ir::ShapeResult cs = ir::inferShapes(childGraph, options.batch, ch, cw);
  r.borderNode = borderNode(parentGraph, ps, childGraph, cs);

  std::vector<std::string> modes = {"eval"};
  if (step.mode == plan::ProofMode::Any) modes.push_back("train");
  r.mode = modes.size() == 2 ? "both" : "eval";
  r.maxAbsError = 0;
  double scale = 0, borderScale = 0;
  for (size_t m = 0; m < modes.size(); ++m) {
    parent->train(modes[m] == "train");
    child->train(modes[m] == "train");
    torch::manual_seed(options.seed + 17 * m);
    // Negative values too, and a range of magnitudes: the second sample is 8x larger, so range conditions
    // (a relu6 that clips, a value reaching a saturating activation) show up.
    torch::Tensor x = torch::randn({options.batch, channels, ch, cw}, torch::kDouble);
    if (options.batch > 1) x.narrow(0, 1, 1).mul_(8.0);
    // upscale: child(x) == parent(box_R(x)), the R x R box filter being an R-strided average.
    torch::Tensor px = upscale ? torch::avg_pool2d(x, {factor, factor}) : x;
    Comparison c = compareOnce(*parent, *child, px, x, r.borderNode, options.seed + 31 * m);
    r.maxAbsError = std::max(r.maxAbsError, c.maxAbs);
    scale = std::max(scale, c.scale);
    if (!std::isnan(c.border)) {
      r.borderError = std::isnan(r.borderError) ? c.border : std::max(r.borderError, c.border);
      borderScale = std::max(borderScale, c.borderScale);
    }
  }
  r.relError = scale > 0 ? r.maxAbsError / scale : r.maxAbsError;
  if (!std::isnan(r.borderError))
    r.borderRelError = borderScale > 0 ? r.borderError / borderScale : r.borderError;
  r.ran = true;

  if (upscale) {
    // What happens when H, W are not multiples of the factor: the box filter drops the last rows/columns
    // while the fused conv still reads them.
    const int64_t nh = ch + 1, nw = cw + 1;
    if (ir::inferShapes(childGraph, options.batch, nh, nw).ok()) {
      parent->eval();
      child->eval();
      torch::manual_seed(options.seed + 101);
      torch::Tensor x = torch::randn({options.batch, channels, nh, nw}, torch::kDouble);
      Comparison c =
          compareOnce(*parent, *child, torch::avg_pool2d(x, {factor, factor}), x, "", options.seed);
      r.note = "at " + std::to_string(nh) + "x" + std::to_string(nw) + " (not divisible by " +
               std::to_string(factor) +
               ") the child differs from the parent on the box-downsampled input: max abs error " +
               formatDouble(c.maxAbs) + ", relative " +
               formatDouble(c.scale > 0 ? c.maxAbs / c.scale : c.maxAbs);
    }
  }
  return r;
}

StateDict morphWeights(const plan::NetworkPlan& child, const ir::Graph& parentGraph,
                       const StateDict& parentWeights, const std::string& parentStage, MetricsSink& sink,
                       const RecheckOptions& options) {
  MHR_ASSERT(child.origin == plan::NetworkPlan::Origin::Morph, "morphWeights needs a morph child");
  LineageRecord lineage;
  lineage.child = child.name;
  lineage.parent = child.parent;
  lineage.parentStage = parentStage;
  for (const plan::MorphStep& s : child.steps) lineage.statements.push_back(s.text);
  sink.logLineage(lineage);

  StateDict current = parentWeights;
  ir::Graph currentGraph = parentGraph;
  for (size_t i = 0; i < child.steps.size(); ++i) {
    const plan::MorphStep& step = child.steps[i];
    ir::Graph stepGraph = step.edit.apply(currentGraph);
    StateDict next = applyRecipe(step.recipe, current, stepGraph);
    VerdictRecord v;
    v.network = child.name;
    v.statementIndex = static_cast<int>(i);
    v.statement = step.text;
    v.location = step.location;
    v.verdict = plan::verdictName(step.verdict);
    v.reason = step.reason;
    if (step.verdict != plan::Verdict::Declared && step.recipe.applied) {
      RecheckOptions o = options;
      o.seed = options.seed + 1000 * i;
      RecheckResult r = recheckStep(currentGraph, current, step, stepGraph, next, o);
      if (!r.ran) r.relError = INFINITY; // a claimed proof whose network cannot even run fails below
      v.mode = r.mode;
      v.maxAbsError = r.maxAbsError;
      v.borderError = r.borderError;
      v.relError = r.ran ? r.relError : NAN;
      if (!r.note.empty()) v.reason += (v.reason.empty() ? "" : "; ") + r.note;
      const bool claimed = step.verdict == plan::Verdict::Exact || step.verdict == plan::Verdict::Eval;
      const bool bordersOk = std::isnan(r.borderRelError) || r.borderRelError <= options.tolerance;
      if (claimed && !(r.relError <= options.tolerance && bordersOk)) {
        sink.logVerdict(v);
        sink.flush();
        throw UserError(
            step.location + ": internal error (a bug in mhr, please report it): the prover called '" +
            step.text + "' " + v.verdict + (step.reason.empty() ? "" : " (" + step.reason + ")") +
            ", but the numeric re-check at " + std::to_string(r.height) + "x" + std::to_string(r.width) +
            " in " + (r.ran ? r.mode : "no") + " mode finds max abs error " + formatDouble(r.maxAbsError) +
            " (relative " + formatDouble(r.relError) + ", border " + formatDouble(r.borderError) +
            "), above the tolerance " + formatDouble(options.tolerance) +
            (r.note.empty() ? "" : " (" + r.note + ")") + "; the run stops here");
      }
    }
    sink.logVerdict(v);
    current = std::move(next);
    currentGraph = std::move(stepGraph);
  }
  MHR_ASSERT(child.steps.empty() || currentGraph == child.graph,
             "the last morph step's graph is not the child's");
  return current;
}

void importWeights(const plan::NetworkPlan& plan, NetworkImpl& network) {
  StateDict file = readStateDict(plan.weights);
  StateDict expected = moduleStateDict(network);
  StateDict adapted;
  for (const std::string& name : file.names()) {
    torch::Tensor t = file.at(name);
    const torch::Tensor* want = expected.find(name);
    bool sum = std::find(plan.import.sumInputChannels.begin(), plan.import.sumInputChannels.end(), name) !=
               plan.import.sumInputChannels.end();
    // timm's rule for a gray stem: x seen as (x, x, x) gives sum_c W[:, c] * x.
    if (sum && want && t.dim() == 4 && want->dim() == 4 && t.size(1) == 3 && want->size(1) == 1)
      t = asDouble(t).sum(1, /*keepdim=*/true).to(t.scalar_type());
    adapted.add(name, t);
  }
  LoadOptions o;
  o.strict = plan.strictWeights;
  loadStateDict(network, adapted, plan.weights, o);
}

} // namespace mhr::runtime
