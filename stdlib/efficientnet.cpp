// EfficientNet-B0 as torchvision.models.efficientnet builds it (torchvision 0.14): a 3x3 stem, seven stages
// of MBConv blocks (optional 1x1 expansion, depthwise conv, squeeze-excitation, 1x1 projection; a residual
// add behind stochastic depth when stride is 1 and the channel count is kept), a 1x1 head conv, pooling,
// dropout and the classifier. All activations are SiLU; squeeze-excitation gates with a sigmoid.
#include "stdlib/networks.h"

#include <cmath>
#include <string>

namespace mhr::stdlib {

namespace {

struct StageConfig {
  double expandRatio;
  int64_t kernel, stride, inChannels, outChannels;
  int layers;
};

// torchvision's _efficientnet_conf("efficientnet_b0"): width_mult = depth_mult = 1.
const StageConfig kStages[] = {
    {1, 3, 1, 32, 16, 1},  {6, 3, 2, 16, 24, 2},   {6, 5, 2, 24, 40, 2},   {6, 3, 2, 40, 80, 3},
    {6, 5, 1, 80, 112, 3}, {6, 5, 2, 112, 192, 4}, {6, 3, 1, 192, 320, 1},
};

// Conv2dNormActivation: conv (no bias) + batch norm + optional SiLU, named p.0, p.1, p.2.
std::string convBnAct(ir::GraphBuilder& b, const std::string& p, const std::string& x, int64_t in,
                      int64_t out, int64_t kernel, int64_t stride, int64_t groups, bool act) {
  std::string y = b.conv(p + ".0", x, in, out, kernel, stride, (kernel - 1) / 2, groups);
  y = b.bn(p + ".1", y, out);
  if (act) y = b.act(p + ".2", y, ir::ActKind::Silu);
  return y;
}

} // namespace

ir::Graph buildEfficientNetB0(const ir::NetworkOptions& o) {
  const double stochasticDepthProb = 0.2;
  int totalBlocks = 0;
  for (const StageConfig& s : kStages) totalBlocks += s.layers;

  ir::GraphBuilder b;
  std::string x = b.input("input", o.inChannels);
  const int64_t stem = scaleChannels(kStages[0].inChannels, o.width);
  x = convBnAct(b, "features.0", x, o.inChannels, stem, 3, 2, 1, true);

  int blockId = 0;
  for (size_t s = 0; s < sizeof kStages / sizeof kStages[0]; ++s) {
    const StageConfig& cfg = kStages[s];
    for (int i = 0; i < cfg.layers; ++i) {
      const std::string p = "features." + std::to_string(s + 1) + "." + std::to_string(i);
      const int64_t in = scaleChannels(i == 0 ? cfg.inChannels : cfg.outChannels, o.width);
      const int64_t out = scaleChannels(cfg.outChannels, o.width);
      const int64_t stride = i == 0 ? cfg.stride : 1;
      const int64_t expanded =
          static_cast<int64_t>(std::floor(static_cast<double>(in) * cfg.expandRatio + 0.5));
      const int64_t squeeze = std::max<int64_t>(1, in / 4);
      const double sdProb = stochasticDepthProb * static_cast<double>(blockId) / totalBlocks;
      ++blockId;

      int k = 0;
      std::string y = x;
      if (expanded != in)
        y = convBnAct(b, p + ".block." + std::to_string(k++), y, in, expanded, 1, 1, 1, true);
      y = convBnAct(b, p + ".block." + std::to_string(k++), y, expanded, expanded, cfg.kernel, stride,
                    expanded, true);
      // Squeeze-excitation: scale = sigmoid(fc2(silu(fc1(avgpool(y))))); y * scale.
      const std::string se = p + ".block." + std::to_string(k++);
      std::string g = b.adaptiveAvgPool(se + ".avgpool", y, 1, 1);
      g = b.conv(se + ".fc1", g, expanded, squeeze, 1, 1, 0, 1, true);
      g = b.act(se + ".activation", g, ir::ActKind::Silu);
      g = b.conv(se + ".fc2", g, squeeze, expanded, 1, 1, 0, 1, true);
      g = b.act(se + ".scale_activation", g, ir::ActKind::Sigmoid);
      y = b.mul(se + ".mul", g, y);
      y = convBnAct(b, p + ".block." + std::to_string(k++), y, expanded, out, 1, 1, 1, false);
      if (stride == 1 && in == out) {
        y = b.stochasticDepth(p + ".stochastic_depth", y, sdProb, ir::StochasticDepthMode::Row);
        y = b.add(p + ".add", y, x);
      }
      x = y;
    }
  }
  const int64_t lastIn = scaleChannels(kStages[6].outChannels, o.width);
  const int64_t last = 4 * lastIn;
  x = convBnAct(b, "features.8", x, lastIn, last, 1, 1, 1, true);
  x = b.adaptiveAvgPool("avgpool", x, 1, 1);
  x = b.flatten("flatten", x);
  x = b.dropout("classifier.0", x, o.dropout.value_or(0.2));
  x = b.linear("classifier.1", x, last, o.classes);
  return std::move(b).finish(x);
}

} // namespace mhr::stdlib
