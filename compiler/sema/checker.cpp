#include "compiler/sema/checker.h"

#include "compiler/sema/overrides.h"
#include "compiler/sema/schema.h"
#include "support/files.h"
#include "support/strings.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <set>

namespace mhr::sema {

const ast::DatasetStmt* Symbols::dataset(const std::string& name) const {
  for (const auto* d : datasets)
    if (d->name.text == name) return d;
  return nullptr;
}

const ast::NetworkStmt* Symbols::network(const std::string& name) const {
  for (const auto* n : networks)
    if (n->name.text == name) return n;
  return nullptr;
}

namespace {

class Checker {
public:
  Checker(const Program& program, const ir::NetworkCatalog& catalog, diag::DiagnosticEngine& diags)
      : program_(program), catalog_(catalog), diags_(diags) {}

  Symbols run() {
    checkOrder();
    for (const ast::Stmt* s : program_.statements) statement(*s);
    if (!symbols_.experiment && !program_.statements.empty() && !sawExperiment_) {
      diag::SourceRange r = program_.statements.front()->range;
      diags_.error("E0101", diag::SourceRange{r.file, 0, 0}, "missing 'experiment \"NAME\"' statement")
          .note("every spec starts with the experiment's name, e.g. experiment \"synthetic-mammo/morphhr\"");
    }
    if (program_.statements.empty() && program_.mainFile != diag::kNoFile)
      diags_.error("E0101", diag::SourceRange{program_.mainFile, 0, 0}, "this file has no statements")
          .note("every spec starts with the experiment's name, e.g. experiment \"synthetic-mammo/morphhr\"");
    warnUnused();
    return symbols_;
  }

private:
  // The experiment statement comes first in the main file; included files hold shared declarations only.
  void checkOrder() {
    for (size_t i = 0; i < program_.statements.size(); ++i) {
      const ast::Stmt* s = program_.statements[i];
      if (s->kind != ast::Stmt::Kind::Experiment) continue;
      sawExperiment_ = true;
      if (s->range.file != program_.mainFile) {
        diags_.error("E0102", s->keywordRange, "an included file cannot name the experiment")
            .note("keep 'experiment' in the main file; included files hold shared declarations");
        continue;
      }
      if (symbols_.experiment) {
        diags_.error("E0103", s->keywordRange, "the experiment is named twice")
            .note(symbols_.experiment->range, "first named here");
        continue;
      }
      symbols_.experiment = &ast::as<ast::ExperimentStmt>(*s);
      if (i != 0) {
        diags_.error("E0102", s->keywordRange, "'experiment' must be the first statement")
            .note(program_.statements[0]->range, "this statement comes before it");
      }
    }
  }

  void define(const ast::Name& name, const ast::Stmt* stmt) {
    auto it = defined_.find(name.text);
    if (it != defined_.end()) {
      diags_.error("E0104", name.range, "'" + name.text + "' is already defined")
          .note(it->second->range, "first defined here");
      return;
    }
    defined_[name.text] = stmt;
  }

  std::vector<std::string> namesOf(ast::Stmt::Kind kind) const {
    std::vector<std::string> out;
    for (const auto& [n, s] : defined_)
      if (s->kind == kind) out.push_back(n);
    return out;
  }

  // A network name used in a stage or as a morph parent.
  const ast::NetworkStmt* useNetwork(const ast::Name& name, const char* role) {
    auto it = defined_.find(name.text);
    if (it == defined_.end()) {
      auto b = diags_.error("E0105", name.range,
                            "no network named '" + name.text + "' is defined before this " + role);
      std::string guess = support::closestMatch(name.text, namesOf(ast::Stmt::Kind::Network));
      if (!guess.empty())
        b.note("did you mean '" + guess + "'?");
      else if (laterDefined(name.text, ast::Stmt::Kind::Network))
        b.note("'" + name.text + "' is defined later in the file; statements run top to bottom");
      return nullptr;
    }
    if (it->second->kind != ast::Stmt::Kind::Network) {
      diags_
          .error(role == std::string("morph") ? "E0106" : "E0109", name.range,
                 "'" + name.text + "' is a data set, not a network")
          .note(it->second->range, "defined here");
      return nullptr;
    }
    used_.insert(name.text);
    return &ast::as<ast::NetworkStmt>(*it->second);
  }

