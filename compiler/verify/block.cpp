#include "compiler/verify/block.h"

#include "compiler/ir/activations.h"
#include "compiler/verify/step.h"
#include "support/strings.h"

#include <fmt/format.h>

namespace mhr::verify {

namespace {

const std::vector<std::string>& termNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n = {"conv", "bn",       "linear",     "prelu",
                                  "p",    "residual", "global_max", "global_avg"};
    for (const std::string& a : ir::activationNames()) n.push_back(a);
    return n;
  }();
  return names;
}

bool intArg(const ast::Argument& a, diag::DiagnosticEngine& diags, int64_t lo, int64_t hi, int64_t& out) {
  if (a.value.kind != ast::Value::Kind::Int || a.value.overflow || a.value.intValue < lo ||
      a.value.intValue > hi) {
    diags.error(
        "E0303", a.value.range,
        fmt::format("{} must be an integer in {}..{}", a.name ? a.name->text : "the argument", lo, hi));
    return false;
  }
  out = a.value.intValue;
  return true;
}

std::optional<Term> parseConv(const ast::Value& v, BlockKind where, diag::DiagnosticEngine& diags) {
  Term t;
  t.kind = Term::Kind::Conv;
  t.range = v.range;
  bool ok = true;
  for (const ast::Argument& a : v.args) {
    if (!a.name) {
      if (t.kh != 0) {
        diags.error("E0303", a.range, "conv takes one kernel size");
        ok = false;
      } else if (a.value.kind == ast::Value::Kind::Size && a.value.h >= 1 && a.value.w >= 1 &&
                 a.value.h <= 31 && a.value.w <= 31 && !a.value.overflow) {
        t.kh = a.value.h;
        t.kw = a.value.w;
      } else if (a.value.kind == ast::Value::Kind::Int && a.value.intValue >= 1 && a.value.intValue <= 31) {
        t.kh = t.kw = a.value.intValue;
      } else {
        diags.error("E0303", a.value.range, "the kernel size must be KxK with 1 <= K <= 31, e.g. conv(3x3)");
        ok = false;
      }
      continue;
    }
    const std::string& key = a.name->text;
    if (key == "bias") {
      if (a.value.kind != ast::Value::Kind::Bool) {
        diags.error("E0303", a.value.range, "bias must be true or false");
        ok = false;
      } else
        t.bias = a.value.boolValue;
    } else if (key == "groups")
      ok = intArg(a, diags, 1, 1 << 20, t.groups) && ok;
    else if (key == "out_channels" && where == BlockKind::Branch)
      ok = intArg(a, diags, 1, 1 << 16, t.outChannels) && ok;
    else if (key == "stride")
      ok = intArg(a, diags, 1, 64, t.stride) && ok;
    else if (key == "dilation")
      ok = intArg(a, diags, 1, 64, t.dilation) && ok;
    else if (key == "padding_mode") {
      const std::string m = a.value.calleeName().empty() ? a.value.text : a.value.calleeName();
      if (m == "zeros")
        t.padMode = ir::PadMode::Zeros;
      else if (m == "reflect")
        t.padMode = ir::PadMode::Reflect;
      else if (m == "replicate")
        t.padMode = ir::PadMode::Replicate;
      else if (m == "circular")
        t.padMode = ir::PadMode::Circular;
      else {
        diags.error("E0303", a.value.range, "padding_mode must be zeros, reflect, replicate or circular");
        ok = false;
      }
    } else {
      auto d = diags.error("E0303", a.name->range, "conv has no argument '" + key + "'");
      std::vector<std::string> keys = {"bias", "groups", "stride", "dilation", "padding_mode"};
      if (where == BlockKind::Branch) keys.push_back("out_channels");
      std::string s = support::closestMatch(key, keys);
      if (!s.empty())
        d.note("did you mean '" + s + "'?");
      else if (key == "out_channels")
        d.note("a deepen block keeps the channel count; widen changes it, and a branch may set out_channels");
      ok = false;
    }
  }
  if (ok && t.kh == 0) {
    diags.error("E0303", v.range, "conv needs a kernel size, e.g. conv(3x3)");
    ok = false;
  }
  if (!ok) return std::nullopt;
  t.text = "conv(" + sizeText(t.kh, t.kw) + ")";
  return t;
}

} // namespace

