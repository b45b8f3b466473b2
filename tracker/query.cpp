// tracker/query.cpp — see query.h. A hand-written lexer and recursive-descent parser that emits SQL directly:
// the grammar is small and every error needs the exact token position for the caret.
//
//   expr       := and ('or' and)*
//   and        := unary ('and' unary)*
//   unary      := 'not' unary | '(' expr ')' | comparison
//   comparison := field op value
//               | field ['not'] 'in' '(' value (',' value)* ')'
//               | field ['not'] 'between' value 'and' value
//               | field ['not'] ('like' | 'ilike') string
//               | field 'is' ['not'] 'null'
//   field      := ENTITY '.' (NAME | `name` | "name") | ATTRIBUTE
//   value      := NUMBER | 'string' | "string"
#include "tracker/query.h"

#include "support/error.h"
#include "support/strings.h"

#include <cctype>
#include <cmath>
#include <ctime>
#include <fmt/format.h>

namespace mhr::tracker {

namespace {

// ---------------------------------------------------------------------------------------------- errors

// Display column of a byte offset: one column per UTF-8 code point, so the caret lines up under non-ASCII
// text.
size_t columnOf(const std::string& text, size_t offset) {
  size_t column = 0;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++column;
  }
  return column;
}

[[noreturn]] void fail(const std::string& what, const std::string& text, const std::string& message,
                       size_t position, size_t length) {
  std::string shown = text;
  for (char& c : shown) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' '; // keep one column per character
  }
  if (position > shown.size()) position = shown.size();
  size_t column = columnOf(shown, position);
  size_t width = std::max<size_t>(1, columnOf(shown, std::min(shown.size(), position + length)) - column);
  std::string caret = std::string(column, ' ') + "^" + std::string(width - 1, '~');
  throw UserError("invalid " + what + ": " + message + "\n  " + shown + "\n  " + caret);
}

// ---------------------------------------------------------------------------------------------- lexer

enum class Tok { Word, Backtick, DString, SString, Number, Op, LParen, RParen, Comma, End };

struct Token {
  Tok kind;
  std::string text; // words and operators as written; strings and quoted names unquoted
  size_t position;
  size_t length;
  bool spaceBefore; // whitespace precedes the token (`metrics.` and its quoted name must touch)
};

bool isWordStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool isWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '/';
}

class Lexer {
public:
  Lexer(const std::string& text, const std::string& what) : text_(text), what_(what) {}

  std::vector<Token> run() {
    std::vector<Token> tokens;
    size_t i = 0;
    const size_t n = text_.size();
    while (true) {
      size_t start = i;
      while (i < n && std::isspace(static_cast<unsigned char>(text_[i]))) ++i;
      bool space = i > start;
      if (i >= n) {
        tokens.push_back({Tok::End, "", n, 0, space});
        return tokens;
      }
      char c = text_[i];
      size_t begin = i;
      if (isWordStart(c)) {
        while (i < n && isWordChar(text_[i])) ++i;
        tokens.push_back({Tok::Word, text_.substr(begin, i - begin), begin, i - begin, space});
      } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '.' ||
                 ((c == '-' || c == '+') && i + 1 < n &&
                  (std::isdigit(static_cast<unsigned char>(text_[i + 1])) || text_[i + 1] == '.'))) {
        i = number(i);
        tokens.push_back({Tok::Number, text_.substr(begin, i - begin), begin, i - begin, space});
      } else if (c == '`' || c == '"' || c == '\'') {
        std::string value;
        i = quoted(i, value);
        Tok kind = c == '`' ? Tok::Backtick : c == '"' ? Tok::DString : Tok::SString;
        tokens.push_back({kind, value, begin, i - begin, space});
      } else if (c == '(' || c == ')' || c == ',') {
        ++i;
        tokens.push_back({c == '('   ? Tok::LParen
                          : c == ')' ? Tok::RParen
                                     : Tok::Comma,
                          std::string(1, c), begin, 1, space});
      } else if (c == '=' || c == '!' || c == '<' || c == '>') {
        std::string op(1, c);
        if (i + 1 < n && (text_[i + 1] == '=' || (c == '<' && text_[i + 1] == '>'))) op += text_[i + 1];
        if (op == "!") fail(what_, text_, "'!' must be followed by '=' ('!=' means not equal)", begin, 1);
        i += op.size();
        tokens.push_back({Tok::Op, op, begin, op.size(), space});
      } else if (c == '-' && !tokens.empty() && tokens.back().kind == Tok::Word && !space) {
        fail(what_, text_,
             "names with characters other than letters, digits, '_', '.' and '/' must be quoted, e.g. "
             "metrics.`" +
                 tokens.back().text.substr(tokens.back().text.find('.') + 1) + "-...`",
             begin, 1);
      } else {
        std::string shownChar =
            static_cast<unsigned char>(c) < 0x80 ? std::string(1, c) : "non-ASCII character";
        std::string hint = c == ';' ? " (one expression only; combine conditions with 'and' / 'or')" : "";
        fail(what_, text_, "unexpected '" + shownChar + "'" + hint, begin, 1);
      }
    }
  }

