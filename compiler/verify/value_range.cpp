#include "compiler/verify/value_range.h"

#include "support/strings.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mhr::verify {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Global minima (rounded outward): gelu(x) >= -0.1700 (at x ~ -0.7518), silu(x) >= -0.2785 (at x ~ -1.2785).
constexpr double kGeluMin = -0.17004;
constexpr double kSiluMin = -0.27847;

Interval hull(const Interval& a, const Interval& b) {
  return {std::min(a.lo, b.lo), std::max(a.hi, b.hi)};
}

// Product with the convention 0 * inf = 0 (a bound, not a value).
double mulBound(double a, double b) {
  return (a == 0 || b == 0) ? 0.0 : a * b;
}

Interval mul(const Interval& a, const Interval& b) {
  const double c[4] = {mulBound(a.lo, b.lo), mulBound(a.lo, b.hi), mulBound(a.hi, b.lo),
                       mulBound(a.hi, b.hi)};
  return {*std::min_element(c, c + 4), *std::max_element(c, c + 4)};
}

double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

// A train-mode scaling by 1/(1-p) or a zeroing: hull of 0 and the scaled interval.
Interval dropLike(const Interval& x, double p) {
  const double s = p < 1 ? 1.0 / (1.0 - p) : 1.0;
  return hull({0, 0}, {mulBound(x.lo, s), mulBound(x.hi, s)});
}

} // namespace

std::string Interval::str() const {
  auto b = [](double v) {
    if (v == kInf) return std::string("inf");
    if (v == -kInf) return std::string("-inf");
    return support::formatNumber(v);
  };
  return std::string(lo == -kInf ? "(" : "[") + b(lo) + ", " + b(hi) + (hi == kInf ? ")" : "]");
}

Interval activationRange(const ir::Activation& a, const Interval& x) {
  switch (a.kind) {
  case ir::ActKind::Identity:
    return x;
  case ir::ActKind::Relu:
    return {std::max(x.lo, 0.0), std::max(x.hi, 0.0)};
  case ir::ActKind::Relu6:
    return {std::clamp(x.lo, 0.0, 6.0), std::clamp(x.hi, 0.0, 6.0)};
  case ir::ActKind::Hardtanh:
    return {std::clamp(x.lo, a.minValue, a.maxValue), std::clamp(x.hi, a.minValue, a.maxValue)};
  case ir::ActKind::LeakyRelu: {
    if (a.slope < 0) return {};
    auto f = [&](double v) { return v >= 0 ? v : mulBound(v, a.slope); };
    return {f(x.lo), f(x.hi)};
  }
  case ir::ActKind::Gelu:
    return {x.lo >= 0 ? 0.0 : kGeluMin, std::max(x.hi, 0.0)};
  case ir::ActKind::Silu:
    return {x.lo >= 0 ? 0.0 : kSiluMin, std::max(x.hi, 0.0)};
  case ir::ActKind::Sigmoid:
    return {sigmoid(x.lo), sigmoid(x.hi)};
  case ir::ActKind::Tanh:
    return {std::tanh(x.lo), std::tanh(x.hi)};
  }
  return {};
}

bool activationIsIdentityOn(const ir::Activation& a, const Interval& x) {
  switch (a.kind) {
  case ir::ActKind::Identity:
    return true;
  case ir::ActKind::Relu:
    return x.lo >= 0;
  case ir::ActKind::Relu6:
    return x.within(0, 6);
  case ir::ActKind::Hardtanh:
    return x.within(a.minValue, a.maxValue);
  case ir::ActKind::LeakyRelu:
    return x.lo >= 0 || a.slope == 1.0;
  default:
    return false; // gelu, silu, sigmoid, tanh equal x at isolated points only
  }
}

bool activationFixesZero(const ir::Activation& a) {
  switch (a.kind) {
  case ir::ActKind::Sigmoid:
    return false; // sigmoid(0) = 0.5
  case ir::ActKind::Hardtanh:
    return a.minValue <= 0 && a.maxValue >= 0;
  default:
    return true;
  }
}

std::vector<Interval> valueRanges(const ir::Graph& g) {
  std::vector<Interval> r(g.size());
  for (ir::NodeId id = 0; id < static_cast<ir::NodeId>(g.size()); ++id) {
    const ir::Node& n = g.node(id);
    const ir::IdSpan ins = g.inputsOf(id);
    const Interval x = ins.empty() ? Interval{} : r[static_cast<size_t>(ins[0])];
    Interval out;
    switch (n.op) {
    case ir::OpKind::Input:
    case ir::OpKind::Conv2d:
    case ir::OpKind::Linear:
    case ir::OpKind::BatchNorm2d:
      out = Interval{};
      break;
    case ir::OpKind::Activation:
      out = activationRange(n.act, x);
      break;
    case ir::OpKind::PRelu:
    case ir::OpKind::ParamActivation: {
      // A learned slope: only the identity part is known. On non-negative inputs p(ACT) = x when ACT is the
      // identity there, and prelu = x always.
      const bool identity = n.op == ir::OpKind::PRelu ? x.lo >= 0 : activationIsIdentityOn(n.pact.inner, x);
      out = identity ? x : Interval{};
      break;
    }
    case ir::OpKind::MaxPool2d:
      out = x;
      break; // padding is -inf: only input values are selected
    case ir::OpKind::AvgPool2d:
      out = (n.pool.padH > 0 || n.pool.padW > 0) && n.pool.countIncludePad ? hull(x, {0, 0}) : x;
      break;
    case ir::OpKind::AdaptiveAvgPool2d:
    case ir::OpKind::AdaptiveMaxPool2d:
    case ir::OpKind::Flatten:
      out = x;
      break;
    case ir::OpKind::Dropout:
      out = dropLike(x, n.dropout.p);
      break;
    case ir::OpKind::StochasticDepth:
      out = dropLike(x, n.sd.p);
      break;
    case ir::OpKind::Add: {
      const Interval y = r[static_cast<size_t>(ins[1])];
      out = {x.lo + y.lo, x.hi + y.hi};
      if (std::isnan(out.lo)) out.lo = -kInf;
      if (std::isnan(out.hi)) out.hi = kInf;
      break;
    }
    case ir::OpKind::Mul:
      out = mul(x, r[static_cast<size_t>(ins[1])]);
      break;
    case ir::OpKind::Concat:
      out = x;
      for (ir::NodeId in : ins) out = hull(out, r[static_cast<size_t>(in)]);
      break;
    }
    r[static_cast<size_t>(id)] = out;
  }
  return r;
}

} // namespace mhr::verify
