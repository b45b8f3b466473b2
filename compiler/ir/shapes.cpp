#include "compiler/ir/shapes.h"

#include "support/assert.h"

#include <fmt/format.h>

namespace mhr::ir {

bool TensorShape::operator==(const TensorShape& o) const {
  if (rank != o.rank) return false;
  return rank == 4 ? (n == o.n && c == o.c && h == o.h && w == o.w) : (n == o.n && c == o.c);
}

std::string TensorShape::str() const {
  return rank == 4 ? fmt::format("[{}, {}, {}, {}]", n, c, h, w) : fmt::format("[{}, {}]", n, c);
}

namespace {

// Floor division (PyTorch's div_rtn): rounds toward negative infinity.
int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::string hw(int64_t h, int64_t w) {
  return fmt::format("{}x{}", h, w);
}

} // namespace

int64_t convOutputSize(int64_t in, int64_t kernel, int64_t stride, int64_t padBefore, int64_t padAfter,
                       int64_t dilation) {
  const int64_t span = dilation * (kernel - 1) + 1;
  const int64_t padded = in + padBefore + padAfter;
  if (padded < span || stride < 1) return 0;
  return floorDiv(padded - span, stride) + 1;
}

int64_t poolOutputSize(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation,
                       bool ceilMode) {
  if (stride < 1) return 0;
  int64_t out =
      floorDiv(in + 2 * pad - dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0), stride) + 1;
  // PyTorch: with ceil_mode the last window must start inside the input or its left padding.
  if (ceilMode && (out - 1) * stride >= in + pad) --out;
  return out;
}

