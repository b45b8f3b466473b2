#include "compiler/diag/diagnostics.h"

#include "support/assert.h"

#include <algorithm>
#include <cstdio>
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
// Messages quote user text (names, paths, values). A quoted 10 MB token is cut to its first bytes with its
// length, and control characters are escaped, so a message stays one readable line on any terminal.
std::string presentable(std::string message) {
  constexpr size_t kLongWord = 200, kKeep = 80;
  bool plain = message.size() <= kLongWord;
  for (char c : message) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n' && c != '\t') || u == 0x7f) plain = false;
  }
  if (plain) return message;
  std::string out;
  size_t i = 0;
  while (i < message.size()) {
    size_t j = i;
    while (j < message.size() && message[j] != ' ' && message[j] != '\n') ++j;
    if (j - i > kLongWord) {
      size_t cut = i + kKeep;
      while (cut > i && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;
      out.append(message, i, cut - i);
      out += "...(" + std::to_string(j - i) + " bytes)";
    } else {
      out.append(message, i, j - i);
    }
    if (j < message.size()) out += message[j];
    i = j + 1;
  }
  std::string escaped;
  for (char c : out) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n' && c != '\t') || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      escaped += buf;
    } else {
      escaped += c;
    }
  }
  return escaped;
}

} // namespace

DiagnosticBuilder& DiagnosticBuilder::note(std::string message) {
  return note(SourceRange{}, std::move(message));
}

DiagnosticBuilder& DiagnosticBuilder::note(SourceRange range, std::string message) {
  if (index_ != SIZE_MAX)
    engine_->diagnostics_[index_].notes.push_back(Note{range, presentable(std::move(message))});
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
  message = presentable(std::move(message));
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
  // Carets start under the first character and run to the range's end or the end of the line. A long line
  // (a 10 MB token) is shown as a window around the caret, and control characters in it are escaped so
  // the echo can neither drive the terminal nor misalign the carets; tabs are kept so the carets line up
  // in any editor.
  uint32_t startCol = std::min<uint32_t>(begin.column - 1, static_cast<uint32_t>(line.size()));
  uint32_t lineEndOffset = f.lineStarts[begin.line - 1] + static_cast<uint32_t>(line.size());
  uint32_t stop = std::min(range.end, lineEndOffset);
  uint32_t count = stop > range.begin ? stop - range.begin : 1;
  constexpr uint32_t kWholeLine = 240, kBefore = 100, kMaxCarets = 100, kAfter = 60;
  const bool whole = line.size() <= kWholeLine;
  uint32_t from = whole || startCol <= kBefore ? 0 : startCol - kBefore;
  uint32_t shownCarets = whole ? count : std::min(count, kMaxCarets);
  uint32_t to = whole
                    ? static_cast<uint32_t>(line.size())
                    : std::min<uint32_t>(static_cast<uint32_t>(line.size()), startCol + shownCarets + kAfter);
  // Do not cut a UTF-8 sequence in half at either end of the window.
  auto continuation = [&](uint32_t i) {
    return i < line.size() && (static_cast<unsigned char>(line[i]) & 0xC0) == 0x80;
  };
  while (from > 0 && continuation(from)) --from;
  while (to < line.size() && continuation(to)) ++to;
  auto shown = [](char c) -> std::string {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\t') return "\t";
    if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      return buf;
    }
    return std::string(1, c);
  };
  std::string text = from > 0 ? "..." : "";
  std::string pad = from > 0 ? "   " : "";
  for (uint32_t i = from; i < to; ++i) {
    std::string piece = shown(line[i]);
    text += piece;
    if (i < startCol) pad += line[i] == '\t' ? std::string("\t") : std::string(piece.size(), ' ');
  }
  if (to < line.size()) text += "...";
  out << " " << number << " | " << text << "\n";
  out << " " << gutter << " | " << pad;
  std::string carets;
  for (uint32_t i = startCol; i < startCol + shownCarets && i < line.size(); ++i)
    carets += std::string(line[i] == '\t' ? 1 : shown(line[i]).size(), '^');
  if (carets.empty()) carets = "^";
  out << carets << (count > shownCarets ? "..." : "") << "\n";
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
