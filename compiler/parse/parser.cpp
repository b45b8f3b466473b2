// The parse driver: UTF-8 check, lexing, splitting the token stream into statements, parsing each statement
// with the generated parser and an error strategy that speaks the user's language, and building the AST.
#include "compiler/parse/parser.h"

#include "MhrLexer.h"
#include "MhrParser.h"
#include "antlr4-runtime.h"
#include "compiler/parse/ast_builder.h"
#include "support/strings.h"

#include <set>

namespace mhr::parse {

using grammar::MhrLexer;
using grammar::MhrParser;

const std::vector<std::string>& statementKeywords() {
  static const std::vector<std::string> k = {"experiment", "seed",  "preservation", "include", "dataset",
                                             "network",    "train", "evaluate",     "sweep"};
  return k;
}

const std::vector<std::string>& morphKeywords() {
  static const std::vector<std::string> k = {"upscale",    "deepen",  "widen", "grow",
                                             "activation", "replace", "branch"};
  return k;
}

namespace {

bool isStatementKeyword(size_t type) {
  switch (type) {
  case MhrLexer::EXPERIMENT:
  case MhrLexer::SEED:
  case MhrLexer::PRESERVATION:
  case MhrLexer::INCLUDE:
  case MhrLexer::DATASET:
  case MhrLexer::NETWORK:
  case MhrLexer::TRAIN:
  case MhrLexer::EVALUATE:
  case MhrLexer::SWEEP:
    return true;
  default:
    return false;
  }
}

bool isMorphKeyword(size_t type) {
  switch (type) {
  case MhrLexer::UPSCALE:
  case MhrLexer::DEEPEN:
  case MhrLexer::WIDEN:
  case MhrLexer::GROW:
  case MhrLexer::ACTIVATION:
  case MhrLexer::REPLACE:
  case MhrLexer::BRANCH:
    return true;
  default:
    return false;
  }
}

// Token types that can be a `name` (IDENT or any keyword except true/false).
bool isNameToken(size_t type) {
  return type == MhrLexer::IDENT || (type >= MhrLexer::EXPERIMENT && type <= MhrLexer::HEAD);
}

// Replaces invalid UTF-8 bytes by '?' (reporting each run once) and maps code point index -> byte offset.
std::string sanitizeUtf8(const std::string& text, uint32_t base, diag::FileId file,
                         diag::DiagnosticEngine& diags, std::vector<uint32_t>& byteOffsets) {
  std::string out = text;
  byteOffsets.clear();
  size_t i = 0;
  bool reportedRun = false;
  while (i < out.size()) {
    unsigned char c = static_cast<unsigned char>(out[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = len > 0 && i + len <= out.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(out[i + k]) & 0xC0) == 0x80;
    // Reject what the Unicode standard rejects (and ANTLR's decoder throws on): overlong forms, surrogates,
    // code points above U+10FFFF.
    if (ok) {
      unsigned char c1 = static_cast<unsigned char>(out[i + (len > 1 ? 1 : 0)]);
      if (len == 2 && c < 0xC2) ok = false;
      if (len == 3 && c == 0xE0 && c1 < 0xA0) ok = false;
      if (len == 3 && c == 0xED && c1 > 0x9F) ok = false;
      if (len == 4 && c == 0xF0 && c1 < 0x90) ok = false;
      if (len == 4 && (c > 0xF4 || (c == 0xF4 && c1 > 0x8F))) ok = false;
    }
    if (!ok) {
      if (!reportedRun) {
        diags.error("E0001", diag::SourceRange{file, uint32_t(base + i), uint32_t(base + i + 1)},
                    "this file is not valid UTF-8 here (byte 0x" +
                        std::string(1, "0123456789abcdef"[c >> 4]) +
                        std::string(1, "0123456789abcdef"[c & 15]) + ")");
        reportedRun = true;
      }
      out[i] = '?';
      len = 1;
    } else {
      reportedRun = false;
    }
    byteOffsets.push_back(static_cast<uint32_t>(base + i));
    i += len;
  }
  byteOffsets.push_back(static_cast<uint32_t>(base + out.size()));
  return out;
}

// What the user sees for a token in "found ..." messages.
std::string describeToken(antlr4::Token* t, const std::string& eofDescription) {
  if (!t || t->getType() == antlr4::Token::EOF) return eofDescription;
  std::string text = t->getText();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  if (t->getType() == MhrLexer::STRING) return "the string " + text;
  return "'" + text + "'";
}

std::string describeExpected(const antlr4::misc::IntervalSet& set,
                             const antlr4::dfa::Vocabulary& vocabulary) {
  std::vector<size_t> types;
  for (ssize_t t : set.toList()) types.push_back(static_cast<size_t>(t));
  std::set<size_t> s(types.begin(), types.end());
  std::vector<std::string> parts;
  auto take = [&](size_t type, const std::string& words) {
    if (s.erase(type)) parts.push_back(words);
  };
  bool statements = false, morphs = false;
  for (size_t t : types) statements |= isStatementKeyword(t) && t != MhrLexer::SEED;
  for (size_t t : types) morphs |= isMorphKeyword(t);
  bool values = s.count(MhrLexer::LBRACK) && s.count(MhrLexer::STRING) && s.count(MhrLexer::INT);
  bool names = s.count(MhrLexer::IDENT) > 0;
  if (values) {
    parts.push_back("a value");
    for (size_t t : {MhrLexer::MINUS, MhrLexer::INT, MhrLexer::FLOAT, MhrLexer::QUANTITY, MhrLexer::STRING,
                     MhrLexer::TRUE, MhrLexer::FALSE, MhrLexer::SIZE, MhrLexer::LBRACK, MhrLexer::PATH})
      s.erase(t);
    names = false;
    for (size_t t = MhrLexer::EXPERIMENT; t <= MhrLexer::HEAD; ++t) s.erase(t);
    s.erase(MhrLexer::IDENT);
  } else if (statements && !names) {
    parts.push_back(
        "a statement (experiment, seed, preservation, include, dataset, network, train, evaluate, sweep)");
    for (size_t t : types)
      if (isStatementKeyword(t)) s.erase(t);
  } else if (morphs && !names) {
    parts.push_back("a morph statement (upscale, deepen, widen, grow kernel, activation, replace head)");
    for (size_t t : types)
      if (isMorphKeyword(t)) s.erase(t);
  }
  if (names) {
    bool path = s.count(MhrLexer::PATH) > 0;
    parts.push_back(path ? "a name or dotted path" : "a name");
    for (size_t t = MhrLexer::EXPERIMENT; t <= MhrLexer::HEAD; ++t) s.erase(t);
    s.erase(MhrLexer::IDENT);
    s.erase(MhrLexer::PATH);
  }
  take(MhrLexer::STRING, "a string in double quotes");
  take(MhrLexer::INT, "an integer");
  take(MhrLexer::FLOAT, "a number");
  take(MhrLexer::QUANTITY, "a number with a unit");
  take(MhrLexer::SIZE, "a size such as 512x416 (height x width)");
  take(MhrLexer::PATH, "a dotted path");
  take(MhrLexer::LBRACE, "'{'");
  take(MhrLexer::RBRACE, "'}'");
  take(MhrLexer::LPAREN, "'('");
  take(MhrLexer::RPAREN, "')'");
  take(MhrLexer::LBRACK, "'['");
  take(MhrLexer::RBRACK, "']'");
  take(MhrLexer::COLON, "':'");
  take(MhrLexer::COMMA, "','");
  take(MhrLexer::EQUALS, "'='");
  take(MhrLexer::PLUS, "'+'");
  take(MhrLexer::SEMI, "';'");
  take(MhrLexer::ON, "'on'");
  take(MhrLexer::AT, "'at'");
  take(MhrLexer::BY, "'by'");
  take(MhrLexer::WITH, "'with'");
  take(MhrLexer::TO, "'to'");
  take(MhrLexer::AFTER, "'after'");
  take(MhrLexer::KERNEL, "'kernel'");
  take(MhrLexer::HEAD, "'head'");
  take(MhrLexer::MORPH, "'morph'");
  take(MhrLexer::SPLIT, "'split'");
  if (s.erase(antlr4::Token::EOF)) parts.push_back("the end of the statement");
  for (size_t t : s) parts.push_back("'" + std::string(vocabulary.getDisplayName(t)) + "'");
  if (parts.empty()) return "something else";
  if (parts.size() == 1) return parts[0];
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += (i + 1 == parts.size()) ? " or " : ", ";
    out += parts[i];
  }
  return out;
}

// One statement's worth of tokens and how to describe its end.
struct Chunk {
  std::vector<antlr4::Token*> tokens; // default-channel tokens of the original stream
  uint32_t endCodePoint = 0;          // where the chunk's EOF sits (start of the next statement)
  std::string eofDescription;
};

// Reports the first syntax error of a statement in the user's words; later errors in the same statement are
// consequences of the first and stay quiet.
class HumanErrorStrategy : public antlr4::DefaultErrorStrategy {
public:
  HumanErrorStrategy(diag::FileId file, diag::DiagnosticEngine& diags,
                     const std::vector<uint32_t>& byteOffsets, const Chunk& chunk, bool firstOnLineKnown,
                     const std::vector<bool>& firstOnLine)
      : file_(file), diags_(diags), byteOffsets_(byteOffsets), chunk_(chunk), firstOnLine_(firstOnLine) {
    (void)firstOnLineKnown;
  }
  bool reported() const { return reported_; }
  // The statement already has a lexical error: its syntax errors are consequences, not news.
  void silence() { reported_ = true; }

protected:
  void reportNoViableAlternative(antlr4::Parser* p, const antlr4::NoViableAltException& e) override {
    report(p, e.getOffendingToken(), p->getExpectedTokens());
  }
  void reportInputMismatch(antlr4::Parser* p, const antlr4::InputMismatchException& e) override {
    report(p, e.getOffendingToken(), e.getExpectedTokens());
  }
  void reportFailedPredicate(antlr4::Parser* p, const antlr4::FailedPredicateException& e) override {
    report(p, e.getOffendingToken(), p->getExpectedTokens());
  }
  void reportUnwantedToken(antlr4::Parser* p) override {
    if (inErrorRecoveryMode(p)) return;
    beginErrorCondition(p);
    report(p, p->getCurrentToken(), getExpectedTokens(p));
  }
  void reportMissingToken(antlr4::Parser* p) override {
    if (inErrorRecoveryMode(p)) return;
    beginErrorCondition(p);
    report(p, p->getCurrentToken(), getExpectedTokens(p));
  }

private:
  diag::SourceRange rangeOf(antlr4::Token* t) const {
    size_t start = std::min<size_t>(t->getStartIndex(), byteOffsets_.size() - 1);
    if (t->getType() == antlr4::Token::EOF) return {file_, byteOffsets_[start], byteOffsets_[start]};
    size_t end = std::min<size_t>(t->getStopIndex() + 1, byteOffsets_.size() - 1);
    return {file_, byteOffsets_[start], byteOffsets_[std::max(start, end)]};
  }

