#include "compiler/ast/formatter.h"

#include "compiler/ast/printer.h"

#include <sstream>

namespace mhr::ast {

namespace {

constexpr size_t kOneLineBlockLimit = 100;
// End-of-line comments on consecutive lines start in the same column (two spaces after the longest code).
// `marks` are the byte offsets in `text` where an end-of-line comment's text begins (right after the code).
std::string alignComments(const std::string& text, const std::vector<size_t>& marks) {
  struct Line {
    std::string code, comment;
    bool hasComment = false;
  };
  std::vector<Line> lines;
  size_t start = 0, m = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    Line line;
    while (m < marks.size() && marks[m] < start) ++m;
    if (m < marks.size() && marks[m] <= nl) {
      line.code = text.substr(start, marks[m] - start);
      line.comment = text.substr(marks[m], nl - marks[m]);
      line.hasComment = true;
    } else {
      line.code = text.substr(start, nl - start);
    }
    lines.push_back(std::move(line));
    start = nl + 1;
  }
  std::string out;
  for (size_t i = 0; i < lines.size();) {
    if (!lines[i].hasComment) {
      out += lines[i++].code + "\n";
      continue;
    }
    size_t j = i, width = 0;
    for (; j < lines.size() && lines[j].hasComment; ++j) width = std::max(width, lines[j].code.size());
    for (; i < j; ++i)
      out += lines[i].code + std::string(width - lines[i].code.size() + 2, ' ') + lines[i].comment + "\n";
  }
  return out;
}

class Formatter {
public:
  Formatter(const File& file, const diag::SourceManager& sources)
      : file_(file), source_(sources.file(file.id)), text_(source_.text) {}

  const std::vector<size_t>& marks() const { return marks_; }

  std::string run() {
    uint32_t previousEnd = 0;
    bool first = true;
    for (const auto& s : file_.statements) {
      uint32_t start = s->range.begin;
      if (next_ < file_.comments.size() && file_.comments[next_].range.begin < start)
        start = std::min(start, file_.comments[next_].range.begin);
      if (!first && blankLineBetween(previousEnd, start)) out_ << "\n";
      leadingComments(s->range.begin, 0, first ? 0 : previousEnd);
      statement(*s);
      previousEnd = s->range.end;
      first = false;
    }
    // Comments after the last statement.
    if (next_ < file_.comments.size() && !first &&
        blankLineBetween(previousEnd, file_.comments[next_].range.begin))
      out_ << "\n";
    leadingComments(UINT32_MAX, 0, previousEnd);
    return out_.str();
  }

private:
  uint32_t lineOf(uint32_t offset) const { return source_.lineColumn(offset).line; }

  bool blankLineBetween(uint32_t a, uint32_t b) const {
    int newlines = 0;
    for (uint32_t i = a; i < b && i < text_.size(); ++i)
      if (text_[i] == '\n' && ++newlines >= 2) return true;
    return false;
  }

  // Own-line comments before `offset`, each on its own line at `indent`; a blank line in the source between
  // two comments (or between `since` and the first) is kept.
  void leadingComments(uint32_t offset, int indent, uint32_t since) {
    uint32_t last = since;
    bool any = false;
    while (next_ < file_.comments.size() && file_.comments[next_].range.begin < offset) {
      const Comment& c = file_.comments[next_++];
      if (any && blankLineBetween(last, c.range.begin)) out_ << "\n";
      out_ << std::string(2 * indent, ' ') << c.text << "\n";
      last = c.range.end;
      any = true;
    }
    if (any && offset != UINT32_MAX && blankLineBetween(last, offset)) out_ << "\n";
  }

  // An end-of-line comment on the line where the item ended.
  void trailingComment(uint32_t itemEnd) {
    uint32_t line = lineOf(itemEnd > 0 ? itemEnd - 1 : 0);
    if (next_ < file_.comments.size() && lineOf(file_.comments[next_].range.begin) == line) {
      marks_.push_back(static_cast<size_t>(out_.tellp()));
      out_ << file_.comments[next_].text;
      ++next_;
    }
    out_ << "\n";
  }

  // Comments inside an item's range that no nested item claimed: put them after it, each on its own line.
  void flushInterior(uint32_t end, int indent) {
    while (next_ < file_.comments.size() && file_.comments[next_].range.begin < end) {
      out_ << std::string(2 * indent, ' ') << file_.comments[next_].text << "\n";
      ++next_;
    }
  }

  bool hasCommentIn(const SourceRange& r) const {
    for (size_t i = next_; i < file_.comments.size(); ++i) {
      if (file_.comments[i].range.begin >= r.end) break;
      if (file_.comments[i].range.begin >= r.begin) return true;
    }
    return false;
  }

  // ` { a: 1; b: 2 }` on one line, or a multi-line block; ends without the newline of the last line.
  void block(const Block& b, int indent, uint32_t& endOffset) {
    endOffset = b.range.end;
    bool oneLineInSource = lineOf(b.range.begin) == lineOf(b.range.end > 0 ? b.range.end - 1 : 0);
    if (b.attrs.empty() && !hasCommentIn(b.range)) {
      out_ << " {}";
      return;
    }
    if (oneLineInSource && !hasCommentIn(b.range)) {
      std::string line = " {";
      for (size_t i = 0; i < b.attrs.size(); ++i)
        line += std::string(i ? "; " : " ") + b.attrs[i].key.str() + ": " + printValue(b.attrs[i].value);
      line += " }";
      if (line.size() + 2 * indent <= kOneLineBlockLimit) {
        out_ << line;
        return;
      }
    }
    out_ << " {";
    trailingComment(b.range.begin + 1); // a comment right after '{'
    for (const auto& a : b.attrs) {
      leadingComments(a.range.begin, indent + 1, a.range.begin);
      out_ << std::string(2 * (indent + 1), ' ') << a.key.str() << ": " << printValue(a.value);
      flushInteriorInline(a.range.end);
      trailingComment(a.range.end);
    }
    leadingComments(b.range.end - 1, indent + 1, b.range.end - 1);
    out_ << std::string(2 * indent, ' ') << "}";
  }