std::optional<Term> parseTerm(const ast::Value& v, BlockKind where, diag::DiagnosticEngine& diags) {
  const std::string name = v.calleeName();
  const bool call = v.kind == ast::Value::Kind::Call;
  Term t;
  t.range = v.range;
  t.text = name;
  if (name == "conv") {
    if (!call) {
      diags.error("E0303", v.range, "conv needs a kernel size, e.g. conv(3x3)");
      return std::nullopt;
    }
    return parseConv(v, where, diags);
  }
  if (name == "global_max" || name == "global_avg") {
    if (where != BlockKind::Branch) {
      diags.error("E0303", v.range,
                  name +
                      " changes the tensor's shape: it ends a branch block (`branch PATH to HEAD with ...`), "
                      "not a deepen block");
      return std::nullopt;
    }
    if (call && !v.args.empty()) {
      diags.error("E0303", v.args[0].range, name + " takes no arguments");
      return std::nullopt;
    }
    t.kind = name == "global_max" ? Term::Kind::GlobalMax : Term::Kind::GlobalAvg;
    return t;
  }
  if (name == "bn") {
    t.kind = Term::Kind::Bn;
    for (const ast::Argument& a : v.args) {
      const std::string key = a.name ? a.name->text : "";
      if ((key == "eps" || key == "momentum") && a.value.isNumber() && a.value.number() > 0 &&
          (key == "eps" || a.value.number() <= 1)) {
        (key == "eps" ? t.eps : t.momentum) = a.value.number();
      } else if (key == "eps" || key == "momentum") {
        diags.error("E0303", a.value.range,
                    key == "eps" ? "eps must be a positive number" : "momentum must lie in (0, 1]");
        return std::nullopt;
      } else {
        diags.error("E0303", a.range, "bn takes only eps and momentum");
        return std::nullopt;
      }
    }
    return t;
  }
  if (name == "linear") {
    t.kind = Term::Kind::Linear;
    if (call && !v.args.empty()) {
      diags.error("E0303", v.args[0].range, "linear in a block keeps the width: it takes no arguments");
      return std::nullopt;
    }
    return t;
  }
  if (name == "prelu") {
    t.kind = Term::Kind::PRelu;
    for (const ast::Argument& a : v.args) {
      if (a.name && a.name->text == "num_parameters" && a.value.kind == ast::Value::Kind::Int &&
          a.value.intValue == 1) {
        t.preluParams = 1;
      } else {
        diags.error("E0303", a.range,
                    "prelu takes only num_parameters: 1 (one shared slope; the default is one per channel)");
        return std::nullopt;
      }
    }
    return t;
  }
  if (name == "p") {
    if (!call || v.args.size() != 1 || v.args[0].name) {
      diags.error("E0303", v.range, "p takes one activation, e.g. p(gelu)");
      return std::nullopt;
    }
    std::optional<ir::Activation> inner = ir::parseActivation(v.args[0].value, diags);
    if (!inner) return std::nullopt;
    t.kind = Term::Kind::PAct;
    t.act = *inner;
    t.text = "p(" + ir::activationText(*inner) + ")";
    return t;
  }
  if (ir::activationKind(name)) {
    std::optional<ir::Activation> act = ir::parseActivation(v, diags);
    if (!act) return std::nullopt;
    t.kind = Term::Kind::Act;
    t.act = *act;
    t.text = ir::activationText(*act);
    return t;
  }
  if (name.empty()) {
    diags.error("E0303", v.range,
                std::string("expected a layer such as conv(3x3), bn or prelu, not a ") +
                    ast::kindName(v.kind));
    return std::nullopt;
  }
  auto d = diags.error("E0303", v.range,
                       "unknown layer '" + name + "' in a " +
                           (where == BlockKind::Branch ? "branch" : "deepen") + " block");
  std::string s = support::closestMatch(name, termNames());
  if (!s.empty())
    d.note("did you mean '" + s + "'?");
  else
    d.note(where == BlockKind::Branch ? "layers: conv(KxK, out_channels: C, stride: S), bn, prelu, p(ACT), "
                                        "relu, ..., global_max, global_avg"
                                      : "layers: conv(KxK), bn, linear, prelu, p(ACT), relu, gelu, ...");
  return std::nullopt;
}

std::vector<const ast::Value*> blockItems(const ast::Value& v) {
  std::vector<const ast::Value*> items;
  if (v.kind == ast::Value::Kind::Sequence)
    for (const ast::Value& item : v.items) items.push_back(&item);
  else
    items.push_back(&v);
  return items;
}

} // namespace mhr::verify
