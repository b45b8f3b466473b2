#include "compiler/sema/program.h"

#include "compiler/parse/parser.h"
#include "support/files.h"

#include <filesystem>

namespace mhr::sema {

namespace {

namespace fs = std::filesystem;

std::string canonical(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::path(path), ec);
  return ec ? path : p.string();
}

class Loader {
public:
  Loader(Program& program, diag::SourceManager& sources, diag::DiagnosticEngine& diags,
         const std::string* mainText)
      : program_(program), sources_(sources), diags_(diags), mainText_(mainText) {}

  // Loads one file; `from` is the include statement (invalid for the main file).
  void load(const std::string& path, diag::SourceRange from, std::vector<std::string>& stack,
            std::vector<std::string>& stackPaths) {
    std::string key = canonical(path);
    for (size_t i = 0; i < stack.size(); ++i) {
      if (stack[i] != key) continue;
      auto b = diags_.error("E0502", from, "include cycle: '" + path + "' is already being included");
      std::string chain;
      for (size_t k = i; k < stackPaths.size(); ++k) chain += stackPaths[k] + " -> ";
      b.note("cycle: " + chain + path);
      return;
    }
    if (!from.valid() && mainText_) {
      parseAndExpand(path, *mainText_, from, key, stack, stackPaths);
      return;
    }
    if (std::error_code ec; fs::is_directory(path, ec)) {
      report(from, "'" + path + "' is a folder, not a .mhr file");
      return;
    }
    // Devices and pipes (/dev/stdin, a FIFO) would block or never end: only regular files are specs.
    if (std::error_code ec; fs::exists(path, ec) && !fs::is_regular_file(path, ec)) {
      report(from, "'" + path + "' is not a regular file");
      return;
    }
    auto text = support::readFile(path);
    if (!text) {
      report(from, "cannot read '" + path + "'" + (fs::exists(path) ? "" : ": no such file"));
      return;
    }
    parseAndExpand(path, std::move(*text), from, key, stack, stackPaths);
  }

private:
  void parseAndExpand(const std::string& path, std::string text, diag::SourceRange from,
                      const std::string& key, std::vector<std::string>& stack,
                      std::vector<std::string>& stackPaths) {
    diag::FileId id = sources_.addFile(path, std::move(text), from);
    if (program_.mainFile == diag::kNoFile) program_.mainFile = id;
    auto file = parse::parseFile(id, sources_, diags_);
    ast::File* raw = file.get();
    program_.files.push_back(std::move(file));
    stack.push_back(key);
    stackPaths.push_back(path);
    for (auto& s : raw->statements) {
      program_.statements.push_back(s.get());
      if (s->kind != ast::Stmt::Kind::Include) continue;
      const auto& inc = ast::as<ast::IncludeStmt>(*s);
      fs::path target = fs::path(path).parent_path() / inc.path.text;
      if (inc.path.text.empty()) {
        diags_.error("E0501", inc.path.range, "include needs a file name");
        continue;
      }
      load(target.lexically_normal().string(), inc.range, stack, stackPaths);
    }
    stack.pop_back();
    stackPaths.pop_back();
  }

  void report(diag::SourceRange from, const std::string& message) {
    if (from.valid())
      diags_.error("E0501", from, message).note("include paths are relative to the including file");
    else
      diags_.error("E0503", from, message);
  }

  Program& program_;
  diag::SourceManager& sources_;
  diag::DiagnosticEngine& diags_;
  const std::string* mainText_;
};

} // namespace

Program loadProgram(const std::string& path, diag::SourceManager& sources, diag::DiagnosticEngine& diags,
                    const std::string* mainText) {
  Program program;
  std::vector<std::string> stack, stackPaths;
  Loader(program, sources, diags, mainText).load(path, diag::SourceRange{}, stack, stackPaths);
  return program;
}

} // namespace mhr::sema
