// ResNet-18/34/50/101 as torchvision.models.resnet builds them (torchvision 0.14, "ResNet V1.5": the
// bottleneck's stride sits on its 3x3 conv).
#include "stdlib/networks.h"

#include "support/assert.h"

#include <string>
#include <vector>

namespace mhr::stdlib {

namespace {

struct Layout {
  bool bottleneck;
  std::vector<int> blocks;
};

Layout layoutFor(int depth) {
  switch (depth) {
  case 18:
    return {false, {2, 2, 2, 2}};
  case 34:
    return {false, {3, 4, 6, 3}};
  case 50:
    return {true, {3, 4, 6, 3}};
  case 101:
    return {true, {3, 4, 23, 3}};
  }
  MHR_UNREACHABLE("unsupported ResNet depth");
}

} // namespace

ir::Graph buildResNet(int depth, const ir::NetworkOptions& o) {
  const Layout layout = layoutFor(depth);
  const int64_t expansion = layout.bottleneck ? 4 : 1;
  ir::GraphBuilder b;
  std::string x = b.input("input", o.inChannels);
  int64_t inplanes = scaleChannels(64, o.width);
  x = b.conv("conv1", x, o.inChannels, inplanes, 7, 2, 3);
  x = b.bn("bn1", x, inplanes);
  x = b.act("relu", x, ir::ActKind::Relu);
  x = b.maxPool("maxpool", x, 3, 2, 1);

  const int64_t basePlanes[4] = {64, 128, 256, 512};
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t planes = scaleChannels(basePlanes[stage], o.width);
    for (int i = 0; i < layout.blocks[static_cast<size_t>(stage)]; ++i) {
      const int64_t stride = (i == 0 && stage > 0) ? 2 : 1;
      const std::string p = "layer" + std::to_string(stage + 1) + "." + std::to_string(i) + ".";
      const std::string identity = x;
      const int64_t out = planes * expansion;
      std::string y;
      if (!layout.bottleneck) {
        y = b.conv(p + "conv1", x, inplanes, planes, 3, stride, 1);
        y = b.bn(p + "bn1", y, planes);
        y = b.act(p + "relu", y, ir::ActKind::Relu);
        y = b.conv(p + "conv2", y, planes, planes, 3, 1, 1);
        y = b.bn(p + "bn2", y, planes);
      } else {
        y = b.conv(p + "conv1", x, inplanes, planes, 1);
        y = b.bn(p + "bn1", y, planes);
        y = b.act(p + "relu", y, ir::ActKind::Relu);
        y = b.conv(p + "conv2", y, planes, planes, 3, stride, 1);
        y = b.bn(p + "bn2", y, planes);
        y = b.act(p + "relu_1", y, ir::ActKind::Relu);
        y = b.conv(p + "conv3", y, planes, out, 1);
        y = b.bn(p + "bn3", y, out);
      }
      std::string skip = identity;
      if (stride != 1 || inplanes != out) {
        skip = b.conv(p + "downsample.0", identity, inplanes, out, 1, stride, 0);
        skip = b.bn(p + "downsample.1", skip, out);
      }
      y = b.add(p + "add", y, skip);
      x = b.act(p + (layout.bottleneck ? "relu_2" : "relu_1"), y, ir::ActKind::Relu);
      inplanes = out;
    }
  }
  x = b.adaptiveAvgPool("avgpool", x, 1, 1);
  x = b.flatten("flatten", x);
  x = b.linear("fc", x, inplanes, o.classes);
  return std::move(b).finish(x);
}

} // namespace mhr::stdlib
