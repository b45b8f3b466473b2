#include "tests/ir/reference.h"

#include "compiler/ir/params.h"
#include "support/assert.h"
#include "support/random.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mhr::testref {

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

double& Tensor::at4(int64_t n, int64_t c, int64_t h, int64_t w) {
  return data[static_cast<size_t>(((n * shape[1] + c) * shape[2] + h) * shape[3] + w)];
}
double Tensor::at4(int64_t n, int64_t c, int64_t h, int64_t w) const {
  return data[static_cast<size_t>(((n * shape[1] + c) * shape[2] + h) * shape[3] + w)];
}

namespace {

Tensor zeros(std::vector<int64_t> shape) {
  Tensor t;
  t.shape = std::move(shape);
  t.data.assign(static_cast<size_t>(t.numel()), 0.0);
  return t;
}

double gaussian(support::SplitMix64& rng) {
  const double u1 = std::max(rng.uniform(), 1e-300), u2 = rng.uniform();
  return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

double act(const ir::Activation& a, double x) {
  switch (a.kind) {
  case ir::ActKind::Identity:
    return x;
  case ir::ActKind::Relu:
    return std::max(x, 0.0);
  case ir::ActKind::Relu6:
    return std::min(std::max(x, 0.0), 6.0);
  case ir::ActKind::LeakyRelu:
    return x >= 0 ? x : a.slope * x;
  case ir::ActKind::Hardtanh:
    return std::min(std::max(x, a.minValue), a.maxValue);
  case ir::ActKind::Gelu:
    if (a.tanhApprox) return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  case ir::ActKind::Silu:
    return x / (1 + std::exp(-x));
  case ir::ActKind::Sigmoid:
    return 1 / (1 + std::exp(-x));
  case ir::ActKind::Tanh:
    return std::tanh(x);
  }
  return x;
}

// Padded read with PyTorch's padding modes (index may be outside [0, size)).
bool padIndex(int64_t i, int64_t size, ir::PadMode mode, int64_t& out) {
  if (i >= 0 && i < size) {
    out = i;
    return true;
  }
  switch (mode) {
  case ir::PadMode::Zeros:
    return false;
  case ir::PadMode::Reflect:
    out = i < 0 ? -i : 2 * (size - 1) - i;
    return true;
  case ir::PadMode::Replicate:
    out = std::clamp<int64_t>(i, 0, size - 1);
    return true;
  case ir::PadMode::Circular:
    out = ((i % size) + size) % size;
    return true;
  }
  return false;
}

int64_t convOut(int64_t in, int64_t k, int64_t s, int64_t p0, int64_t p1, int64_t d) {
  return (in + p0 + p1 - d * (k - 1) - 1) / s + 1;
}

int64_t poolOut(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil) {
  int64_t num = in + 2 * p - d * (k - 1) - 1 + (ceil ? s - 1 : 0);
  int64_t out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
  if (ceil && (out - 1) * s >= in + p) --out;
  return out;
}

Tensor conv2d(const ir::Conv2dAttrs& c, const Tensor& x, const Tensor& w, const Tensor* b) {
  const int64_t N = x.shape[0], H = x.shape[2], W = x.shape[3];
  const int64_t OH = convOut(H, c.kernelH, c.strideH, c.padTop, c.padBottom, c.dilationH);
  const int64_t OW = convOut(W, c.kernelW, c.strideW, c.padLeft, c.padRight, c.dilationW);
  Tensor y = zeros({N, c.outChannels, OH, OW});
  const int64_t inPer = c.inChannels / c.groups, outPer = c.outChannels / c.groups;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < c.outChannels; ++o) {
      const int64_t g = o / outPer;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double sum = b ? b->data[static_cast<size_t>(o)] : 0.0;
          for (int64_t ci = 0; ci < inPer; ++ci)
            for (int64_t u = 0; u < c.kernelH; ++u) {
              int64_t ih;
              if (!padIndex(oh * c.strideH + u * c.dilationH - c.padTop, H, c.padMode, ih)) continue;
              for (int64_t v = 0; v < c.kernelW; ++v) {
                int64_t iw;
                if (!padIndex(ow * c.strideW + v * c.dilationW - c.padLeft, W, c.padMode, iw)) continue;
                sum += w.at4(o, ci, u, v) * x.at4(n, g * inPer + ci, ih, iw);
              }
            }
          y.at4(n, o, oh, ow) = sum;
        }
    }
  return y;
}

