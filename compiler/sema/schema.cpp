#include "compiler/sema/schema.h"

#include "compiler/ast/printer.h"
#include "support/strings.h"

#include <cmath>
#include <set>

namespace mhr::sema {

const Param* CallSchema::find(const std::string& n) const {
  for (const auto& p : params)
    if (p.name == n) return &p;
  return nullptr;
}

const Param* BlockSchema::find(const std::string& n) const {
  for (const auto& p : attrs)
    if (p.name == n) return &p;
  return nullptr;
}

// ---- type constructors ----
namespace {
std::shared_ptr<Type> make(Type::Kind k) {
  auto t = std::make_shared<Type>();
  t->kind = k;
  return t;
}
} // namespace

TypeRef intType(std::optional<double> min, std::optional<double> max) {
  auto t = make(Type::Kind::Int);
  t->min = min;
  t->max = max;
  return t;
}
TypeRef floatType(std::optional<double> min, std::optional<double> max, bool minExclusive,
                  bool maxExclusive) {
  auto t = make(Type::Kind::Float);
  t->min = min;
  t->max = max;
  t->minExclusive = minExclusive;
  t->maxExclusive = maxExclusive;
  return t;
}
TypeRef boolType() {
  return make(Type::Kind::Bool);
}
TypeRef stringType() {
  return make(Type::Kind::String);
}
TypeRef sizeType() {
  return make(Type::Kind::Size);
}
TypeRef quantityType(std::vector<std::string> units, std::optional<double> min, bool minExclusive) {
  auto t = make(Type::Kind::Quantity);
  t->units = std::move(units);
  t->min = min;
  t->minExclusive = minExclusive;
  return t;
}
TypeRef symbolType(std::vector<std::string> symbols) {
  auto t = make(Type::Kind::Symbol);
  t->symbols = std::move(symbols);
  return t;
}
TypeRef pathType() {
  return make(Type::Kind::Path);
}
TypeRef listType(TypeRef element, size_t minItems, size_t maxItems) {
  auto t = make(Type::Kind::List);
  t->element = std::move(element);
  t->minItems = minItems;
  t->maxItems = maxItems;
  return t;
}
TypeRef callType(std::vector<CallSchema> calls) {
  auto t = make(Type::Kind::Call);
  t->calls = std::move(calls);
  return t;
}
TypeRef oneOfType(std::vector<TypeRef> alternatives) {
  auto t = make(Type::Kind::OneOf);
  t->alternatives = std::move(alternatives);
  return t;
}

namespace {
std::string bound(const Type& t) {
  std::string lo, hi;
  if (t.min) lo = (t.minExclusive ? "> " : ">= ") + support::formatNumber(*t.min);
  if (t.max) hi = (t.maxExclusive ? "< " : "<= ") + support::formatNumber(*t.max);
  if (!lo.empty() && !hi.empty()) return " " + lo + " and " + hi;
  if (!lo.empty()) return " " + lo;
  if (!hi.empty()) return " " + hi;
  return "";
}

std::vector<std::string> callNames(const Type& t) {
  std::vector<std::string> names;
  for (const auto& c : t.calls) names.push_back(c.name);
  return names;
}

std::string shown(const ast::Value& v) {
  std::string text = ast::printValue(v);
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  switch (v.kind) {
  case ast::Value::Kind::String:
    return "the string " + text;
  case ast::Value::Kind::List:
    return "the list " + text;
  case ast::Value::Kind::Path:
    return "'" + text + "'";
  default:
    return std::string(ast::kindName(v.kind)) + " " + text;
  }
}

bool inRange(const Type& t, double x) {
  if (t.min && (t.minExclusive ? !(x > *t.min) : !(x >= *t.min))) return false;
  if (t.max && (t.maxExclusive ? !(x < *t.max) : !(x <= *t.max))) return false;
  return std::isfinite(x);
}

// Does the value's kind fit the type's kind at all (used to choose an alternative of OneOf)?
bool kindFits(const ast::Value& v, const Type& t) {
  using K = ast::Value::Kind;
  switch (t.kind) {
  case Type::Kind::Int:
    return v.kind == K::Int;
  case Type::Kind::Float:
    return v.kind == K::Int || v.kind == K::Float;
  case Type::Kind::Bool:
    return v.kind == K::Bool;
  case Type::Kind::String:
    return v.kind == K::String;
  case Type::Kind::Size:
    return v.kind == K::Size;
  case Type::Kind::Quantity:
    return v.kind == K::Quantity;
  case Type::Kind::Symbol:
    return v.kind == K::Path && v.path.segments.size() == 1;
  case Type::Kind::Path:
    return v.kind == K::Path;
  case Type::Kind::List:
    return v.kind == K::List;
  case Type::Kind::Call:
    return v.kind == K::Call || (v.kind == K::Path && v.path.segments.size() == 1);
  case Type::Kind::OneOf:
    for (const auto& a : t.alternatives)
      if (kindFits(v, *a)) return true;
    return false;
  }
  return false;
}
} // namespace

std::string Type::describe() const {
  switch (kind) {
  case Kind::Int:
    return "an integer" + bound(*this);
  case Kind::Float:
    return "a number" + bound(*this);
  case Kind::Bool:
    return "true or false";
  case Kind::String:
    return "a string in double quotes";
  case Kind::Size:
    return "a size such as 512x416 (height x width)";
  case Kind::Quantity:
    return "a number with a unit (" + support::join(units, ", ") + ")" + bound(*this);
  case Kind::Symbol:
    return "one of " + support::join(symbols, ", ");
  case Kind::Path:
    return "a name or dotted path";
  case Kind::List:
    return "a list of " + element->describe();
  case Kind::Call:
    return "one of " + support::join(callNames(*this), ", ");
  case Kind::OneOf: {
    std::vector<std::string> parts;
    for (const auto& a : alternatives) parts.push_back(a->describe());
    return support::join(parts, ", or ");
  }
  }
  return "?";
}

// A quantity in a byte unit (or any other unit) whose value in bytes is finite and below 2^62, so that every
// later conversion to int64 is exact.
static bool fitsInBytes(const ast::Value& v) {
  double scale = v.text == "GiB"   ? 1073741824.0
                 : v.text == "MiB" ? 1048576.0
                 : v.text == "GB"  ? 1e9
                 : v.text == "MB"  ? 1e6
                                   : 1.0;
  double bytes = v.floatValue * scale;
  return std::isfinite(bytes) && std::fabs(bytes) < 4611686018427387904.0;
}

bool checkValue(const ast::Value& v, const Type& t, const std::string& what, diag::DiagnosticEngine& diags) {
  using K = ast::Value::Kind;
  if ((v.kind == K::Int || v.kind == K::Size) && v.overflow) {
    diags.error("E0005", v.range, "number too large in " + what);
    return false;
  }
  if ((v.kind == K::Float || v.kind == K::Quantity) && !std::isfinite(v.floatValue)) {
    diags.error("E0005", v.range, "number too large in " + what);
    return false;
  }
  auto mismatch = [&]() {
    auto b = diags.error("E0202", v.range, what + " must be " + t.describe() + ", found " + shown(v));
    if (v.kind == K::String && (t.kind == Type::Kind::Symbol || t.kind == Type::Kind::Call))
      b.note("write the name without quotes: " + v.text);
    if (t.kind == Type::Kind::List && kindFits(v, *t.element))
      b.note("write a list, even of one item: [" + ast::printValue(v) + "]");
    if (t.kind == Type::Kind::Int && v.kind == K::Float) b.note("write a whole number");
    if (t.kind == Type::Kind::Quantity && v.isNumber())
      b.note("add the unit, e.g. " + ast::printValue(v) + t.units.front());
    return false;
  };
  switch (t.kind) {
  case Type::Kind::Int:
  case Type::Kind::Float: {
    if (!kindFits(v, t)) return mismatch();
    double x = v.number();
    if (!inRange(t, x)) {
      diags.error("E0204", v.range, what + " must be" + bound(t) + ", found " + v.spelling);
      return false;
    }
    return true;
  }
  case Type::Kind::Bool:
  case Type::Kind::String:
  case Type::Kind::Path:
    return kindFits(v, t) ? true : mismatch();
  case Type::Kind::Size: {
    if (!kindFits(v, t)) return mismatch();
    if (v.h <= 0 || v.w <= 0) {
      diags.error("E0208", v.range, what + " must have a positive height and width, found " + v.spelling);
      return false;
    }
    return true;
  }
  case Type::Kind::Quantity: {
    if (!kindFits(v, t)) return mismatch();
    bool known = false;
    for (const auto& u : t.units) known |= u == v.text;
    if (known && !fitsInBytes(v)) {
      // Never wrap: 99999999999999999999GiB once became -9223372036854775808 bytes in the plan.
      diags.error("E0005", v.range, "number too large in " + what)
          .note("a memory size must stay below 2^62 bytes (4 EiB)");
      return false;
    }
    if (!known) {
      auto b = diags.error("E0207", v.range, "unknown unit '" + v.text + "' in " + what);
      std::string guess = support::closestMatch(v.text, t.units);
      if (!guess.empty())
        b.note("did you mean '" + guess + "'?");
      else
        b.note("use one of: " + support::join(t.units, ", "));
      return false;
    }
    if (!inRange(t, v.floatValue)) {
      diags.error("E0204", v.range, what + " must be" + bound(t) + ", found " + v.spelling);
      return false;
    }
    return true;
  }
  case Type::Kind::Symbol: {
    if (!kindFits(v, t)) return mismatch();
    const std::string& name = v.path.segments[0];
    if (t.symbols.empty()) return true; // any bare name (e.g. a manifest's class labels)
    for (const auto& s : t.symbols)
      if (s == name) return true;
    auto b = diags.error("E0206", v.range, "unknown value '" + name + "' for " + what);
    std::string guess = support::closestMatch(name, t.symbols);
    if (!guess.empty())
      b.note("did you mean '" + guess + "'?");
    else
      b.note("expected one of: " + support::join(t.symbols, ", "));
    return false;
  }
  case Type::Kind::List: {
    if (!kindFits(v, t)) return mismatch();
    bool ok = true;
    if (v.items.size() < t.minItems || v.items.size() > t.maxItems) {
      std::string count = t.minItems == t.maxItems ? "exactly " + std::to_string(t.minItems)
                          : t.maxItems == SIZE_MAX
                              ? "at least " + std::to_string(t.minItems)
                              : std::to_string(t.minItems) + " to " + std::to_string(t.maxItems);
      diags.error("E0204", v.range,
                  what + " needs " + count + " item" + (t.maxItems == 1 ? "" : "s") + ", found " +
                      std::to_string(v.items.size()));
      ok = false;
    }
    for (size_t i = 0; i < v.items.size(); ++i)
      ok &= checkValue(v.items[i], *t.element, "an item of " + what, diags);
    return ok;
  }
  case Type::Kind::Call: {
    if (!kindFits(v, t)) return mismatch();
    std::string name = v.calleeName();
    for (const auto& c : t.calls) {
      if (c.name != name) continue;
      if (v.kind == K::Path) {
        // A bare name stands for a call without arguments: fine unless some are required.
        for (const auto& p : c.params)
          if (p.required) {
            diags.error("E0203", v.range, name + " needs '" + p.name + "' (" + p.type->describe() + ")")
                .note("write it as " + name + "(" + p.name + ": ...)");
            return false;
          }
        return true;
      }
      return checkCall(v, c, diags);
    }
    auto b = diags.error("E0206", v.kind == K::Call ? v.callee.range : v.range,
                         "unknown value '" + name + "' for " + what);
    std::string guess = support::closestMatch(name, callNames(t));
    if (!guess.empty())
      b.note("did you mean '" + guess + "'?");
    else
      b.note("expected one of: " + support::join(callNames(t), ", "));
    return false;
  }
  case Type::Kind::OneOf: {
    for (const auto& a : t.alternatives)
      if (kindFits(v, *a)) return checkValue(v, *a, what, diags);
    return mismatch();
  }
  }
  return false;
}

bool checkCall(const ast::Value& call, const CallSchema& schema, diag::DiagnosticEngine& diags) {
  bool ok = true;
  std::set<std::string> seen;
  size_t positionalIndex = 0;
  for (const auto& arg : call.args) {
    const Param* p = nullptr;
    if (!arg.name) {
      if (positionalIndex >= schema.positional) {
        diags.error("E0202", arg.range,
                    schema.name + (schema.positional == 0
                                       ? " takes only named arguments (name: value)"
                                       : " takes at most " + std::to_string(schema.positional) +
                                             " positional argument" + (schema.positional == 1 ? "" : "s")));
        ok = false;
        continue;
      }
      p = &schema.params[positionalIndex++];
    } else {
      p = schema.find(arg.name->text);
      if (!p) {
        std::vector<std::string> names;
        for (const auto& q : schema.params) names.push_back(q.name);
        auto b = diags.error("E0201", arg.name->range,
                             "unknown argument '" + arg.name->text + "' for " + schema.name);
        std::string guess = support::closestMatch(arg.name->text, names);
        if (!guess.empty())
          b.note("did you mean '" + guess + "'?");
        else if (names.empty())
          b.note(schema.name + " takes no arguments");
        else
          b.note(schema.name + " takes: " + support::join(names, ", "));
        ok = false;
        continue;
      }
    }
    if (!seen.insert(p->name).second) {
      diags.error("E0205", arg.range, "argument '" + p->name + "' of " + schema.name + " is given twice");
      ok = false;
      continue;
    }
    ok &= checkValue(arg.value, *p->type, "'" + p->name + "' of " + schema.name, diags);
  }
  for (const auto& p : schema.params)
    if (p.required && !seen.count(p.name)) {
      diags.error("E0203", call.range, schema.name + " needs '" + p.name + "' (" + p.type->describe() + ")");
      ok = false;
    }
  return ok;
}

void checkBlock(const ast::Block* block, const BlockSchema& schema, diag::SourceRange anchor,
                diag::DiagnosticEngine& diags) {
  std::vector<std::string> names;
  for (const auto& p : schema.attrs) names.push_back(p.name);
  std::vector<const ast::Attribute*> seen;
  if (block) {
    for (const auto& a : block->attrs) {
      std::string key = a.key.str();
      const Param* p = schema.find(key);
      if (!p) {
        auto b = diags.error("E0201", a.key.range, "unknown attribute '" + key + "' in " + schema.what);
        std::string guess = support::closestMatch(key, names);
        if (!guess.empty())
          b.note("did you mean '" + guess + "'?");
        else
          b.note(schema.what + " attributes: " + support::join(names, ", "));
        continue;
      }
      const ast::Attribute* previous = nullptr;
      for (const auto* s : seen)
        if (s->key.str() == key) previous = s;
      if (previous) {
        diags.error("E0205", a.key.range, "attribute '" + key + "' is set twice")
            .note(previous->key.range, "first set here");
        continue;
      }
      seen.push_back(&a);
      checkValue(a.value, *p->type, "attribute '" + key + "'", diags);
    }
  }
  for (const auto& p : schema.attrs) {
    if (!p.required) continue;
    bool present = false;
    for (const auto* s : seen) present |= s->key.str() == p.name;
    if (!present)
      diags.error("E0203", block ? block->range : anchor,
                  schema.what + " needs '" + p.name + "' (" + p.type->describe() + ")");
  }
}

// ---- the schemas ----
namespace {
Param opt(std::string name, TypeRef type, std::string def = "", std::string doc = "") {
  return Param{std::move(name), std::move(type), false, std::move(def), std::move(doc)};
}
Param req(std::string name, TypeRef type, std::string doc = "") {
  return Param{std::move(name), std::move(type), true, "", std::move(doc)};
}
TypeRef fraction() {
  return floatType(0.0, 1.0, false, true);
}
TypeRef splitFractions() {
  return listType(floatType(0.0, 1.0), 3, 3);
}
TypeRef seedType() {
  return intType(0.0, 9.007199254740992e15);
}
} // namespace

const std::vector<std::string>& splitNames() {
  static const std::vector<std::string> s = {"train", "val", "test"};
  return s;
}

const std::vector<std::string>& chestXray14Labels() {
  static const std::vector<std::string> s = {
      "Atelectasis", "Cardiomegaly", "Effusion",           "Infiltration",  "Mass",
      "Nodule",      "Pneumonia",    "Pneumothorax",       "Consolidation", "Edema",
      "Emphysema",   "Fibrosis",     "Pleural_Thickening", "Hernia"};
  return s;
}

const std::vector<CallSchema>& datasetConstructors() {
  static const std::vector<CallSchema> c = {
      {"synthetic_mammo",
       {opt("count", intType(2.0, 1e6), "240", "number of images"),
        opt("size", sizeType(), "512x416", "image size (height x width)"),
        opt("lesion", symbolType({"calcification", "mass", "mixed"}), "mixed", "kind of malignant finding"),
        opt("malignant", floatType(0.0, 1.0, true, true), "0.5", "fraction of malignant images"),
        opt("seed", seedType(), "the experiment seed"),
        opt("split", splitFractions(), "[0.7, 0.1, 0.2]", "train/val/test fractions")},
       0,
       "synthetic mammograms generated in memory: breast-shaped tissue, small malignant lesions"},
      {"synthetic_cxr",
       {opt("count", intType(2.0, 1e6), "200"), opt("size", sizeType(), "1024x1024"),
        opt("seed", seedType(), "the experiment seed"), opt("split", splitFractions(), "[0.7, 0.1, 0.2]")},
       0,
       "synthetic chest X-rays with the 14 ChestX-ray14 labels, generated in memory"},
      {"cbis_ddsm",
       {req("root", stringType(), "folder with the four description CSVs and the DICOM folders"),
        opt("abnormality", listType(symbolType({"mass", "calc"}), 1, 2), "[mass, calc]"),
        opt("val_fraction", fraction(), "0.1",
            "patients of the official train split held out for validation"),
        opt("seed", seedType(), "the experiment seed")},
       0,
       "CBIS-DDSM as shipped by TCIA: official train/test split, image-level malignant vs benign"},
      {"chestxray14",
       {req("root", stringType(), "folder with Data_Entry_2017.csv, the split lists and images/"),
        opt("labels", listType(symbolType(chestXray14Labels()), 1), "all 14"),
        opt("val_fraction", fraction(), "0.1"), opt("seed", seedType(), "the experiment seed")},
       0,
       "NIH ChestX-ray14 as shipped: official train_val/test lists, 14 labels"},
      {"manifest",
       {req("csv", stringType(), "CSV with one row per image"), opt("root", stringType(), "the CSV's folder"),
        opt("image", stringType(), "\"image\""), opt("label", stringType(), "\"label\""),
        opt("patient", stringType(), "none"), opt("split", stringType(), "none"),
        opt("classes", listType(oneOfType({stringType(), symbolType({})}), 2), "sorted distinct labels"),
        opt("multi_label", boolType(), "false"), opt("separator", stringType(), "\"|\""),
        opt("val_fraction", fraction(), "0.1"), opt("test_fraction", fraction(), "0.2"),
        opt("seed", seedType(), "the experiment seed")},
       0,
       "any folder of images with a CSV of labels"},
  };
  return c;
}

const BlockSchema& datasetOptions() {
  static const BlockSchema s = {
      "dataset block",
      {opt("preprocess",
           listType(callType({
               {"breast_crop",
                {opt("threshold", floatType(0.0, 1.0, true, true), "Otsu's threshold of the image"),
                 opt("flip", boolType(), "true")},
                0,
                "crop to the breast (threshold + largest component), flip to a canonical side"},
               {"clahe",
                {opt("clip", floatType(0.0, std::nullopt, true), "2.0"),
                 opt("tiles", intType(1.0, 64.0), "8")},
                0,
                "contrast-limited adaptive histogram equalisation"},
               {"voi", {}, 0, "apply the DICOM VOI LUT / window stored in the file"},
               {"window",
                {req("center", floatType()),
                 req("width", floatType(1.0))}, // DICOM's LINEAR window: width >= 1
                0,
                "intensity window"},
               {"normalize",
                {req("mean", floatType()), req("std", floatType(0.0, std::nullopt, true))},
                0,
                "(x - mean) / std on intensities scaled to [0, 1]"},
           })),
           "[]"),
       opt("resize", symbolType({"pad", "crop", "stretch"}), "pad"),
       opt("on_error", symbolType({"stop", "skip"}), "stop"), opt("cache", stringType(), "\".mhr-cache\"")}};
  return s;
}

const BlockSchema& networkBlock() {
  static const BlockSchema s = {
      "network block",
      {opt("strict", boolType(), "true", "missing or unexpected weight names are errors"),
       opt("init_seed", seedType(), "the experiment seed", "seed of the random initialisation")}};
  return s;
}

const BlockSchema& trainBlock() {
  static const TypeRef lr = floatType(0.0, 100.0, true);
  static const TypeRef decay = floatType(0.0, 1.0);
  static const BlockSchema s = {
      "train block",
      {req("epochs", intType(1.0, 1e6)),
       req("batch", intType(1.0, 1e6)),
       req("optimizer",
           callType({
               {"sgd",
                {req("lr", lr), opt("momentum", floatType(0.0, 1.0, false, true), "0"),
                 opt("nesterov", boolType(), "false"), opt("weight_decay", decay, "0")},
                0,
                "stochastic gradient descent"},
               {"adam",
                {req("lr", lr),
                 opt("betas", listType(floatType(0.0, 1.0, false, true), 2, 2), "[0.9, 0.999]"),
                 opt("eps", floatType(0.0, 1.0, true), "1e-8"), opt("weight_decay", decay, "0")},
                0,
                "Adam (L2 weight decay)"},
               {"adamw",
                {req("lr", lr),
                 opt("betas", listType(floatType(0.0, 1.0, false, true), 2, 2), "[0.9, 0.999]"),
                 opt("eps", floatType(0.0, 1.0, true), "1e-8"), opt("weight_decay", decay, "0.01")},
                0,
                "AdamW (decoupled weight decay)"},
           })),
       opt("schedule",
           callType({
               {"constant",
                {opt("warmup", floatType(0.0), "0", "epochs of linear warm-up")},
                0,
                "constant lr"},
               {"step",
                {opt("every", intType(1.0), "1", "epochs between decays"),
                 opt("gamma", floatType(0.0, 1.0, true), "0.1"), opt("warmup", floatType(0.0), "0")},
                0,
                "multiply lr by gamma every N epochs"},
               {"cosine",
                {opt("warmup", floatType(0.0), "0"), opt("min_lr", floatType(0.0), "0")},
                0,
                "cosine decay to min_lr after a linear warm-up"},
               {"onecycle",
                {opt("max_lr", floatType(0.0, std::nullopt, true), "the optimizer's lr"),
                 opt("pct_start", floatType(0.0, 1.0, true, true), "0.3")},
                0,
                "one-cycle policy"},
           })),
       opt("precision", symbolType({"fp32", "bf16", "fp16"}), "fp32"),
       opt("checkpointing", symbolType({"off", "auto", "all"}), "off"),
       opt("memory_budget", quantityType({"GiB", "MiB", "GB", "MB"}, 0.0, true), "the device's memory"),
       opt("augment",
           listType(callType({
               {"hflip", {}, 0, "horizontal flip with probability 1/2"},
               {"vflip", {}, 0, "vertical flip with probability 1/2"},
               {"rotate", {req("max", quantityType({"deg"}, 0.0, false))}, 1, "rotation by up to +-max"},
               {"scale",
                {req("min", floatType(0.0, std::nullopt, true)),
                 req("max", floatType(0.0, std::nullopt, true))},
                2,
                "zoom by a factor in [min, max]"},
               {"brightness", {req("delta", floatType(0.0, 1.0))}, 1, "add a value in [-delta, delta]"},
               {"contrast", {req("delta", floatType(0.0, 1.0))}, 1, "scale contrast by 1 +- delta"},
           })),
           "[]"),
       opt("accumulate", intType(1.0, 1e4), "1", "gradient accumulation steps"),
       opt("clip_grad", floatType(0.0, std::nullopt, true), "off", "max global gradient norm"),
       opt("loss", callType({
                       {"cross_entropy",
                        {opt("class_weights", listType(floatType(0.0), 1), "none"),
                         opt("label_smoothing", floatType(0.0, 1.0, false, true), "0")},
                        0,
                        "softmax cross entropy (single-label)"},
                       {"bce",
                        {opt("pos_weight", listType(floatType(0.0), 1), "none")},
                        0,
                        "binary cross entropy with logits (multi-label)"},
                   })),
       opt("freeze", listType(pathType()), "[]", "layer paths whose parameters are not trained"),
       opt("lr_groups",
           listType(callType({{"group",
                               {req("path", pathType()), req("mult", floatType(0.0))},
                               2,
                               "lr multiplier for parameters under a layer path"}})),
           "[]"),
       opt("channels_last", boolType(), "false"),
       opt("deterministic", boolType(), "true"),
       opt("cudnn_benchmark", boolType(), "true"),
       opt("sync_bn", boolType(), "false"),
       opt("val", pathType(), "none", "split evaluated after every epoch, e.g. mammo.val"),
       opt("workers", intType(0.0, 256.0), "2"),
       opt("steps_per_epoch", intType(1.0), "the whole split"),
       opt("drop_last", boolType(), "false",
           "leave out an epoch's last, smaller batch (a batch larger than the split is then an error)"),
       opt("checkpoint",
           callType({{"last", {}, 0, "hand on the weights of the last epoch"},
                     {"best",
                      {req("on", pathType())},
                      1,
                      "hand on the weights of the epoch with the best validation metric (val.auc, val.loss, "
                      "...; ties: the earliest)"}}),
           "last", "which epoch's weights the stage hands on; best(...) needs `val:`"),
       opt("early_stop",
           callType({{"off", {}, 0, "train every epoch"},
                     {"patience",
                      {req("epochs", intType(1.0, 1e6)), opt("on", pathType(), "val.loss"),
                       opt("min_delta", floatType(0.0), "0", "smallest change that counts as a gain")},
                      2,
                      "stop after N epochs in a row without a gain over the best validation metric"}}),
           "off", "needs `val:`")}};
  return s;
}

const std::vector<std::string>& metricNames() {
  static const std::vector<std::string> names = {"auc",         "pr_auc", "accuracy",    "balanced_accuracy",
                                                 "sensitivity", "recall", "specificity", "ppv",
                                                 "precision",   "npv",    "f1",          "brier",
                                                 "ece",         "loss"};
  return names;
}

const std::vector<std::string>& selectionMetrics() {
  static const std::vector<std::string> names = {"loss",  "auc", "pr_auc", "accuracy", "balanced_accuracy",
                                                 "brier", "ece"};
  return names;
}

bool higherIsBetter(const std::string& metric) {
  return metric != "loss" && metric != "brier" && metric != "ece";
}

const BlockSchema& evaluateBlock() {
  static const BlockSchema s = {
      "evaluate block",
      {opt("metrics", listType(symbolType(metricNames()), 1), "[auc]"),
       opt("threshold", oneOfType({floatType(0.0, 1.0, true, true), symbolType({"eer"})}), "0.5",
           "operating point, or eer for the equal-error point"),
       opt("bootstrap", intType(0.0, 1e6), "1000", "resamples for the AUC and PR-AUC confidence intervals"),
       opt("ci", floatType(0.0, 1.0, true, true), "0.95"),
       opt("cam", intType(0.0, 1e4), "0", "Grad-CAM samples"),
       opt("cam_layer", pathType(), "the trunk's last feature map of at least 8x8",
           "layer whose feature map Grad-CAM weighs"),
       opt("batch", intType(1.0, 1e6), "16"),
       opt("tta", boolType(), "false", "average with the flipped image")}};
  return s;
}

} // namespace mhr::sema
