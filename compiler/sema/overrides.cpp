#include "compiler/sema/overrides.h"

#include "compiler/ast/printer.h"
#include "compiler/parse/parser.h"
#include "compiler/sema/schema.h"
#include "support/strings.h"

#include <algorithm>
#include <memory>

namespace mhr::sema {

namespace {

// Where a key points, once resolved.
struct Target {
  enum class Kind {
    None,
    Seed,
    Preservation,
    Experiment,
    DatasetCall,
    CallArg,
    BlockAttr,
    Resolution,
    Split
  };
  Kind kind = Kind::None;
  ast::Stmt* stmt = nullptr;
  ast::Value* call = nullptr;                 // CallArg: the call to modify
  std::optional<ast::Block>* block = nullptr; // BlockAttr: the block (created when absent)
  ast::Block* fixedBlock = nullptr;           // BlockAttr in a non-optional block
  std::string name;                           // CallArg / BlockAttr: the argument or attribute
  std::string subArg;                         // BlockAttr whose value is a call: the call's argument
};

class Resolver {
public:
  Resolver(const Program& program, const ir::NetworkCatalog& catalog, diag::DiagnosticEngine& diags)
      : program_(program), catalog_(catalog), diags_(diags) {}

  // `keyRange` covers the key text; segment i's range is computed from it.
  Target resolve(const std::string& key, diag::SourceRange keyRange) {
    segments_ = support::split(key, '.');
    range_ = keyRange;
    for (const auto& s : segments_)
      if (s.empty()) return fail(0, "empty part in key '" + key + "'");
    const std::string& head = segments_[0];
    if (segments_.size() == 1) {
      if (head == "seed") return simple(Target::Kind::Seed, ast::Stmt::Kind::Seed);
      if (head == "preservation") return simple(Target::Kind::Preservation, ast::Stmt::Kind::Preservation);
      if (head == "experiment") return simple(Target::Kind::Experiment, ast::Stmt::Kind::Experiment);
    }
    if (head == "dataset") return dataset();
    if (head == "network") return network();
    if (head == "train") return stage(ast::Stmt::Kind::Train);
    if (head == "evaluate") return stage(ast::Stmt::Kind::Evaluate);
    std::vector<std::string> heads = {"seed",    "preservation", "experiment", "dataset",
                                      "network", "train",        "evaluate"};
    std::string guess = support::closestMatch(head, heads);
    return fail(0, "unknown setting '" + head + "'",
                guess.empty() ? "keys start with: " + support::join(heads, ", ")
                              : "did you mean '" + guess + "'?");
  }

private:
  diag::SourceRange segmentRange(size_t i) const {
    uint32_t offset = range_.begin;
    for (size_t k = 0; k < i && k < segments_.size(); ++k)
      offset += static_cast<uint32_t>(segments_[k].size()) + 1;
    uint32_t len = i < segments_.size() ? static_cast<uint32_t>(segments_[i].size()) : 1;
    return diag::SourceRange{range_.file, offset, offset + std::max<uint32_t>(len, 1)};
  }

  Target fail(size_t segment, const std::string& message, const std::string& note = "") {
    auto b = diags_.error("E0209", segmentRange(segment), message);
    if (!note.empty()) b.note(note);
    return Target{};
  }

  Target simple(Target::Kind kind, ast::Stmt::Kind stmtKind) {
    Target t;
    t.kind = kind;
    for (ast::Stmt* s : program_.statements)
      if (s->kind == stmtKind) t.stmt = s;
    return t;
  }

  std::vector<std::string> namesOf(ast::Stmt::Kind kind) const {
    std::vector<std::string> names;
    for (ast::Stmt* s : program_.statements) {
      if (s->kind != kind) continue;
      if (kind == ast::Stmt::Kind::Dataset) names.push_back(ast::as<ast::DatasetStmt>(*s).name.text);
      if (kind == ast::Stmt::Kind::Network) names.push_back(ast::as<ast::NetworkStmt>(*s).name.text);
    }
    return names;
  }

