// compiler/parse/ast_builder.h — parse tree (generated MhrParser contexts) -> AST nodes. Internal to
// compiler/parse/: this and parser.cpp are the only files that see ANTLR types.
#pragma once

#include "MhrParser.h"
#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostics.h"

#include <memory>

namespace mhr::parse {

class AstBuilder {
public:
  // `byteOffsets[i]` is the byte offset of code point i of the file (ANTLR counts code points), with one
  // extra entry for the end of the file.
  AstBuilder(diag::FileId file, const diag::SourceManager& sources, diag::DiagnosticEngine& diags,
             const std::vector<uint32_t>& byteOffsets)
      : file_(file), sources_(sources), diags_(diags), byteOffsets_(byteOffsets) {}

  std::unique_ptr<ast::Stmt> buildStatement(grammar::MhrParser::StatementContext* ctx);
  ast::Value buildValue(grammar::MhrParser::ValueContext* ctx);

private:
  diag::SourceRange range(antlr4::ParserRuleContext* ctx) const;
  diag::SourceRange range(antlr4::tree::TerminalNode* node) const;
  diag::SourceRange range(antlr4::Token* token) const;
  ast::Name buildName(grammar::MhrParser::NameContext* ctx);
  ast::Path buildPath(grammar::MhrParser::PathContext* ctx);
  ast::Value buildTerm(grammar::MhrParser::TermContext* ctx);
  ast::Value buildCall(grammar::MhrParser::CallContext* ctx);
  ast::Value buildString(antlr4::tree::TerminalNode* node);
  ast::Value buildSize(antlr4::tree::TerminalNode* node);
  ast::Value buildInt(antlr4::tree::TerminalNode* node);
  ast::Block buildBlock(grammar::MhrParser::BlockContext* ctx);
  std::unique_ptr<ast::MorphStmt> buildMorph(grammar::MhrParser::MorphStmtContext* ctx);
  std::string statementText(antlr4::ParserRuleContext* ctx) const;

  diag::FileId file_;
  const diag::SourceManager& sources_;
  diag::DiagnosticEngine& diags_;
  const std::vector<uint32_t>& byteOffsets_;
};

} // namespace mhr::parse
