#include "compiler/parse/ast_builder.h"

#include "support/assert.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace mhr::parse {

using grammar::MhrParser;

diag::SourceRange AstBuilder::range(antlr4::Token* token) const {
  if (!token) return {};
  size_t start = token->getStartIndex(), stop = token->getStopIndex();
  if (start >= byteOffsets_.size()) start = byteOffsets_.size() - 1;
  size_t end = stop + 1 < byteOffsets_.size() ? stop + 1 : byteOffsets_.size() - 1;
  if (token->getType() == antlr4::Token::EOF || end < start) end = start;
  return diag::SourceRange{file_, byteOffsets_[start], byteOffsets_[end]};
}

diag::SourceRange AstBuilder::range(antlr4::tree::TerminalNode* node) const {
  return node ? range(node->getSymbol()) : diag::SourceRange{};
}

diag::SourceRange AstBuilder::range(antlr4::ParserRuleContext* ctx) const {
  if (!ctx) return {};
  diag::SourceRange a = range(ctx->getStart());
  antlr4::Token* stop = ctx->getStop();
  if (!stop || stop->getTokenIndex() < ctx->getStart()->getTokenIndex()) return a;
  return diag::SourceRange::join(a, range(stop));
}

std::string AstBuilder::statementText(antlr4::ParserRuleContext* ctx) const {
  // Source text with every whitespace run (and any comment) collapsed to one space: the statement as a user
  // would quote it in a table.
  diag::SourceRange r = range(ctx);
  std::string_view text = sources_.text(r);
  std::string out;
  bool space = false, comment = false, inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (comment) {
      if (c == '\n') comment = false;
      continue;
    }
    if (inString) {
      out += c;
      if (c == '\\' && i + 1 < text.size())
        out += text[++i];
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '#') {
      comment = true;
      space = true;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    if (c == '"') inString = true;
    out += c;
  }
  return out;
}

ast::Name AstBuilder::buildName(MhrParser::NameContext* ctx) {
  return ast::Name{ctx->getText(), range(ctx)};
}