  Target unknownName(size_t segment, const std::string& what, ast::Stmt::Kind kind) {
    auto names = namesOf(kind);
    std::string guess = support::closestMatch(segments_[segment], names);
    return fail(segment, "no " + what + " named '" + segments_[segment] + "'",
                !guess.empty()  ? "did you mean '" + guess + "'?"
                : names.empty() ? "this spec defines no " + what
                                : what + "s: " + support::join(names, ", "));
  }

  // The rest of the key after `from` names an argument of `call` or an attribute of `block`.
  Target argOrAttr(size_t from, ast::Stmt* stmt, ast::Value* call, const std::vector<std::string>& callParams,
                   std::optional<ast::Block>* block, const BlockSchema* blockSchema) {
    if (segments_.size() <= from) return fail(from - 1, "key needs one more part: which setting?");
    if (segments_.size() > from + 1) return fail(from + 1, "too many parts in key");
    const std::string& name = segments_[from];
    Target t;
    t.stmt = stmt;
    for (const auto& p : callParams)
      if (p == name) {
        t.kind = Target::Kind::CallArg;
        t.call = call;
        t.name = name;
        return t;
      }
    if (blockSchema && blockSchema->find(name)) {
      t.kind = Target::Kind::BlockAttr;
      t.block = block;
      t.name = name;
      return t;
    }
    std::vector<std::string> all = callParams;
    if (blockSchema)
      for (const auto& p : blockSchema->attrs) all.push_back(p.name);
    std::string guess = support::closestMatch(name, all);
    return fail(from, "unknown setting '" + name + "'",
                guess.empty() ? "settings here: " + support::join(all, ", ")
                              : "did you mean '" + guess + "'?");
  }

  Target dataset() {
    if (segments_.size() < 2) return fail(0, "key needs the data set's name: dataset.NAME");
    for (ast::Stmt* s : program_.statements) {
      if (s->kind != ast::Stmt::Kind::Dataset) continue;
      auto& d = ast::as<ast::DatasetStmt>(*s);
      if (d.name.text != segments_[1]) continue;
      if (segments_.size() == 2) {
        Target t;
        t.kind = Target::Kind::DatasetCall;
        t.stmt = s;
        return t;
      }
      std::vector<std::string> params;
      for (const auto& c : datasetConstructors())
        if (c.name == d.constructor.calleeName())
          for (const auto& p : c.params) params.push_back(p.name);
      return argOrAttr(2, s, &d.constructor, params, &d.block, &datasetOptions());
    }
    return unknownName(1, "data set", ast::Stmt::Kind::Dataset);
  }

  Target network() {
    if (segments_.size() < 2) return fail(0, "key needs the network's name: network.NAME.SETTING");
    for (ast::Stmt* s : program_.statements) {
      if (s->kind != ast::Stmt::Kind::Network) continue;
      auto& n = ast::as<ast::NetworkStmt>(*s);
      if (n.name.text != segments_[1]) continue;
      if (n.isMorph)
        return fail(
            1, "'" + n.name.text + "' is a morph of '" + n.parent.text + "': it has no settings to override",
            "override the parent's settings, or the stages that train '" + n.name.text + "'");
      std::vector<std::string> params;
      if (const ir::NetworkInfo* info = catalog_.info(n.constructor.callee.text))
        for (const auto& o : info->options) params.push_back(o.name);
      return argOrAttr(2, s, &n.constructor, params, &n.block, &networkBlock());
    }
    return unknownName(1, "network", ast::Stmt::Kind::Network);
  }