private:
  size_t number(size_t i) {
    const size_t n = text_.size();
    size_t begin = i;
    if (text_[i] == '-' || text_[i] == '+') ++i;
    size_t digits = 0;
    while (i < n && std::isdigit(static_cast<unsigned char>(text_[i]))) ++i, ++digits;
    if (i < n && text_[i] == '.') {
      ++i;
      while (i < n && std::isdigit(static_cast<unsigned char>(text_[i]))) ++i, ++digits;
    }
    if (digits == 0) fail(what_, text_, "malformed number", begin, i - begin + 1);
    if (i < n && (text_[i] == 'e' || text_[i] == 'E')) {
      size_t e = i++;
      if (i < n && (text_[i] == '+' || text_[i] == '-')) ++i;
      size_t expDigits = 0;
      while (i < n && std::isdigit(static_cast<unsigned char>(text_[i]))) ++i, ++expDigits;
      if (expDigits == 0) fail(what_, text_, "malformed exponent in number", e, i - e);
    }
    if (i < n && (isWordChar(text_[i]) && text_[i] != '.')) {
      size_t end = i;
      while (end < n && isWordChar(text_[end])) ++end;
      fail(what_, text_, "malformed number (a name cannot start with a digit)", begin, end - begin);
    }
    return i;
  }

  // A quoted string or name; the quote character is doubled to include it ('it''s').
  size_t quoted(size_t i, std::string& value) {
    const size_t n = text_.size();
    char quote = text_[i];
    size_t begin = i++;
    while (true) {
      if (i >= n) {
        fail(what_, text_,
             std::string("unterminated ") + (quote == '`' ? "quoted name" : "string") + ": missing " + quote,
             begin, n - begin);
      }
      if (text_[i] == quote) {
        if (i + 1 < n && text_[i + 1] == quote) {
          value += quote;
          i += 2;
          continue;
        }
        return i + 1;
      }
      value += text_[i++];
    }
  }

  const std::string& text_;
  std::string what_;
};

// ---------------------------------------------------------------------------------------------- fields

enum class AttrType { Text, Number, Time, Status };

struct Attribute {
  const char* name;
  const char* sql;
  AttrType type;
};

// Run attributes: MLflow's names (run_id, run_name, status, start_time, end_time, user_id, ...) and mhr's.
const std::vector<Attribute>& attributes() {
  static const std::vector<Attribute> list = {
      {"run_id", "r.run_uuid", AttrType::Text},
      {"run_name", "r.name", AttrType::Text},
      {"status", "r.status", AttrType::Status},
      {"start_time", "r.start_time", AttrType::Time},
      {"end_time", "r.end_time", AttrType::Time},
      {"duration",
       "((COALESCE(r.end_time, CAST(strftime('%s', 'now') AS INTEGER) * 1000) - r.start_time) / 1000.0)",
       AttrType::Number},
      {"experiment", "e.name", AttrType::Text},
      {"experiment_id", "r.experiment_id", AttrType::Number},
      {"seed", "r.seed", AttrType::Number},
      {"spec_path", "r.source_name", AttrType::Text},
      {"spec_hash", "r.spec_hash", AttrType::Text},
      {"semantic_hash", "r.semantic_hash", AttrType::Text},
      {"user_id", "r.user_id", AttrType::Text},
      {"source_version", "r.source_version", AttrType::Text},
      {"resume_count", "r.resume_count", AttrType::Number},
  };
  return list;
}