ast::Path AstBuilder::buildPath(MhrParser::PathContext* ctx) {
  ast::Path p;
  p.range = range(ctx);
  std::string text = ctx->getText();
  size_t start = 0;
  while (true) {
    size_t dot = text.find('.', start);
    p.segments.push_back(text.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return p;
}

ast::Value AstBuilder::buildString(antlr4::tree::TerminalNode* node) {
  ast::Value v;
  v.kind = ast::Value::Kind::String;
  v.range = range(node);
  std::string raw = node->getText();
  // Strip the quotes (an unterminated string, already reported by the lexer pass, has no closing quote).
  size_t begin = 1, end = raw.size();
  if (end >= 2 && raw.back() == '"') --end;
  bool controlReported = false;
  for (size_t i = begin; i < end; ++i) {
    char c = raw[i];
    const unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      // A NUL cuts C strings (and error messages) short; ESC and friends drive the terminal the name is
      // printed on. One error per string; the byte is dropped from the value.
      if (!controlReported) {
        uint32_t at = v.range.begin + static_cast<uint32_t>(i);
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", u);
        diags_
            .error("E0008", diag::SourceRange{file_, at, at + 1},
                   std::string("control character ") + hex + " in string")
            .note("strings may hold tab but no other control character; write \\n for a newline");
        controlReported = true;
      }
      continue;
    }
    if (c != '\\' || i + 1 >= end) {
      v.text += c;
      continue;
    }
    char e = raw[++i];
    switch (e) {
    case '"':
      v.text += '"';
      break;
    case '\\':
      v.text += '\\';
      break;
    case 'n':
      v.text += '\n';
      break;
    case 't':
      v.text += '\t';
      break;
    default: {
      uint32_t at = v.range.begin + static_cast<uint32_t>(i - 1);
      diags_
          .error("E0006", diag::SourceRange{file_, at, at + 2},
                 std::string("unknown escape '\\") + e + "' in string")
          .note("strings accept \\\" \\\\ \\n and \\t; write a Windows path with forward slashes");
      v.text += e;
    }
    }
  }
  return v;
}

namespace {
// Parses an unsigned decimal; false on overflow.
bool parseUnsigned(const std::string& digits, int64_t& out) {
  int64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    if (value > (std::numeric_limits<int64_t>::max() - (c - '0')) / 10) return false;
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}
} // namespace

ast::Value AstBuilder::buildInt(antlr4::tree::TerminalNode* node) {
  ast::Value v;
  v.kind = ast::Value::Kind::Int;
  v.range = range(node);
  v.spelling = node->getText();
  if (!parseUnsigned(v.spelling, v.intValue)) v.overflow = true;
  return v;
}

ast::Value AstBuilder::buildSize(antlr4::tree::TerminalNode* node) {
  ast::Value v;
  v.kind = ast::Value::Kind::Size;
  v.range = range(node);
  v.spelling = node->getText();
  size_t x = v.spelling.find('x');
  if (!parseUnsigned(v.spelling.substr(0, x), v.h) || !parseUnsigned(v.spelling.substr(x + 1), v.w))
    v.overflow = true;
  return v;
}

ast::Value AstBuilder::buildCall(MhrParser::CallContext* ctx) {
  ast::Value v;
  v.kind = ast::Value::Kind::Call;
  v.range = range(ctx);
  v.callee = buildName(ctx->name());
  for (auto* a : ctx->argument()) {
    ast::Argument arg;
    arg.range = range(a);
    if (a->name()) arg.name = buildName(a->name());
    arg.value = buildValue(a->value());
    v.args.push_back(std::move(arg));
  }
  return v;
}

ast::Value AstBuilder::buildTerm(MhrParser::TermContext* ctx) {
  ast::Value v;
  v.range = range(ctx);
  if (auto* n = dynamic_cast<MhrParser::NumberTermContext*>(ctx)) {
    bool negative = n->MINUS() != nullptr;
    auto* num = n->number();
    std::string text = num->getText();
    if (num->INT()) {
      v = buildInt(num->INT());
      v.range = range(ctx);
      if (negative) v.intValue = -v.intValue;
    } else if (num->FLOAT()) {
      v.kind = ast::Value::Kind::Float;
      v.floatValue = std::strtod(text.c_str(), nullptr);
      if (negative) v.floatValue = -v.floatValue;
    } else {
      // QUANTITY: digits[.digits][e±digits] followed by letters/% (the unit). The exponent's 'e' is part of
      // the number only when digits follow it.
      v.kind = ast::Value::Kind::Quantity;
      size_t i = 0;
      while (i < text.size() && (isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
      if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        size_t j = i + 1;
        if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
        if (j < text.size() && isdigit(static_cast<unsigned char>(text[j]))) {
          while (j < text.size() && isdigit(static_cast<unsigned char>(text[j]))) ++j;
          i = j;
        }
      }
      v.floatValue = std::strtod(text.substr(0, i).c_str(), nullptr);
      if (negative) v.floatValue = -v.floatValue;
      v.text = text.substr(i);
    }
    v.spelling = (negative ? "-" : "") + text;
    return v;
  }
  if (auto* s = dynamic_cast<MhrParser::StringTermContext*>(ctx)) return buildString(s->STRING());
  if (auto* b = dynamic_cast<MhrParser::BoolTermContext*>(ctx)) {
    v.kind = ast::Value::Kind::Bool;
    v.boolValue = b->TRUE() != nullptr;
    return v;
  }
  if (auto* s = dynamic_cast<MhrParser::SizeTermContext*>(ctx)) return buildSize(s->SIZE());
  if (auto* l = dynamic_cast<MhrParser::ListTermContext*>(ctx)) {
    v.kind = ast::Value::Kind::List;
    auto items = l->list()->value();
    v.items.reserve(items.size()); // growing by doubling held up to twice a long list's values at once
    for (auto* item : items) v.items.push_back(buildValue(item));
    return v;
  }
  if (auto* c = dynamic_cast<MhrParser::CallTermContext*>(ctx)) return buildCall(c->call());
  if (auto* p = dynamic_cast<MhrParser::PathTermContext*>(ctx)) {
    v.kind = ast::Value::Kind::Path;
    v.path = buildPath(p->path());
    return v;
  }
  MHR_UNREACHABLE("unknown term alternative");
}

ast::Value AstBuilder::buildValue(MhrParser::ValueContext* ctx) {
  auto terms = ctx->term();
  if (terms.size() == 1) return buildTerm(terms[0]);
  ast::Value v;
  v.kind = ast::Value::Kind::Sequence;
  v.range = range(ctx);
  v.items.reserve(terms.size());
  for (auto* t : terms) v.items.push_back(buildTerm(t));
  return v;
}

ast::Block AstBuilder::buildBlock(MhrParser::BlockContext* ctx) {
  ast::Block b;
  b.range = range(ctx);
  for (auto* a : ctx->attribute()) {
    ast::Attribute attr;
    attr.range = range(a);
    attr.key = buildPath(a->path());
    attr.value = buildValue(a->value());
    b.attrs.push_back(std::move(attr));
  }
  return b;
}

std::unique_ptr<ast::MorphStmt> AstBuilder::buildMorph(MhrParser::MorphStmtContext* ctx) {
  std::unique_ptr<ast::MorphStmt> m;
  if (auto* u = dynamic_cast<MhrParser::UpscaleStmtContext*>(ctx)) {
    m = std::make_unique<ast::MorphStmt>(ast::MorphStmt::Kind::Upscale);
    m->keywordRange = range(u->UPSCALE());
    m->targets.push_back(buildPath(u->path()));
    m->argument = buildInt(u->INT());
  } else if (auto* d = dynamic_cast<MhrParser::DeepenStmtContext*>(ctx)) {
    m = std::make_unique<ast::MorphStmt>(ast::MorphStmt::Kind::Deepen);
    m->keywordRange = diag::SourceRange::join(range(d->DEEPEN()), range(d->AFTER()));
    m->targets.push_back(buildPath(d->path()));
    m->argument = buildValue(d->value());
  } else if (auto* w = dynamic_cast<MhrParser::WidenStmtContext*>(ctx)) {
    m = std::make_unique<ast::MorphStmt>(ast::MorphStmt::Kind::Widen);
    m->keywordRange = range(w->WIDEN());
    auto* target = w->widenTarget();
    m->bracketed = target->LBRACK() != nullptr;
    for (auto* p : target->path()) m->targets.push_back(buildPath(p));
    m->argument = buildInt(w->INT());
    if (w->value()) m->split = buildValue(w->value());
  } else if (auto* g = dynamic_cast<MhrParser::GrowStmtContext*>(ctx)) {
    m = std::make_unique<ast::MorphStmt>(ast::MorphStmt::Kind::GrowKernel);
    m->keywordRange = diag::SourceRange::join(range(g->GROW()), range(g->KERNEL()));
    m->targets.push_back(buildPath(g->path()));
    m->argument = buildSize(g->SIZE());
  } else if (auto* a = dynamic_cast<MhrParser::ActivationStmtContext*>(ctx)) {
    m = std::make_unique<ast::MorphStmt>(ast::MorphStmt::Kind::Activation);
    m->keywordRange = range(a->ACTIVATION());
    m->targets.push_back(buildPath(a->path()));
    m->argument = buildValue(a->value());
  } else if (auto* r = dynamic_cast<MhrParser::ReplaceStmtContext*>(ctx)) {
    m = std::make_unique<ast::MorphStmt>(ast::MorphStmt::Kind::ReplaceHead);
    m->keywordRange = diag::SourceRange::join(range(r->REPLACE()), range(r->HEAD()));
    m->argument = buildCall(r->call());
  } else if (auto* b = dynamic_cast<MhrParser::BranchStmtContext*>(ctx)) {
    m = std::make_unique<ast::MorphStmt>(ast::MorphStmt::Kind::Branch);
    m->keywordRange = range(b->BRANCH());
    for (auto* p : b->path()) m->targets.push_back(buildPath(p));
    m->argument = buildValue(b->value());
  } else {
    MHR_UNREACHABLE("unknown morph statement alternative");
  }
  m->range = range(ctx);
  m->text = statementText(ctx);
  return m;
}

std::unique_ptr<ast::Stmt> AstBuilder::buildStatement(MhrParser::StatementContext* ctx) {
  std::unique_ptr<ast::Stmt> out;
  if (auto* e = ctx->experimentStmt()) {
    auto s = std::make_unique<ast::ExperimentStmt>();
    s->keywordRange = range(e->EXPERIMENT());
    s->name = buildString(e->STRING());
    out = std::move(s);
  } else if (auto* e = ctx->seedStmt()) {
    auto s = std::make_unique<ast::SeedStmt>();
    s->keywordRange = range(e->SEED());
    s->seed = buildInt(e->INT());
    out = std::move(s);
  } else if (auto* e = ctx->preservationStmt()) {
    auto s = std::make_unique<ast::PreservationStmt>();
    s->keywordRange = range(e->PRESERVATION());
    s->level = buildName(e->name());
    out = std::move(s);
  } else if (auto* e = ctx->includeStmt()) {
    auto s = std::make_unique<ast::IncludeStmt>();
    s->keywordRange = range(e->INCLUDE());
    s->path = buildString(e->STRING());
    out = std::move(s);
  } else if (auto* e = ctx->datasetStmt()) {
    auto s = std::make_unique<ast::DatasetStmt>();
    s->keywordRange = range(e->DATASET());
    s->name = buildName(e->name());
    s->constructor = buildCall(e->call());
    if (e->block()) s->block = buildBlock(e->block());
    out = std::move(s);
  } else if (auto* e = ctx->networkStmt()) {
    auto s = std::make_unique<ast::NetworkStmt>();
    s->keywordRange = range(e->NETWORK());
    auto names = e->name();
    s->name = buildName(names[0]);
    if (e->MORPH()) {
      s->isMorph = true;
      s->parent = buildName(names[1]);
      s->morphBlockRange = range(e->morphBlock());
      for (auto* m : e->morphBlock()->morphStmt()) s->morphs.push_back(buildMorph(m));
    } else {
      s->constructor = buildCall(e->call());
      if (e->block()) s->block = buildBlock(e->block());
    }
    out = std::move(s);
  } else if (auto* e = ctx->trainStmt()) {
    auto s = std::make_unique<ast::StageStmt>(ast::Stmt::Kind::Train);
    s->keywordRange = range(e->TRAIN());
    s->network = buildName(e->name());
    s->split = buildPath(e->path());
    s->resolution = buildSize(e->SIZE());
    s->block = buildBlock(e->block());
    out = std::move(s);
  } else if (auto* e = ctx->evaluateStmt()) {
    auto s = std::make_unique<ast::StageStmt>(ast::Stmt::Kind::Evaluate);
    s->keywordRange = range(e->EVALUATE());
    s->network = buildName(e->name());
    s->split = buildPath(e->path());
    s->resolution = buildSize(e->SIZE());
    if (e->block()) s->block = buildBlock(e->block());
    out = std::move(s);
  } else if (auto* e = ctx->sweepStmt()) {
    auto s = std::make_unique<ast::SweepStmt>();
    s->keywordRange = range(e->SWEEP());
    s->block = buildBlock(e->block());
    out = std::move(s);
  } else {
    MHR_UNREACHABLE("unknown statement alternative");
  }
  out->range = range(ctx);
  return out;
}

} // namespace mhr::parse