  bool laterDefined(const std::string& name, ast::Stmt::Kind kind) const {
    for (const ast::Stmt* s : program_.statements) {
      if (s->kind != kind) continue;
      if (kind == ast::Stmt::Kind::Network && ast::as<ast::NetworkStmt>(*s).name.text == name) return true;
      if (kind == ast::Stmt::Kind::Dataset && ast::as<ast::DatasetStmt>(*s).name.text == name) return true;
    }
    return false;
  }

  // DATASET.SPLIT
  void useSplit(const ast::Path& path, const char* what) {
    if (path.segments.size() != 2) {
      diags_
          .error("E0107", path.range,
                 std::string(what) + " must name a data set split such as mammo.train, found '" + path.str() +
                     "'")
          .note("splits: train, val, test");
      return;
    }
    const std::string& name = path.segments[0];
    auto it = defined_.find(name);
    if (it == defined_.end()) {
      auto b = diags_.error("E0105", path.segmentRange(0),
                            "no data set named '" + name + "' is defined before this");
      std::string guess = support::closestMatch(name, namesOf(ast::Stmt::Kind::Dataset));
      if (!guess.empty())
        b.note("did you mean '" + guess + "'?");
      else if (laterDefined(name, ast::Stmt::Kind::Dataset))
        b.note("'" + name + "' is defined later in the file; statements run top to bottom");
    } else if (it->second->kind != ast::Stmt::Kind::Dataset) {
      diags_.error("E0108", path.segmentRange(0), "'" + name + "' is a network, not a data set")
          .note(it->second->range, "defined here");
    } else {
      used_.insert(name);
    }
    const std::string& split = path.segments[1];
    bool known = false;
    for (const auto& s : splitNames()) known |= s == split;
    if (!known) {
      auto b = diags_.error("E0107", path.segmentRange(1), "unknown split '" + split + "'");
      std::string guess = support::closestMatch(split, splitNames());
      if (!guess.empty())
        b.note("did you mean '" + guess + "'?");
      else
        b.note("splits: train, val, test");
    }
  }

  void statement(const ast::Stmt& s) {
    switch (s.kind) {
    case ast::Stmt::Kind::Experiment: {
      const auto& e = ast::as<ast::ExperimentStmt>(s);
      if (support::trim(e.name.text).empty())
        diags_.error("E0204", e.name.range, "the experiment name must not be empty");
      break;
    }
    case ast::Stmt::Kind::Seed: {
      const auto& seed = ast::as<ast::SeedStmt>(s);
      if (symbols_.seed) {
        diags_.error("E0103", s.keywordRange, "the seed is set twice")
            .note(symbols_.seed->range, "first set here");
        break;
      }
      symbols_.seed = &seed;
      if (seed.seed.overflow || seed.seed.intValue < 0)
        diags_.error("E0204", seed.seed.range, "seed must be an integer between 0 and 2^63-1");
      break;
    }
    case ast::Stmt::Kind::Preservation: {
      const auto& p = ast::as<ast::PreservationStmt>(s);
      if (symbols_.preservation) {
        diags_.error("E0103", s.keywordRange, "preservation is set twice")
            .note(symbols_.preservation->range, "first set here");
        break;
      }
      symbols_.preservation = &p;
      static const std::vector<std::string> levels = {"exact", "eval", "approximate"};
      bool ok = false;
      for (const auto& l : levels) ok |= l == p.level.text;
      if (!ok) {
        auto b = diags_.error("E0206", p.level.range, "unknown preservation level '" + p.level.text + "'");
        std::string guess = support::closestMatch(p.level.text, levels);
        b.note(guess.empty() ? "levels: exact, eval, approximate" : "did you mean '" + guess + "'?");
      }
      break;
    }
    case ast::Stmt::Kind::Include:
      break; // expanded by loadProgram
    case ast::Stmt::Kind::Dataset:
      dataset(ast::as<ast::DatasetStmt>(s));
      break;
    case ast::Stmt::Kind::Network:
      network(ast::as<ast::NetworkStmt>(s));
      break;
    case ast::Stmt::Kind::Train:
    case ast::Stmt::Kind::Evaluate:
      stage(ast::as<ast::StageStmt>(s));
      break;
    case ast::Stmt::Kind::Sweep:
      sweep(ast::as<ast::SweepStmt>(s));
      break;
    }
  }