const Attribute* findAttribute(const std::string& name) {
  static const std::vector<std::pair<std::string, std::string>> aliases = {{"name", "run_name"},
                                                                           {"id", "run_id"},
                                                                           {"run_uuid", "run_id"},
                                                                           {"run", "run_id"},
                                                                           {"experiment_name", "experiment"},
                                                                           {"source_name", "spec_path"},
                                                                           {"spec", "spec_path"},
                                                                           {"started", "start_time"},
                                                                           {"ended", "end_time"}};
  std::string lower = support::toLower(name);
  for (const auto& [alias, target] : aliases) {
    if (lower == alias) lower = target;
  }
  for (const auto& a : attributes()) {
    if (lower == a.name) return &a;
  }
  return nullptr;
}

struct EntityName {
  const char* word;
  Entity entity;
};

const std::vector<EntityName>& entityNames() {
  static const std::vector<EntityName> list = {{"metrics", Entity::Metric},
                                               {"metric", Entity::Metric},
                                               {"params", Entity::Param},
                                               {"param", Entity::Param},
                                               {"parameters", Entity::Param},
                                               {"tags", Entity::Tag},
                                               {"tag", Entity::Tag},
                                               {"attributes", Entity::Attribute},
                                               {"attribute", Entity::Attribute},
                                               {"attr", Entity::Attribute},
                                               {"env", Entity::Env},
                                               {"environment", Entity::Env}};
  return list;
}

const char* entityPrefix(Entity e) {
  switch (e) {
  case Entity::Metric:
    return "metrics";
  case Entity::Param:
    return "params";
  case Entity::Tag:
    return "tags";
  case Entity::Attribute:
    return "attributes";
  case Entity::Env:
    return "env";
  }
  return "";
}

bool isPlainName(const std::string& name) {
  if (name.empty() || !isWordStart(name[0])) return false;
  for (char c : name) {
    if (!isWordChar(c)) return false;
  }
  return true;
}

std::string fieldLabel(Entity entity, const std::string& name) {
  if (entity == Entity::Attribute) return name;
  std::string shown = isPlainName(name) ? name : "`" + name + "`";
  return std::string(entityPrefix(entity)) + "." + shown;
}

// ---------------------------------------------------------------------------------------------- parser

struct Literal {
  bool isNumber = false;
  SqlValue value;
  std::string text; // strings: the value; numbers: as written
  size_t position = 0, length = 0;
};

class Parser {
public:
  Parser(const std::string& text, const std::string& what) : text_(text), what_(what) {
    tokens_ = Lexer(text, what).run();
  }

  CompiledWhere where() {
    CompiledWhere result;
    if (peek().kind == Tok::End) {
      result.condition.sql = "1";
      return result;
    }
    out_ = &result.condition;
    fields_ = &result.fields;
    orExpr();
    if (peek().kind != Tok::End) {
      const Token& t = peek();
      std::string message = "unexpected '" + t.text + "' after a complete condition";
      if (t.kind == Tok::Word) message += " (join conditions with 'and' or 'or')";
      if (t.kind == Tok::RParen) message = "')' without a matching '('";
      error(message, t);
    }
    return result;
  }

  std::vector<SortKey> sortKeys() {
    std::vector<SortKey> keys;
    if (peek().kind == Tok::End) return keys;
    while (true) {
      SortKey key;
      key.field = field();
      if (peek().kind == Tok::Word && (lower(peek()) == "asc" || lower(peek()) == "desc")) {
        key.descending = lower(next()) == "desc";
      }
      keys.push_back(key);
      if (peek().kind == Tok::End) return keys;
      if (peek().kind != Tok::Comma) error("expected ',' or 'asc'/'desc' after a sort field", peek());
      next();
    }
  }

