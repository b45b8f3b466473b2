// compiler/pipeline.cpp — the compiler's stages, in order. Each stage runs only when the ones before it
// reported no errors; `MHR_TIME_STAGES=1` prints each stage's wall time to stderr.
#include "compiler/pipeline.h"

#include "compiler/ast/printer.h"
#include "compiler/lower/lower_config.h"
#include "compiler/sema/overrides.h"
#include "support/sha256.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

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

plan::ExperimentPlan lowerPlan(const std::string& path, const sema::Program& program, const sema::Symbols& symbols,
                               const diag::SourceManager& sources) {
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
  for (const auto* d : symbols.datasets) p.datasets.push_back(lower::lowerDataset(*d, sources));
  auto keys = lower::stageKeys(symbols);
  for (size_t i = 0; i < symbols.stages.size(); ++i)
    p.stages.push_back(lower::lowerStage(*symbols.stages[i], keys[i], sources));
  if (symbols.sweep) p.sweep = lower::lowerSweep(*symbols.sweep, p.seed);
  p.params = lower::flattenParams(p);
  return p;
}

// TEMPORARY until the stdlib catalog lands.
std::vector<std::string> networkNames() {
  return {"resnet18", "resnet34", "resnet50", "resnet101", "densenet121", "efficientnet_b0", "vgg11_bn", "vgg16_bn", "tiny_cnn"};
}

} // namespace

CompileResult compileFile(const std::string& path, const CompileOptions& options) {
  CompileResult r;
  r.sources = std::make_unique<diag::SourceManager>();
  r.diags = std::make_unique<diag::DiagnosticEngine>(*r.sources);

  {
    StageTimer t("parse");
    r.program = std::make_unique<sema::Program>(sema::loadProgram(path, *r.sources, *r.diags));
  }
  if (!r.ok() || options.stopAfter == Stage::Parse) return r;

  {
    StageTimer t("check");
    sema::applyOverrides(*r.program, options.overrides, *r.sources, *r.diags);
    if (!r.ok()) return r;
    r.symbols = sema::check(*r.program, networkNames(), *r.diags);
  }
  if (!r.ok() || options.stopAfter == Stage::Check) return r;

  if (options.stopAfter == Stage::Verify) return r;

  {
    StageTimer t("lower");
    r.plan = lowerPlan(path, *r.program, *r.symbols, *r.sources);
  }
  return r;
}

} // namespace mhr::compiler