  void dataset(const ast::DatasetStmt& d) {
    define(d.name, &d);
    symbols_.datasets.push_back(&d);
    std::vector<std::string> names;
    const CallSchema* schema = nullptr;
    for (const auto& c : datasetConstructors()) {
      names.push_back(c.name);
      if (c.name == d.constructor.callee.text) schema = &c;
    }
    if (!schema) {
      auto b = diags_.error("E0110", d.constructor.callee.range,
                            "unknown data set constructor '" + d.constructor.callee.text + "'");
      std::string guess = support::closestMatch(d.constructor.callee.text, names);
      b.note(guess.empty() ? "constructors: " + support::join(names, ", ") : "did you mean '" + guess + "'?");
    } else {
      if (checkCall(d.constructor, *schema, diags_)) checkDatasetRules(d.constructor);
      checkDataPaths(d.constructor, *schema);
    }
    checkBlock(d.block ? &*d.block : nullptr, datasetOptions(), d.range, diags_);
    if (d.block)
      if (const ast::Attribute* pre = d.block->find("preprocess")) checkPreprocessOrder(pre->value);
  }

  // The rules of a data set constructor that its schema's types and ranges do not say (data/ checks none of
  // them: the compiler is the one place, so each error points at the value).
  void checkDatasetRules(const ast::Value& call) {
    const std::string& ctor = call.callee.text;
    auto arg = [&](const char* name) -> const ast::Value* {
      const ast::Argument* a = call.namedArg(name);
      return a ? &a->value : nullptr;
    };
    if (ctor == "synthetic_mammo" || ctor == "synthetic_cxr") {
      // The generators draw anatomy at a fixed physical scale: below this the image holds no breast/chest.
      const int64_t minSide = ctor == "synthetic_mammo" ? 32 : 64;
      if (const ast::Value* size = arg("size"))
        if (size->kind == ast::Value::Kind::Size &&
            (size->h < minSide || size->w < minSide || size->h > 16384 || size->w > 16384))
          diags_.error(
              "E0204", size->range,
              fmt::format("{}: size {}x{} is outside {}..16384 per side", ctor, size->h, size->w, minSide));
      if (const ast::Value* split = arg("split")) {
        double sum = 0;
        for (const auto& f : split->items) sum += f.number();
        if (split->items.size() == 3 && std::fabs(sum - 1.0) > 1e-6)
          diags_
              .error("E0204", split->range,
                     fmt::format("split: the [train, val, test] fractions must add up to 1, got {}", sum))
              .note("e.g. split: [0.7, 0.1, 0.2]");
      }
    }
    for (const char* key : {"root", "csv"})
      if (const ast::Value* v = arg(key); v && v->kind == ast::Value::Kind::String && v->text.empty())
        diags_.error("E0204", v->range, std::string(key) + ": the path is empty");
    for (const char* key : {"abnormality", "labels", "classes"}) {
      const ast::Value* list = arg(key);
      if (!list || list->kind != ast::Value::Kind::List) continue;
      std::set<std::string> seen;
      for (const auto& item : list->items) {
        const std::string name = item.kind == ast::Value::Kind::String ? item.text : item.path.str();
        if (!seen.insert(name).second)
          diags_.error("E0210", item.range, fmt::format("{}: '{}' is listed twice", key, name));
      }
    }
    if (ctor == "manifest") {
      if (const ast::Value* sep = arg("separator");
          sep && sep->kind == ast::Value::Kind::String && sep->text.size() != 1)
        diags_.error("E0204", sep->range,
                     "separator: expected a single character, got \"" + sep->text + "\"");
      const ast::Value* val = arg("val_fraction");
      const ast::Value* test = arg("test_fraction");
      const double v = val && val->isNumber() ? val->number() : 0.1;
      const double t = test && test->isNumber() ? test->number() : 0.2;
      if (v + t >= 1.0)
        diags_.error("E0210",
                     (test  ? test
                      : val ? val
                            : &call)
                         ->range,
                     fmt::format("val_fraction + test_fraction = {} leaves nothing to train on", v + t));
    }
  }