  std::vector<FieldRef> columns() {
    std::vector<FieldRef> list;
    if (peek().kind == Tok::End) return list;
    while (true) {
      list.push_back(field());
      if (peek().kind == Tok::End) return list;
      if (peek().kind != Tok::Comma) error("expected ',' between column names", peek());
      next();
    }
  }

private:
  const Token& peek(size_t ahead = 0) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
  const Token& next() { return tokens_[std::min(pos_++, tokens_.size() - 1)]; }
  static std::string lower(const Token& t) { return support::toLower(t.text); }
  bool isKeyword(const Token& t, const char* word) const { return t.kind == Tok::Word && lower(t) == word; }

  [[noreturn]] void error(const std::string& message, const Token& at) const {
    fail(what_, text_, message, at.position, std::max<size_t>(1, at.length));
  }
  [[noreturn]] void errorAt(const std::string& message, size_t position, size_t length) const {
    fail(what_, text_, message, position, length);
  }

  void emit(const std::string& sql) { out_->sql += sql; }
  void bind(SqlValue v) { out_->params.push_back(std::move(v)); }

  void orExpr() {
    emit("(");
    andExpr();
    while (isKeyword(peek(), "or")) {
      next();
      emit(" OR ");
      andExpr();
    }
    emit(")");
  }

  void andExpr() {
    emit("(");
    unary();
    while (isKeyword(peek(), "and")) {
      next();
      emit(" AND ");
      unary();
    }
    emit(")");
  }

  void unary() {
    const Token& t = peek();
    if (isKeyword(t, "not")) {
      next();
      emit("NOT ");
      unary();
      return;
    }
    if (t.kind == Tok::LParen) {
      next();
      if (peek().kind == Tok::RParen) error("empty parentheses: expected a condition", peek());
      orExpr();
      if (peek().kind != Tok::RParen) {
        error(peek().kind == Tok::End ? "missing ')' at the end" : "expected ')' or 'and'/'or' here", peek());
      }
      next();
      return;
    }
    comparison();
  }

  FieldRef field() {
    const Token& t = peek();
    if (t.kind == Tok::End) error("expected a field such as metrics.auc, params.lr, tags.x or status", t);
    if (t.kind != Tok::Word) {
      if (t.kind == Tok::Number) {
        error("expected a field (metrics.x, params.x, tags.x, attributes.x) before a value, not a number", t);
      }
      if (t.kind == Tok::SString || t.kind == Tok::DString) {
        error(
            "expected a field (metrics.x, params.x, tags.x, attributes.x), not a string; a quoted name goes "
            "after the entity: metrics.\"" +
                t.text + "\"",
            t);
      }
      error("expected a field such as metrics.auc, params.lr, tags.x or status, found '" + t.text + "'", t);
    }
    next();
    FieldRef f;
    f.position = t.position;
    size_t dot = t.text.find('.');
    std::string head = t.text.substr(0, dot);
    const EntityName* entity = nullptr;
    for (const auto& e : entityNames()) {
      if (support::toLower(head) == e.word) entity = &e;
    }
    if (dot == std::string::npos) {
      if (entity && entity->entity != Entity::Attribute) {
        error("expected '.' and a name after '" + t.text + "', e.g. " + entityPrefix(entity->entity) + ".auc",
              t);
      }
      if (const Attribute* a = findAttribute(t.text)) {
        f.entity = Entity::Attribute;
        f.name = a->name;
        f.label = a->name;
        f.length = t.length;
        return f;
      }
      std::vector<std::string> names = attributeNames();
      std::string suggestion = support::closestMatch(t.text, names);
      std::string keywordHint = isKeyword(t, "and") || isKeyword(t, "or") || isKeyword(t, "not")
                                    ? " ('" + lower(t) + "' needs a condition on each side)"
                                    : "";
      error("unknown field '" + t.text + "'" +
                (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)") + keywordHint +
                "; write metrics." + t.text + ", params." + t.text + ", tags." + t.text +
                " or a run attribute (" + support::join(names, ", ") + ")",
            t);
    }
    if (!entity) {
      std::vector<std::string> words = {"metrics", "params", "tags", "attributes", "env"};
      std::string suggestion = support::closestMatch(head, words);
      errorAt("unknown entity '" + head + "'" +
                  (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)") +
                  "; use metrics., params., tags., attributes. or env.",
              t.position, head.size());
    }
    f.entity = entity->entity;
    std::string rest = t.text.substr(dot + 1);
    size_t end = t.position + t.length;
    if (rest.empty()) {
      const Token& q = peek();
      if ((q.kind == Tok::Backtick || q.kind == Tok::DString) && !q.spaceBefore) {
        next();
        rest = q.text;
        end = q.position + q.length;
        if (rest.empty()) errorAt("empty name", q.position, q.length);
      } else {
        error("expected a name after '" + t.text + "' (quote names with special characters: " + t.text +
                  "`auc/Effusion`)",
              t);
      }
    }
    f.length = end - f.position;
    if (f.entity == Entity::Attribute) {
      const Attribute* a = findAttribute(rest);
      if (!a) {
        std::string suggestion = support::closestMatch(rest, attributeNames());
        errorAt("unknown run attribute '" + rest + "'" +
                    (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)") +
                    "; known: " + support::join(attributeNames(), ", "),
                t.position, f.length);
      }
      f.name = a->name;
    } else {
      f.name = rest;
    }
    f.label = fieldLabel(f.entity, f.name);
    return f;
  }

