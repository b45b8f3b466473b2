#include "compiler/ast/printer.h"

#include "support/strings.h"

#include <algorithm>
#include <sstream>

namespace mhr::ast {

namespace {

class Printer {
public:
  explicit Printer(const diag::SourceManager& sources) : sources_(sources) {}

  std::string at(const SourceRange& r) const {
    if (!r.valid()) return "@?";
    const auto& f = sources_.file(r.file);
    auto b = f.lineColumn(r.begin), e = f.lineColumn(r.end);
    return "@" + std::to_string(b.line) + ":" + std::to_string(b.column) + "-" + std::to_string(e.line) +
           ":" + std::to_string(e.column);
  }

  void line(int depth, const std::string& text) { out_ << std::string(2 * depth, ' ') << text << "\n"; }

  void value(int depth, const std::string& label, const Value& v) {
    std::string head = label.empty() ? "" : label + ": ";
    switch (v.kind) {
    case Value::Kind::Int:
      line(depth, head + "int " + v.spelling + " " + at(v.range));
      break;
    case Value::Kind::Float:
      line(depth, head + "float " + v.spelling + " " + at(v.range));
      break;
    case Value::Kind::Quantity:
      line(depth,
           head + "quantity " + support::formatNumber(v.floatValue) + " unit " + v.text + " " + at(v.range));
      break;
    case Value::Kind::String:
      line(depth, head + "string " + support::quoted(v.text) + " " + at(v.range));
      break;
    case Value::Kind::Bool:
      line(depth, head + std::string("bool ") + (v.boolValue ? "true" : "false") + " " + at(v.range));
      break;
    case Value::Kind::Size:
      line(depth, head + "size " + v.spelling + " " + at(v.range));
      break;
    case Value::Kind::Path:
      line(depth, head + "name " + v.path.str() + " " + at(v.range));
      break;
    case Value::Kind::List:
      line(depth, head + "list " + at(v.range));
      for (const auto& item : v.items) value(depth + 1, "", item);
      break;
    case Value::Kind::Sequence:
      line(depth, head + "sequence " + at(v.range));
      for (const auto& item : v.items) value(depth + 1, "", item);
      break;
    case Value::Kind::Call:
      line(depth, head + "call " + v.callee.text + " " + at(v.range));
      for (const auto& a : v.args) value(depth + 1, a.name ? "arg " + a.name->text : "arg", a.value);
      break;
    }
  }

  void block(int depth, const Block& b) {
    line(depth, "block " + at(b.range));
    for (const auto& a : b.attrs) value(depth + 1, "attr " + a.key.str(), a.value);
  }

  void morph(int depth, const MorphStmt& m) {
    std::string targets;
    for (size_t i = 0; i < m.targets.size(); ++i) targets += (i ? ", " : "") + m.targets[i].str();
    if (m.bracketed) targets = "[" + targets + "]";
    line(depth, std::string(kindName(m.kind)) + (targets.empty() ? "" : " " + targets) + " " + at(m.range));
    value(depth + 1, "argument", m.argument);
    if (m.split) value(depth + 1, "split", *m.split);
  }

  void statement(const Stmt& s) {
    std::string head = std::string(kindName(s.kind)) + " " + at(s.range);
    switch (s.kind) {
    case Stmt::Kind::Experiment:
      line(0, head + " " + support::quoted(as<ExperimentStmt>(s).name.text));
      break;
    case Stmt::Kind::Seed:
      line(0, head + " " + as<SeedStmt>(s).seed.spelling);
      break;
    case Stmt::Kind::Preservation:
      line(0, head + " " + as<PreservationStmt>(s).level.text);
      break;
    case Stmt::Kind::Include:
      line(0, head + " " + support::quoted(as<IncludeStmt>(s).path.text));
      break;
    case Stmt::Kind::Dataset: {
      const auto& d = as<DatasetStmt>(s);
      line(0, head + " " + d.name.text);
      value(1, "constructor", d.constructor);
      if (d.block) block(1, *d.block);
      break;
    }
    case Stmt::Kind::Network: {
      const auto& n = as<NetworkStmt>(s);
      if (n.isMorph) {
        line(0, head + " " + n.name.text + " = morph " + n.parent.text);
        for (const auto& m : n.morphs) morph(1, *m);
      } else {
        line(0, head + " " + n.name.text);
        value(1, "constructor", n.constructor);
        if (n.block) block(1, *n.block);
      }
      break;
    }
    case Stmt::Kind::Train:
    case Stmt::Kind::Evaluate: {
      const auto& st = as<StageStmt>(s);
      line(0, head + " " + st.network.text + " on " + st.split.str() + " at " + st.resolution.spelling);
      if (st.block) block(1, *st.block);
      break;
    }
    case Stmt::Kind::Sweep:
      block(1, as<SweepStmt>(s).block);
      break;
    }
  }