  // A data set's `root` / `csv` is read relative to the file that names it (as `include` is). A path that is
  // not there is a warning, not an error: `mhr check` may run where the data is not (a laptop, CI). The note
  // names what is there: a near name in the folder, or the same path under the working directory, which is
  // where mhr resolved it before and where a user coming from other tools may expect it.
  void checkDataPaths(const ast::Value& call, const CallSchema& schema) {
    namespace fs = std::filesystem;
    for (size_t i = 0; i < call.args.size(); ++i) {
      const ast::Argument& a = call.args[i];
      std::string param = a.name ? a.name->text : i < schema.params.size() ? schema.params[i].name : "";
      if ((param != "root" && param != "csv") || a.value.kind != ast::Value::Kind::String) continue;
      const std::string& written = a.value.text;
      if (written.empty() || !a.value.range.valid()) continue;
      const std::string base = support::sourceFolder(diags_.sources().file(a.value.range.file).path);
      fs::path full = fs::path(written).is_absolute() ? fs::path(written) : fs::path(base) / written;
      full = full.lexically_normal();
      std::error_code ec;
      const bool folder = param == "root";
      if (folder ? fs::is_directory(full, ec) : fs::is_regular_file(full, ec)) continue;
      // Shown relative to the working directory when under it (short, and stable for golden tests).
      auto shown = [&](const fs::path& p) {
        fs::path r = p.lexically_relative(fs::current_path(ec));
        return r.empty() || *r.begin() == ".." ? p.string() : r.string();
      };
      auto b = diags_.warning(
          "W0005", a.value.range,
          fmt::format("{}: {} '{}' does not exist", param, folder ? "folder" : "file", shown(full)));
      if (fs::path(written).is_relative()) {
        fs::path cwd = fs::current_path(ec);
        fs::path underCwd = (cwd / written).lexically_normal();
        if (underCwd != full && fs::exists(underCwd, ec)) {
          fs::path rel = underCwd.lexically_relative(fs::path(base));
          b.note(fmt::format("'{}' exists under the working directory, but data paths are relative to the "
                             "file that names them (as includes are): write \"{}\"",
                             written, rel.empty() ? underCwd.string() : rel.string()));
          continue;
        }
      }
      // A near name in the deepest folder that exists.
      fs::path missing = full, parent = full.parent_path();
      while (!parent.empty() && parent != parent.root_path() && !fs::is_directory(parent, ec)) {
        missing = parent;
        parent = parent.parent_path();
      }
      std::vector<std::string> names;
      size_t seen = 0;
      for (auto it = fs::directory_iterator(parent, ec);
           !ec && it != fs::directory_iterator() && seen < 10000; it.increment(ec), ++seen)
        names.push_back(it->path().filename().string());
      std::string guess = support::closestMatch(missing.filename().string(), names);
      if (!guess.empty())
        b.note(fmt::format("did you mean '{}'? ('{}' has it)", guess, shown(parent)));
      else if (fs::path(written).is_relative())
        b.note(fmt::format("relative paths are resolved against '{}', the folder of the file that names them",
                           shown(fs::path(base))));
    }
  }

  // Preprocessing runs in one order: intensity window first (voi or window, not both), then breast_crop,
  // clahe, normalize — each at most once. Another order would mean something the data layer does not do.
  void checkPreprocessOrder(const ast::Value& list) {
    if (list.kind != ast::Value::Kind::List) return;
    static const std::vector<std::string> order = {"voi", "window", "breast_crop", "clahe", "normalize"};
    auto rank = [](const std::string& n) {
      return n == "voi" || n == "window" ? 0 : n == "breast_crop" ? 1 : n == "clahe" ? 2 : 3;
    };
    const ast::Value* previous = nullptr;
    std::set<int> seen;
    for (const auto& step : list.items) {
      std::string name = step.calleeName();
      if (std::find(order.begin(), order.end(), name) == order.end()) continue; // reported by the schema
      int r = rank(name);
      if (!seen.insert(r).second) {
        diags_.error("E0210", step.range, "'" + name + "' repeats a preprocessing step")
            .note(r == 0 ? "use either voi or window, once" : "each step may appear once");
      } else if (previous && rank(previous->calleeName()) > r) {
        diags_
            .error("E0210", step.range,
                   "'" + name + "' must come before '" + previous->calleeName() + "' in preprocess")
            .note("preprocessing runs in this order: voi or window, breast_crop, clahe, normalize");
      }
      previous = &step;
    }
  }