  Literal literal() {
    const Token& t = peek();
    Literal lit;
    lit.position = t.position;
    lit.length = t.length;
    if (t.kind == Tok::Number) {
      next();
      lit.isNumber = true;
      lit.text = t.text;
      bool integral = t.text.find_first_of(".eE") == std::string::npos;
      if (integral) {
        try {
          lit.value = static_cast<int64_t>(std::stoll(t.text));
          return lit;
        } catch (...) {
          // too large for 64 bits: compare as a double
        }
      }
      double d = std::strtod(t.text.c_str(), nullptr);
      if (!std::isfinite(d)) error("number out of range", t);
      lit.value = d;
      return lit;
    }
    if (t.kind == Tok::SString || t.kind == Tok::DString) {
      next();
      lit.value = t.text;
      lit.text = t.text;
      return lit;
    }
    if (t.kind == Tok::Backtick)
      error("backticks quote names, not values; write the value in 'single quotes'", t);
    if (t.kind == Tok::End) error("expected a value (a number or a 'quoted string') at the end", t);
    if (t.kind == Tok::Word && (lower(t) == "true" || lower(t) == "false")) {
      // Booleans compare with a bool param's text form ("true"/"false").
      next();
      lit.value = lower(t);
      lit.text = lower(t);
      return lit;
    }
    if (isKeyword(t, "null")) error("compare with null using 'is null' or 'is not null'", t);
    if (t.kind == Tok::Word) {
      error("expected a value, found '" + t.text + "'; quote strings: '" + t.text + "'", t);
    }
    error("expected a value (a number or a 'quoted string'), found '" + t.text + "'", t);
  }

