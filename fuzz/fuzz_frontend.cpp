// fuzz/fuzz_frontend.cpp — libFuzzer target over the whole front end: any bytes as a .mhr file go through
// parse, overrides-free check, the IR stage (stdlib builders, morph rewrites and proofs) and lowering. Every
// input must end in diagnostics or a plan — never a crash, hang, assert or sanitizer report. Inputs that
// parse are also formatted twice: `fmt` must be idempotent and its output must parse to the same canonical
// AST.
#include "compiler/ast/formatter.h"
#include "compiler/ast/printer.h"
#include "compiler/parse/parser.h"
#include "compiler/pipeline.h"
#include "stdlib/catalog.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace {

std::string canonical(const std::string& text) {
  mhr::diag::SourceManager sources;
  mhr::diag::DiagnosticEngine diags(sources);
  auto id = sources.addFile("fuzz.mhr", text);
  auto file = mhr::parse::parseFile(id, sources, diags);
  std::vector<const mhr::ast::Stmt*> statements;
  for (const auto& s : file->statements) statements.push_back(s.get());
  return diags.hasErrors() ? "<error>" : mhr::ast::canonicalText(statements);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Includes in fuzz inputs resolve inside an empty folder, never in the repository.
  auto dir = std::filesystem::temp_directory_path() / ("mhr-fuzz-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::current_path(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);

  mhr::compiler::CompileOptions options;
  options.catalog = &mhr::stdlib::catalog();
  auto result = mhr::compiler::compileText("fuzz.mhr", text, options);
  // Rendering must work for every diagnostic (ranges inside the file, notes included).
  std::string rendered;
  for (const auto& d : result.diags->diagnostics()) rendered += result.diags->renderOne(d);

  // fmt: idempotent and meaning-preserving on everything that parses.
  mhr::diag::SourceManager sources;
  mhr::diag::DiagnosticEngine diags(sources);
  auto id = sources.addFile("fuzz.mhr", text);
  auto file = mhr::parse::parseFile(id, sources, diags);
  if (!diags.hasErrors()) {
    std::string once = mhr::ast::formatFile(*file, sources);
    mhr::diag::SourceManager sources2;
    mhr::diag::DiagnosticEngine diags2(sources2);
    auto id2 = sources2.addFile("fuzz.mhr", once);
    auto file2 = mhr::parse::parseFile(id2, sources2, diags2);
    if (diags2.hasErrors()) {
      std::fprintf(stderr, "fmt output does not parse:\n%s\n", once.c_str());
      std::abort();
    }
    std::string twice = mhr::ast::formatFile(*file2, sources2);
    if (once != twice) {
      std::fprintf(stderr, "fmt is not idempotent:\n--- once\n%s--- twice\n%s", once.c_str(), twice.c_str());
      std::abort();
    }
    if (canonical(text) != canonical(once)) {
      std::fprintf(stderr, "fmt changed the meaning:\n%s", once.c_str());
      std::abort();
    }
  }
  return 0;
}