ShapeResult inferShapes(const Graph& graph, int64_t batch, int64_t height, int64_t width) {
  ShapeResult r;
  r.shapes.resize(graph.size());
  auto fail = [&](NodeId id, std::string message) {
    r.error = ShapeError{id, graph.node(id).name + ": " + std::move(message)};
    return r;
  };
  for (NodeId id = 0; id < static_cast<NodeId>(graph.size()); ++id) {
    const Node& n = graph.node(id);
    const ir::IdSpan ins = graph.inputsOf(id);
    TensorShape out;
    const TensorShape x = ins.empty() ? TensorShape{} : r.shapes[static_cast<size_t>(ins[0])];
    auto need4 = [&]() -> bool { return x.rank == 4; };
    switch (n.op) {
    case OpKind::Input:
      if (height < 1 || width < 1)
        return fail(id, fmt::format("input size {} must be positive", hw(height, width)));
      out = TensorShape{4, batch, n.input.channels, height, width};
      break;
    case OpKind::Conv2d: {
      const Conv2dAttrs& c = n.conv;
      if (!need4()) return fail(id, fmt::format("conv2d needs an NCHW input, got {}", x.str()));
      if (x.c != c.inChannels)
        return fail(id, fmt::format("expects {} input channels, gets {}", c.inChannels, x.c));
      if (c.padMode == PadMode::Reflect &&
          (c.padTop >= x.h || c.padBottom >= x.h || c.padLeft >= x.w || c.padRight >= x.w))
        return fail(id, fmt::format("reflect padding ({}, {}, {}, {}) must be smaller than the input {}",
                                    c.padTop, c.padBottom, c.padLeft, c.padRight, hw(x.h, x.w)));
      if (c.padMode == PadMode::Circular &&
          (c.padTop > x.h || c.padBottom > x.h || c.padLeft > x.w || c.padRight > x.w))
        return fail(id, fmt::format("circular padding ({}, {}, {}, {}) must not exceed the input {}",
                                    c.padTop, c.padBottom, c.padLeft, c.padRight, hw(x.h, x.w)));
      const int64_t oh = convOutputSize(x.h, c.kernelH, c.strideH, c.padTop, c.padBottom, c.dilationH);
      const int64_t ow = convOutputSize(x.w, c.kernelW, c.strideW, c.padLeft, c.padRight, c.dilationW);
      if (oh < 1 || ow < 1)
        return fail(id, fmt::format("input {} is too small for kernel {} (dilation {}, padding {}+{}, {}+{})",
                                    hw(x.h, x.w), hw(c.kernelH, c.kernelW), hw(c.dilationH, c.dilationW),
                                    c.padTop, c.padBottom, c.padLeft, c.padRight));
      out = TensorShape{4, x.n, c.outChannels, oh, ow};
      break;
    }
    case OpKind::BatchNorm2d:
      if (!need4()) return fail(id, fmt::format("batch_norm2d needs an NCHW input, got {}", x.str()));
      if (x.c != n.bn.numFeatures)
        return fail(id, fmt::format("expects {} channels, gets {}", n.bn.numFeatures, x.c));
      out = x;
      break;
    case OpKind::Linear:
      if (x.rank != 2)
        return fail(id, fmt::format("linear needs a flattened [N, features] input, got {}", x.str()));
      if (x.c != n.linear.inFeatures)
        return fail(id, fmt::format("expects {} input features, gets {}", n.linear.inFeatures, x.c));
      out = TensorShape{2, x.n, n.linear.outFeatures, 1, 1};
      break;
    case OpKind::Activation:
    case OpKind::Dropout:
    case OpKind::StochasticDepth:
      out = x;
      break;
    case OpKind::PRelu:
      if (n.prelu.numParameters != 1 && n.prelu.numParameters != x.c)
        return fail(id, fmt::format("has {} slopes for {} channels", n.prelu.numParameters, x.c));
      out = x;
      break;
    case OpKind::ParamActivation:
      if (n.pact.channels != x.c)
        return fail(id, fmt::format("has {} slopes for {} channels", n.pact.channels, x.c));
      out = x;
      break;
    case OpKind::MaxPool2d:
    case OpKind::AvgPool2d: {
      const Pool2dAttrs& p = n.pool;
      if (!need4()) return fail(id, fmt::format("{} needs an NCHW input, got {}", opName(n.op), x.str()));
      const bool isMax = n.op == OpKind::MaxPool2d;
      const int64_t dh = isMax ? p.dilationH : 1, dw = isMax ? p.dilationW : 1;
      const int64_t effH = isMax ? ((p.kernelH - 1) * dh + 1) / 2 : p.kernelH / 2;
      const int64_t effW = isMax ? ((p.kernelW - 1) * dw + 1) / 2 : p.kernelW / 2;
      if (p.padH > effH || p.padW > effW)
        return fail(id, fmt::format("padding {} must be at most half the kernel {}", hw(p.padH, p.padW),
                                    hw(p.kernelH, p.kernelW)));
      const int64_t oh = poolOutputSize(x.h, p.kernelH, p.strideH, p.padH, dh, p.ceilMode);
      const int64_t ow = poolOutputSize(x.w, p.kernelW, p.strideW, p.padW, dw, p.ceilMode);
      if (oh < 1 || ow < 1)
        return fail(id, fmt::format("input {} is too small for a {} pool with stride {} and padding {}",
                                    hw(x.h, x.w), hw(p.kernelH, p.kernelW), hw(p.strideH, p.strideW),
                                    hw(p.padH, p.padW)));
      out = TensorShape{4, x.n, x.c, oh, ow};
      break;
    }
    case OpKind::AdaptiveAvgPool2d:
    case OpKind::AdaptiveMaxPool2d:
      if (!need4()) return fail(id, fmt::format("{} needs an NCHW input, got {}", opName(n.op), x.str()));
      out = TensorShape{4, x.n, x.c, n.adaptive.outH, n.adaptive.outW};
      break;
    case OpKind::Add: {
      const TensorShape y = r.shapes[static_cast<size_t>(ins[1])];
      if (x != y)
        return fail(id, fmt::format("adds tensors of different shapes {} and {}", x.str(), y.str()));
      out = x;
      break;
    }
    case OpKind::Mul: {
      const TensorShape y = r.shapes[static_cast<size_t>(ins[1])];
      if (x.rank != y.rank) return fail(id, fmt::format("multiplies {} by {}", x.str(), y.str()));
      auto bcast = [](int64_t a, int64_t b, int64_t& o) {
        if (a == b || b == 1)
          o = a;
        else if (a == 1)
          o = b;
        else
          return false;
        return true;
      };
      out.rank = x.rank;
      if (!bcast(x.n, y.n, out.n) || !bcast(x.c, y.c, out.c) || !bcast(x.h, y.h, out.h) ||
          !bcast(x.w, y.w, out.w))
        return fail(id, fmt::format("cannot broadcast {} with {}", x.str(), y.str()));
      break;
    }
    case OpKind::Concat: {
      out = x;
      out.c = 0;
      for (NodeId in : ins) {
        const TensorShape& y = r.shapes[static_cast<size_t>(in)];
        if (y.rank != x.rank || y.n != x.n || (x.rank == 4 && (y.h != x.h || y.w != x.w)))
          return fail(id, fmt::format("concatenates {} with {}: only channels may differ", x.str(), y.str()));
        out.c += y.c;
      }
      break;
    }
    case OpKind::Flatten:
      out = x.rank == 4 ? TensorShape{2, x.n, x.c * x.h * x.w, 1, 1} : x;
      break;
    }
    r.shapes[static_cast<size_t>(id)] = out;
  }
  return r;
}

std::optional<std::vector<TensorShape>> checkShapes(const Graph& graph, int64_t height, int64_t width,
                                                    diag::DiagnosticEngine& diags, diag::SourceRange where,
                                                    const std::string& context) {
  ShapeResult r = inferShapes(graph, 1, height, width);
  if (r.ok()) return std::move(r.shapes);
  const Node& n = graph.node(r.error->node);
  const std::string message = context.empty() ? r.error->message : context + ": " + r.error->message;
  if (where.valid()) {
    auto d = diags.error("E0304", where, message);
    if (n.origin.valid()) d.note(n.origin, "layer " + n.name + " was made here");
  } else {
    diags.error("E0304", n.origin, message);
  }
  return std::nullopt;
}

} // namespace mhr::ir