  // Checks a literal's kind against the field and converts it (time strings to ms, statuses to lower case).
  SqlValue typed(const FieldRef& f, const Literal& lit, AttrType attrType, bool forLike) {
    auto wrongKind = [&](const std::string& message) { errorAt(message, lit.position, lit.length); };
    switch (f.entity) {
    case Entity::Metric:
      if (!lit.isNumber)
        wrongKind("metrics are numbers: compare " + f.label + " with a number, not a string");
      return lit.value;
    case Entity::Tag:
    case Entity::Env:
      if (lit.isNumber) {
        wrongKind(std::string(f.entity == Entity::Tag ? "tags" : "environment facts") +
                  " are text: quote the value, e.g. " + f.label + " = '" + lit.text + "'");
      }
      return lit.value;
    case Entity::Param:
      if (forLike && lit.isNumber) wrongKind("LIKE patterns are strings: quote it");
      return lit.value;
    case Entity::Attribute:
      break;
    }
    switch (attrType) {
    case AttrType::Text:
      if (lit.isNumber)
        wrongKind("'" + f.name + "' is text: quote the value, e.g. " + f.name + " = '" + lit.text + "'");
      return lit.value;
    case AttrType::Status: {
      if (lit.isNumber) wrongKind("status is one of 'running', 'finished', 'failed', 'interrupted'");
      std::string s = support::toLower(lit.text);
      if (forLike) return s;
      static const std::vector<std::string> statuses = {"running", "finished", "failed", "interrupted"};
      bool known = false;
      for (const auto& k : statuses) known = known || s == k;
      if (!known) {
        std::string suggestion = support::closestMatch(s, statuses);
        if (s == "killed") suggestion = "interrupted";
        wrongKind("unknown status '" + lit.text + "'" +
                  (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)") +
                  "; one of running, finished, failed, interrupted");
      }
      return s;
    }
    case AttrType::Number:
      if (!lit.isNumber) wrongKind("'" + f.name + "' is a number: compare it with a number (no quotes)");
      return lit.value;
    case AttrType::Time: {
      if (lit.isNumber) return lit.value; // milliseconds since the epoch, as MLflow
      int64_t ms = 0;
      if (!parseTime(lit.text, ms)) {
        wrongKind("'" + f.name +
                  "' takes milliseconds since 1970 or a UTC date 'YYYY-MM-DD' or "
                  "'YYYY-MM-DD HH:MM[:SS]'");
      }
      return ms;
    }
    }
    return lit.value;
  }