  bool tokenFirstOnLine(antlr4::Token* t) const {
    size_t cp = t->getStartIndex();
    return cp < firstOnLine_.size() && firstOnLine_[cp];
  }

  void report(antlr4::Parser* p, antlr4::Token* offending, const antlr4::misc::IntervalSet& expected) {
    if (reported_) return;
    reported_ = true;
    antlr4::Token* previous = p->getTokenStream()->LT(-1);
    const bool atEnd = offending->getType() == antlr4::Token::EOF;
    std::string found = describeToken(offending, chunk_.eofDescription);

    // An unknown word where a statement (or a morph statement) starts: most likely a misspelt keyword.
    bool wantsStatement = false, wantsMorph = false;
    for (ssize_t t : expected.toList()) {
      wantsStatement |=
          isStatementKeyword(static_cast<size_t>(t)) || t == static_cast<ssize_t>(antlr4::Token::EOF);
      wantsMorph |= isMorphKeyword(static_cast<size_t>(t));
    }
    size_t type = offending->getType();
    if ((type == MhrLexer::IDENT || type == MhrLexer::PATH) && (wantsMorph || wantsStatement) &&
        (tokenFirstOnLine(offending) || wantsMorph)) {
      const auto& words = wantsMorph ? morphKeywords() : statementKeywords();
      std::string word = offending->getText();
      auto b = diags_.error("E0004", rangeOf(offending),
                            std::string("unknown ") + (wantsMorph ? "morph statement" : "statement") + " '" +
                                word + "'");
      std::string guess = support::closestMatch(word, words);
      if (!guess.empty())
        b.note("did you mean '" + guess + "'?");
      else
        b.note(std::string("a ") + (wantsMorph ? "morph statement" : "statement") +
               " starts with one of: " + support::join(words, ", "));
      return;
    }

    // The statement ended while a bracket was still open: point at the bracket.
    if (atEnd) {
      std::vector<antlr4::Token*> open;
      for (antlr4::Token* t : chunk_.tokens) {
        size_t k = t->getType();
        if (k == MhrLexer::LBRACE || k == MhrLexer::LPAREN || k == MhrLexer::LBRACK) open.push_back(t);
        if ((k == MhrLexer::RBRACE || k == MhrLexer::RPAREN || k == MhrLexer::RBRACK) && !open.empty())
          open.pop_back();
      }
      if (!open.empty()) {
        antlr4::Token* o = open.back();
        std::string closer = o->getType() == MhrLexer::LBRACE   ? "}"
                             : o->getType() == MhrLexer::LPAREN ? ")"
                                                                : "]";
        diags_.error("E0003", rangeOf(o), "'" + o->getText() + "' is never closed")
            .note(rangeOf(offending), "expected '" + closer + "' before " + found);
        return;
      }
    }

    // `epochs:` with nothing after it: the next line's `batch` was taken as the value, then `:` is
    // unexpected.
    antlr4::Token* beforePrevious = p->getTokenStream()->LT(-2);
    if (type == MhrLexer::COLON && previous && beforePrevious &&
        beforePrevious->getType() == MhrLexer::COLON && tokenFirstOnLine(previous)) {
      antlr4::Token* key = p->getTokenStream()->LT(-3);
      diags_
          .error("E0003", rangeOf(beforePrevious),
                 "'" + (key ? key->getText() : std::string("attribute")) + "' has no value")
          .note("write a value after the ':', e.g. " + (key ? key->getText() : std::string("epochs")) +
                ": 3");
      return;
    }

    // `epochs 4` instead of `epochs: 4`.
    if (expected.contains(static_cast<size_t>(MhrLexer::COLON)) && previous &&
        (isNameToken(previous->getType()) || previous->getType() == MhrLexer::PATH) &&
        dynamic_cast<MhrParser::AttributeContext*>(p->getContext())) {
      diags_
          .error("E0003", rangeOf(offending),
                 "expected ':' after '" + previous->getText() + "', found " + found)
          .note("attributes are written `name: value`");
      return;
    }

    // A number where a size belongs: `at 512` instead of `at 512x416`.
    if (expected.contains(static_cast<size_t>(MhrLexer::SIZE)) && expected.size() == 1 &&
        (type == MhrLexer::INT || type == MhrLexer::FLOAT)) {
      diags_
          .error("E0005", rangeOf(offending),
                 "expected a size such as 512x416 (height x width), found " + found)
          .note("write both dimensions, e.g. " + offending->getText() + "x" + offending->getText());
      return;
    }

    diag::SourceRange where = rangeOf(offending);
    if (atEnd && previous && previous->getType() != antlr4::Token::EOF) {
      // Point just after the last token of the statement rather than at the next statement.
      diag::SourceRange prev = rangeOf(previous);
      where = diag::SourceRange{file_, prev.end, prev.end};
    }
    std::string message = "expected " + describeExpected(expected, p->getVocabulary()) + ", found " + found;
    if (previous && !atEnd) message += " after '" + previous->getText() + "'";
    diags_.error("E0003", where, message);
  }

