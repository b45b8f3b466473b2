// compiler/pipeline.cpp — the compiler's stages, in order. Each stage runs only when the ones before it
// reported no errors; `MHR_TIME_STAGES=1` prints each stage's wall time to stderr.
#include "compiler/pipeline.h"

#include "compiler/ast/printer.h"
#include "compiler/cost/memory_check.h"
#include "compiler/ir/paths.h"
#include "compiler/ir/shapes.h"
#include "compiler/lower/lower_config.h"
#include "compiler/lower/lower_dataset.h"
#include "compiler/plan/stage_hash.h"
#include "compiler/sema/overrides.h"
#include "support/assert.h"
#include "support/sha256.h"
#include "support/strings.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>

namespace mhr::compiler {

namespace {

class StageTimer {
public:
  explicit StageTimer(const char* name) : name_(name), start_(std::chrono::steady_clock::now()) {}
  ~StageTimer() {
    static const bool enabled = std::getenv("MHR_TIME_STAGES") != nullptr;
    if (!enabled) return;
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "mhr: stage %-8s %8.3f ms\n", name_, ms);
  }

private:
  const char* name_;
  std::chrono::steady_clock::time_point start_;
};

std::string specHash(const sema::Program& program, const diag::SourceManager& sources) {
  support::Sha256 h;
  for (const auto& f : program.files) {
    const std::string& text = sources.file(f->id).text;
    h.update(std::to_string(text.size()) + ":");
    h.update(text);
  }
  return h.hexDigest();
}

plan::ExperimentPlan lowerPlan(const std::string& path, const sema::Program& program,
                               const sema::Symbols& symbols, const diag::SourceManager& sources) {
  plan::ExperimentPlan p;
  p.name = symbols.experiment ? symbols.experiment->name.text : "";
  p.seed = symbols.seedValue();
  p.preservation = symbols.preservationLevel();
  p.specPath = path;
  p.specText = sources.file(program.mainFile).text;
  for (const auto& f : program.files) p.sources.push_back(sources.file(f->id).path);
  p.specHash = specHash(program, sources);
  std::vector<const ast::Stmt*> statements(program.statements.begin(), program.statements.end());
  p.semanticHash = support::sha256Hex(ast::canonicalText(statements));
  for (const auto* d : symbols.datasets) {
    p.datasets.push_back(lower::lowerDataset(*d, sources));
    p.datasets.back().spec = lower::lowerDatasetSpec(p.datasets.back(), p.seed);
  }
  auto keys = lower::stageKeys(symbols);
  for (size_t i = 0; i < symbols.stages.size(); ++i)
    p.stages.push_back(lower::lowerStage(*symbols.stages[i], keys[i], sources));
  if (symbols.sweep) p.sweep = lower::lowerSweep(*symbols.sweep, p.seed);
  p.params = lower::flattenParams(p);
  return p;
}

// Every stage statement that uses `network`, as the prover and the shape checks need them.
std::vector<verify::StageUse> usesOf(const std::string& network, const sema::Symbols& symbols) {
  std::vector<verify::StageUse> uses;
  for (const auto* st : symbols.stages) {
    if (st->network.text != network) continue;
    verify::StageUse u;
    u.height = st->resolution.h;
    u.width = st->resolution.w;
    u.range = st->resolution.range;
    u.label = std::string(ast::kindName(st->kind)) + " " + network + " on " + st->split.str();
    uses.push_back(u);
  }
  return uses;
}

// `cam_layer: PATH` names a node or a module with one output whose tensor is a feature map (NCHW, more than
// one row) at the stage's resolution.
void checkCamLayer(const ast::StageStmt& st, const ast::Path& path, const ir::Graph& graph,
                   diag::DiagnosticEngine& diags) {
  std::optional<ir::LayerRef> ref = ir::resolveLayer(graph, path, st.network.text, diags);
  if (!ref) return;
  if (ref->node == ir::kNoNode) {
    diags.error("E0302", path.range,
                "module '" + ref->path + "' has several outputs; name one of its layers as cam_layer");
    return;
  }
  ir::ShapeResult shapes = ir::inferShapes(graph, 1, st.resolution.h, st.resolution.w);
  if (!shapes.ok()) return; // reported with the network's shape check
  const ir::TensorShape& s = shapes.shapes[static_cast<size_t>(ref->node)];
  if (s.rank != 4 || s.h <= 1)
    diags.error(
        "E0303", path.range,
        "cam_layer '" + path.str() + "' is " + s.str() + " at " + std::to_string(st.resolution.h) + "x" +
            std::to_string(st.resolution.w) +
            ": Grad-CAM needs a feature map with more than one row (an NCHW layer before the pooling)");
}

// `freeze: [...]` and `lr_groups: [...]` name layer paths: each must be a node of the stage's network or a
// prefix of some nodes' names (`layer1` covers `layer1.0.conv1`).
void checkLayerPaths(const ast::StageStmt& st, const ir::Graph& graph, diag::DiagnosticEngine& diags) {
  if (!st.block) return;
  std::vector<const ast::Path*> paths;
  for (const auto& a : st.block->attrs) {
    if (a.key.str() == "cam_layer" && a.value.kind == ast::Value::Kind::Path)
      checkCamLayer(st, a.value.path, graph, diags);
    if (a.key.str() == "freeze")
      for (const auto& v : a.value.items)
        if (v.kind == ast::Value::Kind::Path) paths.push_back(&v.path);
    if (a.key.str() == "lr_groups")
      for (const auto& g : a.value.items)
        for (const auto& arg : g.args)
          if (arg.value.kind == ast::Value::Kind::Path && (!arg.name || arg.name->text == "path"))
            paths.push_back(&arg.value.path);
  }
  if (paths.empty()) return;
  std::vector<std::string> names;
  for (const auto& n : graph.nodes()) names.push_back(n.name);
  for (const ast::Path* p : paths) {
    std::string prefix = p->str();
    bool found = false;
    for (const auto& n : names) found |= n == prefix || n.rfind(prefix + ".", 0) == 0;
    if (found) continue;
    auto b =
        diags.error("E0301", p->range, "network '" + st.network.text + "' has no layer '" + prefix + "'");
    std::string guess = support::closestMatch(prefix, names);
    if (!guess.empty()) b.note("did you mean '" + guess + "'?");
  }
}

// The IR stage: builds every network in definition order (stdlib builders, then morph rewrites proved
// statement by statement) and checks shapes at every resolution a stage uses.
std::vector<NetworkIr> buildNetworks(const sema::Program& program, const sema::Symbols& symbols,
                                     const ir::NetworkCatalog& catalog, diag::DiagnosticEngine& diags) {
  std::vector<NetworkIr> out;
  size_t stagesSoFar = 0;
  std::optional<verify::Preservation> level = verify::parsePreservation(symbols.preservationLevel());
  for (const ast::Stmt* s : program.statements) {
    if (s->kind == ast::Stmt::Kind::Train || s->kind == ast::Stmt::Kind::Evaluate) ++stagesSoFar;
    if (s->kind != ast::Stmt::Kind::Network) continue;
    const auto& n = ast::as<ast::NetworkStmt>(*s);
    NetworkIr net;
    net.stmt = &n;
    net.afterStages = stagesSoFar;
    auto uses = usesOf(n.name.text, symbols);
    if (!n.isMorph) {
      net.options = catalog.parseOptions(n.constructor.callee.text, n.constructor.args, diags,
                                         n.constructor.callee.range);
      if (!net.options) continue;
      net.graph = catalog.build(n.constructor.callee.text, *net.options);
      for (const auto& u : uses)
        ir::checkShapes(net.graph, u.height, u.width, diags, u.range,
                        "network '" + n.name.text + "' at " + std::to_string(u.height) + "x" +
                            std::to_string(u.width));
    } else {
      const NetworkIr* parent = nullptr;
      for (const auto& o : out)
        if (o.stmt->name.text == n.parent.text) parent = &o;
      if (!parent) continue; // the parent failed to build: already reported
      verify::MorphContext ctx;
      ctx.network = n.name.text;
      ctx.parent = n.parent.text;
      ctx.seed = static_cast<uint64_t>(symbols.seedValue());
      ctx.preservation = level.value_or(verify::Preservation::Exact);
      if (symbols.preservation) ctx.preservationRange = symbols.preservation->range;
      ctx.uses = uses;
      net.morph = verify::morphNetwork(parent->graph, n, ctx, diags);
      if (!net.morph) continue;
      net.graph = net.morph->graph;
    }
    for (const auto* st : symbols.stages)
      if (st->network.text == n.name.text) checkLayerPaths(*st, net.graph, diags);
    out.push_back(std::move(net));
  }
  return out;
}

// Every stage against the limits it must respect, at the stage statement: the resolution the data layer
// can prepare, and the memory of the cost model against `memory_budget:` or the device's memory. An
// 8192x8192 stage once passed `check`, ran 11 s and died of std::bad_alloc with no stage named.
void checkStageLimits(const sema::Symbols& symbols, const std::vector<NetworkIr>& networks,
                      const CompileOptions& options, const diag::SourceManager& sources,
                      diag::DiagnosticEngine& diags) {
  const std::vector<std::string> keys = lower::stageKeys(symbols);
  for (size_t i = 0; i < symbols.stages.size() && i < keys.size(); ++i) {
    const ast::StageStmt& st = *symbols.stages[i];
    const int64_t h = st.resolution.h, w = st.resolution.w;
    if (h > 16384 || w > 16384) {
      diags
          .error("E0204", st.resolution.range,
                 "resolution " + st.resolution.spelling + " is outside 1..16384 per side")
          .note("images are prepared at most 16384 pixels per side");
      continue;
    }
    const NetworkIr* net = nullptr;
    for (const auto& n : networks)
      if (n.stmt->name.text == st.network.text) net = &n;
    if (!net) continue;
    plan::Stage stage = lower::lowerStage(st, keys[i], sources);
    const bool budgeted = stage.kind == plan::Stage::Kind::Train && stage.train.memoryBudgetBytes > 0;
    const int64_t limit = budgeted ? stage.train.memoryBudgetBytes : options.memoryLimitBytes;
    if (limit <= 0) continue;
    std::optional<cost::StageMemory> m = cost::stageMemory(net->graph, stage, limit, options.cuda);
    if (!m || m->fits) continue;
    const bool train = stage.kind == plan::Stage::Kind::Train;
    const int64_t batch = train ? stage.train.batch : stage.eval.batch;
    const std::string source = budgeted ? "its memory_budget" : options.memoryLimitSource;
    auto d = diags.error("E0211", diag::SourceRange::join(st.keywordRange, st.resolution.range),
                         fmt::format("{} at {}x{} with batch {} needs about {} ({}), more than the {} of {}",
                                     keys[i], h, w, batch, cost::bytesText(m->estimateBytes),
                                     train ? "one training step, cost model" : "forward pass, cost model",
                                     cost::bytesText(limit), source));
    std::vector<std::string> fits;
    if (m->fittingBatch) fits.push_back("batch: " + std::to_string(*m->fittingBatch));
    if (m->fittingResolution)
      fits.push_back(fmt::format("at {}x{}", m->fittingResolution->first, m->fittingResolution->second));
    if (m->checkpointingWouldFit) fits.push_back("checkpointing: auto");
    if (!fits.empty())
      d.note("what would fit: " + support::join(fits, ", or "));
    else
      d.note("nothing at this resolution fits: lower the resolution, or use a device with more memory");
    if (!budgeted) d.note("a stage's `memory_budget:` sets the limit explicitly");
  }
}

plan::NetworkPlan lowerNetwork(const NetworkIr& net, const diag::SourceManager& sources) {
  plan::NetworkPlan p;
  p.name = net.stmt->name.text;
  p.location = lower::locationOf(net.stmt->range, sources);
  p.graph = net.graph;
  p.afterStages = net.afterStages;
  if (net.morph) {
    p.origin = plan::NetworkPlan::Origin::Morph;
    p.parent = net.stmt->parent.text;
    p.steps = net.morph->steps;
    p.verdict = net.morph->verdict;
    p.mode = net.morph->mode;
    return p;
  }
  const ir::NetworkOptions& o = *net.options;
  p.origin = plan::NetworkPlan::Origin::Stdlib;
  p.builder = net.stmt->constructor.callee.text;
  p.options.emplace_back("classes", plan::Value::ofInt(o.classes));
  p.options.emplace_back("width", plan::Value::ofFloat(o.width));
  p.options.emplace_back("in_channels", plan::Value::ofInt(o.inChannels));
  if (!o.weights.empty()) p.options.emplace_back("weights", plan::Value::ofString(o.weights));
  if (o.dropout) p.options.emplace_back("dropout", plan::Value::ofFloat(*o.dropout));
  p.weights = o.weights;
  p.import = plan::importRecipeFor(net.graph);
  if (net.stmt->block) {
    if (const ast::Attribute* a = net.stmt->block->find("strict")) p.strictWeights = a->value.boolValue;
    if (const ast::Attribute* a = net.stmt->block->find("init_seed")) p.initSeed = a->value.intValue;
  }
  return p;
}

} // namespace