  static bool parseTime(const std::string& text, int64_t& ms) {
    std::tm tm{};
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    char sep = 0;
    int matched = std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d", &year, &month, &day, &sep, &hour,
                              &minute, &second);
    if (matched != 3 && matched != 6 && matched != 7) return false;
    if (matched > 3 && sep != ' ' && sep != 'T') return false;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
      return false;
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    ms = static_cast<int64_t>(timegm(&tm)) * 1000;
    return true;
  }

  // The column the comparison applies to, inside the entity's EXISTS sub-query (or on r/e for attributes).
  std::string column(const FieldRef& f, bool numeric, AttrType attrType) {
    switch (f.entity) {
    case Entity::Metric:
      return "m.value";
    case Entity::Param:
      return numeric ? "p.value_num" : "p.value";
    case Entity::Tag:
      return "t.value";
    case Entity::Env:
      return "v.value";
    case Entity::Attribute: {
      (void)attrType;
      return findAttribute(f.name)->sql;
    }
    }
    return "";
  }

  // Opens the EXISTS sub-query of an entity and binds its key.
  void openEntity(const FieldRef& f, bool negatedPresence) {
    const char* table = nullptr;
    const char* alias = nullptr;
    const char* extra = "";
    switch (f.entity) {
    case Entity::Metric:
      table = "latest_metrics";
      alias = "m";
      extra = " AND m.is_nan = 0";
      break;
    case Entity::Param:
      table = "params", alias = "p";
      break;
    case Entity::Tag:
      table = "tags", alias = "t";
      break;
    case Entity::Env:
      table = "environment", alias = "v";
      break;
    case Entity::Attribute:
      return;
    }
    // A NaN metric counts as absent both ways: `is null` matches it and comparisons never do.
    emit(std::string(negatedPresence ? "NOT EXISTS" : "EXISTS") + " (SELECT 1 FROM " + table + " " + alias +
         " WHERE " + alias + ".run_uuid = r.run_uuid AND " + alias + ".key = ?" + extra);
    bind(f.name);
  }

  void closeEntity(const FieldRef& f) {
    if (f.entity != Entity::Attribute) emit(")");
  }

  void comparison() {
    FieldRef f = field();
    fields_->push_back(f);
    AttrType attrType = AttrType::Text;
    if (f.entity == Entity::Attribute) attrType = findAttribute(f.name)->type;

    const Token& opTok = peek();
    bool negate = false;
    if (isKeyword(opTok, "is")) {
      next();
      bool notNull = false;
      if (isKeyword(peek(), "not")) {
        next();
        notNull = true;
      }
      if (!isKeyword(peek(), "null")) error("expected 'null' after 'is'", peek());
      next();
      if (f.entity == Entity::Attribute) {
        emit(std::string("(") + column(f, false, attrType) + (notNull ? " IS NOT NULL)" : " IS NULL)"));
      } else {
        openEntity(f, !notNull);
        emit(")");
      }
      return;
    }
    if (isKeyword(opTok, "not")) {
      const Token& after = peek(1);
      if (isKeyword(after, "in") || isKeyword(after, "between") || isKeyword(after, "like") ||
          isKeyword(after, "ilike")) {
        next();
        negate = true;
      } else {
        error("expected 'in', 'between', 'like' or 'ilike' after 'not'", after);
      }
    }
    const Token& op = peek();
    if (isKeyword(op, "in")) {
      next();
      if (peek().kind != Tok::LParen) error("expected '(' and a list of values after 'in'", peek());
      next();
      std::vector<Literal> values;
      while (true) {
        if (peek().kind == Tok::RParen && values.empty())
          error("empty list: 'in' needs at least one value", peek());
        values.push_back(literal());
        if (peek().kind == Tok::Comma) {
          next();
          continue;
        }
        if (peek().kind == Tok::RParen) {
          next();
          break;
        }
        error(peek().kind == Tok::End ? "missing ')' to close the list"
                                      : "expected ',' or ')' in the value list",
              peek());
      }
      for (const auto& v : values) {
        if (v.isNumber != values[0].isNumber) {
          errorAt("mixed numbers and strings in one list", v.position, v.length);
        }
      }
      bool numeric = values[0].isNumber;
      std::vector<SqlValue> typedValues;
      for (const auto& v : values) typedValues.push_back(typed(f, v, attrType, false));
      openEntity(f, false);
      emit(std::string(f.entity == Entity::Attribute ? "(" : " AND ") + column(f, numeric, attrType) +
           (negate ? " NOT IN (" : " IN ("));
      for (size_t i = 0; i < typedValues.size(); ++i) {
        emit(i ? ", ?" : "?");
        bind(typedValues[i]);
      }
      emit(")");
      if (f.entity == Entity::Attribute) emit(")");
      closeEntity(f);
      return;
    }
    if (isKeyword(op, "between")) {
      next();
      Literal low = literal();
      if (!isKeyword(peek(), "and")) error("expected 'and' between the two bounds of 'between'", peek());
      next();
      Literal high = literal();
      if (low.isNumber != high.isNumber)
        errorAt("'between' bounds must both be numbers or both strings", high.position, high.length);
      SqlValue lo = typed(f, low, attrType, false), hi = typed(f, high, attrType, false);
      openEntity(f, false);
      emit(std::string(f.entity == Entity::Attribute ? "(" : " AND ") + column(f, low.isNumber, attrType) +
           (negate ? " NOT BETWEEN ? AND ?" : " BETWEEN ? AND ?"));
      bind(lo);
      bind(hi);
      if (f.entity == Entity::Attribute) emit(")");
      closeEntity(f);
      return;
    }
    if (isKeyword(op, "like") || isKeyword(op, "ilike")) {
      bool caseInsensitive = isKeyword(op, "ilike");
      next();
      Literal pattern = literal();
      if (pattern.isNumber) errorAt("LIKE patterns are strings: quote it", pattern.position, pattern.length);
      if (f.entity == Entity::Metric)
        errorAt("metrics are numbers: LIKE does not apply", op.position, op.length);
      if (f.entity == Entity::Attribute && (attrType == AttrType::Number || attrType == AttrType::Time)) {
        errorAt("'" + f.name + "' is a number: LIKE does not apply", op.position, op.length);
      }
      SqlValue value = typed(f, pattern, attrType, true);
      openEntity(f, false);
      // SQLite's LIKE ignores ASCII case: that is ILIKE. Case-sensitive LIKE becomes GLOB with the pattern
      // translated (% -> *, _ -> ?, GLOB's own metacharacters escaped in brackets).
      std::string sqlOp = caseInsensitive ? " LIKE ?" : " GLOB ?";
      if (!caseInsensitive) value = likeToGlob(std::get<std::string>(value));
      emit(std::string(f.entity == Entity::Attribute ? "(" : " AND ") + (negate ? "NOT " : "") +
           column(f, false, attrType) + sqlOp);
      bind(value);
      if (f.entity == Entity::Attribute) emit(")");
      closeEntity(f);
      return;
    }
    if (op.kind != Tok::Op) {
      if (op.kind == Tok::End)
        error("expected a comparison (=, !=, <, <=, >, >=, in, between, like) at the end", op);
      error("expected a comparison operator (=, !=, <, <=, >, >=, in, between, like, is null) after " +
                f.label,
            op);
    }
    next();
    std::string sqlOp = op.text == "==" ? "=" : op.text == "<>" ? "!=" : op.text;
    Literal value = literal();
    SqlValue v = typed(f, value, attrType, false);
    if (f.entity == Entity::Attribute && attrType == AttrType::Status && sqlOp != "=" && sqlOp != "!=") {
      errorAt("status can only be compared with =, !=, in or like", op.position, op.length);
    }
    openEntity(f, false);
    emit(std::string(f.entity == Entity::Attribute ? "(" : " AND ") + column(f, value.isNumber, attrType) +
         " " + sqlOp + " ?");
    bind(v);
    if (f.entity == Entity::Attribute) emit(")");
    closeEntity(f);
  }

  static std::string likeToGlob(const std::string& like) {
    std::string glob;
    for (char c : like) {
      switch (c) {
      case '%':
        glob += '*';
        break;
      case '_':
        glob += '?';
        break;
      case '*':
        glob += "[*]";
        break;
      case '?':
        glob += "[?]";
        break;
      case '[':
        glob += "[[]";
        break;
      default:
        glob += c;
      }
    }
    return glob;
  }

  const std::string& text_;
  std::string what_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  SqlFragment* out_ = nullptr;
  std::vector<FieldRef>* fields_ = nullptr;
};

} // namespace