  diag::FileId file_;
  diag::DiagnosticEngine& diags_;
  const std::vector<uint32_t>& byteOffsets_;
  const Chunk& chunk_;
  const std::vector<bool>& firstOnLine_;
  bool reported_ = false;
};

// Lexes the whole file: reports stray characters and unterminated strings, and returns the default-channel
// tokens plus comments.
struct Lexed {
  std::unique_ptr<antlr4::ANTLRInputStream> input;
  std::unique_ptr<MhrLexer> lexer;
  std::unique_ptr<antlr4::CommonTokenStream> stream;
  std::vector<antlr4::Token*> tokens; // default channel, no EOF
  std::vector<ast::Comment> comments;
  std::vector<uint32_t> byteOffsets;
  std::vector<bool> firstOnLine; // per code point: a token starting here is the first on its line
  std::set<size_t> badLines;     // lines with stray characters (already reported)
};

// Lexes the file's text from byte `begin` on.
std::unique_ptr<Lexed> lex(diag::FileId file, const diag::SourceManager& sources,
                           diag::DiagnosticEngine& diags, uint32_t begin = 0) {
  auto out = std::make_unique<Lexed>();
  const std::string& whole = sources.file(file).text;
  std::string text =
      sanitizeUtf8(whole.substr(std::min<size_t>(begin, whole.size())), begin, file, diags, out->byteOffsets);
  out->input = std::make_unique<antlr4::ANTLRInputStream>(text);
  out->lexer = std::make_unique<MhrLexer>(out->input.get());
  out->lexer->removeErrorListeners();
  out->stream = std::make_unique<antlr4::CommonTokenStream>(out->lexer.get());
  out->stream->fill();

  auto byteRange = [&](antlr4::Token* t) {
    size_t start = std::min<size_t>(t->getStartIndex(), out->byteOffsets.size() - 1);
    size_t end = std::min<size_t>(t->getStopIndex() + 1, out->byteOffsets.size() - 1);
    return diag::SourceRange{file, out->byteOffsets[start], out->byteOffsets[std::max(start, end)]};
  };

  // First token on each line: scan the code points (newlines are single code points).
  const size_t codePoints = out->byteOffsets.size() - 1;
  out->firstOnLine.assign(codePoints + 1, false);
  size_t lastLine = 0;
  for (antlr4::Token* t : out->stream->getTokens()) {
    if (t->getType() == antlr4::Token::EOF || t->getChannel() != antlr4::Token::DEFAULT_CHANNEL) continue;
    if (t->getLine() != lastLine) {
      out->firstOnLine[std::min(t->getStartIndex(), codePoints)] = true;
      lastLine = t->getLine();
    }
  }

  antlr4::Token* lastBad = nullptr;
  for (antlr4::Token* t : out->stream->getTokens()) {
    if (t->getType() == antlr4::Token::EOF) continue;
    if (t->getType() == MhrLexer::COMMENT) {
      out->comments.push_back(ast::Comment{t->getText(), byteRange(t)});
      continue;
    }
    if (t->getChannel() != antlr4::Token::DEFAULT_CHANNEL) continue;
    if (t->getType() == MhrLexer::ERROR_CHAR) {
      // A run of stray characters on one line is one error; the statement holding it reports nothing else.
      out->badLines.insert(t->getLine());
      if (lastBad && lastBad->getLine() == t->getLine() &&
          lastBad->getStopIndex() + 1 == t->getStartIndex()) {
        lastBad = t;
        continue;
      }
      lastBad = t;
      std::string c = t->getText();
      std::string shown = c == "\t" ? "\\t" : c;
      auto b = diags.error("E0001", byteRange(t), "unexpected character '" + shown + "'");
      if (c == "'") b.note("strings use double quotes: \"...\"");
      if (c == "=") b.note("attributes are written `name: value`");
      continue; // dropped from the token stream
    }
    if (t->getType() == MhrLexer::UNTERMINATED_STRING) {
      diags.error("E0002", byteRange(t), "string is not closed before the end of the line")
          .note("add the closing '\"'");
      static_cast<antlr4::CommonToken*>(t)->setType(MhrLexer::STRING);
    }
    out->tokens.push_back(t);
  }
  return out;
}

// Splits the token stream into statements: a statement keyword that is the first token on its line starts a
// new statement when all brackets are closed — or when it stands in column 1 even inside an unclosed bracket
// (a forgotten '}' then costs one error, not the rest of the file).
std::vector<Chunk> splitStatements(const Lexed& lexed, size_t totalCodePoints) {
  std::vector<Chunk> chunks;
  int depth = 0;
  for (size_t i = 0; i < lexed.tokens.size(); ++i) {
    antlr4::Token* t = lexed.tokens[i];
    bool first = lexed.firstOnLine[std::min(t->getStartIndex(), lexed.firstOnLine.size() - 1)];
    bool keyword = isStatementKeyword(t->getType()) && first;
    bool nextIsColon = i + 1 < lexed.tokens.size() && lexed.tokens[i + 1]->getType() == MhrLexer::COLON;
    bool startsStatement =
        chunks.empty() || (keyword && !nextIsColon && (depth == 0 || t->getCharPositionInLine() == 0));
    if (startsStatement) {
      if (!chunks.empty()) {
        chunks.back().endCodePoint = static_cast<uint32_t>(t->getStartIndex());
        chunks.back().eofDescription =
            "the next statement ('" + t->getText() + "' on line " + std::to_string(t->getLine()) + ")";
      }
      chunks.emplace_back();
      depth = 0;
    }
    size_t k = t->getType();
    if (k == MhrLexer::LBRACE || k == MhrLexer::LPAREN || k == MhrLexer::LBRACK) ++depth;
    if ((k == MhrLexer::RBRACE || k == MhrLexer::RPAREN || k == MhrLexer::RBRACK) && depth > 0) --depth;
    chunks.back().tokens.push_back(t);
  }
  if (!chunks.empty()) {
    chunks.back().endCodePoint = static_cast<uint32_t>(totalCodePoints);
    chunks.back().eofDescription = "the end of the file";
  }
  return chunks;
}

// The deepest bracket nesting the front end accepts. The generated parser, the AST builder and every stage
// after it walk values recursively, so input must not drive that recursion arbitrarily deep (7,000 nested
// '[' overflowed the stack); real specs nest a handful of levels.
constexpr int kMaxNesting = 64;

// Reports the first bracket that opens nesting level kMaxNesting + 1 in `tokens`; true when one does (the
// statement is then not parsed at all, so nothing recurses on it).
bool nestingTooDeep(const std::vector<antlr4::Token*>& tokens, diag::FileId file,
                    const std::vector<uint32_t>& byteOffsets, diag::DiagnosticEngine& diags) {
  int depth = 0;
  for (antlr4::Token* t : tokens) {
    size_t k = t->getType();
    if (k == MhrLexer::LBRACE || k == MhrLexer::LPAREN || k == MhrLexer::LBRACK) {
      if (++depth > kMaxNesting) {
        size_t start = std::min<size_t>(t->getStartIndex(), byteOffsets.size() - 1);
        size_t end = std::min<size_t>(start + 1, byteOffsets.size() - 1);
        diags
            .error("E0007", diag::SourceRange{file, byteOffsets[start], byteOffsets[end]},
                   "brackets are nested more than " + std::to_string(kMaxNesting) + " levels deep here")
            .note("a value may nest lists, calls and blocks at most " + std::to_string(kMaxNesting) +
                  " levels deep");
        return true;
      }
    } else if ((k == MhrLexer::RBRACE || k == MhrLexer::RPAREN || k == MhrLexer::RBRACK) && depth > 0) {
      --depth;
    }
  }
  return false;
}

} // namespace

std::unique_ptr<ast::File> parseFile(diag::FileId file, const diag::SourceManager& sources,
                                     diag::DiagnosticEngine& diags) {
  auto result = std::make_unique<ast::File>();
  result->id = file;
  auto lexed = lex(file, sources, diags);
  result->comments = lexed->comments;
  const size_t codePoints = lexed->byteOffsets.size() - 1;
  AstBuilder builder(file, sources, diags, lexed->byteOffsets);

  for (const Chunk& chunk : splitStatements(*lexed, codePoints)) {
    if (nestingTooDeep(chunk.tokens, file, lexed->byteOffsets, diags)) continue;
    std::vector<std::unique_ptr<antlr4::Token>> tokens;
    for (antlr4::Token* t : chunk.tokens) tokens.push_back(std::make_unique<antlr4::CommonToken>(t));
    auto eof = std::make_unique<antlr4::CommonToken>(antlr4::Token::EOF, "<EOF>");
    eof->setStartIndex(chunk.endCodePoint);
    eof->setStopIndex(chunk.endCodePoint - 1);
    tokens.push_back(std::move(eof));
    antlr4::ListTokenSource source(std::move(tokens));
    antlr4::CommonTokenStream stream(&source);
    MhrParser parser(&stream);
    parser.removeErrorListeners();
    bool touchesBadLine = false;
    if (!chunk.tokens.empty())
      for (size_t line = chunk.tokens.front()->getLine(); line <= chunk.tokens.back()->getLine(); ++line)
        touchesBadLine |= lexed->badLines.count(line) > 0;
    // Two-stage parsing (ANTLR's recommended speed-up): the fast SLL prediction with a bail-out strategy
    // parses every correct statement; only a statement that fails is parsed again in full LL mode with the
    // error strategy that explains the mistake.
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
        antlr4::atn::PredictionMode::SLL);
    parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
    MhrParser::SingleStatementContext* fast = nullptr;
    try {
      fast = parser.singleStatement();
    } catch (const antlr4::ParseCancellationException&) {
      fast = nullptr;
    }
    if (fast && !touchesBadLine && fast->statement()) {
      result->statements.push_back(builder.buildStatement(fast->statement()));
      continue;
    }
    stream.seek(0);
    parser.reset();
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
        antlr4::atn::PredictionMode::LL);
    auto strategy = std::make_shared<HumanErrorStrategy>(file, diags, lexed->byteOffsets, chunk, true,
                                                         lexed->firstOnLine);
    parser.setErrorHandler(strategy);
    if (touchesBadLine) strategy->silence();
    auto* tree = parser.singleStatement();
    if (touchesBadLine || strategy->reported() || !tree->statement()) continue;
    result->statements.push_back(builder.buildStatement(tree->statement()));
  }
  return result;
}