Tensor pool(const ir::Node& node, const Tensor& x) {
  const ir::Pool2dAttrs& p = node.pool;
  const bool isMax = node.op == ir::OpKind::MaxPool2d;
  const int64_t dh = isMax ? p.dilationH : 1, dw = isMax ? p.dilationW : 1;
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t OH = poolOut(H, p.kernelH, p.strideH, p.padH, dh, p.ceilMode);
  const int64_t OW = poolOut(W, p.kernelW, p.strideW, p.padW, dw, p.ceilMode);
  Tensor y = zeros({N, C, OH, OW});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          if (isMax) {
            double m = -std::numeric_limits<double>::infinity();
            for (int64_t u = 0; u < p.kernelH; ++u)
              for (int64_t v = 0; v < p.kernelW; ++v) {
                const int64_t ih = oh * p.strideH - p.padH + u * dh, iw = ow * p.strideW - p.padW + v * dw;
                if (ih >= 0 && ih < H && iw >= 0 && iw < W) m = std::max(m, x.at4(n, c, ih, iw));
              }
            y.at4(n, c, oh, ow) = m;
          } else {
            int64_t h0 = oh * p.strideH - p.padH, w0 = ow * p.strideW - p.padW;
            int64_t h1 = std::min(h0 + p.kernelH, H + p.padH), w1 = std::min(w0 + p.kernelW, W + p.padW);
            const int64_t poolSize = (h1 - h0) * (w1 - w0);
            h0 = std::max<int64_t>(h0, 0);
            w0 = std::max<int64_t>(w0, 0);
            h1 = std::min(h1, H);
            w1 = std::min(w1, W);
            double sum = 0;
            for (int64_t ih = h0; ih < h1; ++ih)
              for (int64_t iw = w0; iw < w1; ++iw) sum += x.at4(n, c, ih, iw);
            const int64_t div = p.countIncludePad ? poolSize : (h1 - h0) * (w1 - w0);
            y.at4(n, c, oh, ow) = sum / static_cast<double>(div);
          }
        }
  return y;
}

// Adaptive pooling: output cell (oh, ow) covers rows [floor(oh*H/outH), ceil((oh+1)*H/outH)), likewise
// columns.
Tensor adaptivePool(const ir::AdaptivePoolAttrs& a, const Tensor& x, bool isMax) {
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  Tensor y = zeros({N, C, a.outH, a.outW});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t oh = 0; oh < a.outH; ++oh)
        for (int64_t ow = 0; ow < a.outW; ++ow) {
          const int64_t h0 = oh * H / a.outH, h1 = ((oh + 1) * H + a.outH - 1) / a.outH;
          const int64_t w0 = ow * W / a.outW, w1 = ((ow + 1) * W + a.outW - 1) / a.outW;
          double sum = 0, m = -std::numeric_limits<double>::infinity();
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) {
              sum += x.at4(n, c, ih, iw);
              m = std::max(m, x.at4(n, c, ih, iw));
            }
          y.at4(n, c, oh, ow) = isMax ? m : sum / static_cast<double>((h1 - h0) * (w1 - w0));
        }
  return y;
}

// Per-channel parameter lookup: [1] broadcasts.
double perChannel(const Tensor& t, int64_t c) {
  return t.data[t.data.size() == 1 ? 0 : static_cast<size_t>(c)];
}

// Channel index of element i of a tensor (rank 4 or 2).
int64_t channelOf(const Tensor& t, size_t i) {
  if (t.shape.size() == 2) return static_cast<int64_t>(i) % t.shape[1];
  return (static_cast<int64_t>(i) / (t.shape[2] * t.shape[3])) % t.shape[1];
}

} // namespace