  Target stage(ast::Stmt::Kind kind) {
    const char* word = kind == ast::Stmt::Kind::Train ? "train" : "evaluate";
    if (segments_.size() < 3)
      return fail(0, std::string("key needs the network and the setting: ") + word + ".NETWORK.SETTING");
    std::vector<ast::StageStmt*> stages;
    for (ast::Stmt* s : program_.statements)
      if (s->kind == kind && ast::as<ast::StageStmt>(*s).network.text == segments_[1])
        stages.push_back(&ast::as<ast::StageStmt>(*s));
    if (stages.empty()) {
      std::vector<std::string> nets;
      for (ast::Stmt* s : program_.statements)
        if (s->kind == kind) nets.push_back(ast::as<ast::StageStmt>(*s).network.text);
      std::string guess = support::closestMatch(segments_[1], nets);
      return fail(1, std::string("no ") + word + " stage for a network named '" + segments_[1] + "'",
                  guess.empty() ? "" : "did you mean '" + guess + "'?");
    }
    size_t next = 2;
    ast::StageStmt* chosen = stages[0];
    bool numbered = !segments_[2].empty() && std::all_of(segments_[2].begin(), segments_[2].end(), ::isdigit);
    if (numbered) {
      size_t n = std::stoul(segments_[2].substr(0, 6));
      if (n < 1 || n > stages.size())
        return fail(2, std::string("'") + segments_[1] + "' has " + std::to_string(stages.size()) + " " +
                           word + " stage" + (stages.size() == 1 ? "" : "s") + ": use 1 to " +
                           std::to_string(stages.size()));
      chosen = stages[n - 1];
      next = 3;
    } else if (stages.size() > 1) {
      return fail(1,
                  std::string("'") + word + "." + segments_[1] +
                      "' is ambiguous: " + std::to_string(stages.size()) + " " + word + " stages",
                  std::string("use ") + word + "." + segments_[1] + ".1 to ." +
                      std::to_string(stages.size()));
    }
    if (segments_.size() <= next) return fail(next - 1, "key needs one more part: which setting?");
    const std::string& attr = segments_[next];
    Target t;
    t.stmt = chosen;
    if (attr == "at" || attr == "on") {
      if (segments_.size() > next + 1) return fail(next + 1, "too many parts in key");
      t.kind = attr == "at" ? Target::Kind::Resolution : Target::Kind::Split;
      return t;
    }
    const BlockSchema& schema = kind == ast::Stmt::Kind::Train ? trainBlock() : evaluateBlock();
    if (!schema.find(attr)) {
      std::vector<std::string> all = {"at", "on"};
      for (const auto& p : schema.attrs) all.push_back(p.name);
      std::string guess = support::closestMatch(attr, all);
      return fail(next, "unknown setting '" + attr + "'",
                  guess.empty() ? "settings here: " + support::join(all, ", ")
                                : "did you mean '" + guess + "'?");
    }
    if (segments_.size() > next + 2) return fail(next + 2, "too many parts in key");
    t.kind = Target::Kind::BlockAttr;
    t.block = &chosen->block;
    t.name = attr;
    if (segments_.size() == next + 2) t.subArg = segments_[next + 1];
    return t;
  }

