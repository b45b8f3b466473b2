#include "compiler/lower/lower_dataset.h"

#include "support/assert.h"

#include <algorithm>

namespace mhr::lower {

namespace {

using plan::Value;

// Reads a checked constructor call's named arguments; a kind that sema would have refused is our bug.
class Args {
public:
  explicit Args(const Value& call) : call_(call) {}
  const Value* get(const char* name) const {
    return call_.kind == Value::Kind::Call ? call_.arg(name) : nullptr;
  }
  int64_t integer(const char* name, int64_t fallback) const {
    const Value* v = get(name);
    if (!v) return fallback;
    MHR_ASSERT(v->kind == Value::Kind::Int, "unchecked integer argument");
    return v->integer;
  }
  double number(const char* name, double fallback) const {
    const Value* v = get(name);
    if (!v) return fallback;
    MHR_ASSERT(v->isNumber(), "unchecked number argument");
    return v->asDouble();
  }
  std::string text(const char* name, std::string fallback) const {
    const Value* v = get(name);
    if (!v) return fallback;
    MHR_ASSERT(v->kind == Value::Kind::String || v->kind == Value::Kind::Symbol, "unchecked text argument");
    return v->text;
  }
  bool boolean(const char* name, bool fallback) const {
    const Value* v = get(name);
    if (!v) return fallback;
    MHR_ASSERT(v->kind == Value::Kind::Bool, "unchecked bool argument");
    return v->boolean;
  }
  std::vector<std::string> names(const char* name, std::vector<std::string> fallback) const {
    const Value* v = get(name);
    if (!v) return fallback;
    MHR_ASSERT(v->kind == Value::Kind::List, "unchecked list argument");
    std::vector<std::string> out;
    for (const Value& item : v->items) out.push_back(item.text);
    return out;
  }
  void size(const char* name, int64_t& h, int64_t& w) const {
    if (const Value* v = get(name)) {
      MHR_ASSERT(v->kind == Value::Kind::Size, "unchecked size argument");
      h = v->size.h;
      w = v->size.w;
    }
  }
  void split(std::array<double, 3>& out) const {
    if (const Value* v = get("split")) {
      MHR_ASSERT(v->kind == Value::Kind::List && v->items.size() == 3, "unchecked split argument");
      for (size_t i = 0; i < 3; ++i) out[i] = v->items[i].asDouble();
    }
  }
  uint64_t seed(int64_t experimentSeed) const { return uint64_t(integer("seed", experimentSeed)); }

private:
  const Value& call_;
};

plan::DatasetSource lowerSource(const Value& ctor, int64_t experimentSeed) {
  MHR_ASSERT(ctor.kind == Value::Kind::Call || ctor.kind == Value::Kind::Symbol, "unchecked constructor");
  const Args a(ctor);
  const std::string& name = ctor.callee();
  if (name == "synthetic_mammo") {
    plan::SyntheticMammoSource s;
    s.count = a.integer("count", s.count);
    a.size("size", s.height, s.width);
    s.lesion = a.text("lesion", s.lesion);
    s.malignant = a.number("malignant", s.malignant);
    s.seed = a.seed(experimentSeed);
    a.split(s.split);
    return s;
  }
  if (name == "synthetic_cxr") {
    plan::SyntheticCxrSource s;
    s.count = a.integer("count", s.count);
    a.size("size", s.height, s.width);
    s.seed = a.seed(experimentSeed);
    a.split(s.split);
    return s;
  }
  if (name == "cbis_ddsm") {
    plan::CbisDdsmSource s;
    s.root = a.text("root", "");
    s.abnormality = a.names("abnormality", s.abnormality);
    s.valFraction = a.number("val_fraction", s.valFraction);
    s.seed = a.seed(experimentSeed);
    return s;
  }
  if (name == "chestxray14") {
    plan::ChestXray14Source s;
    s.root = a.text("root", "");
    s.labels = a.names("labels", {});
    s.valFraction = a.number("val_fraction", s.valFraction);
    s.seed = a.seed(experimentSeed);
    return s;
  }
  MHR_ASSERT(name == "manifest", "unchecked data set constructor");
  plan::ManifestSource s;
  s.csv = a.text("csv", "");
  s.root = a.text("root", "");
  s.image = a.text("image", s.image);
  s.label = a.text("label", s.label);
  s.patient = a.text("patient", "");
  s.split = a.text("split", "");
  s.classes = a.names("classes", {});
  s.multiLabel = a.boolean("multi_label", s.multiLabel);
  const std::string separator = a.text("separator", "|");
  MHR_ASSERT(separator.size() == 1, "unchecked manifest separator");
  s.separator = separator[0];
  s.valFraction = a.number("val_fraction", s.valFraction);
  s.testFraction = a.number("test_fraction", s.testFraction);
  s.seed = a.seed(experimentSeed);
  return s;
}

plan::PreprocessSteps lowerSteps(const Value& list) {
  MHR_ASSERT(list.kind == Value::Kind::List, "unchecked preprocess list");
  plan::PreprocessSteps p;
  for (const Value& step : list.items) {
    const Args a(step); // steps take named arguments only (their schemas allow no positional ones)
    auto num = [&](const char* name, double fallback) {
      const Value* v = a.get(name);
      return v ? v->asDouble() : fallback;
    };
    const std::string& name = step.callee();
    if (name == "voi") {
      p.voi = true;
    } else if (name == "window") {
      p.window = plan::WindowStep{num("center", 0.0), num("width", 1.0)};
    } else if (name == "breast_crop") {
      plan::BreastCropStep b;
      if (const Value* t = a.get("threshold")) b.threshold = t->asDouble();
      if (const Value* f = a.get("flip")) b.flip = f->boolean;
      p.breastCrop = b;
    } else if (name == "clahe") {
      p.clahe = plan::ClaheStep{num("clip", 2.0), int64_t(num("tiles", 8.0))};
    } else {
      MHR_ASSERT(name == "normalize", "unchecked preprocessing step");
      p.normalize = plan::NormalizeStep{num("mean", 0.0), num("std", 1.0)};
    }
  }
  return p;
}

} // namespace

plan::DatasetSpec lowerDatasetSpec(const plan::DatasetConfig& written, int64_t experimentSeed) {
  plan::DatasetSpec spec;
  spec.source = lowerSource(written.constructor, experimentSeed);
  for (const auto& [key, value] : written.options) {
    if (key == "preprocess") {
      spec.preprocess = lowerSteps(value);
    } else if (key == "resize") {
      spec.resize = value.text == "crop"      ? plan::ResizeMode::Crop
                    : value.text == "stretch" ? plan::ResizeMode::Stretch
                                              : plan::ResizeMode::Pad;
    } else if (key == "on_error") {
      spec.onError = value.text == "skip" ? plan::OnError::Skip : plan::OnError::Stop;
    } else {
      MHR_ASSERT(key == "cache", "unchecked data set option");
      spec.cacheDir = value.text;
    }
  }
  return spec;
}

std::vector<plan::AugmentOp> lowerAugment(const std::vector<plan::Value>& list) {
  using K = plan::AugmentOp::Kind;
  std::vector<plan::AugmentOp> ops;
  for (const Value& v : list) {
    MHR_ASSERT(v.kind == Value::Kind::Call || v.kind == Value::Kind::Symbol, "unchecked augment item");
    auto arg = [&](const char* name, size_t position) {
      const Value* a = v.kind == Value::Kind::Call ? v.arg(name) : nullptr;
      if (!a && v.kind == Value::Kind::Call && position < v.items.size()) a = &v.items[position];
      MHR_ASSERT(a && (a->isNumber() || a->kind == Value::Kind::Quantity), "unchecked augment argument");
      return a->asDouble(); // a Quantity (15deg) is its number
    };
    const std::string& name = v.callee();
    plan::AugmentOp op;
    if (name == "hflip" || name == "vflip") {
      op.kind = name == "hflip" ? K::HFlip : K::VFlip;
    } else if (name == "rotate") {
      op.kind = K::Rotate;
      op.a = arg("max", 0);
    } else if (name == "scale") {
      op.kind = K::Scale;
      op.a = arg("min", 0);
      op.b = arg("max", 1);
    } else {
      MHR_ASSERT(name == "brightness" || name == "contrast", "unchecked augment operation");
      op.kind = name == "brightness" ? K::Brightness : K::Contrast;
      op.a = arg("delta", 0);
    }
    ops.push_back(op);
  }
  return ops;
}

} // namespace mhr::lower