Tensor run(const ir::Graph& g, const StateDict& params, const Tensor& input, bool train) {
  std::vector<Tensor> v(g.size());
  auto param = [&](const std::string& name) -> const Tensor& {
    auto it = params.find(name);
    MHR_ASSERT(it != params.end(), ("missing tensor " + name).c_str());
    return it->second;
  };
  for (ir::NodeId id = 0; id < static_cast<ir::NodeId>(g.size()); ++id) {
    const ir::Node& n = g.node(id);
    const ir::IdSpan ins = g.inputsOf(id);
    const Tensor* x = ins.empty() ? nullptr : &v[static_cast<size_t>(ins[0])];
    Tensor y;
    switch (n.op) {
    case ir::OpKind::Input:
      y = input;
      break;
    case ir::OpKind::Conv2d:
      y = conv2d(n.conv, *x, param(n.name + ".weight"), n.conv.bias ? &param(n.name + ".bias") : nullptr);
      break;
    case ir::OpKind::BatchNorm2d: {
      y = *x;
      const int64_t N = x->shape[0], C = x->shape[1], HW = x->shape[2] * x->shape[3];
      for (int64_t c = 0; c < C; ++c) {
        double mean, var;
        if (train || !n.bn.trackRunningStats) {
          double s = 0, s2 = 0;
          for (int64_t k = 0; k < N; ++k)
            for (int64_t i = 0; i < HW; ++i) s += x->data[static_cast<size_t>((k * C + c) * HW + i)];
          mean = s / static_cast<double>(N * HW);
          for (int64_t k = 0; k < N; ++k)
            for (int64_t i = 0; i < HW; ++i) {
              const double d = x->data[static_cast<size_t>((k * C + c) * HW + i)] - mean;
              s2 += d * d;
            }
          var = s2 / static_cast<double>(N * HW);
        } else {
          mean = param(n.name + ".running_mean").data[static_cast<size_t>(c)];
          var = param(n.name + ".running_var").data[static_cast<size_t>(c)];
        }
        const double gamma = n.bn.affine ? param(n.name + ".weight").data[static_cast<size_t>(c)] : 1.0;
        const double beta = n.bn.affine ? param(n.name + ".bias").data[static_cast<size_t>(c)] : 0.0;
        for (int64_t k = 0; k < N; ++k)
          for (int64_t i = 0; i < HW; ++i) {
            double& e = y.data[static_cast<size_t>((k * C + c) * HW + i)];
            e = (e - mean) / std::sqrt(var + n.bn.eps) * gamma + beta;
          }
      }
      break;
    }
    case ir::OpKind::Linear: {
      const Tensor& w = param(n.name + ".weight");
      const int64_t N = x->shape[0], I = n.linear.inFeatures, O = n.linear.outFeatures;
      y = zeros({N, O});
      for (int64_t k = 0; k < N; ++k)
        for (int64_t o = 0; o < O; ++o) {
          double s = n.linear.bias ? param(n.name + ".bias").data[static_cast<size_t>(o)] : 0.0;
          for (int64_t i = 0; i < I; ++i)
            s += w.data[static_cast<size_t>(o * I + i)] * x->data[static_cast<size_t>(k * I + i)];
          y.data[static_cast<size_t>(k * O + o)] = s;
        }
      break;
    }
    case ir::OpKind::Activation:
      y = *x;
      for (double& e : y.data) e = act(n.act, e);
      break;
    case ir::OpKind::PRelu: {
      y = *x;
      const Tensor& w = param(n.name + ".weight");
      for (size_t i = 0; i < y.data.size(); ++i)
        if (y.data[i] < 0) y.data[i] *= perChannel(w, channelOf(y, i));
      break;
    }
    case ir::OpKind::ParamActivation: {
      y = *x;
      const Tensor& a = param(n.name + ".a");
      for (size_t i = 0; i < y.data.size(); ++i) {
        const double s = perChannel(a, channelOf(y, i));
        y.data[i] = (1 - s) * act(n.pact.inner, y.data[i]) + s * y.data[i];
      }
      break;
    }
    case ir::OpKind::MaxPool2d:
    case ir::OpKind::AvgPool2d:
      y = pool(n, *x);
      break;
    case ir::OpKind::AdaptiveAvgPool2d:
      y = adaptivePool(n.adaptive, *x, false);
      break;
    case ir::OpKind::AdaptiveMaxPool2d:
      y = adaptivePool(n.adaptive, *x, true);
      break;
    case ir::OpKind::Add: {
      y = *x;
      const Tensor& b = v[static_cast<size_t>(ins[1])];
      for (size_t i = 0; i < y.data.size(); ++i) y.data[i] += b.data[i];
      break;
    }
    case ir::OpKind::Mul: {
      const Tensor& a = *x;
      const Tensor& b = v[static_cast<size_t>(ins[1])];
      const Tensor& big = a.numel() >= b.numel() ? a : b;
      const Tensor& small = a.numel() >= b.numel() ? b : a;
      y = big;
      for (int64_t k = 0; k < big.shape[0]; ++k)
        for (int64_t c = 0; c < big.shape[1]; ++c)
          for (int64_t h = 0; h < big.shape[2]; ++h)
            for (int64_t w = 0; w < big.shape[3]; ++w)
              y.at4(k, c, h, w) *= small.at4(small.shape[0] == 1 ? 0 : k, small.shape[1] == 1 ? 0 : c,
                                             small.shape[2] == 1 ? 0 : h, small.shape[3] == 1 ? 0 : w);
      break;
    }
    case ir::OpKind::Concat: {
      int64_t C = 0;
      for (ir::NodeId in : ins) C += v[static_cast<size_t>(in)].shape[1];
      std::vector<int64_t> shape = x->shape;
      shape[1] = C;
      y = zeros(shape);
      const int64_t inner = shape.size() == 4 ? shape[2] * shape[3] : 1;
      int64_t at = 0;
      for (ir::NodeId in : ins) {
        const Tensor& t = v[static_cast<size_t>(in)];
        for (int64_t k = 0; k < shape[0]; ++k)
          for (int64_t c = 0; c < t.shape[1]; ++c)
            for (int64_t i = 0; i < inner; ++i)
              y.data[static_cast<size_t>((k * C + at + c) * inner + i)] =
                  t.data[static_cast<size_t>((k * t.shape[1] + c) * inner + i)];
        at += t.shape[1];
      }
      break;
    }
    case ir::OpKind::Flatten:
      y = *x;
      y.shape = {x->shape[0], x->numel() / x->shape[0]};
      break;
    case ir::OpKind::Dropout:
    case ir::OpKind::StochasticDepth:
      y = *x;
      break;
    }
    v[static_cast<size_t>(id)] = std::move(y);
  }
  return v[static_cast<size_t>(g.outputId())];
}