  void network(const ast::NetworkStmt& n) {
    if (n.isMorph) {
      useNetwork(n.parent, "morph");
      if (n.parent.text == n.name.text)
        diags_.error("E0104", n.name.range,
                     "a morph needs a new name: '" + n.name.text + "' is its own parent");
    }
    define(n.name, &n);
    symbols_.networks.push_back(&n);
    if (n.isMorph) {
      if (n.morphs.empty())
        diags_.warning("W0003", n.morphBlockRange,
                       "empty morph block: '" + n.name.text + "' is a copy of '" + n.parent.text + "'");
      return; // morph statements are checked against the parent's IR (compiler/verify)
    }
    // The catalog knows each network's options (names, types, ranges) and reports unknown networks.
    catalog_.parseOptions(n.constructor.callee.text, n.constructor.args, diags_, n.constructor.callee.range);
    checkBlock(n.block ? &*n.block : nullptr, networkBlock(), n.range, diags_);
  }

  void stage(const ast::StageStmt& st) {
    const bool train = st.kind == ast::Stmt::Kind::Train;
    symbols_.stages.push_back(&st);
    if (const ast::NetworkStmt* net = useNetwork(st.network, train ? "train stage" : "evaluate stage"))
      (train ? trained_ : evaluated_).insert(net->name.text);
    useSplit(st.split, train ? "a train stage" : "an evaluate stage");
    checkValue(st.resolution, *sizeType(), "the resolution", diags_);
    checkBlock(st.block ? &*st.block : nullptr, train ? trainBlock() : evaluateBlock(), st.range, diags_);
    if (!train && st.split.segments.size() == 2 && st.split.segments[1] == "train")
      diags_.warning("W0004", st.split.range,
                     "evaluating on the training split measures fit, not generalisation");
    if (train && st.block)
      if (const ast::Attribute* val = st.block->find("val"))
        if (val->value.kind == ast::Value::Kind::Path) useSplit(val->value.path, "'val'");
    if (train && st.block) checkModelSelection(*st.block);
    if (train && st.block)
      if (const ast::Attribute* aug = st.block->find("augment")) checkAugmentRanges(aug->value);
  }

  // What the augment schema's per-argument ranges cannot say: a rotation beyond 180 degrees repeats angles,
  // and a zoom range must be ordered and bounded (the loader resamples once, so 10x is the useful limit).
  void checkAugmentRanges(const ast::Value& list) {
    if (list.kind != ast::Value::Kind::List) return;
    for (const auto& op : list.items) {
      if (op.kind != ast::Value::Kind::Call) continue;
      const std::string name = op.callee.text;
      if (name == "rotate") {
        const ast::Value* max = op.argument(0, "max");
        if (max && max->kind == ast::Value::Kind::Quantity && max->floatValue > 180.0)
          diags_.error(
              "E0204", max->range,
              fmt::format("rotate: {}deg is more than 180 degrees", support::formatNumber(max->floatValue)));
      } else if (name == "scale") {
        const ast::Value* lo = op.argument(0, "min");
        const ast::Value* hi = op.argument(1, "max");
        if (lo && hi && lo->isNumber() && hi->isNumber() &&
            (lo->number() > hi->number() || hi->number() > 10.0))
          diags_.error("E0204", op.range,
                       fmt::format("scale({}, {}) needs min <= max <= 10",
                                   support::formatNumber(lo->number()), support::formatNumber(hi->number())));
      }
    }
  }

