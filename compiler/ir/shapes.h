// compiler/ir/shapes.h — shape inference. In: a Graph and an input resolution (N, H, W; C comes from the
// input node). Out: every node's output shape, computed with PyTorch's exact output-size formulas (conv,
// pools incl. ceil_mode and its last-window rule, adaptive pools, flatten), or the first impossible shape as
// an error in the user's terms ("layer4.0.conv1: input 1x1 is smaller than kernel 3x3 ...").
// checkShapes() is the diagnostic form used by the pipeline and the morph rewrites.
#pragma once

#include "compiler/diag/diagnostics.h"
#include "compiler/ir/graph.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mhr::ir {

struct TensorShape {
  int rank = 4; // 4: N, C, H, W; 2: N, C (features)
  int64_t n = 1, c = 0, h = 1, w = 1;
  int64_t numel() const { return rank == 4 ? n * c * h * w : n * c; }
  bool operator==(const TensorShape& o) const;
  bool operator!=(const TensorShape& o) const { return !(*this == o); }
  std::string str() const; // "[1, 64, 56, 56]"
};

struct ShapeError {
  NodeId node = kNoNode;
  std::string message; // starts with the node's name
};

struct ShapeResult {
  std::vector<TensorShape> shapes; // indexed by NodeId; complete only when ok()
  std::optional<ShapeError> error;
  bool ok() const { return !error.has_value(); }
};

ShapeResult inferShapes(const Graph& graph, int64_t batch, int64_t height, int64_t width);

// Reports the first impossible shape as E0304 "network shape error": at `where` (typically the stage
// statement whose resolution is used) when it is valid, with a note at the node's origin when that is valid
// too. `context` prefixes the message, e.g. "network 'hr' at 512x416".
std::optional<std::vector<TensorShape>> checkShapes(const Graph& graph, int64_t height, int64_t width,
                                                    diag::DiagnosticEngine& diags, diag::SourceRange where,
                                                    const std::string& context);

// PyTorch's output-size formulas, exposed for the rewrites and the tests. Return a value < 1 when impossible.
int64_t convOutputSize(int64_t in, int64_t kernel, int64_t stride, int64_t padBefore, int64_t padAfter,
                       int64_t dilation);
int64_t poolOutputSize(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation,
                       bool ceilMode);

} // namespace mhr::ir
