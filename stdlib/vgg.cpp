// VGG-11 and VGG-16 with batch norm as torchvision.models.vgg builds them (configurations "A" and "D"):
// 3x3 convs (with bias) + batch norm + ReLU, 2x2 max pools, adaptive pooling to 7x7 and a three-layer
// classifier with dropout.
#include "stdlib/networks.h"

#include "support/assert.h"

#include <string>
#include <vector>

namespace mhr::stdlib {

ir::Graph buildVgg(int depth, const ir::NetworkOptions& o) {
  constexpr int M = 0; // a max pool
  std::vector<int> cfg;
  if (depth == 11)
    cfg = {64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M};
  else if (depth == 16)
    cfg = {64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M};
  else
    MHR_UNREACHABLE("unsupported VGG depth");

  ir::GraphBuilder b;
  std::string x = b.input("input", o.inChannels);
  int64_t channels = o.inChannels;
  int index = 0;
  auto name = [&]() { return "features." + std::to_string(index++); };
  for (int v : cfg) {
    if (v == M) {
      x = b.maxPool(name(), x, 2, 2);
      continue;
    }
    const int64_t out = scaleChannels(v, o.width);
    x = b.conv(name(), x, channels, out, 3, 1, 1, 1, true);
    x = b.bn(name(), x, out);
    x = b.act(name(), x, ir::ActKind::Relu);
    channels = out;
  }
  const int64_t hidden = scaleChannels(4096, o.width);
  const double p = o.dropout.value_or(0.5);
  x = b.adaptiveAvgPool("avgpool", x, 7, 7);
  x = b.flatten("flatten", x);
  x = b.linear("classifier.0", x, channels * 7 * 7, hidden);
  x = b.act("classifier.1", x, ir::ActKind::Relu);
  x = b.dropout("classifier.2", x, p);
  x = b.linear("classifier.3", x, hidden, hidden);
  x = b.act("classifier.4", x, ir::ActKind::Relu);
  x = b.dropout("classifier.5", x, p);
  x = b.linear("classifier.6", x, hidden, o.classes);
  return std::move(b).finish(x);
}

} // namespace mhr::stdlib