  const Program& program_;
  const ir::NetworkCatalog& catalog_;
  diag::DiagnosticEngine& diags_;
  std::vector<std::string> segments_;
  diag::SourceRange range_;
};

void setNamedArg(ast::Value& call, const std::string& name, ast::Value value, diag::SourceRange range) {
  for (auto& a : call.args)
    if (a.name && a.name->text == name) {
      a.value = std::move(value);
      return;
    }
  ast::Argument arg;
  arg.name = ast::Name{name, range};
  arg.range = range;
  arg.value = std::move(value);
  call.args.push_back(std::move(arg));
}

} // namespace

bool checkOverrideKey(const Program& program, const ir::NetworkCatalog& catalog, const std::string& key,
                      diag::SourceRange range, diag::DiagnosticEngine& diags) {
  Resolver r(program, catalog, diags);
  return r.resolve(key, range).kind != Target::Kind::None;
}

void applyOverrides(Program& program, const std::vector<std::string>& overrides,
                    const ir::NetworkCatalog& catalog, diag::SourceManager& sources,
                    diag::DiagnosticEngine& diags) {
  for (size_t i = 0; i < overrides.size(); ++i) {
    const std::string& text = overrides[i];
    diag::FileId file = sources.addFile("<--set " + std::to_string(i + 1) + ">", text);
    size_t eq = text.find('=');
    if (eq == std::string::npos || eq == 0) {
      diags.error("E0209",
                  diag::SourceRange{file, 0, static_cast<uint32_t>(std::max<size_t>(text.size(), 1))},
                  "--set needs KEY=VALUE, e.g. train.hr.epochs=2");
      continue;
    }
    std::string key = support::trim(text.substr(0, eq));
    uint32_t keyBegin = static_cast<uint32_t>(text.find_first_not_of(' '));
    diag::SourceRange keyRange{file, keyBegin, keyBegin + static_cast<uint32_t>(key.size())};
    Resolver resolver(program, catalog, diags);
    Target t = resolver.resolve(key, keyRange);
    if (t.kind == Target::Kind::None) continue;
    // `KEY=` with nothing after it removes an argument or attribute (e.g. weights in CI, where there are
    // none).
    if (support::trim(text.substr(eq + 1)).empty()) {
      if (t.kind == Target::Kind::CallArg) {
        auto& args = t.call->args;
        args.erase(std::remove_if(args.begin(), args.end(),
                                  [&](const ast::Argument& a) { return a.name && a.name->text == t.name; }),
                   args.end());
      } else if (t.kind == Target::Kind::BlockAttr && t.block->has_value() && t.subArg.empty()) {
        auto& attrs = (*t.block)->attrs;
        attrs.erase(std::remove_if(attrs.begin(), attrs.end(),
                                   [&](const ast::Attribute& a) { return a.key.str() == t.name; }),
                    attrs.end());
      } else {
        diags.error("E0209", keyRange, "'" + key + "' cannot be removed: give it a value");
      }
      continue;
    }
    // A value is .mhr syntax (`512x416`, `adam(lr: 1e-4)`, `"text"`). A bare word that is not valid syntax,
    // such as a path (`dataset.cbis.root=/data/CBIS-DDSM`), is taken as a string, as a shell user expects.
    std::optional<ast::Value> value;
    {
      diag::DiagnosticEngine scratch(sources);
      value = parse::parseValue(file, sources, scratch, static_cast<uint32_t>(eq + 1));
      std::string raw = support::trim(text.substr(eq + 1));
      bool bare = raw.find_first_of("\"'()[]{},:; \t") == std::string::npos;
      size_t control = raw.find_first_of(std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x0a\x0b\x0c\x0d"
                                                     "\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19"
                                                     "\x1a\x1b\x1c\x1d\x1e\x1f\x7f") +
                                         std::string(1, '\0'));
      if (!value && bare && control != std::string::npos) {
        // A bare word becomes a string as it stands: it obeys the rule of string literals (E0008).
        uint32_t at = static_cast<uint32_t>(text.find_first_not_of(' ', eq + 1) + control);
        diags.error("E0008", diag::SourceRange{file, at, at + 1}, "control character in the value of --set")
            .note("values may hold tab but no other control character");
        continue;
      }
      if (!value && bare) {
        ast::Value s;
        s.kind = ast::Value::Kind::String;
        s.text = raw;
        uint32_t begin = static_cast<uint32_t>(text.find_first_not_of(' ', eq + 1));
        s.range = diag::SourceRange{file, begin, begin + static_cast<uint32_t>(raw.size())};
        value = std::move(s);
      } else if (!value) {
        value = parse::parseValue(file, sources, diags,
                                  static_cast<uint32_t>(eq + 1)); // report the syntax errors
        if (!value) continue;
      }
    }
    diag::SourceRange valueRange = value->range;
    auto mismatch = [&](const std::string& expected) {
      diags.error("E0209", valueRange,
                  "'" + key + "' needs " + expected + ", found " + ast::printValue(*value));
    };
    switch (t.kind) {
    case Target::Kind::Seed:
      if (value->kind != ast::Value::Kind::Int) {
        mismatch("an integer");
        break;
      }
      if (t.stmt) {
        ast::as<ast::SeedStmt>(*t.stmt).seed = *value;
      } else {
        auto s = std::make_unique<ast::SeedStmt>();
        s->seed = *value;
        s->range = s->keywordRange = keyRange;
        // After the experiment statement, so "experiment first" still holds.
        auto pos = program.statements.begin();
        if (pos != program.statements.end()) ++pos;
        program.statements.insert(pos, s.get());
        program.synthesized.push_back(std::move(s));
      }
      break;
    case Target::Kind::Preservation:
      if (value->kind != ast::Value::Kind::Path || value->path.segments.size() != 1) {
        mismatch("exact, eval or approximate");
        break;
      }
      if (t.stmt) {
        ast::as<ast::PreservationStmt>(*t.stmt).level = ast::Name{value->path.segments[0], valueRange};
      } else {
        auto s = std::make_unique<ast::PreservationStmt>();
        s->level = ast::Name{value->path.segments[0], valueRange};
        s->range = s->keywordRange = keyRange;
        auto pos = program.statements.begin();
        if (pos != program.statements.end()) ++pos;
        program.statements.insert(pos, s.get());
        program.synthesized.push_back(std::move(s));
      }
      break;
    case Target::Kind::Experiment:
      if (value->kind != ast::Value::Kind::String) {
        mismatch("a string");
        break;
      }
      if (t.stmt) ast::as<ast::ExperimentStmt>(*t.stmt).name = *value;
      break;
    case Target::Kind::DatasetCall:
      if (value->kind != ast::Value::Kind::Call) {
        mismatch("a constructor call such as synthetic_mammo(count: 40)");
        break;
      }
      ast::as<ast::DatasetStmt>(*t.stmt).constructor = *value;
      break;
    case Target::Kind::CallArg:
      setNamedArg(*t.call, t.name, *value, keyRange);
      break;
    case Target::Kind::Resolution:
      if (value->kind != ast::Value::Kind::Size) {
        mismatch("a size such as 512x416");
        break;
      }
      ast::as<ast::StageStmt>(*t.stmt).resolution = *value;
      break;
    case Target::Kind::Split:
      if (value->kind != ast::Value::Kind::Path) {
        mismatch("a split such as mammo.test");
        break;
      }
      ast::as<ast::StageStmt>(*t.stmt).split = value->path;
      break;
    case Target::Kind::BlockAttr: {
      if (!t.block->has_value()) {
        ast::Block b;
        b.range = t.stmt->range;
        *t.block = std::move(b);
      }
      ast::Block& block = **t.block;
      ast::Attribute* attr = nullptr;
      for (auto& a : block.attrs)
        if (a.key.str() == t.name) attr = &a;
      if (!t.subArg.empty()) {
        if (!attr || attr->value.kind != ast::Value::Kind::Call) {
          diags
              .error("E0209", keyRange,
                     "'" + t.name + "' is not set as a call in this stage, so '" + t.subArg +
                         "' cannot be changed")
              .note("set the whole value instead, e.g. --set " + key.substr(0, key.rfind('.')) + "=...");
          break;
        }
        setNamedArg(attr->value, t.subArg, *value, keyRange);
        break;
      }
      if (attr) {
        attr->value = *value;
      } else {
        ast::Attribute a;
        a.key.segments = {t.name};
        a.key.range = keyRange;
        a.range = keyRange;
        a.value = *value;
        block.attrs.push_back(std::move(a));
      }
      break;
    }
    case Target::Kind::None:
      break;
    }
  }
}

} // namespace mhr::sema
