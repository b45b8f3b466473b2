// tiny_cnn: a small network for tests and quick experiments (not in torchvision). Two conv-bn-act stages with
// a max pool between, global average pooling and a linear classifier (optional dropout before it):
//   conv1 3x3 (in -> 8) bn1 act1 | maxpool 2x2 | conv2 3x3 (8 -> 16) bn2 act2 | avgpool 1x1 | flatten | fc
#include "stdlib/networks.h"

namespace mhr::stdlib {

ir::Graph buildTinyCnn(const ir::NetworkOptions& o) {
  ir::Activation act;
  act.kind = ir::ActKind::Relu;
  if (o.activation) act = *o.activation;
  const int64_t c1 = scaleChannels(8, o.width);
  const int64_t c2 = scaleChannels(16, o.width);
  ir::GraphBuilder b;
  std::string x = b.input("input", o.inChannels);
  x = b.conv("conv1", x, o.inChannels, c1, 3, 1, 1);
  x = b.bn("bn1", x, c1);
  x = b.act("act1", x, act);
  x = b.maxPool("maxpool", x, 2, 2);
  x = b.conv("conv2", x, c1, c2, 3, 1, 1);
  x = b.bn("bn2", x, c2);
  x = b.act("act2", x, act);
  x = b.adaptiveAvgPool("avgpool", x, 1, 1);
  x = b.flatten("flatten", x);
  if (o.dropout && *o.dropout > 0) x = b.dropout("dropout", x, *o.dropout);
  x = b.linear("fc", x, c2, o.classes);
  return std::move(b).finish(x);
}

} // namespace mhr::stdlib
