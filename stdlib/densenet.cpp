// DenseNet-121 as torchvision.models.densenet builds it (growth 32, blocks 6-12-24-16, 64 initial features,
// bottleneck 4 x growth). Each dense layer reads the concatenation of the block input and every earlier
// layer's new features; the block's output is the concatenation of all of them.
#include "stdlib/networks.h"

#include <string>
#include <vector>

namespace mhr::stdlib {

ir::Graph buildDenseNet121(const ir::NetworkOptions& o) {
  const int64_t growth = scaleChannels(32, o.width);
  const int64_t bottleneck = 4 * growth;
  const int blockConfig[4] = {6, 12, 24, 16};
  const double dropRate = o.dropout.value_or(0.0);

  ir::GraphBuilder b;
  std::string x = b.input("input", o.inChannels);
  int64_t features = scaleChannels(64, o.width);
  x = b.conv("features.conv0", x, o.inChannels, features, 7, 2, 3);
  x = b.bn("features.norm0", x, features);
  x = b.act("features.relu0", x, ir::ActKind::Relu);
  x = b.maxPool("features.pool0", x, 3, 2, 1);

  for (int block = 0; block < 4; ++block) {
    const std::string bp = "features.denseblock" + std::to_string(block + 1) + ".";
    std::vector<std::string> parts = {x};
    for (int l = 0; l < blockConfig[block]; ++l) {
      const std::string lp = bp + "denselayer" + std::to_string(l + 1) + ".";
      const int64_t in = features + l * growth;
      std::string y = parts.size() == 1 ? parts[0] : b.concat(lp + "cat", parts);
      y = b.bn(lp + "norm1", y, in);
      y = b.act(lp + "relu1", y, ir::ActKind::Relu);
      y = b.conv(lp + "conv1", y, in, bottleneck, 1);
      y = b.bn(lp + "norm2", y, bottleneck);
      y = b.act(lp + "relu2", y, ir::ActKind::Relu);
      y = b.conv(lp + "conv2", y, bottleneck, growth, 3, 1, 1);
      if (dropRate > 0) y = b.dropout(lp + "dropout", y, dropRate);
      parts.push_back(y);
    }
    x = b.concat(bp + "cat", parts);
    features += blockConfig[block] * growth;
    if (block != 3) {
      const std::string tp = "features.transition" + std::to_string(block + 1) + ".";
      x = b.bn(tp + "norm", x, features);
      x = b.act(tp + "relu", x, ir::ActKind::Relu);
      x = b.conv(tp + "conv", x, features, features / 2, 1);
      x = b.avgPool(tp + "pool", x, 2, 2);
      features /= 2;
    }
  }
  x = b.bn("features.norm5", x, features);
  x = b.act("relu", x, ir::ActKind::Relu);
  x = b.adaptiveAvgPool("avgpool", x, 1, 1);
  x = b.flatten("flatten", x);
  x = b.linear("classifier", x, features, o.classes);
  return std::move(b).finish(x);
}

} // namespace mhr::stdlib