StateDict randomStateDict(const ir::Graph& g, uint64_t seed) {
  support::SplitMix64 rng(seed);
  StateDict sd;
  for (const ir::TensorSpec& t : ir::stateDictSpec(g)) {
    Tensor x = zeros(t.shape);
    const ir::Node& n = *g.lookup(t.node);
    double lo = -1, hi = 1;
    if (t.field == "weight" && (n.op == ir::OpKind::Conv2d || n.op == ir::OpKind::Linear)) {
      const double fanIn = static_cast<double>(t.numel() / t.shape[0]);
      lo = -1.7 / std::sqrt(fanIn);
      hi = -lo;
    } else if (t.field == "weight" && n.op == ir::OpKind::BatchNorm2d)
      lo = 0.5, hi = 1.5;
    else if (t.field == "running_var")
      lo = 0.5, hi = 1.5;
    else if (t.field == "running_mean" || t.field == "bias")
      lo = -0.5, hi = 0.5;
    else if (n.op == ir::OpKind::PRelu)
      lo = 0.05, hi = 0.5;
    else if (t.field == "a")
      lo = 0.1, hi = 0.9;
    if (t.dtype == ir::DType::Float32)
      for (double& e : x.data) e = rng.uniform(lo, hi);
    sd[t.name] = std::move(x);
  }
  return sd;
}