namespace {
CompileResult compile(const std::string& path, const std::string* text, const CompileOptions& options);
} // namespace

CompileResult compileFile(const std::string& path, const CompileOptions& options) {
  return compile(path, nullptr, options);
}

CompileResult compileText(const std::string& path, const std::string& text, const CompileOptions& options) {
  return compile(path, &text, options);
}

namespace {

CompileResult compile(const std::string& path, const std::string* text, const CompileOptions& options) {
  MHR_ASSERT(options.catalog != nullptr, "compileFile needs the standard library's catalog");
  CompileResult r;
  r.sources = std::make_unique<diag::SourceManager>();
  r.diags = std::make_unique<diag::DiagnosticEngine>(*r.sources);

  {
    StageTimer t("parse");
    r.program = std::make_unique<sema::Program>(sema::loadProgram(path, *r.sources, *r.diags, text));
  }
  if (!r.ok() || options.stopAfter == Stage::Parse) return r;

  {
    StageTimer t("check");
    sema::applyOverrides(*r.program, options.overrides, *options.catalog, *r.sources, *r.diags);
    if (!r.ok()) return r;
    r.symbols = sema::check(*r.program, *options.catalog, *r.diags);
  }
  if (!r.ok() || options.stopAfter == Stage::Check) return r;

  {
    StageTimer t("verify");
    r.networks = buildNetworks(*r.program, *r.symbols, *options.catalog, *r.diags);
    if (r.ok()) checkStageLimits(*r.symbols, r.networks, options, *r.sources, *r.diags);
  }
  if (!r.ok() || options.stopAfter == Stage::Verify) return r;

  {
    StageTimer t("lower");
    r.plan = lowerPlan(path, *r.program, *r.symbols, *r.sources);
    for (const auto& n : r.networks) r.plan->networks.push_back(lowerNetwork(n, *r.sources));
    r.plan->params = lower::flattenParams(*r.plan);
    // Last: a stage's hash covers its network's definition and the data sets it reads.
    std::vector<std::string> hashes = plan::stageInputHashes(*r.plan);
    for (size_t i = 0; i < hashes.size(); ++i) r.plan->stages[i].inputHash = hashes[i];
  }
  return r;
}

} // namespace

} // namespace mhr::compiler
