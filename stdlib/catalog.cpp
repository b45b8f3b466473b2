#include "stdlib/catalog.h"

#include "compiler/ir/activations.h"
#include "stdlib/networks.h"
#include "support/assert.h"
#include "support/strings.h"

#include <cmath>
#include <functional>
#include <map>

namespace mhr::stdlib {

int64_t scaleChannels(int64_t channels, double width) {
  return std::max<int64_t>(1, static_cast<int64_t>(std::floor(static_cast<double>(channels) * width + 0.5)));
}

namespace {

using Builder = std::function<ir::Graph(const ir::NetworkOptions&)>;

struct Entry {
  ir::NetworkInfo info;
  Builder build;
  bool hasDropout = false;
  bool hasActivation = false;
};

std::vector<ir::OptionInfo> commonOptions() {
  return {
      {"classes", "INT", "1000", "number of outputs of the classifier"},
      {"width", "FLOAT", "1.0",
       "channel multiplier: a layer with c channels gets max(1, floor(c * width + 0.5)); 1.0 is "
       "torchvision's network"},
      {"in_channels", "1 | 3", "3",
       "input channels; with 1, 3-channel pretrained stem weights are summed over their input-channel axis "
       "at import"},
      {"weights", "STRING", "\"\"",
       "a torch.save state dict or safetensors file to load (torchvision key names)"},
  };
}

class StdlibCatalog final : public ir::NetworkCatalog {
public:
  StdlibCatalog() {
    add("resnet18", "ResNet-18 (torchvision), 11.7M parameters at width 1",
        [](auto& o) { return buildResNet(18, o); });
    add("resnet34", "ResNet-34 (torchvision), 21.8M parameters", [](auto& o) { return buildResNet(34, o); });
    add("resnet50", "ResNet-50 V1.5 (torchvision), 25.6M parameters",
        [](auto& o) { return buildResNet(50, o); });
    add("resnet101", "ResNet-101 V1.5 (torchvision), 44.5M parameters",
        [](auto& o) { return buildResNet(101, o); });
    add("densenet121", "DenseNet-121 (torchvision; CheXNet's backbone), 8.0M parameters", buildDenseNet121,
        true, "0.0", "dropout after each dense layer (torchvision's drop_rate)");
    add("efficientnet_b0", "EfficientNet-B0 (torchvision), 5.3M parameters", buildEfficientNetB0, true, "0.2",
        "dropout before the classifier");
    add(
        "vgg11_bn", "VGG-11 with batch norm (torchvision), 132.9M parameters",
        [](auto& o) { return buildVgg(11, o); }, true, "0.5", "dropout in the classifier");
    add(
        "vgg16_bn", "VGG-16 with batch norm (torchvision), 138.4M parameters",
        [](auto& o) { return buildVgg(16, o); }, true, "0.5", "dropout in the classifier");
    add("tiny_cnn", "two conv-bn-act stages and a linear classifier, for tests (not in torchvision)",
        buildTinyCnn, true, "0.0", "dropout before the classifier");
    Entry& tiny = entries_.at("tiny_cnn");
    tiny.hasActivation = true;
    tiny.info.options.push_back({"activation", "ACTIVATION", "relu", "the activation after each batch norm"});
  }

  std::vector<std::string> names() const override { return order_; }

  const ir::NetworkInfo* info(const std::string& name) const override {
    auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second.info;
  }