Tensor randomInput(int64_t n, int64_t c, int64_t h, int64_t w, uint64_t seed) {
  support::SplitMix64 rng(seed);
  Tensor x = zeros({n, c, h, w});
  for (double& e : x.data) e = gaussian(rng);
  return x;
}

namespace {

Tensor makeInit(const plan::TensorInit& t, const StateDict& parent, support::SplitMix64& rng) {
  Tensor x = zeros(t.shape);
  switch (t.kind) {
  case plan::TensorInit::Kind::Zeros:
    break;
  case plan::TensorInit::Kind::Fill:
    for (double& e : x.data) e = t.value;
    break;
  case plan::TensorInit::Kind::IdentityConv: {
    const int64_t O = t.shape[0], I = t.shape[1];
    for (int64_t o = 0; o < O; ++o) x.at4(o, o % I, (t.shape[2] - 1) / 2, (t.shape[3] - 1) / 2) = 1.0;
    break;
  }
  case plan::TensorInit::Kind::Identity:
    for (int64_t i = 0; i < t.shape[0]; ++i) x.data[static_cast<size_t>(i * t.shape[1] + i)] = 1.0;
    break;
  case plan::TensorInit::Kind::Uniform:
    for (double& e : x.data) e = rng.uniform(t.low, t.high);
    break;
  case plan::TensorInit::Kind::Copy: {
    const Tensor& src = parent.at(t.source);
    for (size_t i = 0; i < x.data.size(); ++i) x.data[i] = src.data.size() == 1 ? src.data[0] : src.data[i];
    break;
  }
  }
  return x;
}

// One TensorEdit (network_plan.h): runs of `old` channels at `offsets` along `axis` become `new` runs.
Tensor applyEdit(const Tensor& in, const plan::TensorEdit& e, const plan::WidenRecipe& w) {
  const size_t axis = static_cast<size_t>(e.axis);
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < axis; ++d) outer *= in.shape[d];
  for (size_t d = axis + 1; d < in.shape.size(); ++d) inner *= in.shape[d];
  const int64_t oldLen = in.shape[axis];
  // The new index list along the axis: (source element, scale).
  std::vector<std::pair<int64_t, double>> src;
  int64_t at = 0;
  for (int64_t off : e.offsets) {
    for (; at < off * e.block; ++at) src.push_back({at, 1.0});
    for (int64_t j = 0; j < w.newChannels; ++j)
      for (int64_t k = 0; k < e.block; ++k)
        src.push_back({(off + w.mapping[static_cast<size_t>(j)]) * e.block + k,
                       e.scaled ? w.scale[static_cast<size_t>(j)] : 1.0});
    at = (off + w.oldChannels) * e.block;
  }
  for (; at < oldLen; ++at) src.push_back({at, 1.0});
  Tensor out;
  out.shape = in.shape;
  out.shape[axis] = static_cast<int64_t>(src.size());
  out.data.assign(static_cast<size_t>(out.numel()), 0.0);
  const int64_t newLen = out.shape[axis];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t a = 0; a < newLen; ++a)
      for (int64_t i = 0; i < inner; ++i)
        out.data[static_cast<size_t>((o * newLen + a) * inner + i)] =
            in.data[static_cast<size_t>((o * oldLen + src[static_cast<size_t>(a)].first) * inner + i)] *
            src[static_cast<size_t>(a)].second;
  return out;
}

} // namespace