  std::string str() const { return out_.str(); }

private:
  const diag::SourceManager& sources_;
  std::ostringstream out_;
};

std::string canonicalNumber(const Value& v) {
  switch (v.kind) {
  case Value::Kind::Int:
    return std::to_string(v.intValue);
  case Value::Kind::Float:
    return support::formatNumber(v.floatValue);
  case Value::Kind::Quantity:
    return support::formatNumber(v.floatValue) + v.text;
  default:
    return "";
  }
}

} // namespace

std::string printAst(const File& file, const diag::SourceManager& sources) {
  Printer p(sources);
  p.line(0, "file " + support::quoted(sources.file(file.id).path));
  for (const auto& s : file.statements) p.statement(*s);
  for (const auto& c : file.comments) p.line(0, "comment " + p.at(c.range) + " " + support::quoted(c.text));
  return p.str();
}

std::string printValue(const Value& v) {
  switch (v.kind) {
  case Value::Kind::Int:
  case Value::Kind::Float:
  case Value::Kind::Size:
    return v.spelling;
  case Value::Kind::Quantity:
    return v.spelling;
  case Value::Kind::String:
    return support::quoted(v.text);
  case Value::Kind::Bool:
    return v.boolValue ? "true" : "false";
  case Value::Kind::Path:
    return v.path.str();
  case Value::Kind::List: {
    std::string s = "[";
    for (size_t i = 0; i < v.items.size(); ++i) s += (i ? ", " : "") + printValue(v.items[i]);
    return s + "]";
  }
  case Value::Kind::Sequence: {
    std::string s;
    for (size_t i = 0; i < v.items.size(); ++i) s += (i ? " + " : "") + printValue(v.items[i]);
    return s;
  }
  case Value::Kind::Call: {
    std::string s = v.callee.text + "(";
    for (size_t i = 0; i < v.args.size(); ++i) {
      if (i) s += ", ";
      if (v.args[i].name) s += v.args[i].name->text + ": ";
      s += printValue(v.args[i].value);
    }
    return s + ")";
  }
  }
  return "";
}

namespace {
// Like printValue, with numbers in canonical form so `1e-3` and `0.001` hash alike.
std::string canonicalValue(const Value& v) {
  switch (v.kind) {
  case Value::Kind::Int:
  case Value::Kind::Float:
  case Value::Kind::Quantity:
    return canonicalNumber(v);
  case Value::Kind::Size:
    return std::to_string(v.h) + "x" + std::to_string(v.w);
  case Value::Kind::List: {
    std::string s = "[";
    for (size_t i = 0; i < v.items.size(); ++i) s += (i ? "," : "") + canonicalValue(v.items[i]);
    return s + "]";
  }
  case Value::Kind::Sequence: {
    std::string s;
    for (size_t i = 0; i < v.items.size(); ++i) s += (i ? "+" : "") + canonicalValue(v.items[i]);
    return s;
  }
  case Value::Kind::Call: {
    // Positional arguments keep their order; named ones are sorted (their order carries no meaning).
    std::vector<std::string> positional, named;
    for (const auto& a : v.args)
      (a.name ? named : positional).push_back((a.name ? a.name->text + ":" : "") + canonicalValue(a.value));
    std::sort(named.begin(), named.end());
    positional.insert(positional.end(), named.begin(), named.end());
    return v.callee.text + "(" + support::join(positional, ",") + ")";
  }
  default:
    return printValue(v);
  }
}

void canonicalBlock(std::ostringstream& out, const Block& b) {
  std::vector<std::string> attrs;
  for (const auto& a : b.attrs) attrs.push_back(a.key.str() + ":" + canonicalValue(a.value) + ";");
  std::sort(attrs.begin(), attrs.end()); // attribute order carries no meaning
  out << "{";
  for (const auto& a : attrs) out << a;
  out << "}";
}
} // namespace

std::string canonicalText(const std::vector<const Stmt*>& statements) {
  std::ostringstream out;
  for (const Stmt* s : statements) {
    out << kindName(s->kind) << " ";
    switch (s->kind) {
    case Stmt::Kind::Experiment:
      out << support::quoted(as<ExperimentStmt>(*s).name.text);
      break;
    case Stmt::Kind::Seed:
      out << as<SeedStmt>(*s).seed.intValue;
      break;
    case Stmt::Kind::Preservation:
      out << as<PreservationStmt>(*s).level.text;
      break;
    case Stmt::Kind::Include:
      out << support::quoted(as<IncludeStmt>(*s).path.text);
      break;
    case Stmt::Kind::Dataset: {
      const auto& d = as<DatasetStmt>(*s);
      out << d.name.text << "=" << canonicalValue(d.constructor);
      if (d.block) canonicalBlock(out, *d.block);
      break;
    }
    case Stmt::Kind::Network: {
      const auto& n = as<NetworkStmt>(*s);
      out << n.name.text << "=";
      if (n.isMorph) {
        out << "morph " << n.parent.text << "{";
        for (const auto& m : n.morphs) {
          out << kindName(m->kind);
          for (const auto& t : m->targets) out << " " << t.str();
          out << " " << canonicalValue(m->argument);
          if (m->split) out << " split " << canonicalValue(*m->split);
          out << ";";
        }
        out << "}";
      } else {
        out << canonicalValue(n.constructor);
        if (n.block) canonicalBlock(out, *n.block);
      }
      break;
    }
    case Stmt::Kind::Train:
    case Stmt::Kind::Evaluate: {
      const auto& st = as<StageStmt>(*s);
      out << st.network.text << " on " << st.split.str() << " at " << st.resolution.h << "x"
          << st.resolution.w;
      if (st.block) canonicalBlock(out, *st.block);
      break;
    }
    case Stmt::Kind::Sweep:
      canonicalBlock(out, as<SweepStmt>(*s).block);
      break;
    }
    out << "\n";
  }
  return out.str();
}

} // namespace mhr::ast