  // `checkpoint: best(val.M)` and `early_stop: patience(N, on: val.M)`: M is a selection metric, the stage
  // validates (`val:`), and a patience the stage's epochs cannot reach is said to have no effect.
  void checkModelSelection(const ast::Block& block) {
    const ast::Attribute* val = block.find("val");
    auto checkMetric = [&](const ast::Value& path) {
      if (path.kind != ast::Value::Kind::Path) return; // the schema reported it
      const auto& seg = path.path.segments;
      const auto& names = selectionMetrics();
      if (seg.size() == 2 && seg[0] == "val" && std::find(names.begin(), names.end(), seg[1]) != names.end())
        return;
      std::vector<std::string> choices;
      for (const std::string& m : names) choices.push_back("val." + m);
      auto b = diags_.error("E0206", path.range,
                            "'" + path.path.str() + "' is not a validation metric a stage can select on");
      // `best(auc)`: the metric without its split.
      std::string guess = seg.size() == 1 && std::find(names.begin(), names.end(), seg[0]) != names.end()
                              ? "val." + seg[0]
                              : support::closestMatch(path.path.str(), choices);
      if (!guess.empty())
        b.note("did you mean '" + guess + "'?");
      else
        b.note("expected one of: " + support::join(choices, ", ") +
               " (metrics at an operating point, such as sensitivity, are not selectable)");
    };
    auto needsVal = [&](const ast::Attribute& a, const std::string& what) {
      if (!val)
        diags_
            .error("E0210", a.value.range,
                   what + " compares epochs on a validation split, and this stage has none")
            .note("add `val: DATASET.val` to the train block");
    };
    if (const ast::Attribute* c = block.find("checkpoint");
        c && c->value.kind == ast::Value::Kind::Call && c->value.calleeName() == "best") {
      if (const ast::Value* on = c->value.argument(0, "on")) checkMetric(*on);
      needsVal(*c, "checkpoint: best(...)");
    }
    if (const ast::Attribute* e = block.find("early_stop");
        e && e->value.kind == ast::Value::Kind::Call && e->value.calleeName() == "patience") {
      if (const ast::Value* on = e->value.argument(1, "on")) checkMetric(*on);
      needsVal(*e, "early_stop: patience(...)");
      const ast::Attribute* epochs = block.find("epochs");
      const ast::Value* n = e->value.argument(0, "epochs");
      // Stopping needs N epochs without a gain after the first: it can happen after epoch N + 1 at the
      // earliest, and stopping after the last epoch changes nothing.
      if (epochs && epochs->value.kind == ast::Value::Kind::Int && n && n->kind == ast::Value::Kind::Int &&
          n->intValue + 1 >= epochs->value.intValue)
        diags_.warning("W0003", n->range,
                       "early_stop: patience(" + std::to_string(n->intValue) +
                           ") has no effect: a stage of " + std::to_string(epochs->value.intValue) +
                           " epochs could stop after epoch " + std::to_string(n->intValue + 1) +
                           " at the earliest");
    }
  }

  void sweep(const ast::SweepStmt& s) {
    if (symbols_.sweep) {
      diags_.error("E0103", s.keywordRange, "only one sweep block per spec")
          .note(symbols_.sweep->range, "first here");
      return;
    }
    symbols_.sweep = &s;
    if (s.block.attrs.empty())
      diags_.error("E0203", s.block.range, "a sweep needs at least one key: [values]");
    for (const auto& a : s.block.attrs) {
      std::string key = a.key.str();
      if (key == "mode") {
        static const TypeRef mode =
            callType({{"grid", {}, 0, "every combination"},
                      {"random",
                       {Param{"count", intType(1.0, 1e6), true, "", ""},
                        Param{"seed", intType(0.0), false, "the experiment seed", ""}},
                       0,
                       "count combinations drawn at random"}});
        checkValue(a.value, *mode, "the sweep mode", diags_);
        continue;
      }
      checkOverrideKey(program_, catalog_, key, a.key.range, diags_);
      if (a.value.kind != ast::Value::Kind::List || a.value.items.empty())
        diags_.error("E0202", a.value.range, "sweep values must be a non-empty list, e.g. [1e-3, 1e-4]");
    }
  }

  void warnUnused() {
    for (const auto* d : symbols_.datasets)
      if (!used_.count(d->name.text))
        diags_.warning("W0001", d->name.range, "data set '" + d->name.text + "' is never used");
    for (const auto* n : symbols_.networks) {
      const std::string& name = n->name.text;
      if (!used_.count(name) && !trained_.count(name) && !evaluated_.count(name))
        diags_.warning("W0001", n->name.range,
                       "network '" + name + "' is never trained, evaluated or morphed");
    }
  }

  const Program& program_;
  const ir::NetworkCatalog& catalog_;
  diag::DiagnosticEngine& diags_;
  Symbols symbols_;
  std::map<std::string, const ast::Stmt*> defined_;
  std::set<std::string> used_, trained_, evaluated_;
  bool sawExperiment_ = false;
};

} // namespace

Symbols check(const Program& program, const ir::NetworkCatalog& catalog, diag::DiagnosticEngine& diags) {
  return Checker(program, catalog, diags).run();
}

} // namespace mhr::sema