  // Comments inside a one-line item (e.g. inside a multi-line list) move to the end of the item's line; only
  // the first can stay there, the rest go on the following lines.
  void flushInteriorInline(uint32_t end) {
    if (next_ < file_.comments.size() && file_.comments[next_].range.begin < end) {
      std::vector<std::string> moved;
      while (next_ < file_.comments.size() && file_.comments[next_].range.begin < end)
        moved.push_back(file_.comments[next_++].text);
      marks_.push_back(static_cast<size_t>(out_.tellp()));
      out_ << moved[0];
      for (size_t i = 1; i < moved.size(); ++i) out_ << "\n" << moved[i];
    }
  }

  void morph(const MorphStmt& m, int indent) {
    out_ << std::string(2 * indent, ' ');
    auto target = [&](size_t i) { return m.targets.empty() ? std::string() : m.targets[i].str(); };
    switch (m.kind) {
    case MorphStmt::Kind::Upscale:
      out_ << "upscale " << target(0) << " by " << printValue(m.argument);
      break;
    case MorphStmt::Kind::Deepen:
      out_ << "deepen after " << target(0) << " with " << printValue(m.argument);
      break;
    case MorphStmt::Kind::Widen: {
      out_ << "widen ";
      if (m.bracketed) {
        out_ << "[";
        for (size_t i = 0; i < m.targets.size(); ++i) out_ << (i ? ", " : "") << m.targets[i].str();
        out_ << "]";
      } else {
        out_ << target(0);
      }
      out_ << " to " << printValue(m.argument);
      if (m.split) out_ << " split " << printValue(*m.split);
      break;
    }
    case MorphStmt::Kind::GrowKernel:
      out_ << "grow kernel " << target(0) << " to " << printValue(m.argument);
      break;
    case MorphStmt::Kind::Activation:
      out_ << "activation " << target(0) << " to " << printValue(m.argument);
      break;
    case MorphStmt::Kind::ReplaceHead:
      out_ << "replace head with " << printValue(m.argument);
      break;
    case MorphStmt::Kind::Branch:
      out_ << "branch " << target(0) << " to " << target(1) << " with " << printValue(m.argument);
      break;
    }
  }

  void statement(const Stmt& s) {
    uint32_t end = s.range.end;
    switch (s.kind) {
    case Stmt::Kind::Experiment:
      out_ << "experiment " << printValue(as<ExperimentStmt>(s).name);
      break;
    case Stmt::Kind::Seed:
      out_ << "seed " << printValue(as<SeedStmt>(s).seed);
      break;
    case Stmt::Kind::Preservation:
      out_ << "preservation " << as<PreservationStmt>(s).level.text;
      break;
    case Stmt::Kind::Include:
      out_ << "include " << printValue(as<IncludeStmt>(s).path);
      break;
    case Stmt::Kind::Dataset: {
      const auto& d = as<DatasetStmt>(s);
      out_ << "dataset " << d.name.text << " = " << printValue(d.constructor);
      if (d.block) block(*d.block, 0, end);
      break;
    }
    case Stmt::Kind::Network: {
      const auto& n = as<NetworkStmt>(s);
      out_ << "network " << n.name.text << " = ";
      if (!n.isMorph) {
        out_ << printValue(n.constructor);
        if (n.block) block(*n.block, 0, end);
        break;
      }
      out_ << "morph " << n.parent.text << " {";
      trailingComment(n.morphBlockRange.begin + 1);
      for (const auto& m : n.morphs) {
        leadingComments(m->range.begin, 1, m->range.begin);
        morph(*m, 1);
        flushInteriorInline(m->range.end);
        trailingComment(m->range.end);
      }
      leadingComments(n.morphBlockRange.end - 1, 1, n.morphBlockRange.end - 1);
      out_ << "}";
      break;
    }
    case Stmt::Kind::Train:
    case Stmt::Kind::Evaluate: {
      const auto& st = as<StageStmt>(s);
      out_ << kindName(s.kind) << " " << st.network.text << " on " << st.split.str() << " at "
           << printValue(st.resolution);
      if (st.block) block(*st.block, 0, end);
      break;
    }
    case Stmt::Kind::Sweep:
      out_ << "sweep";
      block(as<SweepStmt>(s).block, 0, end);
      break;
    }
    flushInteriorInline(end);
    trailingComment(end);
  }

  const File& file_;
  const diag::SourceFile& source_;
  const std::string& text_;
  std::ostringstream out_;
  size_t next_ = 0;
  std::vector<size_t> marks_; // where end-of-line comments begin in out_
};

} // namespace

std::string formatFile(const File& file, const diag::SourceManager& sources) {
  Formatter f(file, sources);
  std::string text = f.run();
  return alignComments(text, f.marks());
}

} // namespace mhr::ast