  std::optional<ir::NetworkOptions> parseOptions(const std::string& name,
                                                 const std::vector<ast::Argument>& args,
                                                 diag::DiagnosticEngine& diags,
                                                 diag::SourceRange range) const override {
    auto it = entries_.find(name);
    if (it == entries_.end()) {
      auto d = diags.error("E0111", range, "the standard library has no network '" + name + "'");
      std::string s = support::closestMatch(name, order_);
      if (!s.empty())
        d.note("did you mean '" + s + "'?");
      else
        d.note("networks: " + support::join(order_, ", "));
      return std::nullopt;
    }
    const Entry& e = it->second;
    ir::NetworkOptions o;
    bool ok = true;
    std::vector<std::string> seen;
    std::vector<std::string> optionNames;
    for (const ir::OptionInfo& oi : e.info.options) optionNames.push_back(oi.name);
    for (const ast::Argument& a : args) {
      if (!a.name) {
        diags.error("E0202", a.range, name + " takes named options only, e.g. " + name + "(classes: 2)");
        ok = false;
        continue;
      }
      const std::string& key = a.name->text;
      const ast::Value& v = a.value;
      bool duplicate = false;
      for (const std::string& s : seen) duplicate = duplicate || s == key;
      if (duplicate) {
        diags.error("E0205", a.name->range, "option '" + key + "' given twice");
        ok = false;
        continue;
      }
      seen.push_back(key);
      if (key == "classes") {
        if (v.kind != ast::Value::Kind::Int)
          ok = typeError(diags, v, "classes", "an integer");
        else if (v.overflow || v.intValue < 1 || v.intValue > 1000000)
          ok = rangeError(diags, v, "classes must lie in 1..1000000");
        else
          o.classes = v.intValue;
      } else if (key == "width") {
        if (!v.isNumber())
          ok = typeError(diags, v, "width", "a number");
        else if (!(v.number() > 0 && v.number() <= 64))
          ok = rangeError(diags, v, "width must lie in (0, 64]");
        else
          o.width = v.number();
      } else if (key == "in_channels") {
        if (v.kind != ast::Value::Kind::Int)
          ok = typeError(diags, v, "in_channels", "1 or 3");
        else if (v.intValue != 1 && v.intValue != 3)
          ok = rangeError(diags, v, "in_channels must be 1 or 3");
        else
          o.inChannels = v.intValue;
      } else if (key == "weights") {
        if (v.kind != ast::Value::Kind::String)
          ok = typeError(diags, v, "weights", "a string (a file path)");
        else if (v.text.empty())
          ok = rangeError(diags, v, "weights must name a file");
        else
          o.weights = v.text;
      } else if (key == "dropout" && e.hasDropout) {
        if (!v.isNumber())
          ok = typeError(diags, v, "dropout", "a number");
        else if (!(v.number() >= 0 && v.number() < 1))
          ok = rangeError(diags, v, "dropout must lie in [0, 1)");
        else
          o.dropout = v.number();
      } else if (key == "activation" && e.hasActivation) {
        std::optional<ir::Activation> act = ir::parseActivation(v, diags, "E0206");
        if (!act)
          ok = false;
        else
          o.activation = *act;
      } else {
        auto d = diags.error("E0201", a.name->range, name + " has no option '" + key + "'");
        std::string s = support::closestMatch(key, optionNames);
        if (!s.empty())
          d.note("did you mean '" + s + "'?");
        else
          d.note(name + " options: " + support::join(optionNames, ", "));
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return o;
  }

  ir::Graph build(const std::string& name, const ir::NetworkOptions& options) const override {
    auto it = entries_.find(name);
    MHR_ASSERT(it != entries_.end(), "build() of a network missing from the catalog");
    return it->second.build(options);
  }

private:
  void add(const std::string& name, const std::string& description, Builder b, bool dropout = false,
           const std::string& dropoutDefault = "", const std::string& dropoutDoc = "") {
    Entry e;
    e.info.name = name;
    e.info.description = description;
    e.info.options = commonOptions();
    if (dropout) e.info.options.push_back({"dropout", "FLOAT", dropoutDefault, dropoutDoc});
    e.build = std::move(b);
    e.hasDropout = dropout;
    entries_.emplace(name, std::move(e));
    order_.push_back(name);
  }
  static bool typeError(diag::DiagnosticEngine& diags, const ast::Value& v, const std::string& key,
                        const std::string& expected) {
    diags.error("E0202", v.range, key + " must be " + expected + ", not a " + ast::kindName(v.kind));
    return false;
  }
  static bool rangeError(diag::DiagnosticEngine& diags, const ast::Value& v, const std::string& message) {
    diags.error("E0204", v.range, message);
    return false;
  }

  std::map<std::string, Entry> entries_;
  std::vector<std::string> order_;
};

} // namespace

const ir::NetworkCatalog& catalog() {
  static const StdlibCatalog instance;
  return instance;
}

} // namespace mhr::stdlib
