// stdlib/networks.h — the base networks, each defined once as an IR builder with torchvision's module names
// (so torchvision state dicts load by name). In: NetworkOptions (already checked by the catalog). Out: the
// network's ir::Graph. Options common to all: classes, width, in_channels (the weights path does not change
// the graph).
//
// Width rule (every network): a layer with c channels in torchvision gets scaleChannels(c, width) =
// max(1, floor(c * width + 0.5)) channels. Derived counts are computed from the scaled ones the way
// torchvision derives them (ResNet bottleneck outputs = 4 * scaled planes, DenseNet bottlenecks = 4 * scaled
// growth and transitions halve, EfficientNet expansions = round(scaled input * expand ratio), squeeze =
// max(1, input / 4)), so residual adds and concatenations always line up. width 1 reproduces torchvision
// exactly; the number of classes is never scaled.
//
// in_channels: 1 builds the stem with one input channel. Pretrained 3-channel weights are adapted at import
// by summing the stem weight over its input-channel axis (timm's rule: a gray image x fed as (x, x, x) gives
// the same response), recorded as plan::ImportRecipe (compiler/plan/network_plan.h).
#pragma once

#include "compiler/ir/catalog.h"
#include "compiler/ir/graph.h"

#include <cstdint>

namespace mhr::stdlib {

int64_t scaleChannels(int64_t channels, double width);

ir::Graph buildResNet(int depth, const ir::NetworkOptions& options); // 18, 34, 50, 101
ir::Graph buildDenseNet121(const ir::NetworkOptions& options);
ir::Graph buildEfficientNetB0(const ir::NetworkOptions& options);
ir::Graph buildVgg(int depth, const ir::NetworkOptions& options); // 11, 16 (with batch norm)
ir::Graph buildTinyCnn(const ir::NetworkOptions& options);

} // namespace mhr::stdlib