StateDict applyRecipe(const StateDict& parent, const plan::MorphRecipe& r, uint64_t seed) {
  support::SplitMix64 rng(seed);
  StateDict sd = parent;
  if (!r.applied) return sd;
  for (const std::string& name : r.removed) sd.erase(name);
  for (const plan::TensorInit& t : r.created) sd[t.name] = makeInit(t, parent, rng);
  if (r.kind == plan::MorphRecipe::Kind::Upscale) {
    const Tensor& w = parent.at(r.upscale.conv + ".weight");
    const int64_t f = r.upscale.factor;
    Tensor x = zeros({w.shape[0], w.shape[1], w.shape[2] * f, w.shape[3] * f});
    for (int64_t o = 0; o < w.shape[0]; ++o)
      for (int64_t c = 0; c < w.shape[1]; ++c)
        for (int64_t u = 0; u < x.shape[2]; ++u)
          for (int64_t v = 0; v < x.shape[3]; ++v)
            x.at4(o, c, u, v) = w.at4(o, c, u / f, v / f) / double(f * f);
    sd[r.upscale.conv + ".weight"] = x;
  }
  if (r.kind == plan::MorphRecipe::Kind::GrowKernel) {
    const plan::GrowKernelRecipe& g = r.grow;
    const Tensor& w = parent.at(g.conv + ".weight");
    Tensor x = zeros({w.shape[0], w.shape[1], g.newKH, g.newKW});
    for (int64_t o = 0; o < w.shape[0]; ++o)
      for (int64_t c = 0; c < w.shape[1]; ++c)
        for (int64_t u = 0; u < g.oldKH; ++u)
          for (int64_t v = 0; v < g.oldKW; ++v) x.at4(o, c, u + g.top, v + g.left) = w.at4(o, c, u, v);
    sd[g.conv + ".weight"] = x;
  }
  if (r.kind == plan::MorphRecipe::Kind::Widen) {
    const plan::WidenRecipe& w = r.widen;
    for (size_t i = 0; i < w.edits.size(); ++i) {
      const plan::TensorEdit& e = w.edits[i];
      Tensor edited = applyEdit(sd.at(e.tensor), e, w);
      if (w.noiseSigma > 0 && e.role == plan::TensorEdit::Role::Consumer) {
        const Tensor& old = parent.at(e.tensor);
        double mean = 0, sq = 0;
        for (double d : old.data) mean += d;
        mean /= static_cast<double>(old.data.size());
        for (double d : old.data) sq += (d - mean) * (d - mean);
        const double sd0 = std::sqrt(sq / static_cast<double>(old.data.size()));
        support::SplitMix64 nrng(w.noiseSeed + i);
        const int64_t rows = edited.shape[0], cols = edited.numel() / rows, inner = cols / edited.shape[1];
        for (int64_t o = 0; o < rows; ++o)
          for (int64_t off : e.offsets)
            for (int64_t j = w.oldChannels; j < w.newChannels; ++j)
              for (int64_t k = 0; k < e.block * inner; ++k)
                edited.data[static_cast<size_t>(o * cols + ((off + j) * e.block) * inner + k)] +=
                    w.noiseSigma * sd0 * gaussian(nrng);
      }
      sd[e.tensor] = std::move(edited);
    }
  }
  return sd;
}

Tensor boxDownsample(const Tensor& x, int64_t r) {
  Tensor y = zeros({x.shape[0], x.shape[1], x.shape[2] / r, x.shape[3] / r});
  for (int64_t n = 0; n < y.shape[0]; ++n)
    for (int64_t c = 0; c < y.shape[1]; ++c)
      for (int64_t h = 0; h < y.shape[2]; ++h)
        for (int64_t w = 0; w < y.shape[3]; ++w) {
          double s = 0;
          for (int64_t a = 0; a < r; ++a)
            for (int64_t b = 0; b < r; ++b) s += x.at4(n, c, h * r + a, w * r + b);
          y.at4(n, c, h, w) = s / double(r * r);
        }
  return y;
}

double maxAbsDiff(const Tensor& a, const Tensor& b) {
  if (a.shape != b.shape) return std::numeric_limits<double>::infinity();
  double m = 0;
  for (size_t i = 0; i < a.data.size(); ++i) m = std::max(m, std::abs(a.data[i] - b.data[i]));
  return m;
}

double maxAbs(const Tensor& a) {
  double m = 0;
  for (double d : a.data) m = std::max(m, std::abs(d));
  return m;
}

} // namespace mhr::testref