CompiledWhere compileWhere(const std::string& expression) {
  return Parser(expression, "--where expression").where();
}

std::vector<SortKey> parseSort(const std::string& text) {
  return Parser(text, "--sort list").sortKeys();
}

std::vector<FieldRef> parseColumns(const std::string& text) {
  return Parser(text, "--columns list").columns();
}

SqlFragment fieldValueSql(const FieldRef& field) {
  SqlFragment f;
  switch (field.entity) {
  case Entity::Metric:
    f.sql = "(SELECT CASE WHEN m.is_nan THEN 'nan' ELSE m.value END FROM latest_metrics m "
            "WHERE m.run_uuid = r.run_uuid AND m.key = ?)";
    break;
  case Entity::Param:
    f.sql =
        "(SELECT COALESCE(p.value_num, p.value) FROM params p WHERE p.run_uuid = r.run_uuid AND p.key = ?)";
    break;
  case Entity::Tag:
    f.sql = "(SELECT t.value FROM tags t WHERE t.run_uuid = r.run_uuid AND t.key = ?)";
    break;
  case Entity::Env:
    f.sql = "(SELECT v.value FROM environment v WHERE v.run_uuid = r.run_uuid AND v.key = ?)";
    break;
  case Entity::Attribute:
    f.sql = findAttribute(field.name)->sql;
    return f;
  }
  f.params.push_back(field.name);
  return f;
}

std::vector<std::string> attributeNames() {
  std::vector<std::string> names;
  for (const auto& a : attributes()) names.push_back(a.name);
  return names;
}

} // namespace mhr::tracker
