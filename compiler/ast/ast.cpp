#include "compiler/ast/ast.h"

#include "support/strings.h"

namespace mhr::ast {

std::string Path::str() const {
  return support::join(segments, ".");
}

SourceRange Path::segmentRange(size_t i) const {
  if (!range.valid() || i >= segments.size()) return range;
  uint32_t offset = range.begin;
  for (size_t k = 0; k < i; ++k) offset += static_cast<uint32_t>(segments[k].size()) + 1;
  return SourceRange{range.file, offset, offset + static_cast<uint32_t>(segments[i].size())};
}

std::string Value::calleeName() const {
  if (kind == Kind::Call) return callee.text;
  if (kind == Kind::Path && path.segments.size() == 1) return path.segments[0];
  return "";
}

const Argument* Value::namedArg(const std::string& n) const {
  for (const auto& a : args)
    if (a.name && a.name->text == n) return &a;
  return nullptr;
}

const Value* Value::argument(size_t position, const std::string& name) const {
  size_t k = 0;
  for (const auto& a : args) {
    if (!a.name && k++ == position) return &a.value;
    if (a.name && a.name->text == name) return &a.value;
  }
  return nullptr;
}

const Attribute* Block::find(const std::string& key) const {
  for (const auto& a : attrs)
    if (a.key.str() == key) return &a;
  return nullptr;
}

const char* kindName(Stmt::Kind k) {
  switch (k) {
  case Stmt::Kind::Experiment:
    return "experiment";
  case Stmt::Kind::Seed:
    return "seed";
  case Stmt::Kind::Preservation:
    return "preservation";
  case Stmt::Kind::Include:
    return "include";
  case Stmt::Kind::Dataset:
    return "dataset";
  case Stmt::Kind::Network:
    return "network";
  case Stmt::Kind::Train:
    return "train";
  case Stmt::Kind::Evaluate:
    return "evaluate";
  case Stmt::Kind::Sweep:
    return "sweep";
  }
  return "?";
}

const char* kindName(MorphStmt::Kind k) {
  switch (k) {
  case MorphStmt::Kind::Upscale:
    return "upscale";
  case MorphStmt::Kind::Deepen:
    return "deepen";
  case MorphStmt::Kind::Widen:
    return "widen";
  case MorphStmt::Kind::GrowKernel:
    return "grow kernel";
  case MorphStmt::Kind::Activation:
    return "activation";
  case MorphStmt::Kind::ReplaceHead:
    return "replace head";
  case MorphStmt::Kind::Branch:
    return "branch";
  }
  return "?";
}

const char* kindName(Value::Kind k) {
  switch (k) {
  case Value::Kind::Int:
    return "integer";
  case Value::Kind::Float:
    return "number";
  case Value::Kind::Quantity:
    return "quantity";
  case Value::Kind::String:
    return "string";
  case Value::Kind::Bool:
    return "boolean";
  case Value::Kind::Size:
    return "size";
  case Value::Kind::List:
    return "list";
  case Value::Kind::Call:
    return "call";
  case Value::Kind::Path:
    return "name";
  case Value::Kind::Sequence:
    return "layer sequence";
  }
  return "?";
}

} // namespace mhr::ast
