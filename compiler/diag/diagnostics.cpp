#include "compiler/diag/diagnostics.h"

#include "support/assert.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace mhr::diag {

namespace {
const char* severityName(Severity s) {
  switch (s) {
  case Severity::Error:
    return "error";
  case Severity::Warning:
    return "warning";
  case Severity::Note:
    return "note";
  }
  return "error";
}
} // namespace

DiagnosticBuilder& DiagnosticBuilder::note(std::string message) {
  return note(SourceRange{}, std::move(message));
}

DiagnosticBuilder& DiagnosticBuilder::note(SourceRange range, std::string message) {
  if (index_ != SIZE_MAX) engine_->diagnostics_[index_].notes.push_back(Note{range, std::move(message)});
  return *this;
}

const std::vector<std::pair<std::string, std::string>>& DiagnosticEngine::allCodes() {
  static const std::vector<std::pair<std::string, std::string>> codes = {
#define X(code, title) {#code, title},
#include "compiler/diag/codes.def"
#undef X
  };
  return codes;
}

bool DiagnosticEngine::isKnownCode(const std::string& code) {
  static const std::set<std::string> known = [] {
    std::set<std::string> s;
    for (const auto& [c, t] : allCodes()) s.insert(c);
    return s;
  }();
  return known.count(code) > 0;
}

DiagnosticBuilder DiagnosticEngine::error(const std::string& code, SourceRange range, std::string message) {
  return add(Severity::Error, code, range, std::move(message));
}

DiagnosticBuilder DiagnosticEngine::warning(const std::string& code, SourceRange range, std::string message) {
  return add(Severity::Warning, code, range, std::move(message));
}

DiagnosticBuilder DiagnosticEngine::add(Severity severity, const std::string& code, SourceRange range,
                                        std::string message) {
  MHR_ASSERT(isKnownCode(code), "diagnostic code missing from codes.def");
  if (severity == Severity::Error) {
    ++errorCount_;
    if (errorCount_ > kMaxErrors) {
      ++dropped_;
      return DiagnosticBuilder(this, SIZE_MAX);
    }
  } else if (severity == Severity::Warning) {
    ++warningCount_;
  }
  // The same error at the same place twice (e.g. a name used in a loop of checks) is noise.
  for (const auto& d : diagnostics_)
    if (d.severity == severity && d.code == code && d.range == range && d.message == message)
      return DiagnosticBuilder(this, SIZE_MAX);
  diagnostics_.push_back(Diagnostic{severity, code, range, std::move(message), {}});
  return DiagnosticBuilder(this, diagnostics_.size() - 1);
}

std::vector<Diagnostic> DiagnosticEngine::sorted() const {
  std::vector<Diagnostic> out = diagnostics_;
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.range.file != b.range.file) return a.range.file < b.range.file;
    return a.range.begin < b.range.begin;
  });
  return out;
}

void DiagnosticEngine::renderRange(std::ostream& out, const SourceRange& range, const char* severity,
                                   const std::string& code, const std::string& message) const {
  std::string tag = std::string(severity) + (code.empty() ? "" : "[" + code + "]");
  if (!range.valid()) {
    out << tag << ": " << message << "\n";
    return;
  }
  const SourceFile& f = sources_.file(range.file);
  LineColumn begin = f.lineColumn(range.begin);
  out << f.path << ":" << begin.line << ":" << begin.column << ": " << tag << ": " << message << "\n";
  std::string_view line = f.lineText(begin.line);
  std::string number = std::to_string(begin.line);
  std::string gutter(number.size(), ' ');
  out << " " << number << " | " << line << "\n";
  out << " " << gutter << " | ";
  // Carets start under the first character and run to the range's end or the end of the line. Tabs in the
  // prefix are kept so the carets line up in any editor.
  uint32_t startCol = begin.column - 1;
  for (uint32_t i = 0; i < startCol && i < line.size(); ++i) out << (line[i] == '\t' ? '\t' : ' ');
  uint32_t lineEndOffset = f.lineStarts[begin.line - 1] + static_cast<uint32_t>(line.size());
  uint32_t stop = std::min(range.end, lineEndOffset);
  uint32_t count = stop > range.begin ? stop - range.begin : 1;
  out << std::string(count, '^') << "\n";
}

std::string DiagnosticEngine::renderOne(const Diagnostic& d) const {
  std::ostringstream out;
  renderRange(out, d.range, severityName(d.severity), d.code, d.message);
  for (const auto& n : d.notes) {
    if (n.range.valid())
      renderRange(out, n.range, "note", "", n.message);
    else
      out << "note: " << n.message << "\n";
  }
  // An error inside an included file also says where it was included from (outermost last).
  if (d.range.valid()) {
    SourceRange from = sources_.file(d.range.file).includedFrom;
    while (from.valid()) {
      const SourceFile& f = sources_.file(from.file);
      LineColumn lc = f.lineColumn(from.begin);
      out << "note: included from " << f.path << ":" << lc.line << ":" << lc.column << "\n";
      from = f.includedFrom;
    }
  }
  return out.str();
}

void DiagnosticEngine::renderText(std::ostream& out) const {
  for (const auto& d : sorted()) out << renderOne(d);
  if (dropped_ > 0) out << "note: " << dropped_ << " more errors not shown\n";
  if (errorCount_ > 0 || warningCount_ > 0) {
    out << errorCount_ << (errorCount_ == 1 ? " error" : " errors");
    if (warningCount_ > 0) out << ", " << warningCount_ << (warningCount_ == 1 ? " warning" : " warnings");
    out << "\n";
  }
}

void DiagnosticEngine::renderJson(std::ostream& out) const {
  auto position = [&](const SourceRange& r, nlohmann::json& j) {
    if (!r.valid()) {
      j["file"] = nullptr;
      j["line"] = j["column"] = j["end_line"] = j["end_column"] = 0;
      return;
    }
    const SourceFile& f = sources_.file(r.file);
    LineColumn b = f.lineColumn(r.begin), e = f.lineColumn(r.end > r.begin ? r.end : r.begin);
    j["file"] = f.path;
    j["line"] = b.line;
    j["column"] = b.column;
    j["end_line"] = e.line;
    j["end_column"] = e.column;
  };
  nlohmann::json all = nlohmann::json::array();
  for (const auto& d : sorted()) {
    nlohmann::json j;
    position(d.range, j);
    j["severity"] = severityName(d.severity);
    j["code"] = d.code;
    j["message"] = d.message;
    nlohmann::json notes = nlohmann::json::array();
    for (const auto& n : d.notes) {
      nlohmann::json nj;
      position(n.range, nj);
      nj["message"] = n.message;
      notes.push_back(nj);
    }
    j["notes"] = notes;
    all.push_back(j);
  }
  out << all.dump(2) << "\n";
}

} // namespace mhr::diag
