#include "compiler/sema/program.h"

#include "compiler/parse/parser.h"
#include "support/files.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <linux/magic.h>
#include <optional>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

namespace mhr::sema {

namespace {

namespace fs = std::filesystem;

std::string canonical(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::path(path), ec);
  return ec ? path : p.string();
}

// Reads a spec file strictly: it must be a regular file on a real file system (procfs and sysfs files
// claim to be regular but are generated: /proc/self/mem read as an empty spec), and a read error is an
// error, not an empty file. `why` gets ": reason" on failure.
std::optional<std::string> readSpec(const std::string& path, std::string& why) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    why = errno == ENOENT ? ": no such file" : std::string(": ") + std::strerror(errno);
    return std::nullopt;
  }
  struct stat st {};
  struct statfs sfs {};
  bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  bool generated = ::fstatfs(fd, &sfs) == 0 && (sfs.f_type == PROC_SUPER_MAGIC || sfs.f_type == SYSFS_MAGIC);
  if (!regular || generated) {
    ::close(fd);
    why = ": not a regular file";
    return std::nullopt;
  }
  std::string text;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = std::string(": ") + std::strerror(errno);
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
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
    // Includes expand recursively: a chain of distinct files must not drive that recursion without bound.
    constexpr size_t kMaxIncludeDepth = 32;
    if (stack.size() >= kMaxIncludeDepth) {
      report(from, "includes are nested more than " + std::to_string(kMaxIncludeDepth) + " files deep at '" +
                       path + "'");
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
    std::string why;
    auto text = readSpec(path, why);
    if (!text) {
      report(from, "cannot read '" + path + "'" + why);
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
