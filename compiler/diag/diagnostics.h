// compiler/diag/diagnostics.h — the one diagnostics engine every compiler stage reports into.
// In: (severity, code from codes.def, SourceRange, message, notes). Out: text in compiler format
//   FILE:LINE:COL: error[CODE]: message
//      12 | the source line
//         |     ^^^^^ carets under the range
//   note: ...
// or JSON objects {file, line, column, end_line, end_column, severity, code, message, notes}.
// Many diagnostics per run; after kMaxErrors errors further ones are counted, not stored.
#pragma once

#include "compiler/diag/source.h"

#include <ostream>
#include <string>
#include <vector>

namespace mhr::diag {

enum class Severity { Error, Warning, Note };

struct Note {
  SourceRange range; // may be invalid: then the note is a plain line
  std::string message;
};

struct Diagnostic {
  Severity severity = Severity::Error;
  std::string code;
  SourceRange range;
  std::string message;
  std::vector<Note> notes;
};

class DiagnosticEngine;

// Returned by DiagnosticEngine::error()/warning() so notes can be chained:
//   diags.error("E0105", r, "undefined network 'bse'").note("did you mean 'base'?");
class DiagnosticBuilder {
public:
  DiagnosticBuilder(DiagnosticEngine* engine, size_t index) : engine_(engine), index_(index) {}
  DiagnosticBuilder& note(std::string message);
  DiagnosticBuilder& note(SourceRange range, std::string message);

private:
  DiagnosticEngine* engine_;
  size_t index_; // SIZE_MAX when the diagnostic was dropped (too many errors)
};

class DiagnosticEngine {
public:
  static constexpr size_t kMaxErrors = 100;

  explicit DiagnosticEngine(const SourceManager& sources) : sources_(sources) {}

  DiagnosticBuilder error(const std::string& code, SourceRange range, std::string message);
  DiagnosticBuilder warning(const std::string& code, SourceRange range, std::string message);

  bool hasErrors() const { return errorCount_ > 0; }
  size_t errorCount() const { return errorCount_; }
  size_t warningCount() const { return warningCount_; }
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  // Diagnostics sorted by (file order, offset); stable for equal positions.
  std::vector<Diagnostic> sorted() const;

  void renderText(std::ostream& out) const;
  void renderJson(std::ostream& out) const; // a JSON array
  std::string renderOne(const Diagnostic& d) const;
  const SourceManager& sources() const { return sources_; }

  // True when `code` is listed in codes.def.
  static bool isKnownCode(const std::string& code);
  static const std::vector<std::pair<std::string, std::string>>& allCodes();

private:
  friend class DiagnosticBuilder;
  DiagnosticBuilder add(Severity severity, const std::string& code, SourceRange range, std::string message);
  void renderRange(std::ostream& out, const SourceRange& range, const char* severity, const std::string& code,
                   const std::string& message) const;

  const SourceManager& sources_;
  std::vector<Diagnostic> diagnostics_;
  size_t errorCount_ = 0;
  size_t warningCount_ = 0;
  size_t dropped_ = 0;
};

} // namespace mhr::diag
