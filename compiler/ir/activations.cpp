#include "compiler/ir/activations.h"

#include "support/strings.h"

namespace mhr::ir {

const std::vector<std::string>& activationNames() {
  static const std::vector<std::string> names = {"identity", "relu", "relu6",   "leaky_relu", "hardtanh",
                                                 "gelu",     "silu", "sigmoid", "tanh"};
  return names;
}

std::optional<ActKind> activationKind(const std::string& name) {
  static const ActKind kinds[] = {ActKind::Identity,  ActKind::Relu,     ActKind::Relu6,
                                  ActKind::LeakyRelu, ActKind::Hardtanh, ActKind::Gelu,
                                  ActKind::Silu,      ActKind::Sigmoid,  ActKind::Tanh};
  const auto& names = activationNames();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return kinds[i];
  return std::nullopt;
}

namespace {

// The numeric argument named `name`, or the positional one at `position`; nullptr when absent.
const ast::Value* numberArg(const ast::Value& call, const std::string& name, size_t position) {
  size_t pos = 0;
  for (const ast::Argument& a : call.args) {
    if (a.name && a.name->text == name) return &a.value;
    if (!a.name && pos++ == position) return &a.value;
  }
  return nullptr;
}

} // namespace

std::optional<Activation> parseActivation(const ast::Value& v, diag::DiagnosticEngine& diags,
                                          const std::string& code) {
  const std::string name = v.calleeName();
  if (name.empty() || (v.kind != ast::Value::Kind::Call && v.kind != ast::Value::Kind::Path)) {
    diags.error(code, v.range, "expected an activation such as relu, gelu or leaky_relu(0.1)");
    return std::nullopt;
  }
  std::optional<ActKind> kind = activationKind(name);
  if (!kind) {
    auto d = diags.error(code, v.range, "unknown activation '" + name + "'");
    std::string s = support::closestMatch(name, activationNames());
    if (!s.empty())
      d.note("did you mean '" + s + "'?");
    else
      d.note("activations: " + support::join(activationNames(), ", "));
    return std::nullopt;
  }
  Activation a;
  a.kind = *kind;
  if (v.kind != ast::Value::Kind::Call) return a;

  // Allowed arguments per activation; anything else is an error (never silently ignored).
  std::vector<std::string> allowed;
  if (a.kind == ActKind::LeakyRelu) allowed = {"slope"};
  if (a.kind == ActKind::Hardtanh) allowed = {"min", "max"};
  if (a.kind == ActKind::Gelu) allowed = {"approximate"};
  size_t positional = 0;
  bool ok = true;
  for (const ast::Argument& arg : v.args) {
    if (arg.name) {
      bool known = false;
      for (const std::string& s : allowed) known = known || s == arg.name->text;
      if (!known) {
        auto d = diags.error(code, arg.range, name + " has no argument '" + arg.name->text + "'");
        std::string s = support::closestMatch(arg.name->text, allowed);
        if (!s.empty()) d.note("did you mean '" + s + "'?");
        ok = false;
      }
    } else if (++positional > allowed.size() || a.kind == ActKind::Gelu) {
      diags.error(code, arg.range,
                  name + " takes " +
                      (allowed.empty() ? std::string("no arguments")
                                       : "at most the arguments " + support::join(allowed, ", ")));
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  auto number = [&](const std::string& n, size_t pos, double& out) {
    const ast::Value* x = numberArg(v, n, pos);
    if (!x) return true;
    if (!x->isNumber()) {
      diags.error(code, x->range, name + " " + n + " must be a number");
      return false;
    }
    out = x->number();
    return true;
  };
  if (a.kind == ActKind::LeakyRelu) {
    if (!number("slope", 0, a.slope)) return std::nullopt;
  } else if (a.kind == ActKind::Hardtanh) {
    if (!number("min", 0, a.minValue) || !number("max", 1, a.maxValue)) return std::nullopt;
    if (!(a.minValue < a.maxValue)) {
      diags.error(code, v.range, "hardtanh needs min < max");
      return std::nullopt;
    }
  } else if (a.kind == ActKind::Gelu) {
    if (const ast::Argument* ap = v.namedArg("approximate")) {
      const std::string mode = ap->value.calleeName().empty() ? ap->value.text : ap->value.calleeName();
      if (mode == "tanh")
        a.tanhApprox = true;
      else if (mode != "none") {
        diags.error(code, ap->value.range, "gelu approximate must be none or tanh");
        return std::nullopt;
      }
    }
  }
  return a;
}

} // namespace mhr::ir
