// cli/cmd_compile.cpp — `mhr check`, `mhr explain`, `mhr emit ast|ir|plan`, `mhr fmt`: the compiler's commands.
// All of them read a .mhr file, print diagnostics to stderr (text or JSON) and exit 1 when there are errors.
#include "cli/commands.h"
#include "compiler/ast/formatter.h"
#include "compiler/ast/printer.h"
#include "compiler/parse/parser.h"
#include "compiler/pipeline.h"
#include "support/files.h"

#include <iostream>

namespace mhr::cli {

namespace {

struct CompileArgs {
  std::string file;
  std::vector<std::string> overrides;
  std::string format = "text";
};

void addCommon(CLI::App* cmd, CompileArgs& a) {
  cmd->add_option("file", a.file, "the .mhr file")->required();
  cmd->add_option("--set", a.overrides, "override a setting: KEY=VALUE (repeatable), e.g. train.hr.epochs=2");
}

int reportDiagnostics(const compiler::CompileResult& r, const std::string& format) {
  if (format == "json")
    r.diags->renderJson(std::cout);
  else
    r.diags->renderText(std::cerr);
  return r.ok() ? 0 : 1;
}

int runCheck(const CompileArgs& a) {
  compiler::CompileOptions options;
  options.overrides = a.overrides;
  options.stopAfter = compiler::Stage::Verify;
  auto r = compiler::compileFile(a.file, options);
  int code = reportDiagnostics(r, a.format);
  if (r.ok() && a.format == "text") std::cout << a.file << ": ok\n";
  return code;
}

int runEmit(const std::string& what, const CompileArgs& a) {
  compiler::CompileOptions options;
  options.overrides = a.overrides;
  if (what == "ast") options.stopAfter = compiler::Stage::Parse;
  auto r = compiler::compileFile(a.file, options);
  if (!r.ok()) return reportDiagnostics(r, "text");
  if (what == "ast") {
    for (const auto& f : r.program->files) std::cout << ast::printAst(*f, *r.sources);
  }
  r.diags->renderText(std::cerr); // warnings
  return 0;
}

int runFmt(const std::string& file, bool check, bool inPlace) {
  diag::SourceManager sources;
  diag::DiagnosticEngine diags(sources);
  auto text = support::readFile(file);
  if (!text) {
    std::cerr << "mhr: error: cannot read '" << file << "'\n";
    return 1;
  }
  diag::FileId id = sources.addFile(file, *text);
  auto ast = parse::parseFile(id, sources, diags);
  if (diags.hasErrors()) {
    diags.renderText(std::cerr);
    return 1;
  }
  std::string formatted = ast::formatFile(*ast, sources);
  if (check) {
    if (formatted == *text) return 0;
    std::cerr << file << ": not formatted (run `mhr fmt " << file << " -i`)\n";
    return 1;
  }
  if (inPlace) {
    if (formatted != *text) support::writeFileAtomic(file, formatted);
    return 0;
  }
  std::cout << formatted;
  return 0;
}

} // namespace

void registerCompilerCommands(CLI::App& app, Runner& run) {
  static CompileArgs checkArgs, explainArgs, emitArgs;
  static std::string emitWhat;
  static bool explainJson = false;

  auto* check = app.add_subcommand("check", "parse, check and prove function preservation; print diagnostics and the verdict table");
  addCommon(check, checkArgs);
  check->add_option("--format", checkArgs.format, "text or json")->check(CLI::IsMember({"text", "json"}));
  check->callback([&run]() { run = [] { return runCheck(checkArgs); }; });

  auto* emit = app.add_subcommand("emit", "print a compiler stage: ast, ir or plan (stable text, for tests and debugging)");
  emit->add_option("stage", emitWhat, "ast | ir | plan")->required()->check(CLI::IsMember({"ast", "ir", "plan"}));
  addCommon(emit, emitArgs);
  emit->callback([&run]() { run = [] { return runEmit(emitWhat, emitArgs); }; });

  auto* explain = app.add_subcommand("explain", "the lowered plan: layers, parameters, MACs, memory per resolution; verdict per morph");
  addCommon(explain, explainArgs);
  explain->add_flag("--json", explainJson, "machine-readable output");
  explain->callback([&run]() { run = [] { return runEmit("plan", explainArgs); }; });

  static std::string fmtFile;
  static bool fmtCheck = false, fmtInPlace = false;
  auto* fmt = app.add_subcommand("fmt", "print the file in canonical layout (keeps comments)");
  fmt->add_option("file", fmtFile, "the .mhr file")->required();
  fmt->add_flag("--check", fmtCheck, "exit 1 when the file is not formatted; change nothing");
  fmt->add_flag("-i,--in-place", fmtInPlace, "rewrite the file");
  fmt->callback([&run]() { run = [] { return runFmt(fmtFile, fmtCheck, fmtInPlace); }; });
}

} // namespace mhr::cli