std::optional<ast::Value> parseValue(diag::FileId file, const diag::SourceManager& sources,
                                     diag::DiagnosticEngine& diags, uint32_t begin) {
  size_t before = diags.errorCount();
  auto lexed = lex(file, sources, diags, begin);
  Chunk chunk;
  chunk.tokens = lexed->tokens;
  chunk.endCodePoint = static_cast<uint32_t>(lexed->byteOffsets.size() - 1);
  chunk.eofDescription = "the end of the value";
  if (nestingTooDeep(chunk.tokens, file, lexed->byteOffsets, diags)) return std::nullopt;
  std::vector<std::unique_ptr<antlr4::Token>> tokens;
  for (antlr4::Token* t : chunk.tokens) tokens.push_back(std::make_unique<antlr4::CommonToken>(t));
  auto eof = std::make_unique<antlr4::CommonToken>(antlr4::Token::EOF, "<EOF>");
  eof->setStartIndex(chunk.endCodePoint);
  eof->setStopIndex(chunk.endCodePoint - 1);
  tokens.push_back(std::move(eof));
  antlr4::ListTokenSource source(std::move(tokens));
  antlr4::CommonTokenStream stream(&source);
  MhrParser parser(&stream);
  parser.removeErrorListeners();
  auto strategy =
      std::make_shared<HumanErrorStrategy>(file, diags, lexed->byteOffsets, chunk, true, lexed->firstOnLine);
  parser.setErrorHandler(strategy);
  auto* tree = parser.overrideValue();
  if (strategy->reported() || diags.errorCount() > before || !tree->value()) return std::nullopt;
  AstBuilder builder(file, sources, diags, lexed->byteOffsets);
  ast::Value value = builder.buildValue(tree->value());
  // The builder reports too (a control character in a string): such a value is not a value.
  if (diags.errorCount() > before) return std::nullopt;
  return value;
}

} // namespace mhr::parse
